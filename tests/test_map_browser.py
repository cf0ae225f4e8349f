"""The interactive map in a real browser: Debian's Chromium driven by Playwright, offline.

Skipped where /usr/bin/chromium is absent, except in CI (NEEDSMAP_REQUIRE_BROWSER=1),
where a missing browser fails the run. NEEDSMAP_SCREENSHOTS=DIR saves the screenshots
used in the README.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from tests import map_fixtures as mf
from tests.conftest import chromium_path

from needsmap.maps import interactive
from needsmap.scan import figure_text

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
    """Click inside a ward: its full profile opens in the profile panel."""
    pg.mouse.click(*_inside(pg, selector))
    panel = pg.locator(".needsmap-profile-panel")
    panel.wait_for(state="visible")
    text = panel.inner_text()
    pg.get_by_role("button", name="Close the ward profile").click()
    panel.wait_for(state="hidden")
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
    # worded as the board maps' legends: the PNG's drawn text holds the same words
    board = figure_text(bundled_run.written[0].parent / "maps" / "services.png")
    for layer in ("Family hubs (3)", "Children's centre (1)"):
        assert layer in board
        assert page.get_by_label(layer).is_checked()
        page.get_by_label(layer).uncheck()
    text = _hover_tip(page, "path[data-ward='E05000972']")  # Seacombe
    assert "Seacombe" in text and "need rank" in text and "full profile" in text
    assert "Children in need" not in text  # hover is compact; a click opens the rest
    text = _click_profile(page, "path[data-ward='E05000972']")
    assert "Children in need" in text and "Wirral" in text and "England" in text
    assert "few children" not in text  # the † footnote only where a rate carries it
    # DWP children in low income, FYE 2022 -> 2025, and the ward's trend verdict
    assert "Children in low income families, 2021/22 → 2024/25 (DWP)\t32.0% → 33.9%" in text
    assert "Child poverty trend\tnot clearly changing" in text
    page.locator(".needsmap-tools a").first.click()  # the popup panned: back to the whole area
    page.wait_for_timeout(400)
    # Bebington: published rates from few children (Oxton's are now hidden)
    assert "few children" in _click_profile(page, "path[data-ward='E05000954']")
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
    credits = page.locator(".leaflet-control-attribution").inner_text()
    assert credits.startswith("Source: Office for National Statistics") and "., " not in credits
    assert not _boxes_overlap(scale, legend.bounding_box())
    # Tools draw their icons (no glyphs missing from the font).
    assert page.locator(".needsmap-tools a svg").count() == 3

    # Switch the wards to another layer: its legend replaces the need index's.
    ward = page.locator("path[data-ward='E05000972']")
    before = ward.get_attribute("fill")
    page.get_by_label("Children in need rate").check()
    assert _legend(page, "children_in_need_rate").is_visible()
    assert not _legend(page, "need_index").is_visible()
    assert "Caseload figures are synthetic" in legend.inner_text()
    page.get_by_label("Need index").check()
    assert ward.get_attribute("fill") == before
    # The change layer: a board reads where child poverty rose most.
    page.get_by_label("Change in children in low income families", exact=True).check()
    assert _legend(page, "child_poverty_change").is_visible()
    assert ward.get_attribute("fill") != before
    page.get_by_label("Need index").check()

    # Services: a layer per type; its legend shows and hides with it.
    markers = page.locator(".leaflet-marker-pane > *")
    assert markers.count() == 0
    schools = page.get_by_label("Schools")
    schools.check()
    page.wait_for_timeout(300)
    assert markers.count() > 0, "turning on the Schools layer drew nothing"
    assert _legend(page, "services:school").is_visible()
    # One line with its symbol, no heading that only repeats it.
    assert re.fullmatch(r"Schools \(\d+\)", _legend(page, "services:school").inner_text().strip())
    schools.uncheck()
    page.wait_for_timeout(300)
    assert markers.count() == 0
    assert not _legend(page, "services:school").is_visible()
    assert page.get_by_label("Libraries").count() == 1  # not "Librarys"

    page.select_option(".needsmap-search select", label="Seacombe")
    page.wait_for_timeout(400)
    page.locator(".needsmap-profile-panel", has_text="Seacombe").wait_for(state="visible")

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
        "Group of similar wards",
        "Commissioning area",
        "Hot spots and cold spots of need",
        "Access gap",
    ):
        assert page.get_by_label(title, exact=True).count() == 1, title
    page.get_by_label("Group of similar wards").check()
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
    # The layer control reads as the board maps' legends (vocabulary.service_count).
    controls = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert {"Family hub (1)", "Schools (3)", "Existing pilot (1)"} <= {c.strip() for c in controls}
    assert page.get_by_label("Existing pilot (1)").is_checked()  # on from the start
    page.get_by_label("Existing pilot (1)").uncheck()
    page.get_by_label("Family hub (1)").uncheck()
    page.get_by_label("Schools (3)").check()
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

    page.get_by_label("Existing pilot (1)").check()
    page.get_by_label("Recommended sites").check()
    page.wait_for_timeout(300)
    assert page.locator(".needsmap-site").all_inner_texts() == ["1", "2"]
    assert _legend(page, "sites").is_visible() and _legend(page, "pilots").is_visible()
    assert _legend(page, "pilots").inner_text().strip() == "Existing pilot (1)"

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


# --- layout at phone and desktop sizes --------------------------------------------------

SIZES = {
    # name -> (width, height, a touch phone?)
    "phone": (390, 844, True),
    "desktop": (1280, 800, False),
    # notebook 01's inline frame in JupyterLab (width 100% of the output area, height 600)
    "notebook": (820, 600, False),
}
WARDS_VISIBLE = """() => {
  /* Codes of wards with no point on screen where the ward itself is topmost:
     covered by controls (or off screen). */
  const hidden = [];
  for (const p of document.querySelectorAll("path[data-ward]")) {
    const box = p.getBoundingClientRect();
    let seen = false;
    for (let fy = 0.05; fy < 1 && !seen; fy += 0.1) {
      for (let fx = 0.05; fx < 1 && !seen; fx += 0.1) {
        const x = box.left + box.width * fx, y = box.top + box.height * fy;
        if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
        seen = document.elementFromPoint(x, y) === p;
      }
    }
    if (!seen) hidden.push(p.getAttribute("data-ward"));
  }
  return hidden;
}"""
POPUP_ON_TOP = """() => {
  /* Points across the open popup where something else (a control) is on top. */
  const popup = document.querySelector(".needsmap-profile-panel");
  const box = popup.getBoundingClientRect(), covered = [];
  for (let fy = 0.02; fy < 1; fy += 0.08) for (let fx = 0.02; fx < 1; fx += 0.08) {
    const x = box.left + box.width * fx, y = box.top + box.height * fy;
    const hit = document.elementFromPoint(x, y);
    if (!hit || !popup.contains(hit)) covered.push([Math.round(x), Math.round(y)]);
  }
  return covered;
}"""
LAYER_STATES = "() => [...document.querySelectorAll('.leaflet-control-layers input')].map(i => i.checked)"
LAYERS_COVERED = """() => {
  /* Labels of the open layer list that something else (the legend) lies over. */
  const covered = [];
  for (const label of document.querySelectorAll(".leaflet-control-layers-list label")) {
    label.scrollIntoView({block: "nearest"});
    const box = label.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + 12, box.top + box.height / 2);
    if (!hit || !label.contains(hit)) covered.push(label.innerText.trim());
  }
  return covered;
}"""


@pytest.fixture(params=sorted(SIZES))
def sized(browser, request):
    """The page at phone and at desktop size (touch and mobile viewport on the phone)."""
    width, height, phone = SIZES[request.param]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        is_mobile=phone,
        has_touch=phone,
        service_workers="block",
    )
    pg = context.new_page()
    pg.size = request.param
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.route(
        "**/*",
        lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort(),
    )
    yield pg
    context.close()


def _open_wirral(pg, bundled_run) -> None:
    html = bundled_run.written[0].parent / "needs_map.html"
    pg.goto(html.as_uri())
    pg.wait_for_selector("path[data-ward]")
    pg.wait_for_timeout(300)


def test_controls_never_cover_the_map_or_the_title(bundled_run, sized):
    _open_wirral(sized, bundled_run)
    # Every ward can be seen and touched: no control lies over the whole of any ward
    # (on a phone the open layer list used to hide the high-need east).
    assert sized.evaluate(WARDS_VISIBLE) == []
    title = sized.locator(".needsmap-title").bounding_box()
    for control in sized.locator(".leaflet-control").all():
        if control.is_visible():
            assert not _boxes_overlap(title, control.bounding_box()), control.get_attribute("class")
    layer_list = sized.locator(".leaflet-control-layers-list")
    if sized.size in ("phone", "notebook"):
        # The layer list is folded behind a "Layers" button and opens on a tap.
        assert not layer_list.is_visible()
        layers = sized.get_by_role("button", name="Choose what the map shows")
        if sized.size == "phone":
            layers.tap()
        else:
            box = layers.bounding_box()  # with a mouse, the list opens as the pointer reaches it
            sized.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        assert layer_list.is_visible()
        # Every choice in it can be read and tapped: the legend used to lie over the last ones.
        assert sized.evaluate(LAYERS_COVERED) == []
        sized.get_by_label("Child poverty score").check()
        assert not layer_list.is_visible()  # folds again once a layer is chosen
        assert _legend(sized, "idaci_score").is_visible()
    else:
        assert layer_list.is_visible()
    assert sized.errors == []


@pytest.mark.parametrize("ward", ["Seacombe", "Oxton", "West Kirby and Thurstaston"])
def test_ward_profile_fits_the_screen_above_every_control(bundled_run, sized, ward):
    _open_wirral(sized, bundled_run)
    sized.select_option(".needsmap-search select", label=ward)
    popup = sized.locator(".needsmap-profile-panel")
    popup.wait_for(state="visible")
    sized.wait_for_timeout(600)  # the map zooms to the ward
    box = popup.bounding_box()
    width, height, _ = SIZES[sized.size]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, box
    # Nothing inside spills sideways, and no control sits on top of the profile.
    spill = sized.evaluate(
        "() => { const c = document.querySelector('.needsmap-profile-panel');"
        " return c.scrollWidth - c.clientWidth; }"
    )
    assert spill <= 1
    assert sized.evaluate(POPUP_ON_TOP) == []
    assert ward in popup.inner_text()


def test_a_tap_on_a_ward_opens_its_profile_and_ticks_no_layer(bundled_run, sized):
    _open_wirral(sized, bundled_run)
    before = sized.evaluate(LAYER_STATES)
    x, y = _inside(sized, "path[data-ward='E05000972']")  # Seacombe, in the east
    if sized.size == "phone":
        sized.touchscreen.tap(x, y)
    else:
        sized.mouse.click(x, y)
    sized.locator(".needsmap-profile-panel").wait_for(state="visible")
    assert "Seacombe" in sized.locator(".needsmap-profile-panel").inner_text()
    assert sized.evaluate(LAYER_STATES) == before


def test_keyboard_reaches_a_table_of_every_ward(bundled_run, page):
    _open_wirral(page, bundled_run)
    page.keyboard.press("Tab")
    skip = page.locator(".needsmap-skip")
    assert skip.evaluate("e => e === document.activeElement")
    assert skip.is_visible()  # shown when focused
    page.keyboard.press("Enter")
    table = page.get_by_role("dialog", name="Table of wards")
    assert table.is_visible()
    rows = table.locator("tbody tr")
    assert rows.count() == 22
    # Wards in order of need, each row headed by its ward, figures as on the map.
    assert rows.first.locator("th[scope=row]").inner_text() == "Bidston and St James"
    headers = table.locator("thead th[scope=col]").all_inner_texts()
    assert headers[:3] == ["Ward", "Need rank", "Children aged 0–17"]
    assert "Chance of being in the top 5 for need" in headers
    assert "Children in need" in headers
    page.keyboard.press("Escape")
    assert not table.is_visible()
    assert skip.evaluate("e => e === document.activeElement")  # focus goes back
    # The page can be zoomed (folium's viewport forbade it).
    viewport = page.locator("meta[name=viewport]").get_attribute("content")
    assert "user-scalable=no" not in viewport and "maximum-scale" not in viewport
