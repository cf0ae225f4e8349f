"""Small-number suppression, applied once to the ward table before anything is written.

Rules (threshold t, default 5):

- primary: a count from 1 to t-1 is suppressed and reads "fewer than 5"; so do the
  rate and interval derived from it. Zero is not suppressed for its own sake (it
  discloses nobody).
- complementary (secondary): a reader who knows a line's total (each measure's
  local-authority total, which DfE publishes; or a sum across columns that some
  output publishes) could subtract the published cells and recover what is hidden.
  So in every such line more cells are hidden, zeros first, then the smallest other
  counts, until (a) at least two cells are hidden and (b) a reader who knows the
  total, and takes every "fewer than 5" cell as 0..4 and every "withheld" cell as 5 or
  more, still finds at least two possible values for each of them. A hidden zero
  reads "fewer than 5" (true); a hidden count of 5 or more reads "withheld", never a
  false "fewer than 5".
- linked columns: a published column computed from counts (a change since an earlier
  period, say) is withheld wherever any count it depends on is hidden, and unpublished
  counts it depends on (the earlier period) are protected by the same rules, so no
  pair of columns gives a hidden count away.

Turning suppression off (for internal analysis only) leaves every value in place and
stamps every output "UNSUPPRESSED — not for publication".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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


def feasible_values(total: int, n_small: int, n_large: int, threshold: int) -> int:
    """How many values a hidden "fewer than t" cell could take, as a reader sees it.

    The reader knows ``total`` (the line total minus its published cells), that the
    cell and the other ``n_small - 1`` cells reading "fewer than t" are each 0..t-1,
    and that each of the ``n_large`` "withheld" cells is t or more.
    """
    t = threshold
    rest_lo = n_large * t
    rest_hi = (n_small - 1) * (t - 1) if n_large == 0 else total
    lo = max(0, total - rest_hi)
    hi = min(t - 1, total - rest_lo)
    return max(0, hi - lo + 1)


def _line_safe(values: np.ndarray, primary: np.ndarray, mask: np.ndarray, t: int) -> bool:
    hidden = int(mask.sum())
    if hidden == 0:
        return True
    if hidden == 1:
        return False  # the line total gives it away
    if not (primary & mask).any():
        return True
    small = mask & (values < t)
    total = int(values[mask].sum())
    return feasible_values(total, int(small.sum()), hidden - int(small.sum()), t) >= 2


def _protect_line(values: np.ndarray, primary: np.ndarray, mask: np.ndarray, t: int) -> bool:
    """Hide more cells of one line (in place) until it is safe; True if any changed.

    Zeros go first: hidden, they truthfully read "fewer than t" and lose the reader
    little. Then the smallest other count, which reads "withheld".
    """
    changed = False
    while not _line_safe(values, primary, mask, t):
        free = np.flatnonzero(~mask)
        if not len(free):
            break  # every cell is already hidden: only the total is known
        pick = free[np.argmin(values[free])]
        mask[pick] = True
        changed = True
    return changed


def suppression_mask(
    counts: pd.DataFrame,
    threshold: int,
    *,
    row_totals: Sequence[Sequence[str]] = (),
) -> pd.DataFrame:
    """Primary and complementary suppression flags for each count cell.

    Parameters
    ----------
    counts
        Whole-number counts; every column is a line whose total is taken as known.
    threshold
        Counts from 1 to threshold - 1 are primary-suppressed.
    row_totals
        Groups of columns whose sum per row is also published (e.g. a total across
        measures that add up); each row of each group is protected as a line too.

    Returns
    -------
    pd.DataFrame
        Boolean, same shape as ``counts``: True = hide.
    """
    values = counts.to_numpy(dtype=float).round().astype(np.int64)
    primary = (values >= 1) & (values < threshold)
    mask = primary.copy()
    groups = [np.array([list(counts.columns).index(c) for c in g]) for g in row_totals]
    changed = True
    while changed:  # adding a cell to one line can unbalance another
        changed = False
        for j in range(values.shape[1]):
            col = mask[:, j].copy()
            if _protect_line(values[:, j], primary[:, j], col, threshold):
                mask[:, j] = col
                changed = True
        for g in groups:
            for i in range(values.shape[0]):
                cells = mask[i, g].copy()
                if _protect_line(values[i, g], primary[i, g], cells, threshold):
                    mask[i, g] = cells
                    changed = True
    return pd.DataFrame(mask, index=counts.index, columns=counts.columns)


def apply_suppression(
    wards: pd.DataFrame,
    measures: Sequence[str],
    *,
    threshold: int = 5,
    enabled: bool = True,
    hidden: pd.DataFrame | None = None,
    derived: Mapping[str, Sequence[str]] | None = None,
    row_totals: Sequence[Sequence[str]] = (),
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
    row_totals
        Groups of count columns whose row sums are published (see ``suppression_mask``).
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
    mask = suppression_mask(counts, threshold, row_totals=row_totals)
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
