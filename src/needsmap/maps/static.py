"""Static maps for board papers: geopandas + matplotlib, no browser needed.

Every map is A4 landscape with a fixed layout, so nothing collides:

- title and a subtitle with the data vintage and period along the top;
- the map on the left, with a scale bar and north arrow in its emptiest corners and
  ward names placed where they do not overlap (small type with a white halo);
- a panel on the right with the legend (the same ``style`` classes as the interactive
  map), hatching for suppressed wards and notes in plain words;
- the licence attribution in its own band along the bottom.

Every piece of text drawn is collected before the figure is saved (``figure_texts``),
checked by the disclosure scan and stored in the file's metadata (PNG and SVG
``Description``, PDF ``Subject``), so a file can be scanned and described without OCR.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import textwrap
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib import font_manager
from matplotlib import patheffects as pe
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import Collection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from matplotlib_scalebar.scalebar import ScaleBar

from needsmap import vocabulary
from needsmap.integrity import die_with_parent
from needsmap.maps import layers, png, style
from needsmap.maps.layers import LayerSpec, MapContext, layers_for

A4_LANDSCAPE_IN = (11.69, 8.27)
MAP_RECT = (0.015, 0.10, 0.665, 0.78)
"""Map axes: left, bottom, width, height as fractions of the figure."""
PANEL_RECT = (0.70, 0.10, 0.285, 0.78)
"""Legend and notes panel, right of the map."""
ATTRIBUTION_WIDTH = 215
"""Characters per line of the attribution band (5.5 pt type across the page)."""
LABEL_SIZE = 6.5
HALO = (pe.withStroke(linewidth=2.2, foreground="white"),)
MARKERS = {
    # vocabulary.SHAPES as matplotlib markers: the interactive map's shapes.
    "circle": "o",
    "square": "s",
    "diamond": "D",
    "triangle": "^",
    "hexagon": "h",
    "pentagon": "p",
    "down": "v",
    "cross": "X",
    "star": "*",
}
SERVICES_STEM = "services"
T = TypeVar("T")


# --- fonts and rc settings ---------------------------------------------------------


def font_family(requested: str) -> str:
    """The requested font if matplotlib can find it; otherwise DejaVu Sans, with a warning."""
    try:
        font_manager.findfont(
            font_manager.FontProperties(family=requested), fallback_to_default=False
        )
    except ValueError:
        warnings.warn(
            f"maps.font: {requested!r} is not installed here; the maps use {style.FONT}",
            stacklevel=2,
        )
        return style.FONT
    return requested


def _rc(font: str) -> dict[str, Any]:
    return {
        "font.family": font,
        "svg.hashsalt": "needsmap",  # stable ids: reruns write identical SVG
        "svg.fonttype": "none",  # text stays text: editable, searchable, smaller
        "hatch.linewidth": 0.6,
    }


@contextlib.contextmanager
def _styled(font: str) -> Iterator[None]:
    with mpl.rc_context(cast(Any, _rc(font))):
        yield


# --- layout --------------------------------------------------------------------------


def _frame(wards: gpd.GeoDataFrame, ax: Axes, pad: float = 0.03) -> tuple[float, ...]:
    """Set limits that fit the wards and match the axes' shape exactly (equal scale)."""
    minx, miny, maxx, maxy = wards.total_bounds
    w, h = maxx - minx, maxy - miny
    minx, maxx = minx - w * pad, maxx + w * pad
    miny, maxy = miny - h * pad, maxy + h * pad
    box = ax.get_position()
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    fig_w, fig_h = fig.get_size_inches()
    target = (box.width * fig_w) / (box.height * fig_h)
    w, h = maxx - minx, maxy - miny
    if w / h < target:
        grow = (h * target - w) / 2
        minx, maxx = minx - grow, maxx + grow
    else:
        grow = (w / target - h) / 2
        miny, maxy = miny - grow, maxy + grow
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal", adjustable="datalim")  # a no-op: the limits already fit
    ax.set_axis_off()
    return minx, miny, maxx, maxy


CORNERS = {
    "upper left": (0.0, 0.80),
    "upper right": (0.78, 0.80),
    "lower left": (0.0, 0.0),
    "lower right": (0.78, 0.0),
}
CORNER_SIZE = (0.22, 0.20)


def _corner_cover(limits: tuple[float, ...], wards: gpd.GeoDataFrame) -> dict[str, float]:
    """Share of each corner box covered by wards (lower = emptier)."""
    minx, miny, maxx, maxy = limits
    w, h = maxx - minx, maxy - miny
    geoms = wards.geometry.to_numpy()
    out = {}
    for name, (fx, fy) in CORNERS.items():
        x0, y0 = minx + fx * w, miny + fy * h
        box = shapely.box(x0, y0, x0 + CORNER_SIZE[0] * w, y0 + CORNER_SIZE[1] * h)
        near = wards.sindex.query(box)
        covered = shapely.area(shapely.intersection(geoms[near], box)).sum()
        out[name] = float(covered / box.area)
    return out


