"""Shared fixtures: a small synthetic geography built in code, and one bundled run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from needsmap.config import RunConfig, bundled_data_dir

BNG = "EPSG:27700"


@pytest.fixture
def grid_lsoa() -> gpd.GeoDataFrame:
    """Six 1 km square LSOAs in a 3x2 grid; wards W1 (left 2 columns) and W2 (right).

    Populations and scores are chosen so ward values can be worked out by hand.
    """
    xs = np.array([0, 1, 2, 0, 1, 2]) * 1000 + 500
    ys = np.array([0, 0, 0, 1, 1, 1]) * 1000 + 500
    geoms = gpd.points_from_xy(xs, ys).buffer(500, cap_style="square")
    return gpd.GeoDataFrame(
        {
            "lsoa_code": [f"E0100000{i}" for i in range(1, 7)],
            "lsoa_name": [f"Test {i}" for i in range(1, 7)],
            "ward_code": ["E05000001", "E05000001", "E05000002"] * 2,
            "ward_name": ["West", "West", "East"] * 2,
            "population": [1000, 3000, 2000, 1000, 1000, 2000],
            "children_0_15": [200, 600, 100, 300, 100, 100],
            "population_60_plus": [300, 500, 400, 200, 100, 600],
            "children": [250, 700, 150, 350, 150, 150],
            "imd_score": [10.0, 30.0, 50.0, 20.0, 40.0, 10.0],
            "idaci_score": [0.1, 0.3, 0.5, 0.2, 0.1, 0.3],
            "imd_decile": [5, 2, 1, 4, 1, 6],
        },
        geometry=geoms,
        crs=BNG,
    )


@pytest.fixture(scope="session")
def bundled_run(tmp_path_factory: pytest.TempPathFactory):
    """One end-to-end run on the bundled Wirral data, shared by the output tests."""
    from needsmap.pipeline import run

    out = tmp_path_factory.mktemp("run") / "wirral"
    return run(RunConfig(), out=out)


@pytest.fixture
def wirral_dir() -> Path:
    return bundled_data_dir() / "wirral"


def chromium_path() -> str | None:
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
    )
    return path


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def wirral_wards(wirral_dir: Path) -> pd.Series:
    lsoa = gpd.read_file(wirral_dir / "lsoa21.geojson")
    return lsoa.groupby("ward_code")["ward_name"].first()
