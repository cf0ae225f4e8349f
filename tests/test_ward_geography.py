"""Wirral's wards as drawn and counted, against the official files they come from.

The raw-data tests need ``../shared/data/raw`` beside the repository (or
``NEEDSMAP_RAW``) and are skipped where it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from needsmap.config import REPO_ROOT, bundled_data_dir
from needsmap.context import dfe_children
from needsmap.geography import lsoa_ward_shares
from needsmap.indicators import ward_deprivation
from needsmap.maps.interactive import simplify_coverage
from needsmap.pipeline import children_for_year
from needsmap.sources import load_area

RAW = Path(os.environ.get("NEEDSMAP_RAW", REPO_ROOT.parent / "shared" / "data" / "raw"))
needs_raw = pytest.mark.skipif(
    not (RAW / "MANIFEST.md").exists(), reason=f"raw data folder {RAW} not present"
)
WIRRAL = bundled_data_dir() / "wirral"


@pytest.fixture(scope="module")
def area():
    return load_area(WIRRAL)


@pytest.fixture(scope="module")
def ons_wards() -> gpd.GeoSeries:
    raw = gpd.read_file(
        RAW / "england/england_wards_may2024_bsc_ukmaps.gpkg", where="LAD24CD = 'E08000015'"
    )
    return raw.set_index("WD24CD").geometry.sort_index()


def _iou(a: gpd.GeoSeries, b: gpd.GeoSeries) -> pd.Series:
    b = b.reindex(a.index)
    return a.intersection(b, align=False).area / a.union(b, align=False).area


@needs_raw
def test_every_ward_drawn_is_the_ons_ward(area, ons_wards):
    """Bundled, and as simplified for the interactive map: IoU >= 0.98 for all 22."""
    assert list(area.wards.index) == list(ons_wards.index)
    bundled = _iou(area.wards.geometry, ons_wards)
    assert bundled.min() > 0.999
    simplified = _iou(simplify_coverage(area.wards.geometry), ons_wards)
    assert simplified.min() >= 0.98


@needs_raw
def test_ward_children_0_15_are_the_official_estimates(bundled_run):
    """DWP's FYE 2025 ward percentages divide by ONS mid-2022 ward children aged 0-15."""
    cilif = pd.read_csv(
        RAW / "england/england_dwp_cilif_ward_wd24_fye2022_2025_long.csv.gz",
        dtype={"source_flag": str},
    )
    rows = cilif[(cilif["fye"] == 2025) & (cilif["measure"] == "relative_bhc")]
    official = (rows["children_0_15"] / rows["percentage"] * 100).set_axis(rows["ward_code"])
    wards = bundled_run.wards
    error = wards["children_0_15"] / official.reindex(wards.index) - 1
    assert error.abs().max() < 0.02
    assert error.abs().mean() < 0.01
    assert wards["children_0_15"].sum() == pytest.approx(58322, abs=5)


def test_lsoa_shares_alone_come_within_8pc_of_the_official_ward_children(area):
    """What the shares give without the official figure (why the official one is used):
    LSOA mid-2022 0-15s split by postcode, against the ONS ward estimates."""
    lsoa = area.lsoa[["lsoa_code", "children_0_15"]].merge(area.shares, on="lsoa_code")
    by_share = (lsoa["children_0_15"] * lsoa["share"]).groupby(lsoa["ward_code"]).sum()
    error = by_share / area.ward_population["children_0_15"] - 1
    assert error.abs().max() < 0.08
    assert error.abs().mean() < 0.03


def test_imd_average_score_reproduces_the_published_wirral_figure(bundled_run):
    """MHCLG's IoD2025 local-authority summary: Wirral's IMD average score is 27.473."""
    wards = bundled_run.wards
    la = np.average(wards["imd_score"], weights=wards["population"])
    assert round(la, 3) == 27.473
    assert wards["population"].sum() == pytest.approx(322439, abs=0.5)


def test_ward_children_sum_to_the_dfe_denominator_and_the_la_rate(bundled_run):
    """DfE's 2025 rates for Wirral use 66,223 children aged 0-17: CIN 2,707 -> 409."""
    wards = bundled_run.wards
    assert wards["children"].sum() == pytest.approx(66223, abs=1)
    rate = wards["children_in_need"].sum() / wards["children"].sum() * 10_000
    assert round(rate) == 409


def test_the_bundled_shares_are_what_the_library_computes(area):
    again = lsoa_ward_shares(area.lsoa, area.wards, postcodes=area.postcodes)
    bundled = area.shares.drop(columns="method")
    pd.testing.assert_frame_equal(
        again.drop(columns="method"), bundled, check_dtype=False, check_exact=False, atol=1e-6
    )
    assert set(area.shares["method"]) == {"postcodes"}
    # E01007284 (5 km^2, 85% of it inside West Kirby by area) is mostly fields: most of
    # its postcodes, and so its people, are in Greasby, Frankby and Irby.
    split = area.shares[area.shares["lsoa_code"] == "E01007284"].set_index("ward_code")["share"]
    assert split.to_dict() == pytest.approx({"E05000961": 30 / 41, "E05000975": 11 / 41}, abs=1e-6)


def test_coverage_is_checked_and_the_poorly_covered_ward_is_named(area):
    assert area.coverage.min() == pytest.approx(0.886, abs=0.001)
    assert area.notes == [
        "geography: only 89% of Greasby, Frankby and Irby's area lies in LSOAs that give "
        "it data (the rest is in LSOAs whose postcodes all fall in other wards)"
    ]


def test_children_follow_dfe_denominator_of_the_caseload_year(area):
    """DfE used 66,152 children for Wirral's 2024 rates and 66,223 for 2025."""
    wards = ward_deprivation(area.lsoa, area.shares, official=area.ward_population)
    same, children = children_for_year(area, wards, "2025-03-31")
    assert same is area and children.sum() == pytest.approx(66223, abs=1)
    earlier, children = children_for_year(area, wards, "2024-03-31")
    assert children.sum() == pytest.approx(66152)
    assert earlier.lsoa["children"].sum() == pytest.approx(66152, abs=0.5)
    assert area.lsoa["children"].sum() == pytest.approx(66223, abs=1)  # not mutated
    assert earlier.notes[-1] == (
        "children 0-17 scaled by 0.9989 to the 66,152 DfE used for Wirral's 2024 rates "
        "(caseload period 2024-03-31)"
    )
    assert dfe_children(area.dfe, "latest") is None
    assert dfe_children(area.dfe, "2012-03-31") is None  # before DfE's populations here
