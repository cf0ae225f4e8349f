"""Postcode lookup (Code-Point Open or ONS-style): postcode -> easting/northing (BNG)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from needsmap.errors import InputError
from needsmap.sources._table import read_table, rows_where, to_numbers

REQUIRED = ("postcode", "easting", "northing")


def normalise_postcode(values: pd.Series) -> pd.Series:
    """'ch41 0aa', 'CH410AA' and ' CH41  0AA ' all become 'CH41 0AA'."""
    compact = values.astype(str).str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    return compact.str[:-3] + " " + compact.str[-3:]


POSTCODE_PATTERN = r"^[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}$"


def load_postcodes(path: Path) -> pd.DataFrame:
    """Read a postcode file; returns postcode (normalised), easting, northing, lsoa_code.

    ``lsoa_code`` is blank where the file has none (a user's own file may not).
    """
    frame = read_table(path, REQUIRED, what="postcode")
    out = pd.DataFrame(
        {
            "postcode": normalise_postcode(frame["postcode"]),
            "easting": to_numbers(frame, "easting", path),
            "northing": to_numbers(frame, "northing", path),
            "lsoa_code": frame.get("lsoa_code", ""),
        }
    )
    repeated = out.duplicated("postcode", keep=False)
    clash = repeated & ~out.duplicated(["postcode", "easting", "northing"], keep=False)
    if clash.any():
        msg = (
            f"{Path(path).name}: column 'postcode' repeats with different coordinates "
            f"({sorted(set(out.loc[clash, 'postcode']))[:3]}) at {rows_where(clash)}; "
            "keep one row per postcode"
        )
        raise InputError(msg)
    return out.drop_duplicates("postcode").set_index("postcode")
