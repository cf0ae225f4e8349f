"""Small-number suppression, applied once to the ward table before anything is written.

Rules (threshold t, default 5; protection p, default t; rounding r, default off):

- primary: a count from 1 to t-1 is suppressed and reads "fewer than 5"; so do the
  rate and interval derived from it.
- zeros: in a column with any such count, every zero is hidden too and also reads
  "fewer than 5" (true), so "fewer than 5" never tells a reader whether a ward has
  none or a few.
- complementary: DfE publishes each measure's local-authority total, so a reader can
  subtract the published cells from it. More cells are withheld (they read
  "withheld" and are t or more) until the audit (``needsmap.audit``) finds, for every
  hidden cell, a range a reader cannot narrow: any value from 0 to t-1 for a "fewer
  than t" cell, at least p either side of a withheld count. Withheld cells are chosen
  in order of the ward's number of children (fewest first), which is published: the
  choice says nothing about the hidden counts (choosing the smallest counts would cap
  every withheld cell at the smallest published one).
- rounding (``suppression.rounding``, DfE practice: 5): every published count of t or
  more is rounded to the nearest r before any rate, change or total is made from it,
  so reruns that move one child cannot be differenced.
- linked columns: a published column computed from counts (a change since an earlier
  period) is withheld wherever any count it depends on is hidden, and unpublished
  counts it depends on (the earlier period) are protected by the same rules.

Turning suppression off (for internal analysis only) leaves every value in place and
stamps every output "UNSUPPRESSED — not for publication".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from needsmap.audit import band_bounds, required, sum_ranges

UNSUPPRESSED_STAMP = "UNSUPPRESSED — not for publication"
RATE_SUFFIXES = ("_rate", "_rate_lower", "_rate_upper")
FLAG_SUFFIXES = ("_rate_unreliable",)
"""Set True for every hidden cell: a stand-in is never reliable enough to rank on."""
WITHHELD = "withheld"


def suppressed_text(threshold: int) -> str:
    return f"fewer than {threshold}"


@dataclass
class Disclosure:
    table: pd.DataFrame
    """The ward table as it may be published: hidden cells hold the text markers."""
    suppressed: pd.DataFrame
    """Boolean, one column per measure: True where that ward's count is hidden
    (primary or complementary)."""
    enabled: bool
    threshold: int
    primary: pd.DataFrame | None = None
    """Boolean, one column per measure: True where the count is from 1 to threshold-1."""
    hidden_counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The mask for the unpublished counts that were protected (e.g. earlier periods)."""

    @property
    def stamp(self) -> str | None:
        """Text every output must carry when suppression is off."""
        return None if self.enabled else UNSUPPRESSED_STAMP

    @property
    def marker(self) -> str:
        """What a primary-suppressed cell reads."""
        return suppressed_text(self.threshold)

    @property
    def withheld(self) -> str:
        """What a complementary-suppressed cell reads."""
        return WITHHELD


def count_text(n: int, threshold: int = 5) -> str:
    """A count for a message or note: "fewer than 5" for 1 to threshold - 1."""
    return suppressed_text(threshold) if 1 <= n < threshold else f"{n:,}"


def round_counts(counts: pd.DataFrame, rounding: int, threshold: int) -> pd.DataFrame:
    """Counts of ``threshold`` or more rounded to the nearest ``rounding`` (half up).

    Smaller counts are left as they are: they are suppressed, never published. The
    threshold is a multiple of ``rounding`` (the config checks), so no count of the
    threshold or more rounds below it.
    """
    if rounding <= 1:
        return counts.copy()
    values = counts.to_numpy(dtype=float)
    rounded = np.floor(values / rounding + 0.5) * rounding
    out = np.where(values >= threshold, rounded, values)
    return pd.DataFrame(out, index=counts.index, columns=counts.columns).astype(counts.dtypes)


def protect_column(
    values: np.ndarray,
    order: np.ndarray,
    threshold: int,
    *,
    protection: int | None = None,
    rounding: int = 1,
) -> np.ndarray:
    """Which cells of one column to hide (True) so that the audit passes.

    ``order`` ranks the cells for withholding (lowest first): the number of children,
    which is published, so the choice reveals nothing about the counts.
    """
    v = np.asarray(values, dtype=float)
    t = threshold
    hide = (v >= 1) & (v < t)
    if not hide.any():
        return hide
    hide |= v == 0
    total = float(v.sum())
    need_lo, need_hi = required(v, t, t if protection is None else protection, total)
    band_lo, band_hi = band_bounds(v, t)
    shown = round_counts(pd.DataFrame({"c": v}), rounding, t)["c"].to_numpy(dtype=float)
    h = rounding // 2 if rounding > 1 else 0
    pub_lo = np.where(v > 0, np.maximum(t, shown - h), 0.0)
    pub_hi = np.where(v > 0, shown + h, 0.0)
    queue = [i for i in np.argsort(order, kind="stable") if not hide[i]]
    while True:
        lo, hi = sum_ranges(
            np.where(hide, band_lo, pub_lo), np.where(hide, band_hi, pub_hi), total, total
        )
        lo, hi = np.ceil(lo - 1e-6), np.floor(hi + 1e-6)
        if (~hide | ((lo <= need_lo) & (hi >= need_hi))).all() or not queue:
            return hide
        hide[queue.pop(0)] = True


