"""The interactive map: one self-contained HTML file commissioners can open anywhere.

The page is a folium (Leaflet) map plus needsmap's own script, ``needsmap.js``. Python
prepares one compact JSON payload and the script draws it:

- ward outlines, simplified as a coverage (shared borders stay shared) and written as
  delta-encoded integers at 10^-5 degrees (about a metre);
- for each layer in :data:`needsmap.maps.layers.LAYERS` whose column is present, each
  ward's class and the legend (the same classes as the static maps);
- each ward's profile as ready-formatted text (suppressed cells read "fewer than 5");
- services by type, existing pilots and recommended sites.

Nothing is repeated per feature (no per-ward style or HTML), so the file stays small
with thousands of wards. Strings reach the page only as JSON and are shown with
``textContent``: a service called ``<script>alert(1)</script>`` reads as text. The
saved page carries a Content-Security-Policy that lets only its own scripts run and
fetches nothing except, when switched on, background tiles.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from needsmap import vocabulary
from needsmap.errors import InputError
from needsmap.maps import layers, offline, style

WGS84 = "EPSG:4326"
SIMPLIFY_M = 15.0
"""Coverage simplification tolerance (metres): borders stay shared, invisible at ward zoom."""
DECIMALS = 5
"""Coordinates are rounded to 10^-5 degrees: about 1 m, well inside the simplification."""
TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILES_ATTRIBUTION = "© OpenStreetMap contributors"
DATA_ID = "needsmap-data"
ONLINE_TITLE = "Background map (needs internet)"


@dataclass(frozen=True)
class Comparison:
    """Local-authority and England rates per 10,000 children, shown in ward profiles."""

    year: int
    area: str
    """The local authority's name, as the profile's column heading."""
    rates: Mapping[str, tuple[float | None, float | None]]
    """Ward rate column (e.g. ``children_in_need_rate``) -> (LA rate, England rate)."""


DAGGER = "†"
"""Marks a rate whose interval is wider than itself (``_rate_unreliable``)."""


def comparison(benchmark: pd.DataFrame, *, area: str) -> Comparison | None:
    """LA and England rates per 10,000 children for the ward profiles.

    Parameters
    ----------
    benchmark
        :func:`needsmap.context.la_benchmark`'s table: ``caseload_measure``, ``year``,
        ``la_rate`` and ``england_rate`` per DfE measure.
    area
        The local authority's name, for the profile heading.

    Returns
    -------
    Comparison or None
        None when no caseload measure has a local-authority rate.
    """
    rows = benchmark.dropna(subset=["caseload_measure", "la_rate"])
    if rows.empty:
        return None

    def value(x: object) -> float | None:
        return None if x is None or pd.isna(x) else float(x)  # type: ignore[call-overload,arg-type]

    rates = {
        f"{r.caseload_measure}_rate": (value(r.la_rate), value(r.england_rate))
        for r in rows.itertuples()
    }
    return Comparison(year=int(rows["year"].max()), area=area, rates=rates)


# --- geometry -------------------------------------------------------------------------


def simplify_coverage(geoms: gpd.GeoSeries, tolerance: float = SIMPLIFY_M) -> gpd.GeoSeries:
    """Simplify polygons that tile an area together, so shared borders stay shared.

    ``tolerance`` is in the units of the CRS (metres in British National Grid); 0
    returns the polygons unchanged.
    """
    if tolerance <= 0:
        return geoms.copy()
    simplified = shapely.coverage_simplify(geoms.to_numpy(), tolerance)
    return gpd.GeoSeries(simplified, index=geoms.index, crs=geoms.crs)


def encode_rings(geom: Any, *, decimals: int = DECIMALS) -> list[list[list[int]]]:
    """A (Multi)Polygon in lon/lat as polygons -> rings -> flat delta-encoded integers.

    Each ring is ``[lat0, lon0, dlat1, dlon1, ...]`` in units of 10^-decimals degrees
    (latitude first, as Leaflet wants), without the closing point. Neighbouring wards
    share vertices, and rounding the same vertex gives the same integers, so shared
    borders stay shared. Rings that collapse to fewer than 3 points are dropped.
    """
    scale = 10**decimals
    polygons = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    out = []
    for poly in polygons:
        rings = []
        for ring in (poly.exterior, *poly.interiors):
            xy = np.rint(np.asarray(ring.coords)[:-1, :2] * scale).astype(np.int64)
            keep = np.ones(len(xy), dtype=bool)
            keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)
            xy = xy[keep]
            if len(xy) > 1 and (xy[0] == xy[-1]).all():
                xy = xy[:-1]
            if len(xy) < 3:
                continue
            latlon = xy[:, ::-1]
            deltas = np.vstack([latlon[:1], np.diff(latlon, axis=0)])
            rings.append(deltas.ravel().tolist())
        if rings:
            out.append(rings)
    return out


def decode_rings(encoded: list[list[list[int]]], *, decimals: int = DECIMALS) -> Any:
    """Inverse of :func:`encode_rings` (for tests and checks): a shapely MultiPolygon."""
    scale = 10**decimals
    polygons = []
    for rings in encoded:
        coords = []
        for ring in rings:
            latlon = np.cumsum(np.asarray(ring, dtype=np.int64).reshape(-1, 2), axis=0) / scale
            coords.append(latlon[:, ::-1])
        polygons.append(shapely.Polygon(coords[0], coords[1:]))
    return shapely.MultiPolygon(polygons)


# --- formatting (plain text: the page shows it with textContent) -----------------------


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def fmt(value: object, digits: int = 0) -> str:
    """A number as a board paper prints it (``3,521``; ``-0.14``); text passes through."""
    if isinstance(value, str):
        return value
    if _missing(value):
        return "n/a"
    return f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


def fmt_percent(share: object) -> str:
    """A share (0-1) as a whole percentage: ``0.625`` -> ``62%``; text passes through."""
    if isinstance(share, str) or _missing(share):
        return fmt(share)
    return f"{100 * float(share):.0f}%"  # type: ignore[arg-type]


def fmt_distance(metres: object) -> str:
    """``640 m`` under a kilometre (to 10 m), else ``1.3 km``."""
    if isinstance(metres, str):
        return metres
    if _missing(metres):
        return "n/a"
    tens = round(float(metres), -1)  # type: ignore[arg-type]
    return f"{tens:.0f} m" if tens < 1000 else f"{tens / 1000:,.1f} km"


def _rank_text(row: pd.Series, n_wards: int) -> str:
    rank = row["need_rank"]
    text = f"need rank {fmt(rank)} of {n_wards}"
    lo, hi = row.get("need_rank_lo"), row.get("need_rank_hi")
    if not _missing(lo) and not _missing(hi):
        text += f" (90% interval {fmt(lo)}–{fmt(hi)})"
    return text


def _caseload_cell(row: pd.Series, measure: str) -> str:
    rate, count = row.get(f"{measure}_rate"), row.get(measure)
    if isinstance(rate, str) or isinstance(count, str):
        return rate if isinstance(rate, str) else str(count)
    text = fmt(rate) if count is None else f"{fmt(rate)} ({fmt(count)})"
    unreliable = row.get(f"{measure}_rate_unreliable")
    if isinstance(unreliable, bool | np.bool_) and unreliable:
        text += f" {DAGGER}"
    return text


def _poverty_rows(wards: pd.DataFrame, rows: list[pd.Series]) -> list[dict[str, Any]]:
    """DWP children in low income, first -> latest year (``32.0% → 33.9%``), and the
    ward's trend verdict, as two short rows."""
    if "child_poverty_pct" not in wards.columns:
        return []
    first, last = (wards[c].iloc[0] for c in ("child_poverty_fye_first", "child_poverty_fye"))
    out = [
        {
            "label": "Children in low income families, "
            f"{vocabulary.financial_year(first)} → {vocabulary.financial_year(last)} (DWP)",
            "values": [
                f"{fmt(r['child_poverty_pct_first'], 1)}% → {fmt(r['child_poverty_pct'], 1)}%"
                for r in rows
            ],
        }
    ]
    if "child_poverty_trend" in wards.columns:
        out.append(
            {
                "label": "Child poverty trend",
                "values": [fmt(r["child_poverty_trend"]) for r in rows],
            }
        )
    return out


