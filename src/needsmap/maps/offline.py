"""Leaflet's scripts and stylesheets, embedded so a saved map needs no network.

Folium links Leaflet, jQuery and Bootstrap from CDNs, so a saved map is blank offline
and on locked-down council machines. needsmap draws with plain Leaflet (no jQuery,
Bootstrap or icon fonts) and inlines Leaflet and Leaflet.markercluster from the
``xstatic-leaflet`` and ``xstatic-leaflet-markercluster`` wheels. Images the CSS refers
to become data URIs.
"""

from __future__ import annotations

import base64
import functools
import re
from pathlib import Path

import xstatic.pkg.leaflet as xs_leaflet
import xstatic.pkg.leaflet_markercluster as xs_cluster

ASSETS = Path(__file__).parent


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _inline_images(css: str, folder: Path) -> str:
    def repl(match: re.Match[str]) -> str:
        ref = match.group(1).strip("'\"")
        target = folder / ref
        if ref.startswith("data:") or not target.exists():
            return match.group(0)
        kind = "svg+xml" if target.suffix == ".svg" else target.suffix.lstrip(".")
        data = base64.b64encode(target.read_bytes()).decode("ascii")
        return f"url(data:image/{kind};base64,{data})"

    return re.sub(r"url\(([^)]+)\)", repl, css)


def _script(code: str) -> str:
    # A literal "</script>" inside the code would end the element early.
    return "<script>" + code.replace("</script", "<\\/script") + "</script>"


@functools.cache
def head_html() -> str:
    """The <style> and <script> elements that every needsmap page needs, inlined."""
    leaflet = Path(xs_leaflet.BASE_DIR)
    cluster = Path(xs_cluster.BASE_DIR)
    css = _inline_images(_read(leaflet / "leaflet.css"), leaflet)
    css += _read(cluster / "MarkerCluster.css") + _read(cluster / "MarkerCluster.Default.css")
    css += _read(ASSETS / "needsmap.css")
    parts = [
        f"<style>{css}</style>",
        _script(_read(leaflet / "leaflet.js")),
        _script(_read(cluster / "leaflet.markercluster.js")),
        _script(_read(ASSETS / "needsmap.js")),
    ]
    return "\n".join(parts)


def versions() -> dict[str, str]:
    return {"leaflet": xs_leaflet.VERSION, "leaflet.markercluster": xs_cluster.VERSION}
