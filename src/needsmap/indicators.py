"""Ward indicators: deprivation aggregated from LSOAs, caseload rates, and the need index."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from needsmap.errors import ConfigError
from needsmap.geography import aggregate

PER = 10_000
DOMAIN_SCORES = (
    "imd_score",
    "income_score",
    "employment_score",
    "education_score",
    "health_score",
    "crime_score",
    "housing_and_services_score",
    "environment_score",
)


def ward_deprivation(lsoa: pd.DataFrame) -> pd.DataFrame:
    """Deprivation and population by ward from LSOA rows.

    IMD and domain scores are means weighted by total population, IDACI by children
    aged 0-15 (its own denominator), IDAOPI by total population (the bundle has no 60+
    split). Ranks are never averaged: instead each ward gets the number and share of its
    LSOAs in England's most deprived 10% and 20% (IMD deciles 1 and 1-2).
    """
    frame = lsoa.copy()
    frame["lsoas"] = 1
    frame["lsoas_most_deprived_10pc"] = (frame["imd_decile"] <= 1).astype(int)
    frame["lsoas_most_deprived_20pc"] = (frame["imd_decile"] <= 2).astype(int)
    weighted = {c: "population" for c in DOMAIN_SCORES}
    weighted |= {"idaci_score": "children_0_15", "idaopi_score": "population"}
    out = aggregate(
        frame,
        sums=(
            "population",
            "children_0_15",
            "children",
            "lsoas",
            "lsoas_most_deprived_10pc",
            "lsoas_most_deprived_20pc",
        ),
        weighted=weighted,
    )
    out["share_most_deprived_10pc"] = out["lsoas_most_deprived_10pc"] / out["lsoas"]
    out["share_most_deprived_20pc"] = out["lsoas_most_deprived_20pc"] / out["lsoas"]
    return out


def poisson_interval(
    counts: pd.Series | np.ndarray, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) Poisson interval for counts: right for small numbers, 0 included."""
    k = np.asarray(counts, dtype=float)
    alpha = 1 - level
    lower = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * (k + 1)) / 2
    return lower, upper


def caseload_rates(counts: pd.DataFrame, children: pd.Series) -> pd.DataFrame:
    """Rates per 10,000 children (0-17) with 95% exact Poisson intervals.

    For each count column ``m`` returns ``m`` (the count), ``m_rate``, ``m_rate_lower``,
    ``m_rate_upper`` and ``m_rate_unreliable``: True where the interval is wider than the
    rate itself (about fewer than 16 children), too wide to rank wards on.
    """
    children = children.reindex(counts.index).astype(float)
    out = pd.DataFrame(index=counts.index)
    for m in counts.columns:
        k = counts[m].astype(float)
        lo, hi = poisson_interval(k)
        rate = k / children * PER
        out[m] = counts[m]
        # One decimal place: what a board paper shows, and what wards.csv holds, so the
        # need index can be recomputed from the published table.
        out[f"{m}_rate"] = rate.round(1)
        out[f"{m}_rate_lower"] = (lo / children * PER).round(1)
        out[f"{m}_rate_upper"] = (hi / children * PER).round(1)
        width = out[f"{m}_rate_upper"] - out[f"{m}_rate_lower"]
        out[f"{m}_rate_unreliable"] = (width > rate).to_numpy()
    return out


Method = Literal["zscore", "rank", "minmax"]


def standardise(values: pd.Series, method: Method) -> pd.Series:
    """Put an indicator on a common scale where higher = more need."""
    x = values.astype(float)
    if method == "zscore":
        sd = x.std(ddof=0)
        return (x - x.mean()) / sd if sd > 0 else x * 0.0
    if method == "rank":
        return (x.rank(method="average") - 1) / max(len(x) - 1, 1)
    if method == "minmax":
        span = x.max() - x.min()
        return (x - x.min()) / span if span > 0 else x * 0.0
    msg = f"need_index.method: {method!r} is not valid; choose from ['minmax', 'rank', 'zscore']"
    raise ConfigError(msg)


def need_index(
    wards: pd.DataFrame,
    indicators: Mapping[str, float],
    *,
    method: Method = "zscore",
) -> pd.Series:
    """Combine ward indicators into one need score (higher = more need).

    need_index = sum_i w_i * s(x_i) / sum_i w_i, where s standardises each indicator
    across the wards (``method``) and w_i are the weights.

    Parameters
    ----------
    wards
        One row per ward, indexed by ward code.
    indicators
        Column name -> weight. Weights are normalised to sum to 1.
    method
        How each indicator is standardised before weighting.

    Returns
    -------
    pd.Series
        Named "need_index", same index as `wards`.
    """
    missing = [c for c in indicators if c not in wards.columns]
    if missing:
        msg = (
            f"need_index.indicators: {missing} not available; choose from "
            f"{sorted(c for c in wards.columns if pd.api.types.is_numeric_dtype(wards[c]))}"
        )
        raise ConfigError(msg)
    total = float(sum(indicators.values()))
    score = sum(w / total * standardise(wards[c], method) for c, w in indicators.items())
    return pd.Series(score, index=wards.index, name="need_index")


def need_rank(index: pd.Series) -> pd.Series:
    """1 = most need; ties share the better rank."""
    return index.rank(ascending=False, method="min").astype(int).rename("need_rank")
