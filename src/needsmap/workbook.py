"""wards.xlsx: the published tables as a formatted workbook for board papers.

One sheet per table (an "About" sheet and a "Glossary" first). Each table has two header
rows: plain words with units from :mod:`needsmap.vocabulary` ("Children in need rate
(per 10,000 children aged 0–17)"), and under them the column's name as in the CSV files
(``children_in_need_rate``), for formulas and code. Number formats are chosen from each
column's name; widths are readable; the header is frozen and filtered. Suppressed cells
keep their text ("fewer than 5"), shown in grey italics.

Every text cell is stored as text, never as a formula: a service named
``=HYPERLINK(...)`` reads as that text and runs nothing. The file's times (document
properties and zip entries) are fixed, so two runs write the same bytes.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from needsmap import vocabulary

HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
CODE_FILL = PatternFill("solid", fgColor="DCE6F1")
CODE_FONT = Font(italic=True, color="1F4E79", size=9)
HEADER_ROWS = 2
"""Plain labels in row 1, column names in row 2, data from row 3."""
HEADER_FONT = Font(bold=True, color="FFFFFF")
MARKER_FONT = Font(italic=True, color="666666")
MARKER_ALIGNMENT = Alignment(horizontal="right")
STAMP_FONT = Font(bold=True, color="B2182B", size=12)
MAX_SHEET_NAME = 31
"""Excel's limit on sheet names."""

FORMATS: tuple[tuple[str, str], ...] = (
    # (regular expression on the column name, Excel number format); first match wins.
    (r"(^|_)(share|p_top\d*|pct)($|_)|^share_", "0%"),
    (r"_rate(_lower|_upper)?$", "#,##0.0"),
    (r"^need_index$|^access_index$|^gap_score$|^access_(e)?2sfca_", "0.00"),
    (r"_score$", "0.000"),
    (r"^dist_.*_m$|^per_1000_", "#,##0"),
    (r"(^|_)rank($|_)", "0"),
)


def number_format(column: str, values: pd.Series) -> str | None:
    """Excel number format for a column, from its name and values (None: leave as is)."""
    for pattern, fmt in FORMATS:
        if re.search(pattern, column):
            return fmt
    numeric = pd.to_numeric(values, errors="coerce").dropna()
    if numeric.empty:
        return None
    if pd.api.types.is_bool_dtype(values):
        return None
    if (numeric == numeric.round()).all():
        return "#,##0"
    return "0.00"


def _cell(value: Any) -> Any:
    """A value openpyxl writes as Excel reads it: no NaN, no numpy or pandas scalars."""
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


