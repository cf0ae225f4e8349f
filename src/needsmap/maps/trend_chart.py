"""Small multiples: one little trend chart per ward, on a shared scale, so a board sees
at a glance which wards are rising (red), falling (blue) or not clearly changing (grey)."""

from __future__ import annotations

import math
import textwrap

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from needsmap import vocabulary
from needsmap.maps import style
from needsmap.trends import FALLING, RISING

VERDICT_COLOURS = {RISING: "#b2182b", FALLING: "#2166ac"}
STEADY_COLOUR = "#636363"
AREA_COLOUR = "#bdbdbd"
MOST_PANELS = 48
"""Panels drawn at most (8 rows of 6): an A4 page's worth."""


def small_multiples(
    series: pd.DataFrame,
    verdicts: pd.Series,
    names: pd.Series,
    *,
    area: pd.Series | None = None,
    title: str,
    ylabel: str,
    note: str = "",
    columns: int = 6,
) -> Figure:
    """One panel per ward: its yearly values, coloured by its trend verdict.

    Parameters
    ----------
    series
        Wards (index) by financial years (columns: the year each ends, 2025 for
        2024/25; the axis reads "2024/25"), values to plot.
    verdicts
        Ward -> rising / falling / not clearly changing (colours the line).
    names
        Ward -> name (panel titles). Panels are ordered by the latest value, highest first.
    area
        Year -> the whole area's value, drawn in light grey behind every ward.
    """
    matplotlib.rcParams["font.family"] = style.FONT
    order = series.iloc[:, -1].sort_values(ascending=False, kind="stable").index
    rows = math.ceil(len(order) / columns)
    fig = Figure(figsize=(1.45 * columns + 0.4, 1.2 * rows + 1.1), layout="constrained")
    axes = fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
    years = [int(y) for y in series.columns]
    for ax in axes.flat[len(order) :]:
        ax.set_visible(False)
    for ax, code in zip(axes.flat, order, strict=False):
        verdict = verdicts.get(code)
        colour = VERDICT_COLOURS.get(str(verdict), STEADY_COLOUR)
        if area is not None:
            ax.plot(years, area.reindex(series.columns).to_numpy(), color=AREA_COLOUR, lw=1)
        values = series.loc[code].to_numpy(dtype=float)
        ax.plot(years, values, color=colour, lw=1.6, marker="o", markersize=2.2)
        name = textwrap.fill(str(names.get(code, code)), 24)
        ax.set_title(name, fontsize=6.5, color=colour, pad=2)
        ax.set_ylim(bottom=0)
        ends = [years[0], years[-1]]
        ax.set_xticks(ends, [vocabulary.financial_year(y) for y in ends])
        ax.tick_params(labelsize=5.5, length=2)
        ax.grid(alpha=0.3, linewidth=0.4)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.suptitle(title, fontsize=9.5)
    fig.supylabel(ylabel, fontsize=7)
    key = "Red: rising · blue: falling · dark grey: not clearly changing (95% trend test)"
    if area is not None:
        key += " · light grey: the whole area"
    fig.supxlabel(f"{key}\n{note}".strip(), fontsize=6, color="#444444")
    return fig


def child_poverty_figure(
    cilif: pd.DataFrame,
    wards: pd.DataFrame,
    *,
    areas: pd.DataFrame | None = None,
    area_name: str = "",
    most: int = MOST_PANELS,
) -> Figure:
    """Small multiples of the DWP ward series (relative low income before housing costs).

    ``wards`` holds ``ward_name`` and ``child_poverty_trend``; ``areas`` the
    bundle's area series (its "Local authority" row is drawn behind every ward).
    Where there are more than ``most`` wards (a county, or England), the ``most`` with
    the highest latest share are drawn and the title says so: a panel per ward of
    England would be a chart 1,400 inches tall that takes minutes to draw.
    """
    rows = cilif[cilif["measure"] == "relative_bhc"]
    series = rows.pivot_table(index="ward_code", columns="fye", values="percentage")
    series = series.reindex(wards.index).dropna(how="all")
    which = "by ward"
    if len(series) > most:
        which = f"the {most} wards of {len(series):,} with the highest latest share"
        series = series.loc[series.iloc[:, -1].nlargest(most, keep="first").index]
    area = None
    if areas is not None:
        la = areas[(areas["group"] == "Local authority") & (areas["measure"] == "relative_bhc")]
        area = la.set_index("fye")["percentage"] if len(la) else None
    years = [int(c) for c in series.columns]
    return small_multiples(
        series,
        wards["child_poverty_trend"],
        wards["ward_name"],
        area=area,
        title=(
            f"{area_name}: children aged 0–15 in relative low income, {which}, "
            f"{vocabulary.financial_year(years[0])} to {vocabulary.financial_year(years[-1])}"
        ).lstrip(": "),
        ylabel="% of children (before housing costs)",
        note="DWP Children in Low Income Families, provisional. Wards ordered by the latest year.",
    )
