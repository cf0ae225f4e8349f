"""The disclosure scan reads every kind of exported file and finds planted small counts."""

from __future__ import annotations

import pandas as pd
import pytest
from tests import board_data as bd

from needsmap import report
from needsmap.maps import layers, static
from needsmap.scan import (
    DisclosureError,
    assert_clean,
    check_texts,
    scan_file,
    scan_folder,
    scan_table,
    scan_text,
)
from needsmap.workbook import write_workbook


@pytest.mark.parametrize(
    "text",
    [
        "3 children",
        "Only 2 looked-after children live here",
        "Children in need: 4",
        "Child protection plans | 1",
        "CLA = 2",
        "1 child",
        "there were 4\nchildren",
    ],
)
def test_small_counts_found(text):
    assert scan_text(text, 5)


@pytest.mark.parametrize(
    "text",
    [
        "fewer than 5 children",
        "Children in need per 10,000 children",
        "1 to 40",
        "22 wards (2024)",
        "Children in need: 409",
        "3.5 children per 1,000",
        "Children aged 0–17",
        "Rank 3 of 22",
        "Children in need | fewer than 5",
        "Licence v3.0",
        "2,707 children in need",
        "Area 4\nChildren's centre (1)",  # a legend's lines: a service, not a count
        "3 children’s centres",
    ],
)
def test_ordinary_text_passes(text):
    assert scan_text(text, 5) == []


def test_threshold_moves_with_config():
    assert scan_text("7 children", 10) == ["7 children"]
    assert scan_text("7 children", 5) == []


def test_check_texts_raises_naming_what():
    with pytest.raises(DisclosureError, match=r"^map: would show a count of fewer than 5"):
        check_texts(["Title", "2 children"], 5, what="map")
    check_texts(["fewer than 5 children"], 5)


def test_tables_small_counts_and_rates_left_behind():
    frame = pd.DataFrame(
        {
            "children_in_need": ["12", "fewer than 5", "3"],
            "children_in_need_rate": ["40.0", "12.5", "fewer than 5"],
        },
        index=["W1", "W2", "W3"],
    )
    found = {(f.where, f.text) for f in scan_table(frame, threshold=5)}
    assert found == {
        ("column children_in_need, row W3", "3"),
        ("column children_in_need_rate, row W2 (count suppressed)", "12.5"),
    }


def plant(folder, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_every_file_type_scanned_and_planted_counts_found(tmp_path):
    pub = bd.published_wards()
    table = pd.DataFrame(pub.drop(columns="geometry"))
    table.to_csv(tmp_path / "wards.csv")
    write_workbook(tmp_path / "wards.xlsx", {"Wards": table})
    spec = layers.LAYERS[0]
    fig = static.layer_map(pub, spec, bd.context(), labels=False)
    static.save_figure(fig, tmp_path / "maps" / "need", ("png", "svg", "pdf"), 30)
    plant(
        tmp_path,
        "report.html",
        report.build_report(
            pub,
            report.ReportContext(area="T", period="p", synthetic=True, stamp=None, attribution=()),
        ),
    )
    plant(tmp_path, "run.json", '{"notes": ["ok"]}')
    plant(tmp_path, "notes.txt", "unknown kind of file")
    clean = scan_folder(tmp_path, threshold=5)
    assert clean.findings == []
    assert clean.unscanned == ["notes.txt"]
    assert len(clean.scanned) == 7

    # plant a small count in each kind of file
    bad = table.copy()
    bad.loc["E05000001", "children_in_need"] = 3
    bad.to_csv(tmp_path / "wards.csv")
    write_workbook(tmp_path / "wards.xlsx", {"Wards": bad})
    fig.axes[0].text(0, 0, "2 children")
    static.save_figure(fig, tmp_path / "maps" / "need", ("png", "svg", "pdf"), 30)
    plant(
        tmp_path,
        "report.html",
        '<p><span data-ward="E05000001" data-col="looked_after_children">4</span></p>',
    )
    plant(tmp_path, "run.json", '{"notes": ["1 record was left out"], "looked_after_children": 2}')
    found = scan_folder(tmp_path, threshold=5).findings
    files = {f.file for f in found}
    assert files >= {
        "wards.csv",
        "wards.xlsx:Wards",
        "maps/need.png",
        "maps/need.svg",
        "maps/need.pdf",
        "report.html",
        "run.json",
    }
    with pytest.raises(DisclosureError, match=r"disclosure scan: \d+ small count\(s\)"):
        assert_clean(tmp_path, threshold=5)


def test_interactive_map_tooltips_read_like_the_page(tmp_path):
    page = (
        "<script>var t = \"<div class='needsmap-tip'><table><tr><td>Children in need</td>"
        "<td class='num'>3</td></tr></table></div>\";</script>"
    )
    plant(tmp_path, "needs_map.html", page)
    found = scan_file(tmp_path / "needs_map.html", threshold=5)
    assert found and "Children in need" in found[0].text


def test_withheld_counts_hide_their_rates_too():
    frame = pd.DataFrame(
        {
            "looked_after_children": ["withheld", "fewer than 5", "12"],
            "looked_after_children_rate": ["33.1", "withheld", "40.0"],
        },
        index=["W1", "W2", "W3"],
    )
    found = [(f.where, f.text) for f in scan_table(frame, threshold=5)]
    assert found == [("column looked_after_children_rate, row W1 (count suppressed)", "33.1")]


def test_run_notes_say_fewer_than_5_not_a_small_count(tmp_path):
    plant(tmp_path, "run.json", '{"notes": ["records.csv: 3 child(ren) could not be placed"]}')
    (finding,) = scan_file(tmp_path / "run.json", threshold=5)
    assert (finding.where, finding.text) == ("notes", "3 child")
    plant(
        tmp_path,
        "run.json",
        '{"notes": ["records.csv: fewer than 5 child(ren) could not be placed", '
        '"3 service(s) could not be placed"]}',
    )
    assert scan_file(tmp_path / "run.json", threshold=5) == []
    plant(tmp_path, "run.json", '{"wards": [{"child_protection_plans": 3}]}')
    (finding,) = scan_file(tmp_path / "run.json", threshold=5)
    assert finding.where == "key child_protection_plans"
