"""The disclosure audit: what a determined reader can work out about each hidden count.

Suppression hides cells; this module plays the reader who holds every published output
at once (the ward table, the cluster and locality tables, changes between periods, the
DfE local-authority totals) and the rules the README and the workbook's About sheet
state. For every hidden cell it finds the lowest and highest value the cell can take
given all of that: a linear programme per cell (scipy's ``linprog``, HiGHS), the method
tau-ARGUS and sdcTable use for statistical offices.

What the reader knows, as linear facts about the true counts:

- bounds from the published rules: a "fewer than t" cell is 0 to t-1 (a hidden zero
  reads "fewer than t" too); a "withheld" cell is t or more; a published count is that
  count, or with rounding to the nearest r, within r/2 of it;
- every column's total (DfE publishes the latest year's; for other periods the audit
  assumes it is known too, which is the safe side);
- every published group total (clusters, localities) and change between periods.

A cell is protected when its range covers its protection interval: for a "fewer than
t" cell the whole band 0 to t-1; for a withheld cell of true value v, from
max(t, v - p) to v + p (p = ``suppression.protection``, default t). Both are cut to the
range the cell would have if its whole column were hidden: no publication can hide more
than the DfE total already gives away.

The cells fall into independent blocks (cells linked by no fact cannot inform each
other): a block held together by its column total alone is solved in closed form, any
other block by two linear programmes per hidden cell. Ranges are whole numbers: the LP
bounds are rounded inwards.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

Cell = tuple[str, str]
"""(ward code, count column)."""


@dataclass(frozen=True)
class Relation:
    """A published linear fact: ``lo <= sum(coef * cell) <= hi``."""

    cells: tuple[Cell, ...]
    coefs: tuple[float, ...]
    lo: float
    hi: float
    source: str


@dataclass
class Publication:
    """Everything the audit needs: the truth (never written) and what a reader knows."""

    values: pd.DataFrame
    """True counts, ward x count column (latest measures and earlier periods)."""
    hidden: pd.DataFrame
    """True where the cell is hidden (boolean, same shape)."""
    lower: pd.DataFrame
    """The reader's lower bound for each cell from the published rules."""
    upper: pd.DataFrame
    """The reader's upper bound (``inf`` where the rules set none)."""
    relations: list[Relation] = field(default_factory=list)
    threshold: int = 5
    protection: int = 5


@dataclass
class AuditResult:
    ranges: pd.DataFrame
    """One row per hidden cell: ``ward_code``, ``column``, ``reads``, ``lowest``,
    ``highest`` (what a reader can narrow it to) and ``protected``."""
    seconds: float = 0.0

    @property
    def failures(self) -> pd.DataFrame:
        return self.ranges[~self.ranges["protected"]]

    def record(self) -> list[dict[str, object]]:
        """The ranges for run.json: never the true values."""
        cols = ["ward_code", "column", "reads", "lowest", "highest"]
        rows: list[dict[str, object]] = [
            {str(k): v for k, v in r.items()} for r in self.ranges[cols].to_dict("records")
        ]
        for row in rows:
            for key in ("lowest", "highest"):
                value = float(row[key])  # type: ignore[arg-type]
                row[key] = int(value) if math.isfinite(value) else None
        return rows


