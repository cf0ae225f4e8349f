"""What a run publishes about need: the index, its uncertainty, and that nothing small leaks.

The scanner reads every file a run writes. A new kind of output file fails the scan
until a reader for it is added here, so no output escapes the check.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from needsmap.config import RunConfig, SuppressionConfig, bundled_data_dir
from needsmap.disclosure import UNSUPPRESSED_STAMP
from needsmap.indicators import need_index, need_rank
from needsmap.maps.interactive import profile_table
from needsmap.pipeline import run
from needsmap.scan import workbook_tables

MEASURES = ("children_in_need", "child_protection_plans", "looked_after_children")
LABELS = {
    "children_in_need": "Children in need",
    "child_protection_plans": "Child protection plans",
    "looked_after_children": "Looked-after children",
}
SAFE_SUFFIXES = ("_rate_index", "_rate_standin", "_rate_unreliable")
"""Columns built from published values only (stand-ins and flags), never from a hidden count."""
IMAGES = {".png", ".svg", ".pdf"}
"""Static maps draw the published table and label wards by name only."""


def _numeric(value: object) -> bool:
    try:
        float(str(value).replace(",", ""))
    except ValueError:
        return False
    return str(value).strip().lower() not in {"nan", ""}


def _measure_of(column: str) -> str | None:
    for m in MEASURES:
        if column == m or column.startswith((f"{m}_", f"{m}@")):
            return m
    return None


def _scan_table(name: str, frame: pd.DataFrame, small: dict[str, set[str]], t: int) -> list[str]:
    problems = []
    wards = frame["ward_code"].astype(str) if "ward_code" in frame.columns else None
    for col in frame.columns:
        m = _measure_of(str(col))
        if m is None or str(col).endswith(SAFE_SUFFIXES):
            continue
        values = frame[col]
        if col == m or "@" in str(col):  # a count column
            nums = pd.to_numeric(values, errors="coerce")
            bad = nums[(nums >= 1) & (nums < t)]
            problems += [f"{name}: {col} shows {v}" for v in bad.tolist()]
        if wards is not None:  # anything derived from a small count must be hidden
            for code, value in zip(wards, values, strict=True):
                if code in small[m] and _numeric(value):
                    problems.append(f"{name}: {col} shows {value!r} for {code} ({m} is small)")
    return problems


def _scan_json(name: str, value: object, t: int, key: str = "") -> list[str]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _scan_json(name, v, t, str(k))]
    if isinstance(value, list):
        return [p for v in value for p in _scan_json(name, v, t, key)]
    m = _measure_of(key)
    if m and key == m and isinstance(value, int | float) and 1 <= value < t:
        return [f"{name}: {key} = {value}"]
    return []


def tooltips(page: str) -> pd.DataFrame:
    """Every ward-profile cell of a map page (ward_code, section, label, text)."""
    return profile_table(page)


def _scan_html(name: str, page: str, small: dict[str, set[str]], t: int) -> list[str]:
    problems = []
    for cell in tooltips(page).itertuples():
        measure = next((m for m, lab in LABELS.items() if cell.label == lab), None)
        if measure is None:
            continue
        count = re.search(r"\((\d[\d,]*)\)", cell.text)  # cells read "rate (count)"
        if count and 1 <= int(count.group(1).replace(",", "")) < t:
            problems.append(f"{name}: tooltip {cell.label} shows {cell.text}")
        shown = re.sub(r"fewer than \d+|withheld", "", cell.text)  # the markers only
        if cell.ward_code in small[measure] and re.search(r"\d", shown):
            problems.append(
                f"{name}: tooltip {cell.label!r} shows {cell.text} for {cell.ward_code}"
            )
    return problems


def scan_outputs(folder: Path, small: dict[str, set[str]], threshold: int) -> list[str]:
    """Every place a run's files show a count 1..threshold-1, or a value derived from one.

    ``small`` maps each measure to the ward codes whose true count is small.
    """
    problems = []
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    assert files, folder
    for path in files:
        name = path.relative_to(folder).as_posix()
        if path.suffix == ".csv":
            problems += _scan_table(name, pd.read_csv(path, dtype=str), small, threshold)
        elif path.suffix == ".gpkg":
            frame = pd.DataFrame(gpd.read_file(path).drop(columns="geometry"))
            problems += _scan_table(name, frame.astype(str), small, threshold)
        elif path.suffix == ".html":
            problems += _scan_html(name, path.read_text(encoding="utf-8"), small, threshold)
        elif path.suffix == ".json":
            problems += _scan_json(name, json.loads(path.read_text(encoding="utf-8")), threshold)
        elif path.suffix == ".xlsx":
            for sheet, frame in workbook_tables(path):
                problems += _scan_table(f"{name} [{sheet}]", frame.astype(str), small, threshold)
        elif path.suffix not in IMAGES:
            problems.append(f"{name}: no scanner for {path.suffix} files; add one to this test")
    return problems


def small_cells(results, threshold: int) -> dict[str, set[str]]:
    latest = results.caseload.latest
    return {
        m: set(latest.index[(latest[m] >= 1) & (latest[m] < threshold)].astype(str))
        for m in results.caseload.measures
    }


def test_scanner_catches_a_leak(tmp_path):
    (tmp_path / "wards.csv").write_text(
        "ward_code,child_protection_plans,child_protection_plans_rate\n"
        "E05000001,3,12.5\nE05000002,fewer than 5,30.0\n"
    )
    data = {
        "wards": {"codes": ["E05000001", "E05000002"]},
        "profile": {
            "sections": [
                {
                    "title": "Caseload",
                    "rows": [
                        {
                            "label": "Child protection plans",
                            "values": ["12 (3)", "30 (fewer than 5)"],
                        }
                    ],
                }
            ]
        },
    }
    (tmp_path / "map.html").write_text(
        f'<script type="application/json" id="needsmap-data">{json.dumps(data)}</script>'
    )
    (tmp_path / "odd.docx").write_bytes(b"")
    small = {m: set() for m in MEASURES} | {"child_protection_plans": {"E05000002"}}
    problems = scan_outputs(tmp_path, small, 5)
    assert "wards.csv: child_protection_plans shows 3.0" in problems
    assert any("shows '30.0' for E05000002" in p for p in problems)
    assert any("no scanner for .docx" in p for p in problems)
    assert "map.html: tooltip Child protection plans shows 12 (3)" in problems
    assert (
        "map.html: tooltip 'Child protection plans' shows 30 (fewer than 5) for E05000002"
        in problems
    )


def test_no_small_count_in_any_file_of_the_bundled_run(bundled_run):
    folder = bundled_run.written[0].parent
    small = small_cells(bundled_run, 5)
    assert small["child_protection_plans"], "the bundled data should exercise suppression"
    assert scan_outputs(folder, small, 5) == []
    # the scanner really reads the map: one tooltip per ward, with the caseload rows
    tips = tooltips((folder / "needs_map.html").read_text(encoding="utf-8"))
    assert tips["ward_code"].nunique() == 22
    cpp = tips[tips["label"] == "Child protection plans"]
    assert (cpp["text"] == "fewer than 5").sum() == 2


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A run on a caseload with many small counts over three periods, threshold 10."""
    caseload = pd.read_csv(bundled_data_dir() / "wirral" / "caseload_synthetic.csv")
    caseload = caseload[caseload["period"].isin(["2021-03-31", "2023-03-31", "2025-03-31"])]
    for m in MEASURES:
        caseload[m] = caseload[m] // 9
    folder = tmp_path_factory.mktemp("small")
    path = folder / "caseload.csv"
    caseload.to_csv(path, index=False)
    cfg = RunConfig(caseload=path, suppression=SuppressionConfig(threshold=10))
    return run(cfg, out=folder / "out")


