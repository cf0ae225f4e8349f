"""End to end on the bundled Wirral data: what a commissioner receives."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
import pytest
from tests.guards import block_network

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


def test_reruns_give_identical_csv(bundled_run, tmp_path, monkeypatch):
    attempts = block_network(monkeypatch)  # and a run never touches the network
    again = run(RunConfig(), out=tmp_path / "again").written[0].parent
    first = bundled_run.written[0].parent
    same = ["*.csv", "*.gpkg", "maps/*.png"]
    files = sorted(p.relative_to(first) for pattern in same for p in first.glob(pattern))
    assert {"wards.csv", "services_unplaced.csv", "wards.gpkg"} <= {p.as_posix() for p in files}
    for rel in files:
        assert (first / rel).read_bytes() == (again / rel).read_bytes(), rel
    assert attempts == []


def test_failed_run_leaves_existing_output_untouched(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.json").write_text("previous run")
    bad = tmp_path / "caseload.csv"
    bad.write_text("ward_code,children_in_need\nE05000954,-1\n")
    with pytest.raises(InputError, match="negative values"):
        run(RunConfig(caseload=bad), out=out)
    assert [p.name for p in out.iterdir()] == ["run.json"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unsuppressed_run_is_stamped(tmp_path):
    from needsmap.config import SuppressionConfig

    res = run(RunConfig(suppression=SuppressionConfig(enabled=False)), out=tmp_path / "o")
    folder = res.written[0].parent
    assert "UNSUPPRESSED" in (folder / "needs_map.html").read_text(encoding="utf-8")
    assert pd.read_csv(folder / "wards.csv")["status"].str.contains("UNSUPPRESSED").all()
