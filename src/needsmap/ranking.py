"""How sure is the need ranking? Monte Carlo rank intervals and a weight-sensitivity table.

Both use the one formula in ``indicators.need_index``: the Monte Carlo evaluates it for
many draws at once (weights jittered, caseload counts redrawn), and the sensitivity
table re-evaluates it with one weight moved at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from needsmap.indicators import (
    PER,
    IndicatorSpec,
    Method,
    as_indicators,
    indicator_matrix,
    need_index,
    need_rank,
    scale,
)

UNCERTAINTY_COLUMNS = ("need_rank_median", "need_rank_lo", "need_rank_hi", "p_top5")


def rank_uncertainty(
    wards: pd.DataFrame,
    indicators: IndicatorSpec,
    *,
    method: Method = "zscore",
    draws: int = 1000,
    weight_spread: float = 0.5,
    top_n: int = 5,
    count_rates: Sequence[str] = (),
    children: str = "children",
    seed: int = 0,
) -> pd.DataFrame:
    """Median rank, 90% rank interval and chance of being in the top ``top_n``, by ward.

    Each draw multiplies every weight by its own factor from U(1 - spread, 1 + spread)
    and, for the ``count_rates`` columns (rates per 10,000 of Poisson counts), redraws
    each ward's count as Poisson(rate * children / 10,000) and turns it back into a rate.
    Every draw then recomputes the need index and ranks the wards (1 = most need).

    Parameters
    ----------
    wards
        One row per ward with the indicator columns (and ``children`` if
        ``count_rates`` is given).
    indicators
        As for ``need_index``.
    draws
        Number of Monte Carlo draws.
    weight_spread
        Share by which a weight may move either way (0 keeps weights fixed).
    top_n
        The ``p_top5`` column is the share of draws in which the ward ranks 1..top_n.
    count_rates
        Indicator columns that are caseload rates, redrawn from Poisson counts.
    children
        The column holding each ward's children (the rate denominator).
    seed
        Seed for numpy's random generator: the same inputs give the same result.

    Returns
    -------
    pd.DataFrame
        Same index as ``wards``: ``need_rank_median`` (lower median),
        ``need_rank_lo`` (5th percentile), ``need_rank_hi`` (95th percentile), all
        whole ranks, and ``p_top5``. Results do not depend on the row order.
    """
    specs = as_indicators(indicators)
    # Draw in a fixed ward order so that shuffling the rows shuffles nothing else.
    order = np.argsort(wards.index.to_numpy(dtype=str), kind="stable")
    frame = wards.iloc[order]
    x = indicator_matrix(frame, specs)  # wards x indicators, higher = more need
    n, k = x.shape
    rng = np.random.default_rng(seed)
    weights = np.array([i.weight for i in specs])
    factors = rng.uniform(1 - weight_spread, 1 + weight_spread, size=(draws, k))
    w = weights * factors
    w /= w.sum(axis=1, keepdims=True)
    columns = [i.column for i in specs]
    # Only the redrawn caseload rates change from draw to draw: every other indicator is
    # standardised once (k x wards, not draws x k x wards: 8x less memory at England
    # scale), and each draw's index is accumulated indicator by indicator.
    z = list(scale(x.T, method))
    redraw = [c for c in count_rates if c in columns]
    if redraw:
        kids = frame[children].to_numpy(dtype=float)
        for c in redraw:
            j = columns.index(c)
            sign = -1.0 if specs[j].direction == "lower" else 1.0
            lam = np.clip(sign * x[:, j] * kids / PER, 0, None)
            rates = rng.poisson(lam, size=(draws, n)).astype(float)
            rates *= sign
            rates /= kids
            rates *= PER  # in place: sign * counts / kids * PER without three temporaries
            z[j] = scale(rates, method)
    score = np.zeros((draws, n))
    term = np.empty_like(score)
    for j in range(k):
        score += np.multiply(w[:, j, None], z[j], out=term)
    ranks = _min_ranks(score)
    lo, med, hi = np.quantile(ranks, [0.05, 0.5, 0.95], axis=0, method="inverted_cdf")
    out = pd.DataFrame(
        {
            "need_rank_median": med.astype(int),
            "need_rank_lo": lo.astype(int),
            "need_rank_hi": hi.astype(int),
            "p_top5": (ranks <= top_n).mean(axis=0),
        },
        index=frame.index,
    )
    return out.loc[wards.index]


def _min_ranks(score: np.ndarray) -> np.ndarray:
    """Rank each row of ``score`` (draws x wards), 1 = highest; ties share the better rank.

    The same as ``scipy.stats.rankdata(-score, method="min", axis=1)``, by sorting each
    row once and counting the higher scores with a binary search (3x faster).
    """
    draws, n = score.shape
    ascending = np.sort(score, axis=1)
    ranks = np.empty((draws, n), dtype=np.int64)
    for d in range(draws):
        ranks[d] = n + 1 - np.searchsorted(ascending[d], score[d], side="right")
    return ranks


def top_wards(index: pd.Series, top_n: int) -> list[str]:
    """Ward codes ranked 1..top_n (ties at the boundary included), most need first."""
    ranks = need_rank(index)
    return list(ranks[ranks <= top_n].sort_values(kind="stable").index)


def weight_sensitivity(
    wards: pd.DataFrame,
    indicators: IndicatorSpec,
    *,
    method: Method = "zscore",
    change: float = 0.5,
    top_n: int = 5,
    names: str = "ward_name",
) -> pd.DataFrame:
    """Which wards enter or leave the top ``top_n`` when one weight moves by +/- ``change``.

    Parameters
    ----------
    wards
        One row per ward with the indicator columns and, if present, ``names``.
    indicators
        As for ``need_index``.
    change
        Share by which each weight is moved, one indicator and one direction at a time.

    Returns
    -------
    pd.DataFrame
        A first row for the weights as set (``change`` "none", no weight), then one row per
        indicator and direction: ``indicator``, ``change`` (e.g. "-50%"), ``weight``,
        ``weight_share`` (the weight's share of all weights after the change),
        ``top_wards`` (names, most need first), ``enter`` and ``leave`` (names joined
        with "; ", empty if none), ``top_changed`` and ``max_rank_shift`` (the largest
        move of any ward's rank).
    """
    specs = as_indicators(indicators)
    label = wards[names].astype(str) if names in wards.columns else wards.index.to_series()
    base = need_index(wards, specs, method=method)
    base_top = top_wards(base, top_n)
    base_rank = need_rank(base)
    total = sum(i.weight for i in specs)

    def row(
        indicator: str, step: str, weight: float, share: float, idx: pd.Series
    ) -> dict[str, Any]:
        top = top_wards(idx, top_n)
        enter = [label[c] for c in top if c not in base_top]
        leave = [label[c] for c in base_top if c not in top]
        return {
            "indicator": indicator,
            "change": step,
            "weight": round(weight, 4),  # 0.45, not 0.44999999999999996
            "weight_share": round(share, 4),
            "top_wards": "; ".join(label[c] for c in top),
            "enter": "; ".join(enter),
            "leave": "; ".join(leave),
            "top_changed": bool(enter or leave),
            "max_rank_shift": int((need_rank(idx) - base_rank).abs().max()),
        }

    rows = [row("(weights as set)", "none", np.nan, np.nan, base)]
    for i, ind in enumerate(specs):
        for sign in (-1, 1):
            w = ind.weight * (1 + sign * change)
            moved = [s if j != i else replace(s, weight=w) for j, s in enumerate(specs)]
            share = w / (total - ind.weight + w)
            idx = need_index(wards, moved, method=method)
            rows.append(row(ind.column, f"{sign * change:+.0%}", w, share, idx))
    return pd.DataFrame(rows)
