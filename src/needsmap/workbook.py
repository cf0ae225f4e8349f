"""wards.xlsx: the published tables as a formatted workbook for board papers.

One sheet per table (an "About" sheet and a "Glossary" first). Each table has two header
rows: plain words with units from :mod:`needsmap.vocabulary` ("Children in need rate
(per 10,000 children aged 0–17)"), and under them the column's name as in the CSV files
(``children_in_need_rate``), for formulas and code. Each number shows the decimals and
unit the vocabulary gives its column (the stored value stays exact, as in the CSV);
widths are readable; the header is frozen and filtered. Suppressed cells keep their text
("fewer than 5"), shown in grey italics. Cells holding codes show words ("School", not
``school``); the CSV files keep the codes.

Every text cell is stored as text, never as a formula: a service named
``=HYPERLINK(...)`` reads as that text and runs nothing. The file's times (document
properties and zip entries) are fixed, so two runs write the same bytes.

Written with XlsxWriter, row by row (its constant-memory mode): a national table of
6,800 wards x 95 columns takes 2-3 s against openpyxl's 9 s. openpyxl reads workbooks
back (the disclosure scan, the tests).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from needsmap import vocabulary

HEADER_ROWS = 2
"""Plain labels in row 1, column names in row 2, data from row 3."""
NAVY = "#1F4E79"
STYLES: dict[str, dict[str, Any]] = {
    "header": {
        "bold": True,
        "font_color": "#FFFFFF",
        "bg_color": NAVY,
        "text_wrap": True,
        "valign": "top",
    },
    "code": {"italic": True, "font_color": NAVY, "font_size": 9, "bg_color": "#DCE6F1"},
    "marker": {"italic": True, "font_color": "#666666", "align": "right"},
    "stamp": {"bold": True, "font_color": "#B2182B", "font_size": 12},
    "key": {"bold": True, "valign": "top"},
    "wrap": {"text_wrap": True, "valign": "top"},
    "date": {"num_format": "yyyy-mm-dd"},
}
"""Cell styles by role (XlsxWriter format properties)."""
MAX_SHEET_NAME = 31
"""Excel's limit on sheet names."""

def number_format(column: str, values: pd.Series) -> str | None:
    """Excel number format for a numeric column, from its decimals and unit in
    :mod:`needsmap.vocabulary` (None: text or yes/no, left as it is).

    The stored value stays exact, as in the CSV; Excel shows it rounded: ``#,##0`` for
    counts and populations, ``0.0`` for one decimal, ``0%`` for a share stored out of 1,
    ``0.0"%"`` for a percentage stored out of 100, ``0`` for a year.
    """
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.to_numeric(values, errors="coerce").dropna().empty:
        return None
    found = vocabulary.lookup(column)
    if found is None:  # not a published column: whole numbers, or two decimals
        numeric = pd.to_numeric(values, errors="coerce").dropna()
        return "#,##0" if (numeric == numeric.round()).all() else "#,##0.00"
    decimals = "." + "0" * found.digits if found.digits else ""
    if found.unit == vocabulary.YEAR:
        return "0"
    if found.unit in (vocabulary.PERCENT, vocabulary.POINTS) and not found.per_100:
        return f"0{decimals}%"
    if found.unit == vocabulary.PERCENT:
        return f'0{decimals}"%"'
    return f"#,##0{decimals}"


def _cell(value: Any) -> Any:
    """A value as the workbook writer takes it: no NaN, no numpy or pandas scalars."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, list | tuple | set | dict):
        return ", ".join(str(v) for v in value)
    if not isinstance(value, str | int | float | bool | datetime):
        return str(value)
    return value


def _sheet_name(name: str, taken: set[str]) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", " ", name).strip()[:MAX_SHEET_NAME].strip() or "Sheet"
    base, n = clean, 2
    while clean in taken:
        suffix = f" ({n})"
        clean = base[: MAX_SHEET_NAME - len(suffix)] + suffix
        n += 1
    taken.add(clean)
    return clean


def _column_values(values: pd.Series) -> list[Any]:
    """A column as ``_cell`` values; numeric and boolean columns in one step (a national
    table has half a million cells)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":
        # tolist() gives Python scalars; NaN (the only value unequal to itself) is empty
        return [None if v != v else v for v in values.to_numpy().tolist()]
    return [_cell(v) for v in values]