def _emptiest(cover: dict[str, float], side: str) -> str:
    names = [n for n in cover if n.startswith(side)]
    return min(names, key=lambda n: (cover[n], n))


def _north_arrow(ax: Axes, corner: str) -> None:
    fx, fy = CORNERS[corner]
    x = fx + (0.16 if "right" in corner else 0.06)
    y = fy + 0.06
    ax.annotate(
        "N",
        xy=(x, y + 0.12),
        xytext=(x, y),
        xycoords="axes fraction",
        ha="center",
        va="top",
        fontsize=11,
        fontweight="bold",
        arrowprops={"facecolor": "black", "width": 2.5, "headwidth": 9, "headlength": 9},
        zorder=6,
    )


def _reserved(ax: Axes, corners: Sequence[str]) -> list[Bbox]:
    """Display boxes of the corners used by the scale bar and north arrow."""
    out = []
    for name in corners:
        fx, fy = CORNERS[name]
        out.append(
            Bbox.from_extents(
                *ax.transAxes.transform((fx, fy)),
                *ax.transAxes.transform((fx + CORNER_SIZE[0], fy + CORNER_SIZE[1])),
            )
        )
    return out


# --- labels --------------------------------------------------------------------------


def label_anchors(geoms: gpd.GeoSeries) -> np.ndarray:
    """A point well inside each polygon (pole of inaccessibility): x, y per row."""
    arr = geoms.to_numpy()
    size = np.sqrt(shapely.area(arr))
    tol = np.maximum(size / 100, 1.0)
    circles = shapely.maximum_inscribed_circle(arr, tol)
    first = shapely.get_point(circles, 0)
    return np.column_stack([shapely.get_x(first), shapely.get_y(first)])


def _wrap_name(name: str) -> str:
    words = name.split()
    if len(words) < 2:
        return name
    cut = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(name) / 2))
    return " ".join(words[:cut]) + "\n" + " ".join(words[cut:])


def _overlap(box: Bbox, others: Sequence[Bbox]) -> float:
    total = 0.0
    for o in others:
        w = min(box.x1, o.x1) - max(box.x0, o.x0)
        h = min(box.y1, o.y1) - max(box.y0, o.y0)
        if w > 0 and h > 0:
            total += w * h
    return total


Label = tuple[float, float, str]
"""x, y (data coordinates) and the text of one ward name (with a line break if wrapped)."""


def place_labels(
    ax: Axes,
    wards: gpd.GeoDataFrame,
    names: pd.Series,
    renderer: RendererBase,
    *,
    reserved: Sequence[Bbox] = (),
    fontsize: float = LABEL_SIZE,
) -> list[Label]:
    """Where to write each ward's name inside it, moving or wrapping names that would overlap.

    Small wards are placed first (they have least room). Each name tries its polygon's
    pole of inaccessibility and eight nearby positions, on one line and on two, and
    takes the one that overlaps least: names already placed and the ``reserved`` boxes
    (scale bar, north arrow) count most, then the share of the name outside its ward,
    then the distance moved.
    """
    anchors = label_anchors(wards.geometry)
    to_display = ax.transData
    to_data = ax.transData.inverted()
    frame = ax.bbox
    placed: list[Bbox] = list(reserved)
    out: list[Label] = []
    steps = np.array([(0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1)])
    order = np.argsort(shapely.area(wards.geometry.to_numpy()), kind="stable")
    probe = ax.text(0, 0, "", fontsize=fontsize, ha="center", va="center", linespacing=1.0)
    for i in order:
        geom = wards.geometry.iloc[i]
        name = str(names.iloc[i])
        cx, cy = to_display.transform(anchors[i])
        best: tuple[float, str, Bbox] | None = None
        for extra, variant in enumerate(dict.fromkeys((name, _wrap_name(name)))):
            probe.set_text(variant)
            ext = probe.get_window_extent(renderer)
            w, h = ext.width + 2, ext.height + 2
            offsets = steps * (0.55 * w, 1.05 * h)
            lo = to_data.transform(offsets + (cx - w / 2, cy - h / 2))
            hi = to_data.transform(offsets + (cx + w / 2, cy + h / 2))
            boxes = shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1])
            outside = 1 - shapely.area(shapely.intersection(boxes, geom)) / shapely.area(boxes)
            for (dx, dy), share_out in zip(offsets, outside, strict=True):
                box = Bbox.from_bounds(cx + dx - w / 2, cy + dy - h / 2, w, h)
                in_frame = (
                    frame.x0 <= box.x0
                    and box.x1 <= frame.x1
                    and frame.y0 <= box.y0
                    and box.y1 <= frame.y1
                )
                cost = (
                    10 * _overlap(box, placed)
                    + (0 if in_frame else 5 * w * h)
                    + 0.6 * float(share_out) * w * h
                    + 0.05 * extra * w * h
                    + 0.01 * (abs(dx) + abs(dy)) * h
                )
                if best is None or cost < best[0]:
                    best = (cost, variant, box)
        assert best is not None
        _, variant, box = best
        placed.append(box)
        x, y = to_data.transform((box.x0 + box.width / 2, box.y0 + box.height / 2))
        out.append((float(x), float(y), variant))
    probe.remove()
    return out


