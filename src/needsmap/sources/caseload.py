"""Statutory caseload counts by ward, from the council's own case system.

Two shapes are read (see data/README.md):

Ward counts, one row per ward and period::

    ward_code  or  ward_name     which ward (codes preferred; names matched loosely)
    period                       optional, e.g. 2025-03-31; the latest is the headline
    children_in_need             count of children
    child_protection_plans       count of children
    looked_after_children        count of children

At least one of the three measures is needed. Counts must be whole and non-negative.

Records, one row per child (recognised by a ``child_id`` column): aggregated to ward
counts in memory by :mod:`needsmap.sources.records`; no row of it is kept or repeated.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from needsmap.config import CASELOAD_MEASURES
from needsmap.errors import InputError, RepairWarning
from needsmap.geography import match_wards
from needsmap.sources import records
from needsmap.sources._table import period_column, read_table, rows_where, to_numbers
from needsmap.sources._wards import is_total_row, why_unmatched

MEASURE_ALIASES = {
    "cin": "children_in_need",
    "child_in_need": "children_in_need",
    "in_need": "children_in_need",
    "cpp": "child_protection_plans",
    "cp": "child_protection_plans",
    "cpps": "child_protection_plans",
    "child_protection_plan": "child_protection_plans",
    "child_protection": "child_protection_plans",
    "cla": "looked_after_children",
    "lac": "looked_after_children",
    "looked_after": "looked_after_children",
    "children_looked_after": "looked_after_children",
    "looked_after_child": "looked_after_children",
}
"""Column names councils often use for the three measures: named in the error as hints."""


@dataclass
class Caseload:
    """Counts indexed by (period, ward_code), one column per measure present."""

    counts: pd.DataFrame
    measures: tuple[str, ...]
    synthetic: bool
    source: Path
    notes: list[str] = field(default_factory=list)
    record_level: bool = False
    """True when the file held one row per child (aggregated on reading)."""

    @property
    def periods(self) -> list[str]:
        return sorted(self.counts.index.get_level_values("period").unique())

    @property
    def latest(self) -> pd.DataFrame:
        """Counts for the latest period, indexed by ward_code."""
        latest = self.counts.xs(self.periods[-1], level="period")
        assert isinstance(latest, pd.DataFrame)
        return latest


def _no_measures(frame: pd.DataFrame, name: str) -> InputError:
    hints = [f"'{c}' -> '{MEASURE_ALIASES[c]}'" for c in frame.columns if c in MEASURE_ALIASES]
    rename = f" Rename {', '.join(hints)}." if hints else ""
    msg = (
        f"{name}: no caseload columns; expected one or more of {list(CASELOAD_MEASURES)}. "
        f"Found {sorted(frame.columns)}.{rename}"
    )
    return InputError(msg)


def load_caseload(
    path: Path,
    wards: pd.Series,
    *,
    synthetic: bool = False,
    postcodes: pd.DataFrame | None = None,
    lsoa_wards: pd.Series | None = None,
) -> Caseload:
    """Read and check a caseload file against the area's wards.

    Parameters
    ----------
    path
        CSV following one of the schemas in this module's docstring.
    wards
        ward_name indexed by ward_code, for the area being mapped.
    synthetic
        True for the bundled synthetic file; every output then says so.
    postcodes, lsoa_wards
        Only for record-level files: the area's postcode lookup (postcode -> lsoa_code)
        and ward_code indexed by lsoa_code, to place children by postcode or LSOA.

    Returns
    -------
    Caseload
        Safe repairs (spaces, case, ward names) are made with a :class:`RepairWarning`
        and listed in ``notes``.
    """
    path = Path(path)
    frame = read_table(path, (), what="caseload")
    name = path.name
    if records.is_record_level(frame):
        agg = records.aggregate(frame, path, wards, postcodes=postcodes, lsoa_wards=lsoa_wards)
        return Caseload(
            counts=agg.counts,
            measures=agg.measures,
            synthetic=synthetic,
            source=path,
            notes=agg.notes,
            record_level=True,
        )
    ref_col = next((c for c in ("ward_code", "ward_name", "ward") if c in frame.columns), None)
    if ref_col is None:
        msg = (
            f"{name}: no ward column; add 'ward_code' (e.g. E05000954) or 'ward_name'. "
            f"Found {sorted(frame.columns)}"
        )
        raise InputError(msg)
    measures = tuple(m for m in CASELOAD_MEASURES if m in frame.columns)
    if not measures:
        raise _no_measures(frame, name)
    blank = frame[ref_col] == ""
    if blank.any():
        msg = f"{name}: column '{ref_col}' is blank at {rows_where(blank)}"
        raise InputError(msg)
    total = frame[ref_col].map(is_total_row)
    if total.any():
        msg = (
            f"{name}: {rows_where(total)} look(s) like a total row "
            f"({frame.loc[total, ref_col].iloc[0]!r}); remove it, give one row per ward"
        )
        raise InputError(msg)
    match = match_wards(frame[ref_col], wards)
    if match.unmatched:
        bad = match.codes.isna()
        reasons = "; ".join(why_unmatched(v, wards) for v in match.unmatched[:3])
        msg = (
            f"{name}: column '{ref_col}' has {len(match.unmatched)} ward(s) not in this area "
            f"({match.unmatched[:3]}) at {rows_where(bad)}: {reasons}. Use the 2024 ward "
            f"codes or names of the area (e.g. {wards.index[0]} {wards.iloc[0]})"
        )
        raise InputError(msg)
    notes, repairs = [], []
    if match.by_name:
        loose = {k: v for k, v in match.by_name.items() if k != wards[v]}
        shown = ", ".join(f"{k!r} -> {v} {wards[v]}" for k, v in list(loose.items())[:3])
        extra = f", {len(loose)} of them loosely ({shown})" if loose else ""
        notes.append(f"{name}: matched {len(match.by_name)} ward name(s) to codes{extra}")
        if loose:
            repairs.append(notes[-1])
    if match.repaired:
        notes.append(f"{name}: trimmed spaces or fixed case in {match.repaired} ward code(s)")
        repairs.append(notes[-1])
    for note in repairs:
        warnings.warn(note, RepairWarning, stacklevel=2)
    out = pd.DataFrame({"ward_code": match.codes.astype(str), "period": period_column(frame, name)})
    for m in measures:
        out[m] = to_numbers(frame, m, path, whole=True).astype("int64")
    dup = out.duplicated(["period", "ward_code"], keep=False)
    if dup.any():
        wards_dup = sorted(set(out.loc[dup, "ward_code"]))
        msg = (
            f"{name}: ward(s) {wards_dup[:3]} appear more than once in the same period at "
            f"{rows_where(dup)}; give one row per ward and period"
        )
        raise InputError(msg)
    counts = out.set_index(["period", "ward_code"]).sort_index()
    for p in counts.index.get_level_values("period").unique():
        have = counts.xs(p, level="period").index
        absent = wards.index.difference(have)
        if len(absent):
            msg = (
                f"{name}: period {p} has no row for {len(absent)} ward(s), e.g. "
                f"{[f'{c} {wards[c]}' for c in absent[:3]]}; add them (0 if there are no cases)"
            )
            raise InputError(msg)
    return Caseload(counts=counts, measures=measures, synthetic=synthetic, source=path, notes=notes)
