"""Why a ward reference did not match: old codes, another council's wards, typos, totals.

Only used to word error messages, so it may read the England ward list (bundled in
``data/england``) lazily; without that file the messages are just less specific.
"""

from __future__ import annotations

import difflib
import functools
import re

import pandas as pd

from needsmap.config import bundled_data_dir
from needsmap.geography import _key

GSS_WARD = re.compile(r"^[EWSN]05[0-9]{6}$")
OLD_ONS_WARD = re.compile(r"^[0-9]{2}[A-Z]{2}[A-Z]{2}$")
"""Pre-2011 ONS ward codes such as 00CBFA (district 00CB, ward FA)."""
CAS_WARD = re.compile(r"^E36[0-9]{6}$")
TOTAL_WORDS = {"total", "totals", "grandtotal", "alltotal", "allwards", "la", "localauthority"}


@functools.lru_cache(maxsize=1)
def england_wards() -> pd.DataFrame:
    """2024 ward code -> ward_name, lad_name for England (empty if the file is absent)."""
    path = bundled_data_dir() / "england" / "wards.parquet"
    if not path.exists():
        return pd.DataFrame(columns=["ward_name", "lad_name"])
    table = pd.read_parquet(path, columns=["ward_code", "ward_name", "lad_name"])
    return table.drop_duplicates("ward_code").set_index("ward_code")


def is_total_row(value: str) -> bool:
    """'Total', 'All wards', 'Wirral total'...: a row summing the others."""
    key = _key(value)
    return key in TOTAL_WORDS or key.endswith("total")


def why_unmatched(value: str, wards: pd.Series) -> str:
    """A short reason, e.g. "E05009288 is Aldersgate in City of London, not this area".

    Parameters
    ----------
    value
        The ward code or name as written in the user's file.
    wards
        ward_name indexed by ward_code, for the area being mapped.
    """
    text = str(value).strip()
    code = text.upper()
    if GSS_WARD.match(code):
        england = england_wards()
        if code in england.index:
            row = england.loc[code]
            return f"{code} is {row['ward_name']} in {row['lad_name']}, not in this area"
        return f"{code} is not a 2024 ward code (retired by a boundary review, or mistyped)"
    if OLD_ONS_WARD.match(code):
        return f"{code} looks like a pre-2011 ONS ward code"
    if CAS_WARD.match(code):
        return f"{code} is a 2003 census (CAS) ward code"
    if is_total_row(text):
        return f"{text!r} looks like a total row; remove it"
    names = {_key(str(n)): str(n) for n in wards}
    close = difflib.get_close_matches(_key(text), list(names), n=1, cutoff=0.75)
    if close:
        return f"{text!r} (did you mean {names[close[0]]!r}?)"
    return f"{text!r} is not a ward code or name of this area"