def draw_labels(ax: Axes, labels: Sequence[Label], *, fontsize: float = LABEL_SIZE) -> None:
    """Write placed ward names: small dark type with a white halo."""
    for x, y, text in labels:
        ax.text(
            x,
            y,
            text,
            fontsize=fontsize,
            ha="center",
            va="center",
            color="#111111",
            linespacing=1.0,
            path_effects=HALO,
            zorder=5,
        )


class _Canvas(FigureCanvasAgg):
    """Agg canvas that draws only when saving (geopandas' plot asks for a redraw)."""

    def draw_idle(self, *args: object, **kwargs: object) -> None:
        return None


def _renderer(fig: Figure) -> RendererBase:
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    return canvas.get_renderer()


# --- figure skeleton -----------------------------------------------------------------


def _skeleton(
    title: str, subtitle: str, ctx: MapContext | None
) -> tuple[Figure, Axes, Axes]:
    fig = Figure(figsize=A4_LANDSCAPE_IN, dpi=100, facecolor="white")
    _Canvas(fig)
    ax = fig.add_axes(MAP_RECT)
    panel = fig.add_axes(PANEL_RECT)
    panel.set_axis_off()
    fig.text(0.015, 0.965, title, fontsize=16, fontweight="bold", va="top")
    fig.text(0.015, 0.925, subtitle, fontsize=9.5, color="#333333", va="top")
    attribution = ctx.attribution if ctx else ()
    foot = "\n".join(textwrap.fill(a, ATTRIBUTION_WIDTH) for a in attribution)
    fig.text(0.015, 0.012, foot, fontsize=5.5, color="#444444", va="bottom", linespacing=1.25)
    if ctx and ctx.stamp:
        fig.text(
            0.985,
            0.965,
            ctx.stamp.upper(),
            fontsize=11,
            fontweight="bold",
            color="white",
            ha="right",
            va="top",
            bbox={"boxstyle": "square,pad=0.4", "fc": "#b2182b", "ec": "none"},
        )
    return fig, ax, panel


def _watermark(ax: Axes) -> None:
    ax.text(
        0.5,
        0.5,
        "SYNTHETIC CASELOAD",
        transform=ax.transAxes,
        fontsize=34,
        color=style.WATERMARK,
        alpha=0.2,
        ha="center",
        va="center",
        rotation=25,
        fontweight="bold",
        zorder=7,
    )


def _panel(
    panel: Axes,
    handles: Sequence[Patch | Line2D],
    title: str,
    notes: Sequence[str],
    renderer: RendererBase,
) -> None:
    for handle in handles:  # long category names wrap inside the panel
        handle.set_label(textwrap.fill(str(handle.get_label()), 42))
    legend = panel.legend(
        handles=list(handles),
        title=textwrap.fill(title, 38),
        loc="upper left",
        bbox_to_anchor=(0.0, 1.0),
        frameon=False,
        fontsize=8.5,
        title_fontsize=9.5,
        alignment="left",
        handlelength=1.8,
        handleheight=1.2,
        borderaxespad=0.0,
    )
    legend.get_title().set_fontweight("bold")
    box = legend.get_window_extent(renderer).transformed(panel.transAxes.inverted())
    if notes:
        panel.text(
            0.0,
            box.y0 - 0.04,
            "\n".join(
                textwrap.fill(n, 48, initial_indent="• ", subsequent_indent="   ") for n in notes
            ),
            fontsize=7.5,
            color="#333333",
            va="top",
            linespacing=1.35,
            transform=panel.transAxes,
        )


