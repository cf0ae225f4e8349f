"""End to end on the bundled Wirral data: what a commissioner receives."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
import pytest
from tests.conftest import chromium_path
from tests.guards import block_network, fake_output

from needsmap.config import RunConfig
from needsmap.disclosure import small_counts
from needsmap.errors import InputError
from needsmap.pipeline import run

MEASURES = ("children_in_need", "child_protection_plans", "looked_after_children")


def test_outputs_written(bundled_run):
    names = {p.relative_to(bundled_run.written[0].parent).as_posix() for p in bundled_run.written}
    assert {"wards.csv", "wards.gpkg", "needs_map.html", "maps/need_index.png", "run.json"} <= names
    assert all(p.exists() for p in bundled_run.written)


def test_wards_csv_columns_and_values(bundled_run):
    folder = bundled_run.written[0].parent
    wards = pd.read_csv(folder / "wards.csv")
    assert len(wards) == 22
    for col in (
        "ward_code",
        "ward_name",
        "population",
        "children",
        "imd_score",
        "idaci_score",
        "income_score",
        "need_index",
        "need_rank",
        "cluster",
        *MEASURES,
        *(f"{m}_rate" for m in MEASURES),
    ):
        assert col in wards.columns, col
    assert sorted(wards["need_rank"]) == list(range(1, 23))
    assert (wards["caseload_source"] == "synthetic").all()
    assert wards["population"].sum() == pytest.approx(322439, abs=1)  # split by shares
    # population-weighted IMD score lies within the LSOA range, never a rank
    assert wards["imd_score"].between(1, 90).all()


def test_wards_gpkg_matches_csv(bundled_run):
    folder = bundled_run.written[0].parent
    gpkg = gpd.read_file(folder / "wards.gpkg")
    csv = pd.read_csv(folder / "wards.csv")
    assert gpkg.crs.to_epsg() == 27700
    assert gpkg["ward_code"].tolist() == csv["ward_code"].tolist()
    assert gpkg.geometry.is_valid.all()


def test_no_small_counts_in_any_output(bundled_run):
    folder = bundled_run.written[0].parent
    wards = pd.read_csv(folder / "wards.csv", dtype=str)
    for m in MEASURES:
        assert not small_counts(wards[m], 5).any(), m
    assert (wards[list(MEASURES)] == "fewer than 5").any().any(), "expected some suppression"
    page = (folder / "needs_map.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="needsmap-data">(.*?)</script>', page).group(1))
    caseload = next(
        s for s in data["profile"]["sections"] if s.get("title", "").startswith("Caseload")
    )
    cells = [v for row in caseload["rows"] for v in row["values"]]
    assert len(cells) == 3 * 22 and "fewer than 5" in cells
    # Ward cells read "rate (count)": no count of 1-4 may show.
    counts = [m.group(1) for v in cells if (m := re.search(r"\(([\d,]+)\)", v))]
    assert len(counts) == len(cells) - cells.count("fewer than 5") - cells.count("withheld")
    assert not small_counts(pd.Series([c.replace(",", "") for c in counts]), 5).any()


def test_synthetic_label_everywhere(bundled_run):
    folder = bundled_run.written[0].parent
    assert "Synthetic caseload" in (folder / "needs_map.html").read_text(encoding="utf-8")
    assert json.loads((folder / "run.json").read_text())["caseload_synthetic"] is True


def test_run_json_records_inputs_and_versions(bundled_run):
    record = json.loads((bundled_run.written[0].parent / "run.json").read_text())
    assert all(len(h) == 64 for h in record["inputs"].values())
    assert any(k.endswith("caseload_synthetic.csv") for k in record["inputs"])
    assert "geopandas" in record["versions"]
    assert record["config"]["suppression"]["threshold"] == 5


def test_run_json_holds_every_hidden_counts_range_never_its_value(bundled_run):
    folder = bundled_run.written[0].parent
    audit = json.loads((folder / "run.json").read_text())["suppression"]["audit"]
    wards = pd.read_csv(folder / "wards.csv", dtype=str).set_index("ward_code")
    ranges = pd.DataFrame(audit["ranges"])
    assert audit["hidden_cells"] == len(ranges) > 0
    assert set(ranges.columns) == {"ward_code", "column", "reads", "lowest", "highest"}
    latest = ranges[ranges["column"].isin(MEASURES)]
    # Every hidden ward cell is listed with what wards.csv shows for it...
    shown = [wards.at[w, c] for w, c in latest[["ward_code", "column"]].to_numpy()]
    assert shown == latest["reads"].tolist()
    hidden = sum(int(wards[m].isin(["fewer than 5", "withheld"]).sum()) for m in MEASURES)
    assert len(latest) == hidden
    # ... and a reader holding every output can narrow it no further than this:
    fewer = ranges[ranges["reads"] == "fewer than 5"]
    assert (fewer["lowest"] == 0).all() and (fewer["highest"] == 4).all()
    withheld = ranges[ranges["reads"] == "withheld"]
    assert (withheld["lowest"] == 5).all() and (withheld["highest"] >= 10).all()


def test_rounded_run_publishes_multiples_of_5_and_passes_the_audit():
    from needsmap.config import SuppressionConfig
    from needsmap.pipeline import analyse, check_disclosure

    results = analyse(RunConfig(suppression=SuppressionConfig(rounding=5)))
    table = results.disclosure.table
    for m in MEASURES:
        numbers = pd.to_numeric(table[m], errors="coerce").dropna()
        assert (numbers % 5 == 0).all(), m
        # Rates are made from the rounded counts: 10,000 x count / children, 1 decimal.
        rate = pd.to_numeric(table[f"{m}_rate"], errors="coerce").dropna()
        expected = (numbers / results.wards["children"] * 10_000).round(1)
        assert rate.equals(expected.reindex(rate.index)), m
    assert check_disclosure(results).ranges["protected"].all()


def test_reruns_give_identical_files(bundled_run, tmp_path, monkeypatch):
    """Every output, the workbook, the PDF and run.json included, byte for byte."""
    attempts = block_network(monkeypatch)  # and a run never touches the network
    again = run(RunConfig(), out=tmp_path / "again").written[0].parent
    first = bundled_run.written[0].parent
    files = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again).as_posix() for p in again.rglob("*") if p.is_file())
    wanted = {"wards.csv", "wards.gpkg", "wards.xlsx", "report.html", "run.json"}
    assert wanted | ({"report.pdf"} if chromium_path() else set()) <= set(files)
    differ = [rel for rel in files if (first / rel).read_bytes() != (again / rel).read_bytes()]
    assert differ == []
    assert attempts == []


def test_failed_run_leaves_existing_output_untouched(tmp_path):
    out = fake_output(tmp_path / "out", {"wards.csv": "previous run"})
    bad = tmp_path / "caseload.csv"
    bad.write_text("ward_code,children_in_need\nE05000954,-1\n")
    with pytest.raises(InputError, match="negative values"):
        run(RunConfig(caseload=bad), out=out)
    assert sorted(p.name for p in out.iterdir()) == ["run.json", "wards.csv"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unsuppressed_run_is_stamped(tmp_path):
    from needsmap.config import SuppressionConfig

    res = run(RunConfig(suppression=SuppressionConfig(enabled=False)), out=tmp_path / "o")
    folder = res.written[0].parent
    assert "UNSUPPRESSED" in (folder / "needs_map.html").read_text(encoding="utf-8")
    assert pd.read_csv(folder / "wards.csv")["status"].str.contains("UNSUPPRESSED").all()
