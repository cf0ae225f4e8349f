"""The interactive map in a real browser: Debian's Chromium driven by Playwright, offline.

Skipped where /usr/bin/chromium is absent, except in CI (NEEDSMAP_REQUIRE_BROWSER=1),
where a missing browser fails the run. NEEDSMAP_SCREENSHOTS=DIR saves the screenshots
used in the README.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests import map_fixtures as mf
from tests.conftest import chromium_path

from needsmap.maps import interactive

pytestmark = pytest.mark.browser

ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    if path is None:
        if os.environ.get("NEEDSMAP_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required here (NEEDSMAP_REQUIRE_BROWSER) but not installed")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A page whose every network request is blocked and recorded, as are dialogs."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, service_workers="block")
    pg = context.new_page()
    pg.errors = []
    pg.requests = []
    pg.dialogs = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))

    def dialog(d):
        pg.dialogs.append(d.message)
        d.dismiss()

    pg.on("dialog", dialog)

    def block(route):
        url = route.request.url
        if url.startswith(("file:", "data:", "about:")):
            route.continue_()
        else:
            pg.requests.append(url)
            route.abort()

    pg.route("**/*", block)
    yield pg
    context.close()


def _inside(pg, selector: str) -> tuple[float, float]:
    """A screen point where the element is the topmost thing (inside a ward polygon)."""
    return pg.evaluate(
        """(sel) => {
          const p = document.querySelector(sel), box = p.getBoundingClientRect();
          for (let fy = 0.5; fy < 1; fy += 0.05) for (const sy of [1, -1]) {
            for (let fx = 0.5; fx < 1; fx += 0.05) for (const sx of [1, -1]) {
              const x = box.left + box.width * (0.5 + sx * (fx - 0.5));
              const y = box.top + box.height * (0.5 + sy * (fy - 0.5));
              if (document.elementFromPoint(x, y) === p) return [x, y];
            }
          }
          return [box.left + box.width / 2, box.top + box.height / 2];
        }""",
        selector,
    )


def _hover_tip(pg, selector: str) -> str:
    pg.mouse.move(5, 400)  # off every ward first, so only one profile is open
    pg.locator(".leaflet-tooltip").first.wait_for(state="detached")
    pg.mouse.move(*_inside(pg, selector))
    tip = pg.locator(".leaflet-tooltip .needsmap-profile")
    tip.wait_for(state="visible")
    return tip.inner_text()


def _click_profile(pg, selector: str) -> str:
    """Click inside a ward: its full profile opens in a popup."""
    pg.mouse.click(*_inside(pg, selector))
    popup = pg.locator(".leaflet-popup .needsmap-profile")
    popup.wait_for(state="visible")
    text = popup.inner_text()
    # The close button may sit under a control on a small page: press it from the DOM.
    pg.evaluate("document.querySelector('.leaflet-popup-close-button').click()")
    popup.wait_for(state="detached")
    return text


def _legend(pg, key: str):
    return pg.locator(f"#needsmap-legend [data-layer='{key}']")


def _boxes_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_wirral_map_works_offline(bundled_run, page):
    html = bundled_run.written[0].parent / "needs_map.html"
    page.goto(html.as_uri())
    page.wait_for_selector("path.leaflet-interactive")
    assert page.locator("path[data-ward]").count() == 22

    legend = page.locator("#needsmap-legend")
    assert legend.is_visible()
    assert _legend(page, "need_index").is_visible()
    assert "Need index" in legend.inner_text()
    assert legend.locator("[data-layer='need_index'] .row").count() == 5
    assert not _legend(page, "imd_score").is_visible()
    assert "Synthetic caseload" in page.locator(".needsmap-title").inner_text()

    # Existing provision shows from the start (issue 17); off, so the ward is under the mouse
    for layer in ("Family hubs", "Children's centres"):
        assert page.get_by_label(layer).is_checked()
        page.get_by_label(layer).uncheck()
    text = _hover_tip(page, "path[data-ward='E05000972']")  # Seacombe
    assert "Seacombe" in text and "need rank" in text and "full profile" in text
    assert "Children in need" not in text  # hover is compact; a click opens the rest
    text = _click_profile(page, "path[data-ward='E05000972']")
    assert "Children in need" in text and "Wirral" in text and "England" in text
    assert "few children" not in text  # the † footnote only where a rate carries it
    page.locator(".needsmap-tools a").first.click()  # the popup panned: back to the whole area
    page.wait_for_timeout(400)
    assert "few children" in _click_profile(page, "path[data-ward='E05000968']")  # Oxton
    page.mouse.move(5, 400)
    shots = os.environ.get("NEEDSMAP_SCREENSHOTS")
    if shots:
        page.locator(".needsmap-tools a").first.click()  # back to the whole area
        page.wait_for_timeout(400)
        _hover_tip(page, "path[data-ward='E05000972']")
        page.screenshot(path=str(Path(shots) / "needs_map.png"))
        page.mouse.move(5, 400)

    # The scale bar, legend and attribution each have their own space.
    scale = page.locator(".leaflet-control-scale").bounding_box()
    attribution = page.locator(".leaflet-control-attribution").bounding_box()
    assert not _boxes_overlap(scale, attribution)
    assert not _boxes_overlap(scale, legend.bounding_box())
    # Tools draw their icons (no glyphs missing from the font).
    assert page.locator(".needsmap-tools a svg").count() == 2

    # Switch the wards to another layer: its legend replaces the need index's.
    ward = page.locator("path[data-ward='E05000972']")
    before = ward.get_attribute("fill")
    page.get_by_label("Children in need per 10,000 children").check()
    assert _legend(page, "children_in_need_rate").is_visible()
    assert not _legend(page, "need_index").is_visible()
    assert "Caseload figures are synthetic" in legend.inner_text()
    page.get_by_label("Need index").check()
    assert ward.get_attribute("fill") == before

    # Services: a layer per type; its legend shows and hides with it.
    markers = page.locator(".leaflet-marker-pane > *")
    assert markers.count() == 0
    schools = page.get_by_label("Schools")
    schools.check()
    page.wait_for_timeout(300)
    assert markers.count() > 0, "turning on the Schools layer drew nothing"
    assert _legend(page, "services:school").is_visible()
    schools.uncheck()
    page.wait_for_timeout(300)
    assert markers.count() == 0
    assert not _legend(page, "services:school").is_visible()
    assert page.get_by_label("Libraries").count() == 1  # not "Librarys"

    page.select_option(".needsmap-search select", label="Seacombe")
    page.wait_for_timeout(400)
    page.locator(".leaflet-popup .needsmap-tip", has_text="Seacombe").wait_for(state="visible")

    assert page.errors == []
    assert page.requests == [], "the map tried to reach the network"


def test_every_layer_and_hostile_names(page, tmp_path):
    fmap = interactive.build_map(
        mf.square_wards(),
        mf.services(),
        mf.text(stamp="UNSUPPRESSED — not for publication"),
        sites=mf.sites(),
    )
    path = tmp_path / "needs_map.html"
    interactive.save_map(fmap, str(path))
    page.goto(path.as_uri())
    page.wait_for_selector("path[data-ward]")
    assert page.locator("path[data-ward]").count() == 6
    assert "UNSUPPRESSED" in page.locator(".needsmap-title").inner_text()

    for title in (
        "Clusters of similar wards",
        "Commissioning localities",
        "Hot spots of need (local Moran's I)",
        "Access gap (high need, low access)",
    ):
        assert page.get_by_label(title).count() == 1, title
    page.get_by_label("Clusters of similar wards").check()
    clusters = _legend(page, "cluster_label")
    assert clusters.is_visible()
    assert clusters.locator(".row").all_inner_texts() == ["Highest", "Middle", "Lower need"]

    # A suppressed cell reads "fewer than 5" in the ward profile.
    assert "fewer than 5" in _click_profile(page, "path[data-ward='E05000003']")
    # A ward name with markup in it is text, in the profile and in the search list.
    text = _hover_tip(page, "path[data-ward='E05000006']")
    assert 'Fox & "Co" <b>' in text
    options = page.locator(".needsmap-search option").all_inner_texts()
    assert 'Fox & "Co" <b>' in options
    page.mouse.move(5, 400)

    # A service called <script>alert(1)</script> shows as text and runs nothing.
    assert page.get_by_label("Existing pilots").is_checked()  # on from the start
    page.get_by_label("Existing pilots").uncheck()
    page.get_by_label("Family hubs").uncheck()
    page.get_by_label("Schools").check()
    page.wait_for_timeout(300)
    icons = page.locator(".leaflet-marker-pane .needsmap-marker")
    assert icons.count() == 3
    seen = []
    for i in range(icons.count()):
        box = icons.nth(i).bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        tip = page.locator(".leaflet-tooltip .needsmap-tip").last
        tip.wait_for(state="visible")
        seen.append(tip.inner_text())
        page.mouse.move(5, 400)
        page.wait_for_timeout(100)
    assert any(mf.XSS in s for s in seen), seen
    assert page.locator(".leaflet-tooltip script").count() == 0

    page.get_by_label("Existing pilots").check()
    page.get_by_label("Recommended sites").check()
    page.wait_for_timeout(300)
    assert page.locator(".needsmap-site").all_inner_texts() == ["1", "2"]
    assert _legend(page, "sites").is_visible() and _legend(page, "pilots").is_visible()

    assert page.dialogs == []
    assert page.errors == []
    assert page.requests == []


PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a0e2a1b30000000049454e44ae426082"
)


def test_background_tiles_when_online(browser, tmp_path):
    """Switched on, tiles load from the tile server (stood in for here); nothing else does."""
    fmap = interactive.build_map(mf.square_wards(), mf.services(), mf.text(), background=True)
    path = tmp_path / "needs_map.html"
    interactive.save_map(fmap, str(path))
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    pg = context.new_page()
    errors, tiles, others = [], [], []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def serve(route):
        url = route.request.url
        if url.startswith("https://tile.openstreetmap.org/"):
            tiles.append(url)
            route.fulfill(status=200, content_type="image/png", body=PNG_1PX)
        elif url.startswith("file:"):
            route.continue_()
        else:
            others.append(url)
            route.abort()

    pg.route("**/*", serve)
    pg.goto(path.as_uri())
    pg.wait_for_selector("img.leaflet-tile-loaded")
    assert pg.get_by_label("Background map (needs internet)").is_checked()
    assert len(tiles) > 0 and others == []
    assert errors == []  # the page's security policy lets the tiles through
    pg.get_by_label("Background map (needs internet)").uncheck()
    assert pg.locator("img.leaflet-tile").count() == 0
    context.close()