def _chance_row(wards: pd.DataFrame, rows: list[pd.Series]) -> dict[str, Any] | None:
    """``p_top5`` as a percentage, labelled as its map layer is."""
    if "p_top5" not in wards.columns:
        return None
    return {"label": vocabulary.label("p_top5"), "values": [fmt_percent(r["p_top5"]) for r in rows]}


def ward_profiles(
    wards: pd.DataFrame,
    *,
    comparison: Comparison | None = None,
    synthetic: bool = False,
) -> dict[str, Any]:
    """Every ward's profile as text, column-wise: what the tooltip and popup show.

    Parameters
    ----------
    wards
        Published ward table (suppression applied), indexed by ward code, with
        ``ward_name`` and ``need_rank``; other columns are shown when present.
    comparison
        LA and England rates for the caseload rows.
    synthetic
        The caseload is synthetic: the caseload section says so.

    Returns
    -------
    dict
        ``sub``: one line per ward (code and need rank); ``sections``: tables whose rows
        hold a label and one formatted value per ward (and, for caseload rows, the LA
        and England rates), with a ``note`` and, where some cell carries the dagger, a
        ``dagger`` footnote shown for those wards only.
    """
    n = len(wards)
    rows = [r for _, r in wards.iterrows()]
    sub = [f"{code} · {_rank_text(r, n)}" for code, r in zip(wards.index, rows, strict=True)]

    def column(col: str, *, words: bool = False, directed: bool = False) -> dict[str, Any] | None:
        """A row labelled from the vocabulary; ``words``: a category in plain words;
        ``directed``: a score whose label says which way is more need."""
        if col not in wards.columns:
            return None
        term = vocabulary.term(col)
        if words:
            values = [
                vocabulary.category(col, r[col]) if not _missing(r[col]) else "n/a" for r in rows
            ]
        else:
            values = [fmt(r[col], term.digits) for r in rows]
        label = f"{term.label} ({term.direction})" if directed and term.direction else term.label
        return {"label": label, "values": values}

    main = [
        column("children"),
        column("need_index", directed=True),
        _chance_row(wards, rows),
        column("idaci_score"),
        column("imd_score"),
    ]
    main += _poverty_rows(wards, rows)
    if {"lsoas_most_deprived_10pc", "lsoas"} <= set(wards.columns):
        main.append(
            {
                "label": vocabulary.label("lsoas_most_deprived_10pc"),
                "values": [
                    f"{fmt(r['lsoas_most_deprived_10pc'])} of {fmt(r['lsoas'])}" for r in rows
                ],
            }
        )
    if "cluster_label" in wards.columns:
        main.append(column("cluster_label"))
    elif "cluster" in wards.columns:
        k = pd.to_numeric(wards["cluster"], errors="coerce").max()
        main.append(
            {
                "label": vocabulary.label("cluster_label"),
                "values": [f"{fmt(r['cluster'])} of {fmt(k)} (1 = most need)" for r in rows],
            }
        )
    main += [
        column("locality", words=True),
        column("hotspot", words=True),
        column("gap_score", directed=True),
    ]
    sections: list[dict[str, Any]] = [{"rows": [r for r in main if r is not None]}]

    measures = [m for m in vocabulary.CASELOAD if f"{m}_rate" in wards.columns]
    if measures:
        year = f" {comparison.year}" if comparison else ""
        head = ["Per 10,000 children (number)", "Ward"]
        if comparison:
            head += [comparison.area, "England"]
        caseload = []
        for m in measures:
            row: dict[str, Any] = {
                "label": vocabulary.label(m),
                "values": [_caseload_cell(r, m) for r in rows],
            }
            if comparison:
                la, eng = comparison.rates.get(f"{m}_rate", (None, None))
                row["extra"] = [fmt(la), fmt(eng)]
            caseload.append(row)
        notes = []
        if comparison:
            notes.append(f"{comparison.area} and England: DfE, 31 March{year}.")
        if synthetic:
            notes.append("Ward caseload is synthetic, not real figures.")
        section = {
            "title": "Caseload" + (" (synthetic)" if synthetic else ""),
            "head": head,
            "rows": caseload,
            "note": " ".join(notes),
        }
        if any(DAGGER in v for r in caseload for v in r["values"]):
            # Shown only for wards with a marked cell.
            section["dagger"] = f"{DAGGER} few children: the 95% interval is wider than the rate."
        sections.append(section)
    trends = [m for m in measures if f"{m}_trend" in wards.columns]
    if trends:
        sections.append(
            {
                "title": "Caseload trend over every period" + (" (synthetic)" if synthetic else ""),
                "rows": [
                    {"label": vocabulary.label(m), "values": [fmt(r[f"{m}_trend"]) for r in rows]}
                    for m in trends
                ],
                "note": "Rising or falling where the 95% trend test is clear; withheld where "
                "any period's count is suppressed.",
            }
        )

    distances = [c for c in wards.columns if re.fullmatch(r"dist_[a-z0-9_]+_m", str(c))]
    if distances:
        sections.append(
            {
                "title": "Distance to the nearest service (average for the ward's children, "
                "straight line)",
                "rows": [
                    {
                        "label": style.service_label(c[len("dist_") : -len("_m")]),
                        "values": [fmt_distance(r[c]) for r in rows],
                    }
                    for c in distances
                ],
            }
        )
    return {"sub": sub, "sections": sections}


