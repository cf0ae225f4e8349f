"""scripts/prepare_data.py for another council: what the England-wide raw files cover.

Needs the raw folder (``../shared/data/raw`` beside the repository, or ``NEEDSMAP_RAW``);
skipped where it is absent.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from needsmap.checks import validate_inputs
from needsmap.config import REPO_ROOT, RunConfig
from needsmap.starter import area_wards

RAW = Path(os.environ.get("NEEDSMAP_RAW", REPO_ROOT.parent / "shared" / "data" / "raw"))
pytestmark = pytest.mark.skipif(
    not (RAW / "MANIFEST.md").exists(), reason=f"raw data folder {RAW} not present"
)


def _script():
    spec = importlib.util.spec_from_file_location(
        "prepare_data", REPO_ROOT / "scripts" / "prepare_data.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rutland(tmp_path_factory) -> tuple[Path, str]:
    """Rutland (E06000017): 26 LSOAs in 15 wards, a unitary council with DfE figures."""
    out = tmp_path_factory.mktemp("rutland")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert _script().main([str(RAW), "--lad", "E06000017", "--out", str(out)]) == 0
    return out, printed.getvalue()


def test_partial_bundle_holds_what_the_england_files_cover(rutland):
    out, _ = rutland
    assert sorted(p.name for p in out.iterdir()) == [
        "MISSING.md",
        "bundle.json",
        "deprivation_iod2025_lsoa21.csv",
        "dfe_childrens_social_care.csv",
        "lsoa21_wards.csv",
        "wards.geojson",
    ]
    lookup = pd.read_csv(out / "lsoa21_wards.csv")
    assert len(lookup) == 26 and lookup["ward_code"].nunique() == 15
    assert set(lookup["lad_code"]) == {"E06000017"}
    wards = gpd.read_file(out / "wards.geojson")  # ONS May 2024 ward boundaries
    assert sorted(wards["ward_code"]) == sorted(lookup["ward_code"].unique())
    dep = pd.read_csv(out / "deprivation_iod2025_lsoa21.csv")
    assert list(dep["lsoa_code"]) == list(lookup["lsoa_code"])  # same LSOAs, same order
    assert {"imd_score", "imd_rank", "imd_decile", "income_score"} <= set(dep.columns)
    assert not any(c.startswith("idaci") for c in dep.columns)  # Wirral-only in the raw folder
    dfe = pd.read_csv(out / "dfe_childrens_social_care.csv")
    assert set(dfe["group"]) == {"England", "Local authority", "Statistical neighbour"}
    assert set(dfe.loc[dfe["group"] == "Local authority", "area_name"]) == {"Rutland"}
    assert dfe.loc[dfe["group"] == "Statistical neighbour", "area_name"].nunique() == 10
    meta = json.loads((out / "bundle.json").read_text(encoding="utf-8"))
    assert (meta["area_name"], meta["complete"], meta["caseload_synthetic"]) == (
        "Rutland",
        False,
        False,
    )


def test_missing_list_on_screen_and_in_the_bundle(rutland):
    out, printed = rutland
    missing = (out / "MISSING.md").read_text(encoding="utf-8")
    assert missing.startswith("# Rutland (E06000017): what the council must add")
    for item in (
        "lsoa21.geojson",
        "population_lsoa21.csv",
        "idaci_score",
        "postcodes.csv",
        "services.csv",
        "needsmap init DIR --area",
    ):
        assert item in missing
        assert item in printed
    assert "dfe_childrens_social_care.csv`: DfE publishes" not in missing


def test_partial_bundle_lists_its_wards_and_validate_names_what_is_missing(rutland):
    out, _ = rutland
    wards = area_wards(out)
    assert len(wards) == 15 and wards["E05012634"] == "Cottesmore"
    v = validate_inputs(RunConfig(area=out))
    assert v.problems == [
        f"{out}: the area bundle lacks ['lsoa21.geojson', 'deprivation_iod2019_lsoa11.csv', "
        "'lsoa11_to_lsoa21.csv', 'population_lsoa21.csv', 'postcodes.csv', 'services.csv'] "
        "(listed in its MISSING.md); add them as data/README.md describes, or rebuild the "
        "bundle with scripts/prepare_data.py"
    ]


def test_a_district_council_gets_no_dfe_file_and_is_told_why(tmp_path):
    """Melton (E07000133) is a district: children's services are Leicestershire's."""
    script = _script()
    items = script.prepare_partial(RAW, tmp_path, "E07000133")
    assert not (tmp_path / "dfe_childrens_social_care.csv").exists()
    assert "E07000133 Melton is not one" in items[-1]


def test_unknown_lad_stops_with_a_message(tmp_path):
    with pytest.raises(SystemExit, match="E06999999: not a 2024 local authority district"):
        _script().main([str(RAW), "--lad", "E06999999", "--out", str(tmp_path)])


def test_a_welsh_district_stops_with_a_message(tmp_path):
    with pytest.raises(
        SystemExit, match="W06000023: the Indices of Deprivation cover England only"
    ):
        _script().main([str(RAW), "--lad", "W06000023", "--out", str(tmp_path)])
