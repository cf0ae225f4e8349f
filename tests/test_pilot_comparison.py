"""The pilot comparison end to end: the needsmap command on the bundled Wirral data with
a config naming (made-up) pilot wards and start dates, tests/configs/pilot_comparison.yml."""

from __future__ import annotations

import contextlib
import html
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from needsmap.cli import main

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).parent / "configs" / "pilot_comparison.yml"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pilots") / "out"
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["run", "--config", str(CONFIG), "--out", str(out), "--quiet"])
    assert code == 0
    return out


def test_pilot_comparison_table(folder):
    table = pd.read_csv(folder / "pilot_comparison.csv")
    assert list(table["pilot"].unique()) == ["Example pilot A", "Example pilot B"]
    poverty = table[table["indicator"] == "children in relative low income (%, DWP)"]
    b = poverty.set_index("pilot").loc["Example pilot B"]
    # Rock Ferry (cluster-mates as comparison); the start, 1 October 2022, falls inside
    # FYE 2023, which is left out: FYE 2022 before, FYE 2024-2025 after.
    assert b["pilot_wards"] == "Rock Ferry"
    assert b["comparison_rule"] == "non-piloted wards in the same cluster"
    assert (b["before"], b["after"]) == ("2021/22", "2023/24, 2024/25")
    # Rock Ferry: 28.8% before, (28.1 + 27.8) / 2 after (DWP, 3 dp): change -0.84.
    assert b["pilot_change"] == pytest.approx(-0.84, abs=0.01)
    assert b["lower"] < b["difference"] < b["upper"]
    assert "cannot tell the piloted and comparison wards apart" in b["reading"]
    assert not table["reading"].str.contains("effect", case=False).any()
    # every caseload comparison is either shown with its interval or withheld in words
    hidden = table["reading"].str.endswith("not shown: a ward involved has a suppressed count.")
    assert table.loc[hidden, "difference"].isna().all()
    assert table.loc[~hidden, "lower"].notna().all()


def test_report_names_piloted_wards_apart(folder):
    page = (folder / "report.html").read_text(encoding="utf-8")
    start = page.index('<section id="change">')
    text = html.unescape(
        " ".join(re.sub(r"<[^>]+>", " ", page[start : page.index("</section>", start)]).split())
    )
    # Liscard is rising but piloted here, so only the non-piloted rising wards are named.
    assert "Getting worse, with a clear rising trend (2 non-piloted wards): New Brighton" in text
    assert "Piloted and comparable wards" in text
    assert "Example pilot B: children in relative low income (%, DWP): piloted wards (1)" in text
