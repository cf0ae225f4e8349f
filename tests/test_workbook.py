"""wards.xlsx: one formatted sheet per table, suppressed cells kept as text."""

from __future__ import annotations

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from tests import board_data as bd

from needsmap.workbook import number_format, write_workbook


def table() -> pd.DataFrame:
    pub = bd.published_wards()
    return pd.DataFrame(pub.drop(columns="geometry"))


def test_sheets_in_order_and_empty_tables_skipped(tmp_path):
    path = write_workbook(
        tmp_path / "wards.xlsx",
        {
            "Wards": table(),
            "Clusters": pd.DataFrame({"cluster": [1, 2], "wards": [3, 6]}),
            "Recommended sites": None,
            "LA benchmark": pd.DataFrame(),
        },
        about=[("Title", "Testshire")],
    )
    book = load_workbook(path)
    assert book.sheetnames == ["About", "Glossary", "Wards", "Clusters"]


def test_header_frozen_styled_filtered_and_widths(tmp_path):
    path = write_workbook(tmp_path / "w.xlsx", {"Wards": table()})
    sheet = load_workbook(path)["Wards"]
    assert sheet.freeze_panes == "B3"
    # Plain words over the column names the CSV files use.
    assert sheet["A1"].value == "Ward code" and sheet["B1"].value == "Ward"
    assert sheet["A2"].value == "ward_code" and sheet["B2"].value == "ward_name"
    labels = {c.value: sheet.cell(1, c.column).value for c in sheet[2]}
    assert labels["children_in_need_rate"] == (
        "Children in need rate (per 10,000 children aged 0–17)"
    )
    assert labels["p_top5"] == "Chance of being in the top 5 for need (%)"
    assert sheet["A1"].font.bold and sheet["A1"].fill.fgColor.rgb.endswith("1F4E79")
    assert sheet.auto_filter.ref == f"A2:{sheet.cell(2, sheet.max_column).column_letter}11"
    assert sheet.column_dimensions["B"].width >= len("Hill Top and Lower Marsh")


def test_number_formats_and_suppressed_text(tmp_path):
    path = write_workbook(tmp_path / "w.xlsx", {"Wards": table()})
    sheet = load_workbook(path)["Wards"]
    header = {c.value: c.column for c in sheet[2]}

    def cell(code: str, col: str):
        row = next(r for r in range(3, sheet.max_row + 1) if sheet.cell(r, 1).value == code)
        return sheet.cell(row, header[col])

    assert cell("E05000001", "children_in_need").value == 50
    assert cell("E05000001", "children_in_need").number_format == "#,##0"
    assert cell("E05000001", "children_in_need_rate").number_format == "#,##0"
    assert cell("E05000001", "idaci_score").number_format == "#,##0.000"
    assert cell("E05000001", "need_index").number_format == "#,##0.00"
    assert cell("E05000001", "p_top5").number_format == "0%"
    suppressed = cell("E05000003", "looked_after_children")
    assert suppressed.value == "fewer than 5"
    assert suppressed.font.italic
    assert cell("E05000003", "looked_after_children_rate").value == "fewer than 5"


def test_missing_values_are_empty_cells_not_nan(tmp_path):
    frame = pd.DataFrame({"a": [1.5, np.nan], "b": [pd.NA, "x"]}, index=["r1", "r2"])
    frame.index.name = "id"
    sheet = load_workbook(write_workbook(tmp_path / "w.xlsx", {"T": frame}))["T"]
    assert sheet["B4"].value is None and sheet["C3"].value is None


def test_about_sheet_carries_the_stamp(tmp_path):
    stamp = "UNSUPPRESSED — not for publication"
    path = write_workbook(
        tmp_path / "w.xlsx", {"Wards": table()}, about=[("Title", "T")], stamp=stamp
    )
    about = load_workbook(path)["About"]
    assert about["A1"].value == stamp and about["A1"].font.bold
    assert about["A2"].value == "Title"


def test_sheet_names_made_valid_and_unique(tmp_path):
    frame = pd.DataFrame({"a": [1]})
    path = write_workbook(
        tmp_path / "w.xlsx",
        {"A/B: very long sheet name that Excel would refuse": frame, "About": frame},
    )
    names = load_workbook(path).sheetnames
    assert names[1] == "Glossary"
    assert names[2] == "A B  very long sheet name that"
    assert names[3] == "About (2)"
    assert all(len(n) <= 31 for n in names)


def test_number_format_from_the_vocabulary():
    assert number_format("dist_school_m", pd.Series([120.0])) == "#,##0"
    assert number_format("share_within_school", pd.Series([0.5])) == "0%"
    assert number_format("access_2sfca_school", pd.Series([0.5])) == "#,##0.00"
    assert number_format("ward_name", pd.Series(["a"])) is None
    assert number_format("population", pd.Series([1000.0])) == "#,##0"
    assert number_format("child_poverty_pct", pd.Series([12.6])) == '0.0"%"'  # out of 100
    assert number_format("child_poverty_change", pd.Series([0.2])) == "#,##0.0"  # points
    assert number_format("2024/25", pd.Series([20.0])) == '0.0"%"'
    assert number_format("year", pd.Series([2025])) == "0"
    assert number_format("not_a_column", pd.Series([1.25])) == "#,##0.00"


