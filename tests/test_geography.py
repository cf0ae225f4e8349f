from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needsmap.geography import aggregate, match_wards, ward_polygons
from needsmap.indicators import ward_deprivation


def test_ward_polygons_dissolve_lsoas_exactly(grid_lsoa):
    wards = ward_polygons(grid_lsoa)
    assert list(wards.index) == ["E05000001", "E05000002"]
    assert wards.loc["E05000001", "geometry"].area == pytest.approx(4_000_000)
    assert wards.loc["E05000002", "geometry"].area == pytest.approx(2_000_000)
    assert wards.geometry.union_all().area == pytest.approx(grid_lsoa.geometry.union_all().area)


def test_population_weighted_scores_worked_by_hand(grid_lsoa):
    out = ward_deprivation(
        grid_lsoa.drop(columns="geometry").assign(
            **{
                c: 0.0
                for c in (
                    "income_score",
                    "employment_score",
                    "education_score",
                    "health_score",
                    "crime_score",
                    "housing_and_services_score",
                    "environment_score",
                    "idaopi_score",
                )
            }
        )
    )
    west = out.loc["E05000001"]
    # IMD: (10*1000 + 30*3000 + 20*1000 + 40*1000) / 6000 = 160000 / 6000
    assert west["imd_score"] == pytest.approx(160000 / 6000)
    # IDACI weighted by children 0-15: (.1*200 + .3*600 + .2*300 + .1*100) / 1200
    assert west["idaci_score"] == pytest.approx(0.27 / 1.2)
    assert west["population"] == 6000
    assert west["children"] == 1450
    assert west["lsoas_most_deprived_10pc"] == 1
    assert west["lsoas_most_deprived_20pc"] == 2
    assert west["share_most_deprived_20pc"] == pytest.approx(0.5)
    east = out.loc["E05000002"]
    assert east["imd_score"] == pytest.approx((50 * 2000 + 10 * 2000) / 4000)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(0, 5000), min_size=6, max_size=6))
def test_aggregation_conserves_totals(grid_lsoa, pops):
    frame = grid_lsoa.drop(columns="geometry").assign(population=pops)
    out = aggregate(frame, sums=("population",), weighted={"imd_score": "children"})
    assert out["population"].sum() == sum(pops)


def test_aggregation_independent_of_row_order(grid_lsoa):
    a = aggregate(grid_lsoa, sums=("children",), weighted={"imd_score": "population"})
    b = aggregate(grid_lsoa.iloc[::-1], sums=("children",), weighted={"imd_score": "population"})
    pd.testing.assert_frame_equal(a, b)


def test_match_wards_codes_names_and_repairs():
    wards = pd.Series({"E05000955": "Bidston and St James", "E05000954": "Bebington"})
    m = match_wards(pd.Series([" e05000954 ", "Bidston & St. James", "Nowhere"]), wards)
    assert m.codes.tolist()[:2] == ["E05000954", "E05000955"]
    assert m.unmatched == ["Nowhere"]
    assert m.repaired == 1
    assert m.by_name == {"Bidston & St. James": "E05000955"}
