"""End to end on the bundled Wirral run: maps, wards.xlsx, report.html/pdf, disclosure."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from tests.conftest import chromium_path
from tests.test_report import assert_figures_match, parse

from needsmap import vocabulary
from needsmap.config import (
    MapsConfig,
    OutputConfig,
    ReportConfig,
    RunConfig,
    SuppressionConfig,
    load_config,
)
from needsmap.errors import ConfigError
from needsmap.maps import layers
from needsmap.pipeline import run
from needsmap.scan import figure_text, scan_folder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def folder(bundled_run) -> Path:
    return bundled_run.written[0].parent


@pytest.fixture(scope="module")
def wards_csv(folder) -> pd.DataFrame:
    return pd.read_csv(folder / "wards.csv", dtype=str, keep_default_na=False).set_index(
        "ward_code"
    )


def test_maps_for_every_layer_in_three_formats(folder, wards_csv):
    stems = [s.stem for s in layers.layers_for(wards_csv.columns)] + ["services"]
    assert "need_index" in stems and "looked_after_children_rate" in stems
    for stem in stems:
        for fmt in ("png", "svg", "pdf"):
            assert (folder / "maps" / f"{stem}.{fmt}").stat().st_size > 10_000, (stem, fmt)
    record = json.loads((folder / "run.json").read_text())
    assert {"wards.xlsx", "report.html", "maps/need_index.svg"} <= set(record["outputs"])


def test_maps_carry_vintage_attribution_and_synthetic_mark(folder, bundled_run):
    text = figure_text(folder / "maps" / "need_index.png")
    assert text is not None
    lines = text.splitlines()
    assert lines[0] == "Wirral: need index by ward"
    assert "synthetic caseload at 31 March 2025" in lines[1]
    assert "SYNTHETIC CASELOAD" in lines
    flat = " ".join(text.split())
    for part in bundled_run.area.meta["attribution"]:
        assert " ".join(part.split()) in flat
    # suppressed CPP/CLA wards are hatched and explained
    cla = figure_text(folder / "maps" / "looked_after_children_rate.png")
    assert cla is not None and "Suppressed: fewer than 5 children" in cla


def _section_text(page: str, section: str) -> str:
    start = page.index(">", page.index(f'<section id="{section}"')) + 1
    body = page[start : page.index("</section>", start)]
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", body).split()))


def test_change_section_answers_the_boards_question(folder, wards_csv):
    # DWP Children in Low Income Families: Seacombe 32.0% -> 33.9% (FYE 2022 -> 2025).
    page = (folder / "report.html").read_text(encoding="utf-8")
    findings = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))
    assert (
        "Child poverty (DWP, children in low income) is clearly rising in New Brighton, "
        "Upton and Liscard over 2021/22 to 2024/25 (no pilot wards are set)"
    ) in findings
    text = _section_text(page, "change")
    assert text.startswith("Change: are areas getting worse?")
    assert "went up in 19 of 22 wards and down in 3 from 2021/22 to 2024/25" in text
    assert (
        "Getting worse, with a clear rising trend (3 wards; no pilot wards are set in the "
        "config, so every ward counts as non-piloted): New Brighton (16.9% → 22.3%, +1.6 "
        "points a year, 95% interval +0.4 to +2.8)"
    ) in text
    assert "Seacombe (32.0% → 33.9%" in text
    assert "Wirral 18.3% 20.2% 19.0% 20.0% +1.7" in text  # the shown figures' difference
    assert "England 18.6% 19.9% 19.3% 19.8% +1.2" in text
    assert "Children in need (synthetic): rising in" in text
    assert (
        "Children in need (DfE, the whole council): Wirral 390 → 409 per 10,000 children "
        "from 2021 to 2025 (+19); England no change"
    ) in text
    seacombe = wards_csv.loc["E05000972"]
    assert (seacombe["child_poverty_pct_first"], seacombe["child_poverty_pct"]) == ("32", "33.9")
    rising = set(wards_csv.index[wards_csv["child_poverty_trend"] == "rising"])
    assert rising == {"E05000965", "E05000967", "E05000973"}  # Liscard, New Brighton, Upton
    # the board map of change and the small multiples are written
    change = figure_text(folder / "maps" / "child_poverty_change.png")
    assert change is not None and "SYNTHETIC CASELOAD" not in change
    assert "DWP Children in Low Income Families" in change
    assert (folder / "maps" / "child_poverty_trends.png").stat().st_size > 50_000


def test_every_report_figure_matches_wards_csv(folder, wards_csv):
    page = (folder / "report.html").read_text(encoding="utf-8")
    n = assert_figures_match(page, wards_csv)
    assert n > 22 * 15
    found = parse(page)
    assert found.links == []
    # need map, benchmark chart, map of change and small multiples, 22 locator maps
    assert len(found.images) == 1 + 1 + 2 + 22
    # the LA figures are DfE's published 2025 values
    assert re.search(r"data-key=\"la_number\">2,707<", page)
    assert "Wirral against England and statistical neighbours" in page


def test_report_pdf_where_chromium_is_installed(folder, bundled_run):
    pdf = folder / "report.pdf"
    if chromium_path() is None:
        assert not pdf.exists()
        assert any("report.pdf not written" in n for n in bundled_run.notes)
        pytest.skip("Chromium not installed: the run notes say so")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert re.search(rb"/MediaBox \[0 0 59[45]\.\d+ 841\.\d+\]", data), "not A4"
    # one page per ward profile, plus the summary
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 22 + 2


def test_workbook_matches_csv(folder, wards_csv, bundled_run):
    book = load_workbook(folder / "wards.xlsx", read_only=True)
    sites = getattr(bundled_run, "sites", None) is not None
    assert book.sheetnames == ["About", "Glossary", "Wards", "Clusters"] + (
        ["Recommended sites", "Review list"] if sites else []
    ) + ["LA benchmark", "Child poverty"]
    poverty = list(book["Child poverty"].iter_rows(values_only=True))
    # row 1: plain words, row 2: the column names
    assert poverty[0][-1] == "Change (percentage points)"
    assert poverty[1] == ("area", "2021/22", "2022/23", "2023/24", "2024/25", "change_points")
    assert poverty[2] == ("Wirral", 18.3, 20.2, 19, 20, 1.7)  # DWP, summed from wards
    rows = list(book["Wards"].iter_rows(values_only=True))
    sheet = pd.DataFrame(rows[2:], columns=rows[1]).set_index("ward_code")  # row 1: plain words
    assert list(sheet.columns) == list(wards_csv.columns)
    assert list(sheet.index) == list(wards_csv.index)
    for col in wards_csv.columns:
        for code in wards_csv.index:
            csv_value, xlsx_value = wards_csv.at[code, col], sheet.at[code, col]
            if isinstance(xlsx_value, bool | np.bool_):
                assert str(xlsx_value) == csv_value
            elif isinstance(xlsx_value, int | float | np.number):
                assert float(csv_value) == pytest.approx(xlsx_value, rel=1e-5), (code, col)
            elif col in vocabulary.CODED:  # codes read as words; the CSV keeps the code
                assert xlsx_value == vocabulary.category(col, csv_value), (code, col)
            else:
                assert (xlsx_value or "") == csv_value, (code, col)
    assert {sheet.at[c, "hotspot"] for c in sheet.index} >= {"No clear pattern"}
    about = [r for r in book["About"].iter_rows(values_only=True)]
    assert (
        "Caseload",
        "SYNTHETIC: illustrative, calibrated to published totals; not real ward figures",
    ) in about
    # The disclosure policy in plain words: what a reader can and cannot learn.
    policy = dict(r[:2] for r in about if r[0] in ("Small numbers", "Withheld", "Rounding"))
    assert policy["Small numbers"].startswith('A count from 1 to 4 reads "fewer than 5"')
    assert 'so "withheld" says only "5 or more"' in policy["Withheld"]
    assert policy["Rounding"].startswith("Counts are not rounded")
    learn = next(r[1] for r in about if r[0] == "What a reader can learn")
    assert "no further than 0 to 4" in learn and "no closer than 5 either side" in learn
    bench = list(book["LA benchmark"].iter_rows(values_only=True))
    assert bench[0][:4] == ("Measure", "Ward column", "Year", "Council's number (children)")
    assert bench[1][:4] == ("measure", "caseload_measure", "year", "la_number")
    cin = next(r for r in bench if r[0] == "Children in need at 31 March")  # words, not codes
    assert cin[1:4] == ("Children in need", 2025, 2707)


def test_disclosure_scan_covers_every_exported_file(folder):
    result = scan_folder(folder, threshold=5)
    assert result.findings == []
    # report.pdf is printed from the scanned report.html; nothing else goes unscanned
    assert set(result.unscanned) <= {"report.pdf"}
    kinds = {Path(p).suffix for p in result.scanned}
    assert kinds >= {".csv", ".gpkg", ".xlsx", ".html", ".png", ".svg", ".pdf", ".json"}
    # the scan is not vacuous: the bundled run has suppressed cells in every kind of table
    assert "fewer than 5" in (folder / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def unsuppressed(tmp_path_factory):
    palette = ("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b")
    cfg = RunConfig(
        suppression=SuppressionConfig(enabled=False),
        output=OutputConfig(static_formats=("png", "svg"), dpi=50),
        maps=MapsConfig(palette=palette, labels="off"),
        report=ReportConfig(pdf=False, profiles=2, top_wards=3),
    )
    res = run(cfg, out=tmp_path_factory.mktemp("unsuppressed") / "out")
    return res, palette


def test_unsuppressed_run_stamps_every_board_output(unsuppressed):
    res, _ = unsuppressed
    folder = res.written[0].parent
    stamp = "UNSUPPRESSED — not for publication"
    wards = pd.read_csv(folder / "wards.csv", nrows=1)
    stems = [s.stem for s in layers.layers_for(wards.columns)] + ["services"]
    for stem in stems:
        png = folder / "maps" / f"{stem}.png"
        assert stamp.upper() in (figure_text(png) or ""), png.name
    assert not list((folder / "maps").glob("*.pdf"))
    book = load_workbook(folder / "wards.xlsx", read_only=True)
    assert book["About"]["A1"].value == stamp
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert page.count(stamp) >= 1 + 2
    assert page.count('class="ward"') == 2
    assert not (folder / "report.pdf").exists()


def test_council_palette_colours_the_board_maps(unsuppressed):
    res, palette = unsuppressed
    svg = (res.written[0].parent / "maps" / "need_index.svg").read_text(encoding="utf-8")
    assert all(colour in svg for colour in palette)
    assert "#bd0026" not in svg  # the default palette's darkest colour


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "maps:\n  palette: ['#fff', '#000000', '#111111']\n",
            r"maps.palette: \['#fff'\] not colours; write each as #rrggbb in quotes",
        ),
        ("maps:\n  palette:\n    - #ffffff\n", r"\['None'\] not colours"),
        (
            "maps:\n  palette: ['#000000', '#111111']\n",
            r"maps.palette: give 3 to 9 colours, light to dark \(got 2\)",
        ),
        ("maps:\n  categorical: []\n", r"maps.categorical: give at least one colour"),
        ("maps:\n  font: ' '\n", r"maps.font: give a font family name"),
        (
            "maps:\n  labels: sometimes\n",
            r"maps.labels: 'sometimes' is not valid; choose from \['auto', 'off', 'on'\]",
        ),
        ("maps:\n  label_max_wards: -1\n", r"maps.label_max_wards: must be 0 or more"),
        (
            "report:\n  top_wards: 0\n",
            r"report: top_wards must be 1 or more and profiles 0 or more",
        ),
        ("report:\n  pdf: maybe\n", r"report.pdf: expected true or false, got 'maybe'"),
    ],
)
def test_bad_maps_and_report_settings(tmp_path, text, message):
    path = tmp_path / "needsmap.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_maps_and_report_settings_from_yaml(tmp_path):
    path = tmp_path / "needsmap.yml"
    path.write_text(
        "maps:\n  palette: ['#eeeeee', '#999999', '#333333']\n  font: DejaVu Serif\n"
        "  labels: 'off'\nreport:\n  pdf: false\n  profiles: 0\n",
        encoding="utf-8",
    )
    cfg = load_config(path)
    assert cfg.maps.palette == ("#eeeeee", "#999999", "#333333")
    assert cfg.maps.font == "DejaVu Serif" and cfg.maps.labels == "off"
    assert cfg.report.pdf is False and cfg.report.profiles == 0
    assert RunConfig().output.static_formats == ("png", "svg", "pdf")
