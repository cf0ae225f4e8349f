"""Small-number suppression, applied once to the ward table before anything is written.

Rules (threshold t, default 5):
- primary: a count from 1 to t-1 is suppressed, and so are the rate and interval
  derived from it. Zero is not suppressed (it discloses nobody).
- secondary: a measure whose column has exactly one suppressed ward could be recovered
  by subtracting the other wards from the published local-authority total, so the next
  smallest non-zero count in that column is suppressed too.

Suppressed cells read "fewer than 5" (with the threshold), never 0 or blank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

UNSUPPRESSED_STAMP = "UNSUPPRESSED — not for publication"
RATE_SUFFIXES = ("_rate", "_rate_lower", "_rate_upper")


def suppressed_text(threshold: int) -> str:
    return f"fewer than {threshold}"


@dataclass
class Disclosure:
    table: pd.DataFrame
    """The ward table as it may be published: suppressed cells hold the text marker."""
    suppressed: pd.DataFrame
    """Boolean, one column per measure: True where that ward's count was suppressed."""
    enabled: bool
    threshold: int

    @property
    def stamp(self) -> str | None:
        """Text every output must carry when suppression is off."""
        return None if self.enabled else UNSUPPRESSED_STAMP

    @property
    def marker(self) -> str:
        return suppressed_text(self.threshold)


def suppression_mask(counts: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Primary and secondary suppression flags for each count cell."""
    mask = (counts >= 1) & (counts < threshold)
    for col in counts.columns:
        if mask[col].sum() == 1:
            candidates = counts[col].where(~mask[col] & (counts[col] > 0))
            if candidates.notna().any():
                mask.loc[candidates.idxmin(), col] = True
    return mask


def apply_suppression(
    wards: pd.DataFrame, measures: Sequence[str], *, threshold: int = 5, enabled: bool = True
) -> Disclosure:
    """Return the publishable ward table.

    Parameters
    ----------
    wards
        One row per ward with count columns named by ``measures`` and, optionally, their
        ``_rate``, ``_rate_lower`` and ``_rate_upper`` columns.
    measures
        The count columns to protect.
    """
    table = wards.copy()
    counts = table[list(measures)].astype(float)
    if not enabled:
        mask = pd.DataFrame(False, index=table.index, columns=list(measures))
        return Disclosure(table=table, suppressed=mask, enabled=False, threshold=threshold)
    mask = suppression_mask(counts, threshold)
    marker = suppressed_text(threshold)
    for m in measures:
        cols = [m] + [f"{m}{s}" for s in RATE_SUFFIXES if f"{m}{s}" in table.columns]
        for col in cols:
            values = table[col].astype(object)
            values[mask[m].to_numpy()] = marker
            table[col] = values
    return Disclosure(table=table, suppressed=mask, enabled=True, threshold=threshold)


def small_counts(values: pd.Series, threshold: int) -> np.ndarray:
    """Which numeric values in a published column are counts from 1 to threshold-1."""
    numeric = pd.to_numeric(values, errors="coerce")
    return ((numeric >= 1) & (numeric < threshold)).to_numpy()
