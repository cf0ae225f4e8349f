"""Static maps for board papers: geopandas + matplotlib, no browser needed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")  # headless: board maps are rendered on servers and in CI

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib_scalebar.scalebar import ScaleBar  # noqa: E402

from needsmap.maps import style  # noqa: E402
from needsmap.maps.interactive import MapText  # noqa: E402

A4_LANDSCAPE_IN = (11.0, 7.8)


def _north_arrow(ax: plt.Axes) -> None:
    ax.annotate(
        "N",
        xy=(0.96, 0.93),
        xytext=(0.96, 0.83),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=12,
        fontweight="bold",
        arrowprops={"facecolor": "black", "width": 3, "headwidth": 10, "headlength": 10},
    )


def choropleth(
    wards: gpd.GeoDataFrame,
    column: str,
    classes: style.Classes,
    text: MapText,
    *,
    legend_title: str,
    labels: bool = True,
    services: gpd.GeoDataFrame | None = None,
) -> Figure:
    """A board-ready choropleth of one ward column, in British National Grid.

    Uses the same classes and colours as the interactive map.
    """
    plt.rcParams["font.family"] = style.FONT
    fig, ax = plt.subplots(figsize=A4_LANDSCAPE_IN, layout="constrained")
    colours = classes.colour_of(wards[column])
    wards.plot(ax=ax, color=colours.to_numpy(), edgecolor=style.OUTLINE, linewidth=0.6)
    handles = [
        Patch(facecolor=c, edgecolor=style.OUTLINE, label=lab)
        for c, lab in zip(classes.colours, classes.labels, strict=True)
    ]
    if services is not None and len(services):
        for kind, group in services.groupby("type"):
            group.plot(
                ax=ax,
                color=style.service_colour(str(kind)),
                markersize=10,
                edgecolor="white",
                linewidth=0.4,
                zorder=3,
            )
    if labels:
        for _, row in wards.iterrows():
            p = row.geometry.representative_point()
            ax.annotate(
                str(row["ward_name"]),
                (p.x, p.y),
                ha="center",
                va="center",
                fontsize=6.5,
                color="#111111",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7},
            )
    ax.legend(
        handles=handles,
        title=legend_title,
        loc="lower left",
        fontsize=8,
        title_fontsize=9,
        frameon=True,
    )
    ax.add_artist(
        ScaleBar(1, units="m", location="lower right", length_fraction=0.2, box_alpha=0.8)
    )
    _north_arrow(ax)
    ax.set_axis_off()
    ax.set_aspect("equal")
    fig.suptitle(text.title, fontsize=15, fontweight="bold")
    ax.set_title(text.subtitle, fontsize=10, color="#333333")
    foot = "  ".join(text.attribution)
    fig.text(0.01, 0.005, foot, fontsize=5.5, color="#444444", wrap=True, va="bottom")
    marks = []
    if text.synthetic:
        marks.append("SYNTHETIC CASELOAD")
    if text.stamp:
        marks.append(text.stamp.upper())
    for i, mark in enumerate(marks):
        fig.text(
            0.5,
            0.5 - 0.12 * i,
            mark,
            fontsize=30,
            color="#888888",
            alpha=0.22,
            ha="center",
            va="center",
            rotation=25,
            fontweight="bold",
        )
    return fig


def save_figure(fig: Figure, stem: Path, formats: Sequence[str], dpi: int) -> list[Path]:
    """Write one figure in each format; returns the paths written."""
    paths = []
    stem.parent.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        # Fixed metadata so reruns write identical files.
        meta: dict[str, str | None] = {"Software": "needsmap"}
        if fmt == "svg":
            meta = {"Creator": "needsmap", "Date": None}
        if fmt == "pdf":
            meta = {"Creator": "needsmap", "Producer": "needsmap", "CreationDate": None}
        fig.savefig(path, dpi=dpi, metadata=meta)
        paths.append(path)
    plt.close(fig)
    return paths