def _decorate(
    fig: Figure,
    ax: Axes,
    wards: gpd.GeoDataFrame,
    *,
    labels: bool | Sequence[Label],
    limits: tuple[float, ...],
) -> list[Label]:
    """Scale bar, north arrow and ward names, in the emptiest places.

    ``labels`` is True to place names, False for none, or names already placed (by
    ``label_layout``: every map of a run has the same frame, so one layout serves all).
    """
    cover = _corner_cover(limits, wards)
    bar_at, arrow_at = _emptiest(cover, "lower"), _emptiest(cover, "upper")
    ax.add_artist(
        ScaleBar(
            1,
            units="m",
            location=bar_at,
            length_fraction=0.18,
            box_alpha=0.8,
            font_properties={"size": 8},
        )
    )
    _north_arrow(ax, arrow_at)
    if labels is True:
        renderer = _renderer(fig)
        reserved = _reserved(ax, (bar_at, arrow_at))
        labels = place_labels(ax, wards, wards["ward_name"], renderer, reserved=reserved)
    elif labels is False:
        labels = []
    draw_labels(ax, labels)
    return list(labels)


def label_layout(wards: gpd.GeoDataFrame, *, font: str = style.FONT) -> list[Label]:
    """Ward names placed once for the standard map frame (see ``place_labels``)."""
    with _styled(font):
        fig, ax, _ = _skeleton("", "", None)
        limits = _frame(wards, ax)
        return _decorate(fig, ax, wards, labels=True, limits=limits)


# --- public maps -----------------------------------------------------------------------


WITHHELD = "withheld"
"""What a complementary-suppressed cell reads (protects a suppressed count elsewhere)."""


def _hidden(values: pd.Series, text: str) -> np.ndarray:
    """Published cells that hold ``text`` instead of a value."""
    return (values.astype(object) == text).to_numpy(dtype=bool)


def layer_map(
    wards: gpd.GeoDataFrame,
    spec: LayerSpec,
    ctx: MapContext,
    *,
    map_style: style.MapStyle | None = None,
    classes: style.Classes | None = None,
    labels: bool | Sequence[Label] = True,
    provision: gpd.GeoDataFrame | None = None,
) -> Figure:
    """A board-ready map of one ward column (British National Grid).

    Parameters
    ----------
    wards
        The published ward table with geometry, ``ward_name`` and ``spec.column``.
        Suppressed and withheld cells (text) are hatched and explained in the legend.
    spec
        The layer, from ``layers.LAYERS``.
    ctx
        What the run's maps say: the title and subtitle come from it, with the
        attribution, synthetic flag, stamp and the texts suppressed and withheld cells
        hold (for the legend).
    classes
        Class breaks for continuous layers; by default ``layers.classes_for`` of the
        published column in ``map_style``'s palette: the interactive map's classes.
    provision
        Existing provision and pilots (``type``, point geometry, EPSG:27700), drawn on
        every map.
    """
    st = map_style or style.MapStyle()
    marker, withheld = ctx.marker, ctx.withheld
    synthetic = ctx.layer_synthetic(spec)
    values = wards[spec.column]
    hidden = {marker: _hidden(values, marker), withheld: _hidden(values, withheld)}
    any_hidden = hidden[marker] | hidden[withheld]
    with _styled(st.font):
        title, subtitle = ctx.layer_title(spec), ctx.layer_subtitle(spec, len(wards))
        fig, ax, panel = _skeleton(title, subtitle, ctx)
        if spec.kind == "categorical":
            cats = layers.categories_for(spec, wards, palette=st.categorical)
            names, palette = cats.names, cats.colours
            lookup = dict(zip(names, palette, strict=True))
            colours = pd.Series(
                [lookup.get(str(v), st.no_data) if pd.notna(v) else st.no_data for v in values],
                index=wards.index,
            )
            handles = [
                Patch(facecolor=c, edgecolor=st.outline, label=layers.category_label(spec, n))
                for n, c in zip(names, palette, strict=True)
            ]
            missing = values.isna().to_numpy()
            notes = layers.legend_notes(spec, None)
        else:
            classes = classes or layers.classes_for(
                spec, wards, palette=st.sequential, diverging=st.diverging
            )
            colours = classes.colour_of(values)
            handles = [
                Patch(facecolor=c, edgecolor=st.outline, label=lab)
                for c, lab in zip(classes.colours, classes.labels, strict=True)
            ]
            missing = pd.to_numeric(values, errors="coerce").isna().to_numpy() & ~any_hidden
            notes = layers.legend_notes(spec, classes)
        if missing.any():
            handles.append(Patch(facecolor=st.no_data, edgecolor=st.outline, label="No data"))
        wards.plot(
            ax=ax, color=colours.to_numpy(), edgecolor=st.outline, linewidth=0.6, aspect=None
        )
        kinds = (
            (marker, style.SUPPRESSED_HATCH, f"Suppressed: {marker} children"),
            (withheld, style.WITHHELD_HATCH, "Withheld: protects a suppressed count"),
        )
        for key, hatch, label in kinds:
            if hidden[key].any():
                wards[hidden[key]].plot(
                    ax=ax,
                    facecolor=st.suppressed,
                    edgecolor=st.outline,
                    hatch=hatch,
                    linewidth=0.6,
                    aspect=None,
                )
                handles.append(
                    Patch(facecolor=st.suppressed, edgecolor=st.outline, hatch=hatch, label=label)
                )
        if hidden[marker].any():
            notes.append(
                f"Hatched wards: a count of {marker} children; the count and its rate "
                "are not shown, to protect the children concerned."
            )
        if hidden[withheld].any():
            notes.append(
                "Cross-hatched wards: withheld, so that totals cannot reveal a suppressed count."
            )
        legend: list[Patch | Line2D] = [*handles, *provision_markers(ax, provision)]
        if synthetic:
            notes.append("Synthetic caseload: illustrative, not real ward figures.")
        if ctx.stamp:
            notes.append(f"{ctx.stamp}: small numbers are shown.")
        limits = _frame(wards, ax)
        renderer = _renderer(fig)
        _panel(panel, legend, spec.title, notes, renderer)
        _decorate(fig, ax, wards, labels=labels, limits=limits)
        if synthetic:
            _watermark(ax)
    return fig