def band_bounds(values: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """What the rules say about a hidden cell: 0..t-1 ("fewer than t") or t and more."""
    small = values < threshold
    return np.where(small, 0.0, float(threshold)), np.where(small, threshold - 1.0, np.inf)


def sum_ranges(
    lower: np.ndarray, upper: np.ndarray, total_lo: float, total_hi: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's range when the cells add up to a total in ``[total_lo, total_hi]``.

    Cell i can be as low as the total minus the most the others can hold, and as high as
    the total minus the least they can hold (each within its own bounds).
    """
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    inf = ~np.isfinite(upper)
    finite_sum = upper[~inf].sum()
    others_inf = inf.sum() - inf > 0
    others_hi = np.where(others_inf, np.inf, finite_sum - np.where(inf, 0.0, upper))
    others_lo = lower.sum() - lower
    lo = np.maximum(lower, total_lo - others_hi)
    hi = np.minimum(upper, total_hi - others_lo)
    return lo, hi


def required(
    values: np.ndarray, threshold: int, protection: int, column_total: float
) -> tuple[np.ndarray, np.ndarray]:
    """The range each cell of one column must keep (its protection interval).

    The band 0..t-1 for a count below t; max(t, v - p)..v + p for one of t or more; each
    cut to the range the cell would have with its whole column hidden.
    """
    v = np.asarray(values, dtype=float)
    t = threshold
    small = v < t
    need_lo = np.where(small, 0.0, np.maximum(t, v - protection))
    need_hi = np.where(small, t - 1.0, v + protection)
    lo, hi = band_bounds(v, t)
    public_lo, public_hi = sum_ranges(lo, hi, column_total, column_total)
    return np.maximum(need_lo, public_lo), np.minimum(need_hi, public_hi)


def _whole(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.ceil(lo - 1e-6) + 0.0, np.floor(hi + 1e-6) + 0.0


def reader_ranges(pub: Publication) -> pd.DataFrame:
    """The range of every hidden cell, given every published fact (see module doc)."""
    columns = list(pub.values.columns)
    wards = list(pub.values.index)
    n_rows = len(wards)
    lower = pub.lower.reindex(index=wards, columns=columns).to_numpy(dtype=float).ravel("F")
    upper = pub.upper.reindex(index=wards, columns=columns).to_numpy(dtype=float).ravel("F")
    hidden = pub.hidden.reindex(index=wards, columns=columns).to_numpy(dtype=bool).ravel("F")
    row_of = {w: i for i, w in enumerate(wards)}
    col_of = {c: j for j, c in enumerate(columns)}
    free = lower < upper  # cells the reader does not know exactly

    # Each relation over the free cells (known cells move into its bounds). A relation on
    # one cell tightens that cell's bounds; one its cells' bounds already imply adds
    # nothing; relations over the same cells are merged. What is left links cells
    # into blocks.
    lower, upper = lower.copy(), upper.copy()
    merged: dict[tuple[tuple[int, ...], tuple[float, ...]], list[float]] = {}
    for rel in pub.relations:
        idx = np.array([col_of[c] * n_rows + row_of[w] for w, c in rel.cells], dtype=np.int64)
        coef = np.asarray(rel.coefs, dtype=float)
        fixed = ~free[idx]
        known = float((coef[fixed] * lower[idx[fixed]]).sum())
        idx, coef = idx[~fixed], coef[~fixed]
        lo, hi = rel.lo - known, rel.hi - known
        if not len(idx):
            continue
        if len(idx) == 1:
            c, i = coef[0], idx[0]
            bounds = sorted((lo / c, hi / c))
            lower[i], upper[i] = max(lower[i], bounds[0]), min(upper[i], bounds[1])
            continue
        key = (tuple(idx.tolist()), tuple(coef.tolist()))
        if key in merged:
            merged[key][0] = max(merged[key][0], lo)
            merged[key][1] = min(merged[key][1], hi)
        else:
            merged[key] = [lo, hi]
    rows: list[int] = []
    cols: list[int] = []
    data: list[float] = []
    r_lo: list[float] = []
    r_hi: list[float] = []
    for (idx_t, coef_t), (lo, hi) in merged.items():
        idx, coef = np.array(idx_t), np.array(coef_t)
        least = np.where(coef > 0, coef * lower[idx], coef * upper[idx]).sum()
        most = np.where(coef > 0, coef * upper[idx], coef * lower[idx]).sum()
        if lo <= least + 1e-9 and hi >= most - 1e-9:
            continue  # implied by the bounds: tells the reader nothing more
        k = len(r_lo)
        rows += [k] * len(idx)
        cols += idx.tolist()
        data += coef.tolist()
        r_lo.append(lo)
        r_hi.append(hi)
    n = len(lower)
    a = sparse.csr_matrix((data, (rows, cols)), shape=(len(r_lo), n))
    lo_out = np.where(hidden, lower, np.nan)
    hi_out = np.where(hidden, upper, np.nan)
    # Blocks: cells linked through relations, found on the graph of cells and relations
    # (each relation a node joined to its cells). Only blocks a relation holds together
    # can narrow a cell beyond its own bounds.
    m = a.shape[0]
    link = sparse.bmat([[None, a.T], [a, None]], format="csr") if m else sparse.csr_matrix((n, n))
    n_blocks, block_all = connected_components(link, directed=False)
    block = block_all[:n]
    r_lo_a, r_hi_a = np.asarray(r_lo), np.asarray(r_hi)
    row_block = block[a.indices[a.indptr[:-1]]] if a.shape[0] else np.array([], dtype=int)
    order = np.argsort(block, kind="stable")
    starts = np.searchsorted(block[order], np.arange(n_blocks + 1))
    for b in np.unique(row_block):
        members = order[starts[b] : starts[b + 1]]
        if not hidden[members].any():
            continue
        used = np.flatnonzero(row_block == b)
        dense = a[used][:, members].toarray()
        lo_b, hi_b = lower[members], upper[members]
        if len(used) == 1 and np.all(dense == 1.0):
            lo_c, hi_c = sum_ranges(lo_b, hi_b, r_lo_a[used[0]], r_hi_a[used[0]])
        else:
            lo_c, hi_c = _lp_ranges(dense, r_lo_a[used], r_hi_a[used], lo_b, hi_b, hidden[members])
        lo_out[members] = np.where(hidden[members], lo_c, np.nan)
        hi_out[members] = np.where(hidden[members], hi_c, np.nan)
    lo_out, hi_out = _whole(lo_out, hi_out)
    ward_idx = np.tile(np.arange(n_rows), len(columns))
    col_idx = np.repeat(np.arange(len(columns)), n_rows)
    keep = np.flatnonzero(hidden)
    return pd.DataFrame(
        {
            "ward_code": [wards[i] for i in ward_idx[keep]],
            "column": [columns[j] for j in col_idx[keep]],
            "lowest": lo_out[keep],
            "highest": hi_out[keep],
        }
    )


def _lp_ranges(
    a: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    hidden: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of each hidden cell subject to ``lo <= a x <= hi`` and the bounds."""
    eq = np.isclose(lo, hi)
    a_ub = np.vstack([a[~eq], -a[~eq]]) if (~eq).any() else None
    b_ub = np.concatenate([hi[~eq], -lo[~eq]]) if (~eq).any() else None
    a_eq = a[eq] if eq.any() else None
    b_eq = lo[eq] if eq.any() else None
    bounds = [
        (float(x), None if not math.isfinite(y) else float(y))
        for x, y in zip(lower, upper, strict=True)
    ]
    out_lo, out_hi = lower.astype(float).copy(), upper.astype(float).copy()
    for i in np.flatnonzero(hidden):
        c = np.zeros(len(lower))
        for sign, out in ((1.0, out_lo), (-1.0, out_hi)):
            c[i] = sign
            res = linprog(
                c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs"
            )
            if res.status == 0:
                out[i] = sign * res.fun
            elif res.status == 3 and sign < 0:
                out[i] = np.inf  # unbounded above
            else:
                out[i] = np.nan  # not solved: the cell cannot be shown to be protected
    return out_lo, out_hi


def audit(pub: Publication) -> AuditResult:
    """Every hidden cell's range and whether it covers its protection interval."""
    start = time.perf_counter()
    ranges = reader_ranges(pub)
    t, p = pub.threshold, pub.protection
    need_lo = np.empty(len(ranges))
    need_hi = np.empty(len(ranges))
    for column, at in ranges.groupby("column").indices.items():
        values = pub.values[column].to_numpy(dtype=float)
        lo, hi = required(values, t, p, float(values.sum()))
        pos = pub.values.index.get_indexer(pd.Index(ranges["ward_code"].to_numpy()[at]))
        need_lo[at], need_hi[at] = lo[pos], hi[pos]
    true = pub.values.stack().reindex(pd.MultiIndex.from_frame(ranges[["ward_code", "column"]]))
    small = true.to_numpy(dtype=float) < t
    ranges["reads"] = np.where(small, f"fewer than {t}", "withheld")
    ranges["protected"] = (ranges["lowest"] <= need_lo + 1e-9) & (
        ranges["highest"] >= need_hi - 1e-9
    )
    ranges = ranges[["ward_code", "column", "reads", "lowest", "highest", "protected"]]
    return AuditResult(ranges=ranges, seconds=time.perf_counter() - start)


def column_totals(values: pd.DataFrame, columns: Sequence[str] | None = None) -> list[Relation]:
    """Each column's total as a known fact (DfE publishes the latest year's)."""
    out = []
    for c in columns if columns is not None else values.columns:
        total = float(values[c].sum())
        cells = tuple((w, c) for w in values.index)
        out.append(Relation(cells, (1.0,) * len(cells), total, total, f"{c} total"))
    return out


def reader_bounds(
    shown: pd.Series, threshold: int, *, rounding: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """The bounds the published rules give for each cell of one published column.

    "fewer than t": 0..t-1; "withheld": t or more; a number c: exactly c, or with
    rounding to the nearest r, within r/2 of it (and t or more: smaller counts are
    never published).
    """
    t, h = threshold, (rounding // 2 if rounding > 1 else 0)
    numeric = pd.to_numeric(shown, errors="coerce").to_numpy(dtype=float)
    text = shown.astype(str).to_numpy()
    fewer = np.char.startswith(text.astype(str), "fewer than")
    lo = np.where(numeric > 0, np.maximum(t, numeric - h), numeric)
    hi = np.where(numeric > 0, numeric + h, numeric)
    lo = np.where(np.isnan(numeric), np.where(fewer, 0.0, float(t)), lo)
    hi = np.where(np.isnan(numeric), np.where(fewer, t - 1.0, np.inf), hi)
    return lo, hi


def change_relations(
    table: pd.DataFrame,
    measure: str,
    earlier: str,
    children: pd.Series,
    *,
    threshold: int,
    rounding: int = 1,
) -> list[Relation]:
    """What each published change ``<m>_rate_change`` says about the earlier count.

    The change is (latest - earlier) / children x 10,000 to one decimal, of the
    published (possibly rounded) counts. Where the latest count is published, the
    earlier one's published value follows, within the rounding; elsewhere the change
    links the two cells.
    """
    col = f"{measure}_rate_change"
    if col not in table.columns:
        return []
    change = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)
    h = rounding // 2 if rounding > 1 else 0
    latest = pd.to_numeric(table[measure], errors="coerce").to_numpy(dtype=float)
    kids = children.reindex(table.index).to_numpy(dtype=float) / 10_000
    half = 0.05 + 1e-9  # the change is published to one decimal
    d_lo, d_hi = (change - half) * kids, (change + half) * kids
    out = []
    for i in np.flatnonzero(np.isfinite(change)):
        ward = table.index[int(i)]
        if np.isfinite(latest[i]):
            lo, hi = latest[i] - d_hi[i], latest[i] - d_lo[i]
            if rounding > 1:  # the earlier count as published would read
                shown = rounding * np.floor((lo + hi) / 2 / rounding + 0.5)
                lo, hi = (0.0, 0.0) if shown == 0 else (max(threshold, shown - h), shown + h)
            out.append(Relation(((ward, earlier),), (1.0,), lo, hi, f"{col} {ward}"))
        else:
            cells = ((ward, measure), (ward, earlier))
            lo, hi = d_lo[i] - 2 * h, d_hi[i] + 2 * h
            out.append(Relation(cells, (1.0, -1.0), lo, hi, f"{col} {ward}"))
    return out


def group_relations(
    groups: pd.Series,
    totals: pd.DataFrame,
    shown: pd.DataFrame,
    *,
    threshold: int,
    rounding: int = 1,
    name: str = "group",
) -> list[Relation]:
    """What published group totals (clusters, localities) say about their wards.

    ``groups``: group id per ward; ``totals``: one row per group, one column per
    measure, a number or the text that stands in for it; ``shown``: the published ward
    table (to know which cells are rounded).
    """
    h = rounding // 2 if rounding > 1 else 0
    out = []
    for m in totals.columns:
        for g, value in totals[m].items():
            wards = [w for w in groups.index[(groups == g).to_numpy()]]
            if not wards:
                continue
            cells = tuple((w, m) for w in wards)
            number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
            if np.isfinite(number):
                marks = shown.loc[wards, m].astype(str)
                n_rounded = int((~marks.str.startswith("fewer than")).sum())
                lo, hi = number - h * n_rounded, number + h * n_rounded
            elif str(value).startswith("fewer than"):
                lo, hi = 0.0, threshold - 1.0
            else:
                continue
            out.append(Relation(cells, (1.0,) * len(cells), lo, hi, f"{name} {g} {m} total"))
    return out