def test_no_small_count_in_any_file_when_many_are_small(small_run):
    folder = small_run.written[0].parent
    small = small_cells(small_run, 10)
    assert sum(len(v) for v in small.values()) > 20
    assert scan_outputs(folder, small, 10) == []
    wards = pd.read_csv(folder / "wards.csv", dtype=str)
    assert (wards == "withheld").any().any(), "expected some complementary suppression"


def test_index_recomputes_from_wards_csv_alone(bundled_run, small_run):
    for res in (bundled_run, small_run):
        csv = pd.read_csv(res.written[0].parent / "wards.csv", index_col="ward_code")
        specs = RunConfig().need_index.specs
        again = need_index(csv, specs, method="zscore")
        np.testing.assert_allclose(again, csv["need_index"], atol=1e-4)
        assert need_rank(again).tolist() == csv["need_rank"].tolist()


def test_suppressed_wards_stand_ins_come_from_published_figures_only(small_run):
    table = small_run.wards
    kids = table["children"].astype(float)
    for m in MEASURES:
        hidden = small_run.disclosure.suppressed[m]
        assert table[f"{m}_rate_standin"].tolist() == hidden.tolist()
        shown = ~hidden
        assert (table.loc[shown, f"{m}_rate_index"] == table.loc[shown, f"{m}_rate"]).all()
        # Threshold 10: "fewer than 10" -> 4.5 children; withheld -> the median published
        # rate, at least 10 children.
        fewer = hidden & (table[m] < 10)
        expected = (4.5 / kids[fewer] * 1e4).round(1)
        assert table.loc[fewer, f"{m}_rate_index"].tolist() == expected.tolist()
        withheld = hidden & (table[m] >= 10)
        median = float((table.loc[shown, m] / kids[shown] * 1e4).median())
        floor = 10 / kids[withheld] * 1e4
        expected = floor.clip(lower=median).round(1)
        assert table.loc[withheld, f"{m}_rate_index"].tolist() == expected.tolist()