def _provision_look(kind: str) -> tuple[str, str, str, float]:
    """Marker, fill, edge and size of existing provision: the vocabulary's shape and
    colour, as on the interactive map (pilots: the black star)."""
    look = vocabulary.PILOT if kind == "pilot" else vocabulary.service(kind)
    edge = "white" if kind == "pilot" else "black"
    return MARKERS[look.shape], look.colour, edge, 160 if kind == "pilot" else 80


def provision_markers(ax: Axes, provision: gpd.GeoDataFrame | None) -> list[Line2D]:
    """Existing provision (family hubs, children's centres, pilots) over a ward map, for
    every map: large filled shapes in their service colours, on top. Returns the legend
    handles."""
    handles: list[Line2D] = []
    if provision is None or not len(provision):
        return handles
    for kind, group in provision.groupby("type", sort=True):
        kind = str(kind)
        marker, colour, edge, size = _provision_look(kind)
        pts = group.geometry.to_numpy()
        ax.scatter(
            shapely.get_x(pts),
            shapely.get_y(pts),
            s=size,
            marker=marker,
            facecolors=colour,
            edgecolors=edge,
            linewidths=0.7,
            zorder=8,  # above the ward names
        )
        handles.append(
            Line2D(
                [],
                [],
                marker=marker,
                linestyle="none",
                markerfacecolor=colour,
                markeredgecolor=edge,
                markersize=12 if kind == "pilot" else 9,
                label=vocabulary.service_count(kind, len(group)),
            )
        )
    return handles


