"""scripts/prepare_data.py --lad: another council's complete bundle, written to a folder.

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


def _prepare(lad: str, out: Path) -> str:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert _script().main([str(RAW), "--lad", lad, "--out", str(out)]) == 0
    return printed.getvalue()


@pytest.fixture(scope="module")
def rutland(tmp_path_factory) -> Path:
    """Rutland (E06000017): 26 LSOAs in 15 wards, a unitary council with DfE figures."""
    out = tmp_path_factory.mktemp("rutland")
    _prepare("E06000017", out)
    return out


def test_a_councils_bundle_is_complete(rutland):
    assert sorted(p.name for p in rutland.iterdir()) == [
        "bundle.json",
        "caseload_synthetic.csv",
        "child_poverty_wards.csv",
        "deprivation_iod2025_lsoa21.csv",
        "dfe_childrens_social_care.csv",
        "lsoa21.geojson",
        "lsoa_ward_shares.csv",
        "population_lsoa21.csv",
        "services.csv",
        "wards.geojson",
    ]
    dep = pd.read_csv(rutland / "deprivation_iod2025_lsoa21.csv")
    assert len(dep) == 26
    assert not any(c.startswith("idaci") for c in dep.columns)  # Wirral-only in the raw folder
    dfe = pd.read_csv(rutland / "dfe_childrens_social_care.csv")
    assert set(dfe["group"]) == {"England", "Local authority", "Statistical neighbour"}
    assert set(dfe.loc[dfe["group"] == "Local authority", "area_name"]) == {"Rutland"}
    assert dfe.loc[dfe["group"] == "Statistical neighbour", "area_name"].nunique() == 10
    meta = json.loads((rutland / "bundle.json").read_text(encoding="utf-8"))
    assert (meta["area_name"], meta["caseload_synthetic"]) == ("Rutland", True)


def test_the_bundle_lists_its_wards_and_validates(rutland):
    wards = area_wards(rutland)
    assert len(wards) == 15 and wards["E05012634"] == "Cottesmore"
    v = validate_inputs(RunConfig(area=rutland))
    assert v.problems == []
    assert "bundled for Wirral only" in v.report()


def test_a_district_writes_its_countys_bundle_and_says_so(tmp_path):
    """Melton (E07000133) is a district: children's services are Leicestershire's."""
    printed = _prepare("E07000133", tmp_path)
    assert "Melton is a district of Leicestershire, which runs its children's services" in printed
    meta = json.loads((tmp_path / "bundle.json").read_text(encoding="utf-8"))
    assert meta["area_name"] == "Leicestershire" and "Melton" in meta["districts"]


def test_unknown_lad_stops_with_a_message(tmp_path):
    with pytest.raises(
        SystemExit, match="'E06999999': no area bundle folder and no English council"
    ):
        _script().main([str(RAW), "--lad", "E06999999", "--out", str(tmp_path)])


def test_a_welsh_district_stops_with_a_message(tmp_path):
    with pytest.raises(
        SystemExit, match="W06000023: needsmap's England data cover English councils only"
    ):
        _script().main([str(RAW), "--lad", "W06000023", "--out", str(tmp_path)])