def shown(cell) -> str:
    """A cell's text as Excel displays it, for the number formats the workbook uses."""
    fmt, value = cell.number_format, cell.value
    if not isinstance(value, int | float) or isinstance(value, bool) or fmt == "General":
        return str(value)
    decimals = len(fmt.split(".")[1].rstrip('%"')) if "." in fmt else 0
    if fmt.endswith('"%"'):
        return f"{value:.{decimals}f}%"
    if fmt.endswith("%"):
        return f"{value * 100:.{decimals}f}%"
    return f"{value:,.{decimals}f}" if fmt.startswith("#,##0") else f"{value:.{decimals}f}"


def test_cells_read_as_a_councillor_reads_them(tmp_path):
    """Issue 20: numbers shown rounded and codes shown as words; stored values exact."""
    wards = pd.DataFrame(
        {
            "population": [15501.366442],
            "p_top5": [0.934],
            "child_poverty_pct": [12.6],
            "idaci_score": [0.7266074405370888],
            "children_in_need_rate": [226.4],
            "hotspot": ["High-High (hot spot)"],
            "locality": [1],
        },
        index=pd.Index(["E05000001"], name="ward_code"),
    )
    sites = pd.DataFrame({"type": ["school", "family_hub"], "lat": [53.379681, 53.4]})
    review = pd.DataFrame({"kind": ["ward", "existing provision"], "code": ["E1", "S1"]})
    benchmark = pd.DataFrame(
        {
            "caseload_measure": ["child_protection_plans", ""],
            "year": [2025, 2025],
            "la_rate": [53.3, 38.0],
            "la_vs_england": [12.7, 10.0],
        },
        index=pd.Index(
            ["child_protection_plans_at_31_march", "children_ceasing_to_be_looked_after"],
            name="measure",
        ),
    )
    path = write_workbook(
        tmp_path / "w.xlsx",
        {"Wards": wards, "Sites": sites, "Review": review, "LA benchmark": benchmark},
    )
    book = load_workbook(path)
    rows = {
        n: [[shown(c) for c in r] for r in book[n].iter_rows(min_row=3)]
        for n in book.sheetnames[2:]
    }
    assert rows["Wards"] == [
        [
            "E05000001",
            "15,501",
            "93%",
            "12.6%",
            "0.727",
            "226",
            "Hot spot: high need, neighbours high too",
            "Area 1 (most need)",
        ]
    ]
    assert book["Wards"]["B3"].value == 15501.366442  # stored exact, as in the CSV
    assert rows["Sites"] == [["School", "53.37968"], ["Family hub", "53.40000"]]
    assert [r[0] for r in rows["Review"]] == ["Ward", "Existing provision"]
    assert rows["LA benchmark"] == [
        ["Child protection plans at 31 March", "Child protection plans", "2025", "53.3", "12.7"],
        ["Children ceasing to be looked after in the year", "", "2025", "38.0", "10.0"],
    ]
    header = [c.value for c in book["LA benchmark"][1]]
    assert "Council's rate minus England's (per 10,000 children aged 0–17)" in header


def test_glossary_explains_every_column_once(tmp_path):
    path = write_workbook(tmp_path / "w.xlsx", {"Wards": table(), "Again": table()})
    rows = list(load_workbook(path)["Glossary"].iter_rows(values_only=True))
    assert rows[0] == (
        "Column",
        "Label",
        "Unit",
        "Which way is more need",
        "What it means",
        "Sheets",
    )
    found = {r[0]: r for r in rows[1:]}
    assert len(found) == len(rows) - 1  # each column once, with every sheet it is on
    need = found["need_index"]
    assert need[1:4] == (
        "Need index",
        "standard deviations from the area average",
        "higher = more need",
    )
    assert need[5] == "Wards, Again"
    assert "0 is the area's average ward" in need[4]


def test_sheets_read_back_by_column_name(tmp_path):
    from needsmap.scan import workbook_tables

    years = pd.DataFrame({"area": ["Wirral", "England"], "2021/22": [18.3, 19.0]})
    path = write_workbook(tmp_path / "w.xlsx", {"Wards": table(), "Child poverty": years})
    sheets = dict(workbook_tables(path))
    assert list(sheets["Wards"].columns)[:2] == ["ward_code", "ward_name"]
    assert len(sheets["Wards"]) == len(table())
    assert list(sheets["Child poverty"].columns) == ["area", "2021/22"]
    assert sheets["Child poverty"]["area"].tolist() == ["Wirral", "England"]