def services_map(
    wards: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    ctx: MapContext,
    *,
    sites: gpd.GeoDataFrame | None = None,
    map_style: style.MapStyle | None = None,
    labels: bool | Sequence[Label] = True,
    provision: gpd.GeoDataFrame | None = None,
) -> Figure:
    """Where services are: one symbol and colour per type, over the ward outlines.

    Parameters
    ----------
    services
        Placed services (EPSG:27700) with ``type`` and, optionally, ``pilot``.
    sites
        Recommended sites (EPSG:27700), drawn as numbered squares when given.
    provision
        Existing provision (``type``: family hubs, children's centres, ``pilot``), drawn
        large and on top as on every other map, so a few hubs are not lost among schools.
    """
    st = map_style or style.MapStyle()
    with _styled(st.font):
        title = ctx.title("services for children and families")
        subtitle = (
            f"Services as placed for this run · {len(wards)} wards "
            f"({ctx.ward_vintage} boundaries)"
        )
        fig, ax, panel = _skeleton(title, subtitle, ctx)
        wards.plot(ax=ax, facecolor="#f4f4f4", edgecolor=st.outline, linewidth=0.6, aspect=None)
        handles: list[Patch | Line2D] = []
        existing = set(provision["type"].astype(str)) if provision is not None else set()
        kinds = sorted(services["type"].astype(str).unique()) if len(services) else []
        for kind in (k for k in kinds if k not in existing):
            group = services[services["type"].astype(str) == kind]
            shape = MARKERS[style.service_shape(kind)]
            colour = style.service_colour(kind)
            ax.scatter(
                shapely.get_x(group.geometry.to_numpy()),
                shapely.get_y(group.geometry.to_numpy()),
                s=16,
                marker=shape,
                c=colour,
                edgecolors="white",
                linewidths=0.4,
                zorder=3,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker=shape,
                    linestyle="none",
                    markerfacecolor=colour,
                    markeredgecolor="white",
                    markersize=7,
                    label=vocabulary.service_count(kind, len(group)),
                )
            )
        handles += provision_markers(ax, provision)
        if sites is not None and len(sites):
            # As on the interactive map: purple squares numbered in the order chosen.
            ordered = sites.sort_values("order", kind="stable") if "order" in sites else sites
            pts = ordered.geometry.to_numpy()
            xs, ys = shapely.get_x(pts), shapely.get_y(pts)
            ax.scatter(
                xs,
                ys,
                s=150,
                marker="s",
                c=style.SITE_COLOUR,
                edgecolors="white",
                linewidths=1.0,
                zorder=6,
            )
            for n, (x, y) in enumerate(zip(xs, ys, strict=True), start=1):
                ax.annotate(
                    str(n),
                    (x, y),
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    fontweight="bold",
                    color="white",
                    zorder=7,
                )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="s",
                    linestyle="none",
                    markerfacecolor=style.SITE_COLOUR,
                    markeredgecolor="white",
                    markersize=10,
                    label=f"{vocabulary.SITE.label} (numbered in the order chosen)",
                )
            )
        notes = [
            "Locations from each service's postcode (Code-Point Open) or coordinates; "
            "services that could not be placed are listed in services_unplaced.csv."
        ]
        if ctx.stamp:
            notes.append(f"{ctx.stamp}: small numbers are shown.")
        limits = _frame(wards, ax)
        renderer = _renderer(fig)
        _panel(panel, handles, "Services", notes, renderer)
        _decorate(fig, ax, wards, labels=labels, limits=limits)
    return fig


# --- locator maps for the report ----------------------------------------------------------


LOCATOR_WHOLE_AREA = 300
"""Up to this many wards a locator map shows them all; beyond, the ward's surroundings."""


def locator_maps(
    wards: gpd.GeoDataFrame,
    codes: Sequence[str],
    *,
    highlight: str = "#bd0026",
    size_in: tuple[float, float] = (2.4, 2.4),
    dpi: int = 110,
    map_style: style.MapStyle | None = None,
) -> dict[str, bytes]:
    """A small PNG per ward in ``codes``: the area in grey, that ward highlighted.

    For a local authority (up to ``LOCATOR_WHOLE_AREA`` wards) one figure is drawn and
    only the fill colours change between wards. For larger areas each map shows the
    wards around the highlighted one (a window five times its size), so the cost per
    map does not grow with the number of wards.
    """
    st = map_style or style.MapStyle()
    out: dict[str, bytes] = {}
    with _styled(st.font):
        if len(wards) <= LOCATOR_WHOLE_AREA:
            fig, collection = _locator_figure(wards, size_in, dpi)
            base = np.array(["#e6e6e6"] * len(wards), dtype=object)
            position = {code: i for i, code in enumerate(wards.index)}
            for code in codes:
                fills = base.copy()
                fills[position[code]] = highlight
                collection.set_facecolor(list(fills))
                out[code] = _png(fig, dpi, {"Software": "needsmap"})
            return out
        for code in codes:
            geom = wards.geometry.loc[code]
            minx, miny, maxx, maxy = geom.bounds
            half = 2.5 * max(maxx - minx, maxy - miny, 500.0)
            cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
            window = shapely.box(cx - half, cy - half, cx + half, cy + half)
            near = wards.iloc[np.sort(wards.sindex.query(window))]
            fig, collection = _locator_figure(near, size_in, dpi, window=window.bounds)
            collection.set_facecolor([highlight if c == code else "#e6e6e6" for c in near.index])
            out[code] = _png(fig, dpi, {"Software": "needsmap"})
    return out


def _locator_figure(
    wards: gpd.GeoDataFrame,
    size_in: tuple[float, float],
    dpi: int,
    window: tuple[float, float, float, float] | None = None,
) -> tuple[Figure, Collection]:
    fig = Figure(figsize=size_in, dpi=dpi, facecolor="white")
    _Canvas(fig)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.96))
    wards.plot(ax=ax, facecolor="#e6e6e6", edgecolor="#8c8c8c", linewidth=0.4, aspect=None)
    if window is None:
        _frame(wards, ax, pad=0.02)
    else:
        ax.set_xlim(window[0], window[2])
        ax.set_ylim(window[1], window[3])
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_axis_off()
    return fig, ax.collections[0]