class _Styles:
    """The workbook's formats, made once each: by role, and per number format."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.role = {name: book.add_format(props) for name, props in STYLES.items()}
        self._numbers: dict[str, Any] = {}

    def number(self, fmt: str) -> Any:
        if fmt not in self._numbers:
            self._numbers[fmt] = self.book.add_format({"num_format": fmt})
        return self._numbers[fmt]


def _put(sheet: Worksheet, row: int, col: int, value: Any, fmt: Any = None) -> None:
    """One cell as Excel should read it: text always as text (never a formula)."""
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, fmt)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value, fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)


def write_table(sheet: Worksheet, frame: pd.DataFrame, *, marker: str, styles: _Styles) -> None:
    """Write a table with a styled, frozen header, number formats and widths."""
    table = frame.reset_index() if frame.index.name is not None else frame.reset_index(drop=True)
    if "geometry" in table.columns:
        table = table.drop(columns="geometry")
    columns = [str(c) for c in table.columns]
    values = [_column_values(table.iloc[:, j]) for j in range(len(columns))]
    formats = [number_format(col, table.iloc[:, j]) for j, col in enumerate(columns)]
    for j, col in enumerate(columns):  # codes ("school", "ward") read as words
        if col in vocabulary.CODED:
            formats[j] = None
            values[j] = [
                v if v is None or v == marker else vocabulary.category(col, v) for v in values[j]
            ]
    labels = [vocabulary.term(c).header for c in columns]
    for j, (label, code) in enumerate(zip(labels, columns, strict=True)):
        widest = (len(str(v)) for v in values[j] if v is not None)
        width = max([len(code), min(len(label), 24), *widest])
        sheet.set_column(j, j, min(max(width + 2, 9), 45))
    sheet.set_row(0, 45)
    sheet.freeze_panes(HEADER_ROWS, 1 if len(columns) > 1 else 0)
    if len(table):
        sheet.autofilter(HEADER_ROWS - 1, 0, HEADER_ROWS - 1 + len(table), len(columns) - 1)
    for j, label in enumerate(labels):  # row by row: constant memory writes rows out
        sheet.write_string(0, j, label, styles.role["header"])
    for j, code in enumerate(columns):
        sheet.write_string(1, j, code, styles.role["code"])
    number = [styles.number(f) if f is not None else None for f in formats]
    date, shown = styles.role["date"], styles.role["marker"]
    for i, row in enumerate(zip(*values, strict=True), start=HEADER_ROWS):
        for j, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(i, j, value, shown if value == marker else None)
            elif isinstance(value, bool):
                sheet.write_boolean(i, j, value)
            elif isinstance(value, int | float):
                if math.isfinite(value):  # an infinite value is left blank, like NaN
                    sheet.write_number(i, j, value, number[j])
            else:
                _put(sheet, i, j, value, date if isinstance(value, datetime) else None)


def header_and_rows(rows: Sequence[Sequence[Any]]) -> tuple[list[str], list[Sequence[Any]]]:
    """Column names and data rows of a sheet read back (values only): the column-name row
    is the second when the first holds plain labels, as ``write_table`` writes them."""

    def text(row: Sequence[Any]) -> list[str]:
        return [str(h) if h is not None else "" for h in row]

    def codes(row: list[str]) -> bool:  # column names, or financial years ("2024/25")
        return all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|\d{4}/\d{2}", h) for h in row if h)

    names = text(rows[0]) if rows else []
    if len(rows) > 1 and codes(second := text(rows[1])) and not codes(names):
        return second, list(rows[2:])
    return names, list(rows[1:])


def write_glossary(
    sheet: Worksheet, tables: Mapping[str, pd.DataFrame | None], *, styles: _Styles
) -> None:
    """Every column of every sheet: its name, plain label, unit, direction and meaning."""
    seen: dict[str, list[str]] = {}
    for name, frame in tables.items():
        if frame is None or len(frame.columns) == 0:
            continue
        index = [frame.index.name] if frame.index.name is not None else []
        for col in [*index, *frame.columns]:
            if str(col) != "geometry":
                seen.setdefault(str(col), []).append(name)
    for j, width in enumerate((34, 40, 26, 22, 90, 24)):
        sheet.set_column(j, j, width)
    sheet.freeze_panes(1, 1)
    header = ["Column", "Label", "Unit", "Which way is more need", "What it means", "Sheets"]
    for j, text in enumerate(header):
        sheet.write_string(0, j, text, styles.role["header"])
    rows = vocabulary.glossary(seen)
    for i, (column, label, unit, direction, meaning) in enumerate(rows, start=1):
        cells = [column, label, unit, direction, meaning, ", ".join(seen[column])]
        for j, text in enumerate(cells):
            sheet.write_string(i, j, str(text), styles.role["wrap"])


def write_about(
    sheet: Worksheet, lines: Sequence[tuple[str, str]], *, stamp: str | None, styles: _Styles
) -> None:
    """The first sheet: what the workbook is, where its data come from, its warnings."""
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, 1, 110)
    row = 0
    if stamp:
        sheet.write_string(0, 0, stamp, styles.role["stamp"])
        row = 1
    for i, (key, value) in enumerate(lines, start=row):
        _put(sheet, i, 0, _cell(key), styles.role["key"])
        _put(sheet, i, 1, _cell(value), styles.role["wrap"])


def write_workbook(
    path: Path,
    tables: Mapping[str, pd.DataFrame | None],
    *,
    about: Sequence[tuple[str, str]] = (),
    stamp: str | None = None,
    marker: str = "fewer than 5",
) -> Path:
    """Write ``tables`` (sheet name -> table; None or empty tables are skipped).

    Parameters
    ----------
    tables
        Published tables only: suppression must already be applied.
    about
        (label, text) rows for the first sheet: title, period, sources, notes.
    stamp
        "UNSUPPRESSED ..." when suppression is off: it heads the About sheet and the
        name of every sheet's first cell row is unchanged.
    """
    options = {
        "constant_memory": True,  # each row is written out as the next begins
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "nan_inf_to_errors": False,
    }
    book = xlsxwriter.Workbook(str(path), options)
    book.set_properties({"author": "needsmap", "created": FIXED_TIME})
    styles = _Styles(book)
    taken: set[str] = set()
    # Sheets are added in order and each is written whole before the next (constant
    # memory writes rows out as it goes, so a sheet cannot be returned to).
    write_about(book.add_worksheet(_sheet_name("About", taken)), about, stamp=stamp, styles=styles)
    write_glossary(book.add_worksheet(_sheet_name("Glossary", taken)), tables, styles=styles)
    for name, frame in tables.items():
        if frame is None or len(frame.columns) == 0:
            continue
        sheet = book.add_worksheet(_sheet_name(name, taken))
        write_table(sheet, frame, marker=marker, styles=styles)
    book.close()
    return path


FIXED_TIME = datetime(2000, 1, 1)
"""The workbook's created and modified times, so reruns write the same bytes."""