def test_wards_csv_carries_indicators_and_rank_uncertainty(bundled_run):
    folder = bundled_run.written[0].parent
    wards = pd.read_csv(folder / "wards.csv")
    for col in (
        "need_index",
        "need_rank",
        "need_rank_median",
        "need_rank_lo",
        "need_rank_hi",
        "p_top5",
        "share_most_deprived_20pc",
        "share_most_deprived_20pc_2019",
        "share_most_deprived_20pc_change",
        "idaci_share_most_deprived_20pc_change",
        *(f"{m}_{s}" for m in MEASURES for s in ("rate_lower", "rate_upper", "rate_change")),
        *(f"{m}_rate_index" for m in MEASURES),
    ):
        assert col in wards.columns, col
    assert (wards["need_rank_lo"] <= wards["need_rank_median"]).all()
    assert (wards["need_rank_median"] <= wards["need_rank_hi"]).all()
    assert wards["p_top5"].between(0, 1).all()
    assert wards["p_top5"].sum() == pytest.approx(5, abs=0.01)
    # the 2019 LSOAs in England's most deprived 20% add up to Wirral's count
    assert wards["lsoas_2019"].sum() == pytest.approx(206)


def test_sensitivity_and_benchmark_tables_written(bundled_run):
    folder = bundled_run.written[0].parent
    sens = pd.read_csv(folder / "sensitivity.csv", keep_default_na=False)
    assert len(sens) == 1 + 2 * 5
    assert set(sens["change"]) == {"none", "-50%", "+50%"}
    assert sens.loc[0, "top_wards"].count(";") == 4
    bench = pd.read_csv(folder / "la_benchmark.csv", index_col="measure")
    assert bench.loc["children_looked_after_at_31_march", "la_rate"] == 103.0
    assert bench.loc["children_looked_after_at_31_march", "england_rate"] == 67.0


def test_unsuppressed_run_stamps_every_file(tmp_path):
    res = run(RunConfig(suppression=SuppressionConfig(enabled=False)), out=tmp_path / "o")
    folder = res.written[0].parent
    for path in res.written:
        if path.suffix == ".csv":
            frame = pd.read_csv(path)
            assert (frame["status"] == UNSUPPRESSED_STAMP).all(), path.name
        elif path.suffix == ".gpkg":
            assert (gpd.read_file(path)["status"] == UNSUPPRESSED_STAMP).all()
        elif path.suffix in {".html", ".json"}:
            assert UNSUPPRESSED_STAMP in path.read_text(encoding="utf-8"), path.name
    # with nothing hidden the index rates are the rates themselves
    wards = pd.read_csv(folder / "wards.csv")
    for m in MEASURES:
        assert (wards[f"{m}_rate_index"] == wards[f"{m}_rate"]).all()