def as_text(sheet: Worksheet) -> None:
    """Store every cell openpyxl took for a formula (text starting "=") as text."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def write_table(sheet: Worksheet, frame: pd.DataFrame, *, marker: str) -> None:
    """Write a table with a styled, frozen header, number formats and widths."""
    table = frame.reset_index() if frame.index.name is not None else frame.reset_index(drop=True)
    if "geometry" in table.columns:
        table = table.drop(columns="geometry")
    columns = [str(c) for c in table.columns]
    values = [_column_values(table.iloc[:, j]) for j in range(len(columns))]
    formats = [number_format(col, table.iloc[:, j]) for j, col in enumerate(columns)]
    labels = [vocabulary.term(c).header for c in columns]
    sheet.append(labels)
    sheet.append(columns)
    for row in zip(*values, strict=True):
        sheet.append(row)
    for j, (header, code) in enumerate(zip(sheet[1], sheet[2], strict=True), start=1):
        header.fill = HEADER_FILL
        header.font = HEADER_FONT
        header.alignment = Alignment(wrap_text=True, vertical="top")
        code.fill = CODE_FILL
        code.font = CODE_FONT
        widest = (len(str(v)) for v in values[j - 1] if v is not None)
        width = max([len(columns[j - 1]), min(len(labels[j - 1]), 24), *widest])
        sheet.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 9), 45)
    for cells in sheet.iter_rows(min_row=HEADER_ROWS + 1):
        for cell, fmt in zip(cells, formats, strict=True):
            value = cell.value
            if value == marker:
                cell.font = MARKER_FONT
                cell.alignment = MARKER_ALIGNMENT
            elif fmt is not None and isinstance(value, int | float) and not isinstance(value, bool):
                cell.number_format = fmt
    sheet.row_dimensions[1].height = 45
    sheet.freeze_panes = "B3" if len(columns) > 1 else "A3"
    if len(table):
        last = get_column_letter(len(columns))
        sheet.auto_filter.ref = f"A{HEADER_ROWS}:{last}{len(table) + HEADER_ROWS}"


def header_and_rows(rows: Sequence[Sequence[Any]]) -> tuple[list[str], list[Sequence[Any]]]:
    """Column names and data rows of a sheet read back (values only): the column-name row
    is the second when the first holds plain labels, as ``write_table`` writes them."""
    def text(row: Sequence[Any]) -> list[str]:
        return [str(h) if h is not None else "" for h in row]

    def codes(row: list[str]) -> bool:
        return all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", h) for h in row if h)

    names = text(rows[0]) if rows else []
    if len(rows) > 1 and codes(second := text(rows[1])) and not codes(names):
        return second, list(rows[2:])
    return names, list(rows[1:])


def write_glossary(sheet: Worksheet, tables: Mapping[str, pd.DataFrame | None]) -> None:
    """Every column of every sheet: its name, plain label, unit, direction and meaning."""
    sheet.append(["Column", "Label", "Unit", "Which way is more need", "What it means", "Sheets"])
    seen: dict[str, list[str]] = {}
    for name, frame in tables.items():
        if frame is None or len(frame.columns) == 0:
            continue
        index = [frame.index.name] if frame.index.name is not None else []
        for col in [*index, *frame.columns]:
            if str(col) != "geometry":
                seen.setdefault(str(col), []).append(name)
    for column, label, unit, direction, meaning in vocabulary.glossary(seen):
        sheet.append([column, label, unit, direction, meaning, ", ".join(seen[column])])
    for cell in sheet[1]:
        cell.fill = HEADER_FILL
        cell.font = HEADER_FONT
    for letter, width in zip("ABCDEF", (34, 40, 26, 22, 90, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "B2"


def write_about(sheet: Worksheet, lines: Sequence[tuple[str, str]], *, stamp: str | None) -> None:
    """The first sheet: what the workbook is, where its data come from, its warnings."""
    if stamp:
        sheet.append([stamp])
        sheet.cell(row=1, column=1).font = STAMP_FONT
    for key, value in lines:
        sheet.append([key, value])
        row = sheet.max_row
        sheet.cell(row=row, column=1).font = Font(bold=True)
        sheet.cell(row=row, column=2).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.cell(row=row, column=1).alignment = Alignment(vertical="top")
    sheet.column_dimensions["A"].width = 26
    sheet.column_dimensions["B"].width = 110


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
    book = Workbook()
    first = book.active
    assert first is not None
    taken: set[str] = set()
    first.title = _sheet_name("About", taken)
    write_about(first, about, stamp=stamp)
    write_glossary(book.create_sheet(_sheet_name("Glossary", taken)), tables)
    for name, frame in tables.items():
        if frame is None or len(frame.columns) == 0:
            continue
        sheet = book.create_sheet(_sheet_name(name, taken))
        write_table(sheet, frame, marker=marker)
    for sheet in book.worksheets:
        as_text(sheet)
    book.properties.creator = "needsmap"
    book.properties.created = FIXED_TIME
    book.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(pinned_zip(buffer.getvalue()))
    return path


FIXED_TIME = datetime(2000, 1, 1)
"""The workbook's created and modified times, so reruns write the same bytes."""
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def pinned_zip(data: bytes) -> bytes:
    """The same zip with fixed entry times and a fixed modified time in its properties.

    openpyxl stamps ``docProps/core.xml`` with the time of saving and zip entries
    with the current time; both are pinned here.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _MODIFIED.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", body)
            entry = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, body)
    return out.getvalue()
