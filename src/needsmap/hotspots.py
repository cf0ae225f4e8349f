"""Hot spots of need: local Moran's I (esda) with permutation p-values.

A hot spot is a ward with high need whose neighbours also have high need, more than
chance placement of the same values would give; a cold spot the same for low need;
outliers are wards unlike their neighbours. P-values are per ward and not corrected
for testing every ward, so at a 5% level about one ward in twenty can be flagged by
chance alone; read them as pointers, not proof.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import esda
import numpy as np
import pandas as pd

from needsmap.errors import ConfigError
from needsmap.localities import Neighbours

HOT = "High-High (hot spot)"
COLD = "Low-Low (cold spot)"
HIGH_LOW = "High-Low (outlier)"
LOW_HIGH = "Low-High (outlier)"
NOT_SIGNIFICANT = "Not significant"
CATEGORIES = (HOT, COLD, HIGH_LOW, LOW_HIGH, NOT_SIGNIFICANT)
# esda's quadrants (geoda_quads=False): 1 HH, 2 LH, 3 LL, 4 HL.
QUADRANTS = {1: HOT, 2: LOW_HIGH, 3: COLD, 4: HIGH_LOW}


@dataclass
class HotSpots:
    table: pd.DataFrame
    """Per ward: ``local_moran_i``, ``local_moran_p`` and ``hotspot``."""
    moran_i: float
    """Global Moran's I of the values (row-standardised Queen weights)."""
    moran_p: float
    """Its two-sided p-value under normality."""
    alpha: float
    permutations: int
    notes: list[str] = field(default_factory=list)


def min_permutations(alpha: float) -> int:
    """Fewest permutations whose smallest pseudo p-value, 1/(permutations+1), is <= alpha."""
    return max(1, math.ceil(1 / alpha - 1 - 1e-9))


def need_hotspots(
    values: pd.Series,
    neighbours: Neighbours,
    *,
    alpha: float = 0.05,
    permutations: int = 999,
    seed: int = 42,
) -> HotSpots:
    """Local Moran's I hot spots, cold spots and outliers of one ward value.

    Parameters
    ----------
    values
        One value per ward (usually the need index), same wards as ``neighbours``.
    neighbours
        Ward contiguity (see :func:`needsmap.localities.ward_neighbours`); row-
        standardised here.
    alpha
        Significance level for the pseudo p-values.
    permutations
        Conditional permutations per ward; at least ``1/alpha - 1`` so that p can
        reach ``alpha``.
    seed
        Seeds the permutations: same seed, same p-values.

    Returns
    -------
    HotSpots
        ``table`` aligned to ``values``; ``hotspot`` is one of :data:`CATEGORIES`.
    """
    if not 0 < alpha < 1:
        msg = f"clustering.hotspot_alpha: must be between 0 and 1 (got {alpha})"
        raise ConfigError(msg)
    if permutations < min_permutations(alpha):
        msg = (
            f"clustering.hotspot_permutations: {permutations} permutations cannot give a "
            f"p-value at or below hotspot_alpha {alpha}; use at least {min_permutations(alpha)}"
        )
        raise ConfigError(msg)
    y = values.reindex(neighbours.index).astype(float)
    n = len(y)
    notes: list[str] = []
    if y.isna().any() or n < 3 or y.std(ddof=0) == 0:
        notes.append(
            f"hot spots: not computed ({values.name or 'values'} missing, the same in every "
            "ward, or fewer than 3 wards)"
        )
        table = pd.DataFrame(
            {"local_moran_i": np.nan, "local_moran_p": np.nan, "hotspot": NOT_SIGNIFICANT},
            index=y.index,
        )
        return HotSpots(table.reindex(values.index), math.nan, math.nan, alpha, permutations, notes)
    with warnings.catch_warnings():
        # esda 2.x announces a future change of default alternative; we keep today's
        # folded (one-sided in the observed direction) pseudo p-value, as GeoDa reports.
        warnings.filterwarnings("ignore", "The alternative hypothesis", DeprecationWarning)
        local = esda.Moran_Local(
            y.to_numpy(),
            neighbours.weights(),
            transformation="r",
            permutations=permutations,
            keep_simulations=False,
            seed=seed,
        )
        overall = esda.Moran(y.to_numpy(), neighbours.weights(), transformation="r", permutations=0)
    p = np.asarray(local.p_sim, dtype=float)
    labels = pd.Series(np.asarray(local.q), index=y.index).map(QUADRANTS)
    # A ward exactly at the mean has I = 0 in every permutation, which esda counts as
    # extreme (p = 1/(permutations+1)); it is evidence of nothing.
    labels[(p > alpha) | (np.abs(np.asarray(local.z)) < 1e-12)] = NOT_SIGNIFICANT
    table = pd.DataFrame(
        {"local_moran_i": np.asarray(local.Is, dtype=float), "local_moran_p": p, "hotspot": labels},
        index=y.index,
    )
    return HotSpots(
        table=table.reindex(values.index),
        moran_i=float(overall.I),
        moran_p=float(overall.p_norm),
        alpha=alpha,
        permutations=permutations,
        notes=notes,
    )