def suppression_mask(
    counts: pd.DataFrame,
    threshold: int,
    *,
    order: pd.Series | None = None,
    protection: int | None = None,
    rounding: int = 1,
) -> pd.DataFrame:
    """Primary and complementary suppression flags for each count cell.

    Parameters
    ----------
    counts
        Whole-number true counts; every column is a line whose total is taken as known.
    threshold
        Counts from 1 to threshold - 1 are primary-suppressed.
    order
        Published value per row by which cells are withheld, lowest first (the
        pipeline passes children 0-17); default: row order.
    protection
        How far either side of a withheld count a reader must stay unsure (default:
        threshold).
    rounding
        Published counts are rounded to the nearest ``rounding`` (1: not rounded).

    Returns
    -------
    pd.DataFrame
        Boolean, same shape as ``counts``: True = hide.
    """
    values = counts.to_numpy(dtype=float).round()
    rank = (
        np.arange(len(counts))
        if order is None
        else order.reindex(counts.index).to_numpy(dtype=float)
    )
    mask = (
        np.column_stack(
            [
                protect_column(
                    values[:, j], rank, threshold, protection=protection, rounding=rounding
                )
                for j in range(values.shape[1])
            ]
        )
        if values.shape[1]
        else np.zeros(values.shape, dtype=bool)
    )
    return pd.DataFrame(mask, index=counts.index, columns=counts.columns)


def apply_suppression(
    wards: pd.DataFrame,
    measures: Sequence[str],
    *,
    threshold: int = 5,
    enabled: bool = True,
    hidden: pd.DataFrame | None = None,
    derived: Mapping[str, Sequence[str]] | None = None,
    mask: pd.DataFrame | None = None,
) -> Disclosure:
    """Return the publishable ward table.

    Parameters
    ----------
    wards
        One row per ward with count columns named by ``measures`` and, optionally,
        their ``_rate``, ``_rate_lower``, ``_rate_upper`` and ``_rate_unreliable``
        columns.
    measures
        The published count columns to protect.
    hidden
        Unpublished counts (same index) that a published column could reveal, such as
        the first period behind a change; protected by the same rules.
    derived
        Published column -> the count columns (in ``measures`` or ``hidden``) it is
        computed from; withheld wherever any of them is hidden.
    mask
        Which cells to hide (``suppression_mask`` of the true counts), when the table's
        counts are rounded; default: worked out here from the table's counts.
    """
    table = wards.copy()
    counts = table[list(measures)].astype(float)
    if hidden is not None and len(hidden.columns):
        counts = counts.join(hidden.reindex(table.index).astype(float))
    derived = dict(derived or {})
    if not enabled:
        none = pd.DataFrame(False, index=table.index, columns=counts.columns)
        return Disclosure(
            table=table,
            suppressed=none[list(measures)],
            enabled=False,
            threshold=threshold,
            primary=none[list(measures)],
            hidden_counts=none.drop(columns=list(measures)),
        )
    if mask is None:
        mask = suppression_mask(counts, threshold)
    mask = mask.reindex(index=table.index).fillna(False).astype(bool)
    primary = (counts >= 1) & (counts < threshold)
    marker = suppressed_text(threshold)
    for m in measures:
        text = np.where(counts[m].to_numpy() < threshold, marker, WITHHELD)
        hide = mask[m].to_numpy()
        cols = [m] + [f"{m}{s}" for s in RATE_SUFFIXES if f"{m}{s}" in table.columns]
        for col in cols:
            values = table[col].to_numpy(dtype=object, copy=True)
            values[hide] = text[hide]
            table[col] = values
        for col in (f"{m}{s}" for s in FLAG_SUFFIXES):
            if col in table.columns:
                table[col] = table[col].astype(bool) | hide
    for col, sources in derived.items():
        if col not in table.columns:
            continue
        hide = mask[list(sources)].any(axis=1).to_numpy()
        values = table[col].to_numpy(dtype=object, copy=True)
        values[hide] = WITHHELD
        table[col] = values
    return Disclosure(
        table=table,
        suppressed=mask[list(measures)],
        enabled=True,
        threshold=threshold,
        primary=primary[list(measures)],
        hidden_counts=mask.drop(columns=list(measures)),
    )


def stamped(frame: pd.DataFrame, disclosure: Disclosure) -> pd.DataFrame:
    """A copy of ``frame`` with a first ``status`` column when suppression is off."""
    out = frame.copy()
    if disclosure.stamp:
        out.insert(0, "status", disclosure.stamp)
    return out


def small_counts(values: pd.Series, threshold: int) -> np.ndarray:
    """Which numeric values in a published column are counts from 1 to threshold-1."""
    numeric = pd.to_numeric(values, errors="coerce")
    return ((numeric >= 1) & (numeric < threshold)).to_numpy()