# --- text checks and saving ------------------------------------------------------------


def _walk(artist: Artist) -> Iterator[Artist]:
    # Axis artists are skipped: the axes are switched off, so tick labels are never drawn
    # (and asking an axis for its children would create ticks).
    if isinstance(artist, Axis):
        return
    yield artist
    for child in artist.get_children():
        yield from _walk(child)


def figure_texts(fig: Figure) -> list[str]:
    """Every piece of text that will be drawn: titles, legend, notes, labels, stamps."""
    artists = [*fig.texts, *_walk(fig)]  # the figure's own texts first: title, subtitle
    texts = [
        a.get_text()
        for a in artists
        if isinstance(a, Text) and a.get_visible() and a.get_text().strip()
    ]
    return list(dict.fromkeys(texts))


def _meta(fmt: str, title: str, description: str) -> dict[str, str | None]:
    # Fixed metadata so reruns write identical files; the drawn text makes the
    # file searchable and lets the disclosure scan read what a PNG shows.
    if fmt == "svg":
        return {"Creator": "needsmap", "Date": None, "Title": title, "Description": description}
    if fmt == "pdf":
        return {
            "Creator": "needsmap",
            "Producer": "needsmap",
            "CreationDate": None,
            "Title": title,
            "Subject": description,
        }
    return {"Software": "needsmap", "Title": title, "Description": description}


def save_figure(
    fig: Figure,
    stem: Path,
    formats: Sequence[str],
    dpi: int,
    *,
    check: Callable[[Sequence[str]], None] | None = None,
    font: str = style.FONT,
) -> list[Path]:
    """Write one figure in each format; returns the paths written.

    Parameters
    ----------
    check
        Called with every text on the figure before anything is written (the
        disclosure check); it raises to stop the figure being saved.
    """
    texts = figure_texts(fig)
    if check is not None:
        check(texts)
    title = texts[0] if texts else ""
    description = "\n".join(texts)
    paths = []
    stem.parent.mkdir(parents=True, exist_ok=True)
    with _styled(font):
        for fmt in formats:
            path = stem.with_suffix(f".{fmt}")
            if fmt == "png":
                path.write_bytes(_png(fig, dpi, _meta(fmt, title, description)))
            else:
                fig.savefig(path, dpi=dpi, metadata=_meta(fmt, title, description))
            paths.append(path)
    return paths


def figure_png(fig: Figure, dpi: int = 150, *, font: str = style.FONT) -> bytes:
    """The figure as PNG bytes (for embedding in the report)."""
    with _styled(font):
        return _png(fig, dpi, {"Software": "needsmap"})


def _png(fig: Figure, dpi: int, meta: Mapping[str, str | None]) -> bytes:
    """The figure drawn once at ``dpi`` as a lossless RGB PNG (``png.encode``).

    Colours are exact: a council's palette prints as given.
    """
    canvas = fig.canvas
    if not isinstance(canvas, FigureCanvasAgg):  # e.g. a Figure() made without pyplot
        canvas = FigureCanvasAgg(fig)
    old_dpi = fig.dpi
    fig.set_dpi(dpi)
    try:
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
        text = {key: value for key, value in meta.items() if value is not None}
        return png.encode(rgba, dpi=dpi, text=text)
    finally:
        fig.set_dpi(old_dpi)


def use_labels(n_wards: int, setting: str, max_wards: int) -> bool:
    """Ward names on or off: "on", "off", or "auto" (on up to ``max_wards`` wards)."""
    if setting == "on":
        return True
    if setting == "off":
        return False
    return n_wards <= max_wards


@dataclass(frozen=True)
class Drawing:
    """One board figure to draw and save in every format.

    ``draw`` makes the figure (a ``functools.partial`` of ``layer_map``, say): a drawing
    is picklable, so a worker process can run it, and calling it returns the paths.
    """

    stem: Path
    draw: Callable[[], Figure]
    formats: Sequence[str]
    dpi: int
    check: Callable[[Sequence[str]], None] | None = None
    font: str = style.FONT

    def __call__(self) -> list[Path]:
        return save_figure(
            self.draw(), self.stem, self.formats, self.dpi, check=self.check, font=self.font
        )


