"""The interactive map: one self-contained HTML file commissioners can open anywhere."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.plugins import MarkerCluster
from jinja2 import Template

from needsmap.maps import offline, style

WGS84 = "EPSG:4326"
SIMPLIFY_M = 15.0
"""Coverage simplification tolerance (metres): borders stay shared, invisible at ward zoom."""


@dataclass(frozen=True)
class MapText:
    """What the page says about itself: title, vintage, warnings, attribution."""

    title: str
    subtitle: str
    synthetic: bool
    stamp: str | None
    attribution: Sequence[str]


def simplify_coverage(geoms: gpd.GeoSeries, tolerance: float = SIMPLIFY_M) -> gpd.GeoSeries:
    """Simplify polygons that tile an area together, so shared borders stay shared."""
    simplified = shapely.coverage_simplify(geoms.to_numpy(), tolerance)
    return gpd.GeoSeries(simplified, index=geoms.index, crs=geoms.crs)


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: object, digits: int = 0) -> str:
    if isinstance(value, str):
        return _esc(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


def ward_tooltip(row: pd.Series, rows: Sequence[tuple[str, str, int]], n_wards: int) -> str:
    """HTML for one ward's tooltip; every value is escaped."""
    lines = [
        f"<h3>{_esc(row['ward_name'])}</h3>",
        f"<div class='sub'>{_esc(row.name)} · need rank {int(row['need_rank'])} of {n_wards}</div>",
        "<table>",
    ]
    for label, col, digits in rows:
        if col in row.index:
            lines.append(
                f"<tr><td>{_esc(label)}</td><td class='num'>{_fmt(row[col], digits)}</td></tr>"
            )
    lines.append("</table>")
    return "<div class='needsmap-tip'>" + "".join(lines) + "</div>"


TOOLTIP_ROWS = (
    ("Need index", "need_index", 2),
    ("Children (0–17)", "children", 0),
    ("IMD score (pop-weighted)", "imd_score", 1),
    ("IDACI score", "idaci_score", 3),
    ("Children in need", "children_in_need", 0),
    ("  per 10,000 children", "children_in_need_rate", 0),
    ("Child protection plans", "child_protection_plans", 0),
    ("  per 10,000 children", "child_protection_plans_rate", 0),
    ("Looked-after children", "looked_after_children", 0),
    ("  per 10,000 children", "looked_after_children_rate", 0),
    ("Cluster", "cluster", 0),
)


class _Call(MacroElement):  # type: ignore[misc]
    """Calls a needsmap.js function with the map (and a layer) once the page is built."""

    def __init__(self, call: str, layer: folium.map.Layer | None = None) -> None:
        super().__init__()
        self._name = "NeedsmapControl"
        self.call = call
        self.layer = layer
        self._template = Template(
            "{% macro script(this, kwargs) %}"
            "needsmap.{{ this.call }}({{ this._parent.get_name() }}"
            "{% if this.layer %}, {{ this.layer.get_name() }}{% endif %});"
            "{% endmacro %}"
        )


def _legend_html(classes: style.Classes, services: Sequence[str], text: MapText) -> str:
    rows = "".join(
        f"<div><i style='background:{c}'></i>{_esc(label)}</div>"
        for c, label in zip(classes.colours, classes.labels, strict=True)
    )
    svc = "".join(
        f"<div><i class='dot' style='background:{style.service_colour(s)}'></i>"
        f"{_esc(style.service_label(s))}</div>"
        for s in services
    )
    note = "Higher = more need. Classes: fifths of wards (quantiles)."
    if text.synthetic:
        note += " Caseload figures are synthetic."
    return (
        "<div class='needsmap-legend' id='needsmap-legend'>"
        f"<h2>Need index</h2>{rows}"
        + (f"<h2 style='margin-top:6px'>Services</h2>{svc}" if svc else "")
        + f"<div class='note'>{_esc(note)}</div></div>"
    )


def _title_html(text: MapText) -> str:
    banners = ""
    if text.synthetic:
        banners += (
            "<span class='needsmap-banner'>"
            "Synthetic caseload — illustrative, not real ward figures</span> "
        )
    if text.stamp:
        banners += f"<span class='needsmap-banner unsuppressed'>{_esc(text.stamp)}</span>"
    return (
        "<div class='needsmap-title'>"
        f"<h1>{_esc(text.title)}</h1><p>{_esc(text.subtitle)}</p>{banners}</div>"
    )


