"""Statutory caseload counts by ward, from the council's own case system.

Schema (one row per ward and period; see data/README.md):

    ward_code  or  ward_name     which ward (codes preferred; names matched loosely)
    period                       optional, e.g. 2025-03-31; the latest is the headline
    children_in_need             count of children
    child_protection_plans       count of children
    looked_after_children        count of children

At least one of the three measures is needed. Counts must be whole and non-negative.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from needsmap.config import CASELOAD_MEASURES
from needsmap.errors import InputError
from needsmap.geography import match_wards
from needsmap.sources._table import describe_rows, read_table, to_numbers


@dataclass
class Caseload:
    """Counts indexed by (period, ward_code), one column per measure present."""

    counts: pd.DataFrame
    measures: tuple[str, ...]
    synthetic: bool
    source: Path
    notes: list[str] = field(default_factory=list)

    @property
    def periods(self) -> list[str]:
        return sorted(self.counts.index.get_level_values("period").unique())

    @property
    def latest(self) -> pd.DataFrame:
        """Counts for the latest period, indexed by ward_code."""
        latest = self.counts.xs(self.periods[-1], level="period")
        assert isinstance(latest, pd.DataFrame)
        return latest


def load_caseload(path: Path, wards: pd.Series, *, synthetic: bool = False) -> Caseload:
    """Read and check a ward caseload file against the area's wards.

    Parameters
    ----------
    path
        CSV following the schema in this module's docstring.
    wards
        ward_name indexed by ward_code, for the area being mapped.
    synthetic
        True for the bundled synthetic file; every output then says so.
    """
    path = Path(path)
    frame = read_table(path, (), what="caseload")
    name = path.name
    ref_col = next((c for c in ("ward_code", "ward_name", "ward") if c in frame.columns), None)
    if ref_col is None:
        msg = (
            f"{name}: no ward column; add 'ward_code' (e.g. E05000954) or 'ward_name'. "
            f"Found {sorted(frame.columns)}"
        )
        raise InputError(msg)
    measures = tuple(m for m in CASELOAD_MEASURES if m in frame.columns)
    if not measures:
        msg = (
            f"{name}: no caseload columns; expected one or more of {list(CASELOAD_MEASURES)}. "
            f"Found {sorted(frame.columns)}"
        )
        raise InputError(msg)
    blank = frame[ref_col] == ""
    if blank.any():
        msg = f"{name}: column '{ref_col}' is blank at {describe_rows(np.flatnonzero(blank))}"
        raise InputError(msg)
    match = match_wards(frame[ref_col], wards)
    if match.unmatched:
        bad = match.codes.isna().to_numpy()
        msg = (
            f"{name}: column '{ref_col}' has {len(match.unmatched)} ward(s) not in this area "
            f"({match.unmatched[:3]}) at {describe_rows(np.flatnonzero(bad))}; use the 2024 ward "
            f"codes or names of the area (e.g. {wards.index[0]} {wards.iloc[0]})"
        )
        raise InputError(msg)
    notes = []
    if match.by_name:
        notes.append(f"{name}: matched {len(match.by_name)} ward name(s) to codes")
    if match.repaired:
        notes.append(f"{name}: trimmed spaces or fixed case in {match.repaired} ward code(s)")
        warnings.warn(notes[-1], stacklevel=2)
    period = frame["period"] if "period" in frame.columns else pd.Series("latest", frame.index)
    out = pd.DataFrame(
        {"ward_code": match.codes.astype(str), "period": period.replace("", "latest")}
    )
    for m in measures:
        out[m] = to_numbers(frame, m, path, whole=True).astype("int64")
    dup = out.duplicated(["period", "ward_code"], keep=False)
    if dup.any():
        wards_dup = sorted(set(out.loc[dup, "ward_code"]))
        msg = (
            f"{name}: ward(s) {wards_dup[:3]} appear more than once in the same period at "
            f"{describe_rows(np.flatnonzero(dup.to_numpy()))}; give one row per ward and period"
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