def map_drawings(
    wards: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    folder: Path,
    ctx: MapContext,
    *,
    formats: Sequence[str] = ("png", "svg", "pdf"),
    dpi: int = 300,
    map_style: style.MapStyle | None = None,
    labels: bool = True,
    sites: gpd.GeoDataFrame | None = None,
    check: Callable[[Sequence[str]], None] | None = None,
    provision: gpd.GeoDataFrame | None = None,
) -> list[Drawing]:
    """Every board map: one per registered layer present in ``wards`` (registry order,
    so the need index comes first), then services.

    Parameters
    ----------
    wards
        The published ward table (suppression applied) with geometry, EPSG:27700.
    folder
        Where ``<layer>.png|svg|pdf`` go (created if needed).
    check
        The disclosure check run on each figure's text before it is saved.
    """
    st = map_style or style.MapStyle()
    placed = label_layout(wards, font=st.font) if labels else []
    drawings = [
        Drawing(
            folder / spec.stem,
            functools.partial(
                layer_map,
                wards,
                spec,
                ctx,
                map_style=st,
                labels=placed,
                provision=provision,
            ),
            formats,
            dpi,
            check,
            st.font,
        )
        for spec in layers_for(wards.columns)
    ]
    draw = functools.partial(
        services_map,
        wards,
        services,
        ctx,
        sites=sites,
        map_style=st,
        labels=placed,
        provision=provision,
    )
    drawings.append(Drawing(folder / SERVICES_STEM, draw, formats, dpi, check, st.font))
    return drawings


MAX_WORKERS = 4


@contextlib.contextmanager
def drawing_pool(jobs: int) -> Iterator[Executor]:
    """Where board figures are drawn: forked worker processes, one per CPU.

    Drawing is CPU-bound matplotlib and the figures are independent, so each runs in
    its own process while the caller goes on (the report, say); files and their bytes
    are the same as drawn one by one. With one CPU, or where processes cannot be
    forked (Windows), each drawing runs in this process as it is submitted. Workers
    end with this process, even when it is killed (``integrity.die_with_parent``).
    """
    workers = min(jobs, os.cpu_count() or 1, MAX_WORKERS)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield _InProcess()
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=die_with_parent
    ) as pool:
        try:
            yield pool
        except BaseException:
            pool.shutdown(cancel_futures=True)  # do not draw what will be thrown away
            raise


class _InProcess(Executor):
    """Runs each job at once, in this process. An error is kept for ``result()``, as a
    worker's would be; an interrupt (Ctrl-C) stops the run at once."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


def write_maps(
    wards: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    folder: Path,
    ctx: MapContext,
    **options: Any,
) -> list[Path]:
    """Draw and save every board map (``map_drawings``, with the same options); returns
    the paths written."""
    drawings = map_drawings(wards, services, folder, ctx, **options)
    with drawing_pool(len(drawings)) as pool:
        done = [pool.submit(drawing) for drawing in drawings]
        return [path for future in done for path in future.result()]


# --- the LA against England and its statistical neighbours ------------------------------


def benchmark_chart(
    comparison: pd.DataFrame,
    area: str,
    *,
    measures: Sequence[str],
    map_style: style.MapStyle | None = None,
) -> Figure:
    """Bars of each area's rate per 10,000 children, one panel per measure.

    Parameters
    ----------
    comparison
        From ``report.la_comparison``: ``measure``, ``group``, ``area_name``, ``rate``.
    measures
        Caseload measures in panel order; each panel is titled with its plain label.
    """
    st = map_style or style.MapStyle()
    measures = [m for m in measures if (comparison["measure"] == m).any()]
    with _styled(st.font):
        fig = Figure(figsize=(7.5, 0.5 + 2.6 * len(measures) / 1.6), dpi=100, facecolor="white")
        _Canvas(fig)
        axes = fig.subplots(1, max(len(measures), 1), squeeze=False)[0]
        for ax, m in zip(axes, measures, strict=False):
            part = comparison[(comparison["measure"] == m) & comparison["rate"].notna()]
            areas = part[part["group"] != "England"].sort_values("rate")
            eng = part[part["group"] == "England"]["rate"]
            colours = [
                st.sequential[-1] if g == "Local authority" else "#bdbdbd" for g in areas["group"]
            ]
            ax.barh(areas["area_name"], areas["rate"], color=colours, height=0.7)
            if len(eng):
                ax.axvline(float(eng.iloc[0]), color="#000000", linestyle="--", linewidth=1)
                ax.text(float(eng.iloc[0]), len(areas) - 0.4, " England", fontsize=7, va="bottom")
            year = int(part["year"].iloc[0]) if len(part) else ""
            ax.set_title(f"{vocabulary.label(m)}\n{year}", fontsize=8.5, loc="left")
            ax.tick_params(labelsize=6.5)
            ax.spines[["top", "right"]].set_visible(False)
            for tick in ax.get_yticklabels():
                if tick.get_text() == area:
                    tick.set_fontweight("bold")
        fig.supxlabel("Rate per 10,000 children aged 0–17", fontsize=8)
        fig.set_layout_engine("constrained")
    return fig