# --- layers --------------------------------------------------------------------------


def theme(
    spec: layers.LayerSpec,
    wards: pd.DataFrame,
    *,
    synthetic: bool = False,
    map_style: style.MapStyle | None = None,
) -> dict[str, Any]:
    """One ward layer for the page: each ward's legend entry, and the legend.

    ``index[i]`` is the position in ``legend`` of ward i's class. Wards whose value is
    withheld (text, e.g. "fewer than 5") and wards with no value get their own grey
    entries, listed only when some ward has them.
    """
    st = map_style or style.MapStyle()
    values = wards[spec.column]
    legend: list[dict[str, str]]
    classes = None
    if spec.kind == "categorical":
        cats = layers.categories_for(spec, wards, palette=st.categorical)
        idx = cats.index_of(values)
        legend = [
            {"colour": c, "label": layers.category_label(spec, name)}
            for c, name in zip(cats.colours, cats.names, strict=True)
        ]
        withheld = np.zeros(len(values), dtype=bool)
    else:
        classes = layers.classes_for(spec, wards, palette=st.sequential, diverging=st.diverging)
        idx = classes.index_of(values)
        legend = [
            {"colour": c, "label": label}
            for c, label in zip(classes.colours, classes.labels, strict=True)
        ]
        withheld = np.array([isinstance(v, str) for v in values])
    idx = idx.astype(int)
    if withheld.any():
        markers = sorted({str(v) for v in values if isinstance(v, str)})
        legend.append({"colour": style.SUPPRESSED, "label": f"Not shown: {' or '.join(markers)}"})
        idx[withheld] = len(legend) - 1
    nodata = (idx < 0) & ~withheld
    if nodata.any():
        legend.append({"colour": style.NO_DATA, "label": "No data"})
        idx[nodata] = len(legend) - 1
    return {
        "key": spec.column,
        "title": spec.title,
        "kind": spec.kind,
        "index": idx.tolist(),
        "legend": legend,
        "note": " ".join(
            layers.legend_notes(spec, classes)
            + (["Caseload figures are synthetic."] if spec.caseload and synthetic else [])
        ),
    }


