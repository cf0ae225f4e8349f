"""Record-level caseload: one row per child, aggregated to ward counts in memory.

A case-system extract is recognised by an identifier column: ``child_id``, or any
header that reads as one (ChildID, Child ID, LCS ID, Mosaic ID, person_ref, UPN; see
:func:`id_column`). A file with columns that describe a person (postcode, address,
date of birth, name) but no identifier stops: it could be one row per child, so no cell
of it is ever repeated. Columns (headers matched ignoring case and spaces):

    child_id                     any identifier; only used to count each child once
    ward_code / ward_name,       where the child lives: the first of these that places the
    lsoa_code, postcode          row in one of the area's wards is used
    period                       optional, e.g. 2025-03-31
    measure                      children_in_need, child_protection_plans or
                                 looked_after_children (CIN, CPP, CLA/LAC also read)
      or one yes/no column per measure (children_in_need, ...; yes/no, y/n, 1/0, true/false)

Privacy: the rows are read, checked and counted, then dropped. Nothing here puts a cell
value into a message, note, warning or log: errors give column names and row numbers,
notes give numbers of children.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from needsmap.config import CASELOAD_MEASURES
from needsmap.disclosure import count_text
from needsmap.errors import InputError
from needsmap.geography import match_wards
from needsmap.sources._table import normalise_header, period_column, rows_where
from needsmap.sources.postcodes import POSTCODE_PATTERN, normalise_postcode

ID_COLUMNS = ("child_id", "person_id", "child_ref")
WARD_COLUMNS = ("ward_code", "ward_name", "ward")
MEASURE_VALUES = {
    "children_in_need": "children_in_need",
    "child_in_need": "children_in_need",
    "cin": "children_in_need",
    "child_protection_plans": "child_protection_plans",
    "child_protection_plan": "child_protection_plans",
    "child_protection": "child_protection_plans",
    "cpp": "child_protection_plans",
    "cp": "child_protection_plans",
    "looked_after_children": "looked_after_children",
    "looked_after_child": "looked_after_children",
    "looked_after": "looked_after_children",
    "cla": "looked_after_children",
    "lac": "looked_after_children",
}
YES = {"yes", "y", "true", "t", "1", "x"}
NO = {"no", "n", "false", "f", "0", ""}


@dataclass
class Aggregated:
    counts: pd.DataFrame
    """Children per (period, ward_code), one column per measure; every ward, 0 if none."""
    measures: tuple[str, ...]
    children: int
    """Distinct children read (over all periods and measures)."""
    unplaced: dict[str, int] = field(default_factory=dict)
    """Children left out of the ward counts, by reason."""
    notes: list[str] = field(default_factory=list)


_ID_ENDS = ("id", "ref", "reference", "identifier", "number", "no", "upn", "uln")
_NOT_A_PERSON = ("ward", "lsoa", "la", "area", "service", "period", "measure", "msoa")
_PERSONAL = (
    "postcode",
    "address",
    "dob",
    "dateofbirth",
    "birth",
    "firstname",
    "forename",
    "surname",
    "lastname",
    "fullname",
    "childname",
    "name",
    "nhs",
    "upn",
    "uln",
)


def id_column(columns: Sequence[str]) -> str | None:
    """The column that identifies each child, by its (normalised) header, if any.

    ``child_id`` and the other :data:`ID_COLUMNS` first; then any header ending in an
    identifier word (``childid``, ``child_id``, ``lcs_id``, ``mosaic_id``,
    ``person_ref``, ``upn``) that is not about a place (``ward_id``, ``lsoa_ref``).
    """
    exact = next((c for c in ID_COLUMNS if c in columns), None)
    if exact is not None:
        return exact
    for col in columns:
        compact = col.replace("_", "")
        if compact.endswith(_ID_ENDS) and not compact.startswith(_NOT_A_PERSON):
            return col
    return None


def personal_columns(columns: Sequence[str]) -> list[str]:
    """Headers that describe a person (postcode, address, date of birth, name)."""
    return [c for c in columns if c.replace("_", "").startswith(_PERSONAL)]


def is_record_level(frame: pd.DataFrame) -> bool:
    """True when the table may hold one row per child: it has an identifier column, or
    a column describing a person (then :func:`aggregate` asks for an identifier)."""
    columns = list(frame.columns)
    return id_column(columns) is not None or bool(personal_columns(columns))


def _long_measures(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """(row label, measure) pairs, one per child and measure flagged on that row."""
    flags = [m for m in CASELOAD_MEASURES if m in frame.columns]
    if "measure" in frame.columns and flags:
        msg = (
            f"{name}: has both a 'measure' column and yes/no columns {flags}; "
            "use one way of saying which measures apply"
        )
        raise InputError(msg)
    if "measure" in frame.columns:
        key = frame["measure"].map(normalise_header)
        measure = key.map(MEASURE_VALUES)
        bad = measure.isna()
        if bad.any():
            msg = (
                f"{name}: column 'measure' has values that are not a caseload measure at "
                f"{rows_where(bad)}; use {list(CASELOAD_MEASURES)} (or CIN, CPP, CLA)"
            )
            raise InputError(msg)
        long = pd.DataFrame({"row": frame.index, "measure": measure.to_numpy()})
        present = tuple(m for m in CASELOAD_MEASURES if m in set(long["measure"]))
        return long, present
    if not flags:
        msg = (
            f"{name}: one row per child, but no measure: add a 'measure' column "
            f"({list(CASELOAD_MEASURES)}) or yes/no columns with those names"
        )
        raise InputError(msg)
    parts = []
    for m in flags:
        value = frame[m].str.lower()
        bad = ~value.isin(YES | NO)
        if bad.any():
            msg = (
                f"{name}: column '{m}' must be yes or no (y/n, 1/0, true/false, or blank) "
                f"at {rows_where(bad)}"
            )
            raise InputError(msg)
        rows = frame.index[value.isin(YES).to_numpy()]
        parts.append(pd.DataFrame({"row": rows, "measure": m}))
    return pd.concat(parts, ignore_index=True), tuple(flags)


def _place(
    frame: pd.DataFrame,
    name: str,
    wards: pd.Series,
    postcodes: pd.DataFrame | None,
    lsoa_wards: pd.Series | None,
) -> tuple[pd.Series, pd.Series]:
    """Ward code per row (NaN where unplaced) and the reason for each unplaced row."""
    cols = [c for c in (*WARD_COLUMNS, "lsoa_code", "postcode") if c in frame.columns]
    if not cols:
        msg = (
            f"{name}: one row per child, but no location column; add 'ward_code', "
            "'lsoa_code' or 'postcode'"
        )
        raise InputError(msg)
    ward = pd.Series(pd.NA, index=frame.index, dtype="object")
    reason = pd.Series("no ward, LSOA or postcode", index=frame.index, dtype="object")

    def fill(codes: pd.Series, filled: pd.Series, why: str) -> None:
        todo = ward.isna() & filled
        placed = todo & codes.notna()
        ward[placed] = codes[placed]
        reason[todo & codes.isna()] = why

    for col in cols:
        value = frame[col]
        filled = value != ""
        if col in WARD_COLUMNS:
            matched = match_wards(value.where(filled, "?"), wards).codes
            fill(matched, filled, "ward not in this area")
        elif col == "lsoa_code":
            if lsoa_wards is None:
                msg = f"{name}: placing children by LSOA needs the area's LSOA-to-ward lookup"
                raise InputError(msg)
            fill(value.str.upper().map(lsoa_wards), filled, "LSOA not in this area")
        else:
            if postcodes is None or "lsoa_code" not in postcodes.columns or lsoa_wards is None:
                msg = f"{name}: placing children by postcode needs the area's postcode file"
                raise InputError(msg)
            pc = normalise_postcode(value)
            valid = pc.str.match(POSTCODE_PATTERN)
            lsoa = pc.map(postcodes["lsoa_code"]).where(valid, "").fillna("").astype(str)
            fill(lsoa.str.upper().map(lsoa_wards), filled & valid, "postcode not in this area")
            reason[ward.isna() & filled & ~valid] = "postcode malformed"
    reason[ward.notna()] = ""
    return ward, reason


def aggregate(
    frame: pd.DataFrame,
    path: Path,
    wards: pd.Series,
    *,
    postcodes: pd.DataFrame | None = None,
    lsoa_wards: pd.Series | None = None,
) -> Aggregated:
    """Count distinct children per period, ward and measure.

    Parameters
    ----------
    frame
        The file as read by :func:`needsmap.sources._table.read_table`.
    path
        The file, for messages (its name only).
    wards
        ward_name indexed by ward_code, for the area being mapped.
    postcodes
        Postcode lookup with an ``lsoa_code`` column (needed for a ``postcode`` column).
    lsoa_wards
        ward_code indexed by lsoa_code (needed for ``lsoa_code`` or ``postcode``).

    Returns
    -------
    Aggregated
        Every ward appears in every period (0 where no child lives there). Children who
        cannot be placed in a ward are counted by reason, never listed.
    """
    name = Path(path).name
    id_col = id_column(list(frame.columns))
    if id_col is None:
        msg = (
            f"{name}: columns {personal_columns(list(frame.columns))} describe individual "
            "children, but no column identifies each child; add a 'child_id' column (any "
            "identifier) so each child is counted once, or give counts per ward instead"
        )
        raise InputError(msg)
    blank = frame[id_col] == ""
    if blank.any():
        msg = f"{name}: column '{id_col}' is blank at {rows_where(blank)}; give every child an id"
        raise InputError(msg)
    period = period_column(frame, name)
    long, measures = _long_measures(frame, name)
    ward, reason = _place(frame, name, wards, postcodes, lsoa_wards)
    long["child"] = frame[id_col].reindex(long["row"]).to_numpy()
    long["period"] = period.reindex(long["row"]).to_numpy()
    long["ward_code"] = ward.reindex(long["row"]).to_numpy()
    long["reason"] = reason.reindex(long["row"]).to_numpy()

    # One child, one period and measure: one place. Repeats in the same ward count once.
    key = ["period", "measure", "child"]
    places = long.dropna(subset=["ward_code"]).groupby(key)["ward_code"].nunique()
    moved = places[places > 1]
    if len(moved):
        clash = long.set_index(key).index.isin(moved.index) & long["ward_code"].notna().to_numpy()
        rows = pd.Series(True, index=pd.Index(sorted(set(long.loc[clash, "row"]))))
        msg = (
            f"{name}: {count_text(len(moved))} child(ren) are in more than one ward for the "
            f"same period and measure, at {rows_where(rows)}; give one address per child and "
            "period"
        )
        raise InputError(msg)
    repeats = int(long.duplicated(key).sum())
    long = long.drop_duplicates(key)

    placed = long.dropna(subset=["ward_code"])
    counts = (
        placed.groupby(["period", "ward_code", "measure"]).size().unstack("measure")
        if len(placed)
        else pd.DataFrame(columns=list(measures), dtype="int64")
    )
    periods = sorted(set(period))
    full = pd.MultiIndex.from_product([periods, wards.index], names=["period", "ward_code"])
    counts = counts.reindex(index=full, columns=list(measures)).fillna(0).astype("int64")
    counts.columns.name = None

    lost = long[long["ward_code"].isna()].drop_duplicates(["child", "reason"])
    unplaced = {str(k): int(v) for k, v in lost.groupby("reason")["child"].nunique().items()}
    children = int(long["child"].nunique())
    if children and int(placed["child"].nunique()) == 0:
        msg = (
            f"{name}: none of the {count_text(children)} children could be placed in a ward "
            f"of this area ({_reasons(unplaced)}); check the ward, LSOA or postcode column"
        )
        raise InputError(msg)
    notes = [
        f"{name}: one row per child; {count_text(children)} children aggregated to ward counts "
        f"for {len(periods)} period(s) in memory (no record is written anywhere)"
    ]
    if unplaced:
        notes.append(
            f"{name}: {count_text(sum(unplaced.values()))} child(ren) could not be placed in "
            f"a ward ({_reasons(unplaced)}) and are not in the ward counts"
        )
    if repeats:
        notes.append(
            f"{name}: {count_text(repeats)} repeated row(s) for the same child counted once"
        )
    return Aggregated(counts, measures, children, unplaced, notes)


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{count_text(n)} {why}" for why, n in sorted(counts.items()))


__all__: Sequence[str] = ("Aggregated", "aggregate", "is_record_level")
