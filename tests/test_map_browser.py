"""The interactive map in a real browser: Debian's Chromium driven by Playwright, offline.

Skipped where /usr/bin/chromium is absent, except in CI (NEEDSMAP_REQUIRE_BROWSER=1),
where a missing browser fails the run. NEEDSMAP_SCREENSHOTS=DIR saves the screenshots
used in the README.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.conftest import chromium_path

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
    """A page whose every network request is blocked and recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, service_workers="block")
    pg = context.new_page()
    pg.errors = []
    pg.requests = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))

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


def _ward_centre(pg, index: int) -> tuple[float, float]:
    """Screen point inside the index-th ward polygon (its representative point)."""
    return pg.evaluate(
        """(i) => {
          const paths = document.querySelectorAll('path.leaflet-interactive');
          const p = paths[i], box = p.getBoundingClientRect();
          const svg = p.ownerSVGElement, pt = svg.createSVGPoint();
          for (let fy = 0.5; fy < 1; fy += 0.05) for (const sy of [1, -1]) {
            for (let fx = 0.5; fx < 1; fx += 0.05) for (const sx of [1, -1]) {
              const x = box.left + box.width * (0.5 + sx * (fx - 0.5));
              const y = box.top + box.height * (0.5 + sy * (fy - 0.5));
              if (document.elementFromPoint(x, y) === p) return [x, y];
            }
          }
          return [box.left + box.width / 2, box.top + box.height / 2];
        }""",
        index,
    )


def test_map_works_offline(bundled_run, page):
    html = bundled_run.written[0].parent / "needs_map.html"
    page.goto(html.as_uri())
    page.wait_for_selector("path.leaflet-interactive")
    wards = page.locator("path.leaflet-interactive")
    assert wards.count() == 22

    legend = page.locator("#needsmap-legend")
    assert legend.is_visible()
    assert "Need index" in legend.inner_text()
    assert "Synthetic caseload" in page.locator(".needsmap-title").inner_text()

    x, y = _ward_centre(page, 3)
    page.mouse.move(x, y)
    tip = page.locator(".leaflet-tooltip .needsmap-tip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    assert "need rank" in text and "Children in need" in text
    shots = os.environ.get("NEEDSMAP_SCREENSHOTS")
    if shots:
        page.screenshot(path=str(Path(shots) / "needs_map.png"))

    schools = page.get_by_label("Schools")
    before = page.locator(".leaflet-marker-pane > *, path.leaflet-interactive").count()
    schools.check()
    page.wait_for_timeout(300)
    after = page.locator(".leaflet-marker-pane > *, path.leaflet-interactive").count()
    assert after > before, "turning on the Schools layer drew nothing"

    page.select_option(".needsmap-search select", label="Seacombe")
    page.wait_for_timeout(400)
    page.locator(".needsmap-tip", has_text="Seacombe").wait_for(state="visible")

    assert page.errors == []
    assert page.requests == [], "the map tried to reach the network"
