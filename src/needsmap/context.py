"""Local-authority context: the council's DfE rates beside England and its statistical neighbours.

Reads the bundle's ``dfe_childrens_social_care.csv`` (long format: one row per area,
year and measure; see data/README.md). Everything here is published LA-level data,
so nothing needs suppressing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from needsmap.errors import InputError

DFE_FILE = "dfe_childrens_social_care.csv"
DFE_COLUMNS = ("group", "area_name", "year", "measure", "number", "rate_per_10000")
LA, ENGLAND, NEIGHBOUR = "Local authority", "England", "Statistical neighbour"
CASELOAD_OF = {
    "children_in_need_at_31_march": "children_in_need",
    "child_protection_plans_at_31_march": "child_protection_plans",
    "children_looked_after_at_31_march": "looked_after_children",
}
"""DfE measure -> the ward caseload measure it is the local-authority total of."""


def _check(dfe: pd.DataFrame) -> None:
    missing = sorted(set(DFE_COLUMNS) - set(dfe.columns))
    if missing:
        msg = (
            f"{DFE_FILE}: missing column(s) {missing}; found {sorted(dfe.columns)}. "
            "See data/README.md for the expected columns."
        )
        raise InputError(msg)
    groups = set(dfe["group"])
    if LA not in groups or ENGLAND not in groups:
        msg = (
            f"{DFE_FILE}: column 'group' needs rows for {LA!r} and {ENGLAND!r} "
            f"(found {sorted(groups)})"
        )
        raise InputError(msg)


def la_trend(dfe: pd.DataFrame) -> pd.DataFrame:
    """Rate per 10,000 children by measure and year: the LA, England and its neighbours.

    Returns
    -------
    pd.DataFrame
        One row per (``measure``, ``year``) with a rate: ``la_rate``,
        ``england_rate``, ``neighbour_median``, ``neighbour_mean``,
        ``neighbours`` (how many neighbours have a rate that year) and ``la_number``
        (the LA's count).
    """
    _check(dfe)
    frame = dfe.dropna(subset=["rate_per_10000"])
    keys = ["measure", "year"]
    la = frame[frame["group"] == LA].groupby(keys)
    eng = frame[frame["group"] == ENGLAND].groupby(keys)["rate_per_10000"].first()
    sn = frame[frame["group"] == NEIGHBOUR].groupby(keys)["rate_per_10000"]
    out = pd.DataFrame(
        {
            "la_rate": la["rate_per_10000"].first(),
            "la_number": la["number"].first(),
            "england_rate": eng,
            "neighbour_median": sn.median(),
            "neighbour_mean": sn.mean().round(1),
            "neighbours": sn.count(),
        }
    )
    out = out.dropna(subset=["la_rate"])
    out["neighbours"] = out["neighbours"].fillna(0).astype(int)
    return out.sort_index()


def la_benchmark(dfe: pd.DataFrame, *, trend_years: int = 5) -> pd.DataFrame:
    """One row per DfE measure: the LA's latest rate beside England and its neighbours.

    Parameters
    ----------
    dfe
        The bundle's DfE table (``Area.dfe``).
    trend_years
        The trend compares the latest year with ``trend_years - 1`` years earlier (or
        the earliest year with a rate, if later).

    Returns
    -------
    pd.DataFrame
        Indexed by ``measure``: ``caseload_measure`` (the ward column it totals, if
        any), ``year``, ``la_number``, ``la_rate``, ``england_rate``,
        ``neighbour_median``, ``neighbour_mean``, ``neighbour_min``, ``neighbour_max``,
        ``neighbours``, ``la_vs_england`` (rate difference), ``la_rank_among_neighbours``
        (1 = highest rate among the LA and its neighbours), ``trend_from`` (year),
        ``la_rate_then``, ``la_change``, ``england_change``, ``neighbour_median_change``.
        Rates are per 10,000 children aged 0-17, as DfE publishes them.
    """
    trend = la_trend(dfe)
    frame = dfe.dropna(subset=["rate_per_10000"])
    sn = frame[frame["group"] == NEIGHBOUR]
    rows = []
    for measure, by_year in trend.groupby(level="measure", sort=True):
        by_year = by_year.droplevel("measure")
        year = int(by_year.index.max())
        start = int(max(year - (trend_years - 1), by_year.index.min()))
        now, then = by_year.loc[year], by_year.loc[start]
        rates = sn[(sn["measure"] == measure) & (sn["year"] == year)]["rate_per_10000"]
        rank = int((rates > now["la_rate"]).sum()) + 1
        rows.append(
            {
                "measure": measure,
                "caseload_measure": CASELOAD_OF.get(str(measure), ""),
                "year": year,
                "la_number": now["la_number"],
                "la_rate": now["la_rate"],
                "england_rate": now["england_rate"],
                "neighbour_median": now["neighbour_median"],
                "neighbour_mean": now["neighbour_mean"],
                "neighbour_min": rates.min() if len(rates) else np.nan,
                "neighbour_max": rates.max() if len(rates) else np.nan,
                "neighbours": now["neighbours"],
                "la_vs_england": round(now["la_rate"] - now["england_rate"], 1),
                "la_rank_among_neighbours": rank,
                "trend_from": start,
                "la_rate_then": then["la_rate"],
                "la_change": round(now["la_rate"] - then["la_rate"], 1),
                "england_change": round(now["england_rate"] - then["england_rate"], 1),
                "neighbour_median_change": round(
                    now["neighbour_median"] - then["neighbour_median"], 1
                ),
            }
        )
    out = pd.DataFrame(rows).set_index("measure")
    out["la_number"] = out["la_number"].round().astype("Int64")
    out["neighbours"] = out["neighbours"].astype(int)
    return out


def dfe_children(dfe: pd.DataFrame, period: str) -> tuple[int, float] | None:
    """The children aged 0-17 DfE used for the council's rates in a caseload period's year.

    ``period`` is read as a date (``2025-03-31``: DfE's year ending 31 March 2025).
    Returns (year, children), or None when the period is not a date or DfE gives no
    population for that year.
    """
    when = pd.to_datetime(pd.Series([period]), errors="coerce", format="mixed").iloc[0]
    if pd.isna(when) or "population_0_17" not in dfe.columns:
        return None
    rows = dfe[(dfe["group"] == LA) & (dfe["year"] == when.year)]
    known = pd.to_numeric(rows["population_0_17"], errors="coerce").dropna()
    return (int(when.year), float(known.iloc[0])) if len(known) else None