def _services(
    services: gpd.GeoDataFrame, decimals: int, shown: Sequence[str] = ()
) -> dict[str, Any]:
    if not len(services):
        return {k: [] for k in ("types", "name", "type", "detail", "lat", "lon", "pilot", "on")}
    pts = services.to_crs(WGS84)
    kinds = sorted(str(k) for k in pts["type"].unique())
    code = {k: i for i, k in enumerate(kinds)}
    detail = []
    for _, s in pts.iterrows():
        words = [style.service_label(str(s["type"]))]
        sub = s.get("subtype")
        if isinstance(sub, str) and sub.strip():
            words.append(sub.strip())
        detail.append(" · ".join(words))
    pilot = pts["pilot"].fillna(False).astype(bool) if "pilot" in pts else None
    counts = pts["type"].astype(str).value_counts()
    return {
        "types": [
            {
                "key": k,
                "label": vocabulary.service_count(k, int(counts[k])),  # as the board maps
                "colour": style.service_colour(k),
                "shape": style.service_shape(k),
            }
            for k in kinds
        ],
        "name": [str(v) for v in pts["name"]],
        "type": [code[str(k)] for k in pts["type"]],
        "detail": detail,
        "lat": np.round(pts.geometry.y.to_numpy(), decimals).tolist(),
        "lon": np.round(pts.geometry.x.to_numpy(), decimals).tolist(),
        "pilot": np.flatnonzero(pilot.to_numpy()).tolist() if pilot is not None else [],
        "pilotLabel": vocabulary.service_count(
            "pilot", int(pilot.sum()) if pilot is not None else 0
        ),
        "on": [k for k in kinds if k in set(shown)],
    }


