"""DWP Children in Low Income Families by ward (the bundle's child_poverty_wards.csv).

Children aged 0-15 in low income families, by May 2024 electoral ward, financial years
ending (FYE) 2022 to 2025 (provisional). ``relative_bhc`` and ``absolute_bhc`` run
FYE 2022-2025, ``relative_ahc`` FYE 2024-2025. In FYE 2025 absolute equals relative by
definition (the absolute line is fixed at FYE 2025 incomes), so the trend uses
``relative_bhc``. The older MSOA series is not on a consistent basis and is never
joined to this one (data/README.md).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from needsmap.errors import InputError
from needsmap.sources._table import read_table, rows_where, to_numbers

MEASURES = ("relative_bhc", "absolute_bhc", "relative_ahc")
WARD_COLUMNS = ("ward_code", "fye", "measure", "children", "percentage")
AREA_COLUMNS = ("group", "area_name", "fye", "measure", "children", "percentage")


def _common(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    bad = ~frame["measure"].isin(MEASURES)
    if bad.any():
        msg = (
            f"{path.name}: column 'measure' has {sorted(set(frame['measure'][bad]))} at "
            f"{rows_where(bad)}; use one of {list(MEASURES)}"
        )
        raise InputError(msg)
    out = frame.copy()
    out["fye"] = to_numbers(frame, "fye", path, whole=True).astype(int)
    out["children"] = to_numbers(frame, "children", path, allow_blank=True, whole=True)
    out["percentage"] = to_numbers(frame, "percentage", path, allow_blank=True)
    over = out["percentage"] > 100
    if over.any():
        msg = f"{path.name}: column 'percentage' is over 100 at {rows_where(over)}"
        raise InputError(msg)
    return out


def load_child_poverty(path: Path) -> pd.DataFrame:
    """Read and check the ward series; one row per ward, year and measure."""
    frame = read_table(path, WARD_COLUMNS, what="child poverty")
    frame["ward_code"] = frame["ward_code"].str.upper()
    out = _common(frame, path)
    dup = out.duplicated(["ward_code", "fye", "measure"], keep=False)
    if dup.any():
        msg = (
            f"{path.name}: ward, fye and measure repeat at {rows_where(dup)}; "
            "give each ward one row per year and measure"
        )
        raise InputError(msg)
    return out[list(WARD_COLUMNS)].reset_index(drop=True)


def load_child_poverty_areas(path: Path) -> pd.DataFrame:
    """Read the area, England and statistical-neighbour series (child_poverty_areas.csv)."""
    frame = read_table(path, AREA_COLUMNS, what="child poverty (areas)")
    return _common(frame, path)[list(AREA_COLUMNS)].reset_index(drop=True)
