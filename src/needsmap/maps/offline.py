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
import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

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


def json_script(element_id: str, data: Any) -> str:
    """Data for the page's script, as a ``<script type="application/json">`` element.

    ``<``, ``>`` and ``&`` are written as JSON escapes, so no string in the data (a
    service called ``</script><script>...``) can end the element or start markup.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<code>.*?)</script>", re.DOTALL)


def inline_scripts(page: str) -> list[str]:
    """The code of every script element that runs (JSON data elements do not)."""
    return [m.group("code") for m in _SCRIPT.finditer(page) if "application/json" not in m["attrs"]]


def external_references(page: str) -> list[str]:
    """Anything the page would fetch to work: script/link sources, CSS imports and urls.

    An empty list means the page renders from the file alone. (Background tiles are
    fetched by the script on demand and are optional, so they are not listed.)
    """
    found = re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?([^\"' >]+)", page)
    found += re.findall(r"@import\s+(?:url\()?[\"']?([^\"')\s;]+)", page)
    found += re.findall(r"url\(\s*[\"']?((?:https?:)?//[^\"')]+)", page)
    return sorted({ref for ref in found if not ref.startswith(("data:", "#"))})


def content_security_policy(page: str, *, img_hosts: Iterable[str] = ()) -> str:
    """A Content-Security-Policy that lets only this page's own scripts run.

    Each inline script is allowed by its SHA-256 hash, so markup that slipped into the
    page could not run script; nothing may be fetched except images from ``img_hosts``
    (the optional background tiles).
    """
    hashes = sorted(
        {
            "'sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode() + "'"
            for code in inline_scripts(page)
        }
    )
    images = " ".join(["data:", *img_hosts])
    return (
        f"default-src 'none'; script-src {' '.join(hashes)}; style-src 'unsafe-inline'; "
        f"img-src {images}; base-uri 'none'; form-action 'none'"
    )


def versions() -> dict[str, str]:
    return {"leaflet": xs_leaflet.VERSION, "leaflet.markercluster": xs_cluster.VERSION}