def _sites(sites: gpd.GeoDataFrame, decimals: int) -> list[dict[str, Any]]:
    pts = sites.to_crs(WGS84)
    if "order" in pts.columns:
        pts = pts.sort_values("order", kind="stable")
    out = []
    for i, (_, s) in enumerate(pts.iterrows(), start=1):
        order = int(s["order"]) if "order" in pts.columns and not _missing(s["order"]) else i
        served = s.get("wards_served")
        if isinstance(served, list | tuple | np.ndarray):
            served = ", ".join(str(w) for w in served)
        lines = [
            style.service_label(str(s["type"])) if isinstance(s.get("type"), str) else "",
            f"{vocabulary.label('children_covered')}: {fmt(s['children_covered'])}"
            if "children_covered" in s
            else "",
            f"Wards served: {served}" if isinstance(served, str) and served else "",
        ]
        out.append(
            {
                "order": order,
                "name": str(s.get("name", f"Site {order}")),
                "lat": round(float(s.geometry.y), decimals),
                "lon": round(float(s.geometry.x), decimals),
                "lines": [line for line in lines if line],
            }
        )
    return out


def _tiles_hosts(url: str) -> list[str]:
    parts = urlsplit(url)
    return [f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"]


def map_data(
    wards: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    ctx: layers.MapContext,
    *,
    sites: gpd.GeoDataFrame | None = None,
    comparison: Comparison | None = None,
    background: bool = False,
    tiles_url: str = TILES_URL,
    tiles_attribution: str = TILES_ATTRIBUTION,
    simplify_m: float = SIMPLIFY_M,
    decimals: int = DECIMALS,
    map_style: style.MapStyle | None = None,
    shown: Sequence[str] = (),
) -> dict[str, Any]:
    """Everything the page draws, as one JSON-ready dict (see :func:`build_map`)."""
    need = ["ward_name", "need_index", "need_rank", "geometry"]
    missing = [c for c in need if c not in wards.columns]
    if missing:
        msg = (
            f"ward table: missing column(s) {missing} for the interactive map; "
            "run the need index step first"
        )
        raise InputError(msg)
    if wards.crs is None or not wards.crs.is_projected:
        msg = "ward table: geometry needs a projected CRS in metres (EPSG:27700) to simplify"
        raise InputError(msg)
    shapes = simplify_coverage(wards.geometry, simplify_m).to_crs(WGS84)
    minx, miny, maxx, maxy = shapes.total_bounds
    themes = [
        theme(spec, wards, synthetic=ctx.layer_synthetic(spec), map_style=map_style)
        for spec in layers.layers_for(wards)
    ]
    return {
        "decimals": decimals,
        "wards": {
            "codes": [str(c) for c in wards.index],
            "names": [str(n) for n in wards["ward_name"]],
            "rank": [int(r) if not _missing(r) else None for r in wards["need_rank"]],
            "shapes": [encode_rings(g, decimals=decimals) for g in shapes],
            "bounds": [[round(miny, 5), round(minx, 5)], [round(maxy, 5), round(maxx, 5)]],
        },
        "themes": themes,
        "profile": ward_profiles(wards, comparison=comparison, synthetic=ctx.synthetic),
        "services": _services(services, decimals, shown),
        "pilotColour": style.PILOT_COLOUR,
        "siteColour": style.SITE_COLOUR,
        "sites": _sites(sites, decimals) if sites is not None and len(sites) else [],
        "tiles": {
            "title": ONLINE_TITLE,
            "url": tiles_url,
            "attribution": tiles_attribution,
            "on": background,
        },
        "outline": style.OUTLINE,
        "attribution": list(ctx.attribution),
    }


class _Build(MacroElement):  # type: ignore[misc]
    """Calls ``needsmap.build(map, data)`` once Leaflet has made the map."""

    def __init__(self) -> None:
        super().__init__()
        self._name = "NeedsmapBuild"
        self._id = "build"
        self._template = Template(
            "{% macro script(this, kwargs) %}"
            "needsmap.build({{ this._parent.get_name() }}, "
            f"JSON.parse(document.getElementById('{DATA_ID}').textContent));"
            "{% endmacro %}"
        )


MAP_SUBJECT = "need for children's services by ward"


def _title_html(ctx: layers.MapContext, n_wards: int) -> str:
    banners = ""
    if ctx.synthetic:
        banners += (
            "<span class='needsmap-banner'>"
            "Synthetic caseload — illustrative, not real ward figures</span> "
        )
    if ctx.stamp:
        banners += f"<span class='needsmap-banner unsuppressed'>{html.escape(ctx.stamp)}</span>"
    return (
        "<div class='needsmap-title'>"
        f"<h1>{html.escape(ctx.title(MAP_SUBJECT))}</h1>"
        f"<p>{html.escape(ctx.data_line(n_wards))}</p>{banners}</div>"
    )


def build_map(
    wards: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    ctx: layers.MapContext,
    *,
    sites: gpd.GeoDataFrame | None = None,
    comparison: Comparison | None = None,
    background: bool = False,
    tiles_url: str = TILES_URL,
    tiles_attribution: str = TILES_ATTRIBUTION,
    simplify_m: float = SIMPLIFY_M,
    decimals: int = DECIMALS,
    map_style: style.MapStyle | None = None,
    shown: Sequence[str] = (),
) -> folium.Map:
    """Build the interactive map.

    Parameters
    ----------
    wards
        Published ward table (suppression applied) with geometry in EPSG:27700, indexed
        by ward code, with ``ward_name``, ``need_index`` and ``need_rank``. Every column
        registered in :mod:`needsmap.maps.layers` becomes a layer; only the need index
        is on at first.
    services
        Placed services with ``name``, ``type``, optional ``subtype`` and ``pilot``, and
        point geometry: one layer per type, and the pilots as their own layer.
    ctx
        What the run's maps say: the title, the subtitle (data and vintage), synthetic
        and unsuppressed banners, attribution.
    sites
        Recommended sites (``site_id, name, type, order, children_covered,
        need_covered, wards_served``), drawn as numbered markers.
    comparison
        LA and England rates per 10,000 children for the ward profiles.
    background
        Show background tiles at first (they need internet; off by default).
    tiles_url, tiles_attribution
        The background tile server, when a council has its own.
    simplify_m, decimals
        Coverage simplification tolerance (metres) and coordinate rounding (decimal
        places of a degree).
    map_style
        The council's colours (config ``maps``), as on the board maps.
    shown
        Service types shown when the map opens (existing provision: family hubs,
        children's centres); the pilots are shown too.

    Returns
    -------
    folium.Map
        Write it with :func:`save_map`.
    """
    data = map_data(
        wards,
        services,
        ctx,
        sites=sites,
        comparison=comparison,
        background=background,
        tiles_url=tiles_url,
        tiles_attribution=tiles_attribution,
        simplify_m=simplify_m,
        decimals=decimals,
        map_style=map_style,
        shown=shown,
    )
    fmap = folium.Map(tiles=None, zoom_snap=0.25, zoom_delta=0.5, maxZoom=18)
    fmap._id = "needsmap"  # a fixed id: reruns write the same file
    fmap.default_js = []
    fmap.default_css = []
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root._id = "page"
    root.header.add_child(Element(offline.head_html()), name="needsmap_assets")
    root.title = ctx.title(MAP_SUBJECT)
    root.html.add_child(Element(_title_html(ctx, len(wards))), name="needsmap_title")
    root.html.add_child(Element(offline.json_script(DATA_ID, data)), name="needsmap_data")
    _Build().add_to(fmap)
    return fmap


def read_map_data(page: str) -> dict[str, Any] | None:
    """The JSON payload of a saved map page (what it draws and says), or None.

    For checks on published files, e.g. that no ward profile shows a small count:
    ``data["profile"]["sections"][k]["rows"][r]["values"][i]`` is the text shown for
    ward ``data["wards"]["codes"][i]``.
    """
    found = re.search(f'<script type="application/json" id="{DATA_ID}">(.*?)</script>', page)
    return json.loads(found.group(1)) if found else None  # type: ignore[no-any-return]


def profile_table(page: str) -> pd.DataFrame:
    """Every ward-profile cell a saved map can show, one row each (for output checks).

    Returns
    -------
    pd.DataFrame
        Columns ``ward_code``, ``section`` (title, "" for the first), ``label`` and
        ``text`` exactly as the page shows it, e.g. ``"830 (340)"`` (rate and count) or
        ``"fewer than 5"``. Empty if the page has no needsmap data.
    """
    data = read_map_data(page)
    rows: list[tuple[str, str, str, str]] = []
    if data is not None:
        codes = data["wards"]["codes"]
        for section in data["profile"]["sections"]:
            for row in section["rows"]:
                rows += [
                    (code, section.get("title", ""), row["label"], text)
                    for code, text in zip(codes, row["values"], strict=True)
                ]
    return pd.DataFrame(rows, columns=["ward_code", "section", "label", "text"])


def save_map(fmap: folium.Map, path: str) -> None:
    """Write the map as one HTML file, checking that it needs nothing from the network.

    The page gets a Content-Security-Policy allowing only its own inline scripts (by
    hash) and, for the optional background, images from the tile server.
    """
    page = fmap.get_root().render()
    external = offline.external_references(page)
    if external:  # pragma: no cover - a guard against folium adding CDN links
        msg = f"map would load {external} from the network; embed them in maps/offline.py"
        raise RuntimeError(msg)
    data = read_map_data(page)
    hosts = _tiles_hosts(data["tiles"]["url"]) if data else []
    policy = html.escape(offline.content_security_policy(page, img_hosts=hosts), quote=False)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    page = page.replace("<head>", "<head>\n" + meta, 1)
    # Folium's viewport forbids zooming the page; readers who enlarge text need it (WCAG 1.4.4).
    page = re.sub(
        r'<meta name="viewport"[^>]*>',
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
        page,
        count=1,
    )
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(page)