def build_map(
    wards: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    text: MapText,
    classes: style.Classes,
) -> folium.Map:
    """Build the Folium map.

    Parameters
    ----------
    wards
        Published ward table (suppression applied) with geometry, indexed by ward code,
        with ``ward_name``, ``need_index`` and ``need_rank``.
    services
        Placed services with ``name``, ``type`` and point geometry.
    classes
        Need-index classes, shared with the static maps.
    """
    shapes = wards[["ward_name", "geometry"]].copy()
    shapes["geometry"] = simplify_coverage(shapes.geometry)
    shapes = shapes.to_crs(WGS84)
    shapes["geometry"] = shapely.set_precision(shapes.geometry.to_numpy(), 1e-5)
    shapes["ward_code"] = shapes.index
    shapes["fill"] = classes.colour_of(wards["need_index"])
    shapes["tip"] = [ward_tooltip(row, TOOLTIP_ROWS, len(wards)) for _, row in wards.iterrows()]
    minx, miny, maxx, maxy = shapes.total_bounds

    fmap = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25, minZoom=9, maxZoom=18)
    fmap.default_js = []
    fmap.default_css = []
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(Element(offline.head_html()), name="needsmap_assets")
    root.title = text.title
    folium.TileLayer(
        "OpenStreetMap",
        name="Background map (needs internet)",
        show=False,
        overlay=False,
        control=True,
    ).add_to(fmap)

    need = folium.GeoJson(
        shapes[["ward_code", "ward_name", "fill", "tip", "geometry"]].reset_index(drop=True),
        name="Need index",
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": style.OUTLINE,
            "weight": 1.2,
            "fillOpacity": 0.8,
        },
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
        smooth_factor=0.5,
    )
    need.add_to(fmap)

    kinds = sorted(services["type"].unique()) if len(services) else []
    if len(services):
        pts = services.to_crs(WGS84)
        for kind in kinds:
            group = MarkerCluster(
                name=f"{style.service_label(kind)}s",
                show=False,
                options={"disableClusteringAtZoom": 14, "showCoverageOnHover": False},
            )
            group.default_js = []
            group.default_css = []
            colour = style.service_colour(kind)
            for _, s in pts[pts["type"] == kind].iterrows():
                label = f"<b>{_esc(s['name'])}</b><br>{_esc(style.service_label(kind))}"
                if isinstance(s.get("subtype"), str) and s["subtype"]:
                    label += f" · {_esc(s['subtype'])}"
                folium.CircleMarker(
                    location=(round(s.geometry.y, 5), round(s.geometry.x, 5)),
                    radius=5,
                    color="#ffffff",
                    weight=1,
                    fill=True,
                    fill_color=colour,
                    fill_opacity=0.95,
                    tooltip=folium.Tooltip(label),
                ).add_to(group)
            group.add_to(fmap)

    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    _Call("addWardSearch", need).add_to(fmap)
    _Call("addFullscreen").add_to(fmap)
    root.html.add_child(Element(_title_html(text)))
    root.html.add_child(
        Element(
            "<div style='position:absolute;bottom:28px;right:10px;z-index:1000'>"
            + _legend_html(classes, kinds, text)
            + "</div>"
        )
    )
    attribution = " ".join(_esc(a) for a in text.attribution)
    root.html.add_child(
        Element(
            "<div class='needsmap-attribution' style='position:absolute;bottom:0;left:0;"
            "right:0;z-index:999;background:rgba(255,255,255,.85);padding:2px 6px'>"
            f"{attribution}</div>"
        )
    )
    return fmap


def save_map(fmap: folium.Map, path: str) -> None:
    """Write the map as one HTML file and check that it links nothing external."""
    page = fmap.get_root().render()
    external = sorted(set(_external_links(page)))
    if external:  # pragma: no cover - a guard against folium adding CDN links
        msg = f"map would load {external} from the network; embed them in maps/offline.py"
        raise RuntimeError(msg)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(page)


def _external_links(page: str) -> list[str]:
    return re.findall(r"<(?:script|link)[^>]+(?:src|href)=\"(https?://[^\"]+)\"", page)
