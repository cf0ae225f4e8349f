from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from needsmap.errors import InputError
from needsmap.geography import (
    aggregate,
    lsoa_ward_shares,
    main_ward,
    match_wards,
    ward_coverage,
    ward_polygons,
)
from needsmap.indicators import DOMAIN_SCORES, ward_deprivation


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


# --- LSOA -> ward shares on small synthetic geographies -----------------------------------


def _boxes(codes, boxes, column):
    """Rectangles (x0, y0, x1, y1) in metres, EPSG:27700, with codes in ``column``."""
    return gpd.GeoDataFrame({column: codes}, geometry=[box(*b) for b in boxes], crs="EPSG:27700")


@pytest.fixture
def split_geography():
    """Two 1 km wards side by side; LSOA A (1.5 km wide) straddles them, B lies in W2.

    A is 1000/1500 = 2/3 in W1 by area; its four postcodes are one in W1, three in W2.
    """
    wards = _boxes(["W1", "W2"], [(0, 0, 1000, 1000), (1000, 0, 2000, 1000)], "ward_code")
    lsoa = _boxes(["A", "B"], [(0, 0, 1500, 1000), (1500, 0, 2000, 1000)], "lsoa_code")
    lsoa["population"] = [1200, 300]
    lsoa["imd_score"] = [40.0, 10.0]
    postcodes = pd.DataFrame(
        {
            "easting": [500, 1100, 1200, 1300, 1800],
            "northing": [500] * 5,
            "lsoa_code": ["A", "A", "A", "A", "B"],
        }
    )
    return lsoa, wards.set_index("ward_code"), postcodes


def test_lsoa_split_across_two_wards_by_postcodes(split_geography):
    lsoa, wards, postcodes = split_geography
    shares = lsoa_ward_shares(lsoa, wards, postcodes=postcodes)
    assert shares.to_dict("records") == [
        {"lsoa_code": "A", "ward_code": "W1", "share": 0.25, "method": "postcodes"},
        {"lsoa_code": "A", "ward_code": "W2", "share": 0.75, "method": "postcodes"},
        {"lsoa_code": "B", "ward_code": "W2", "share": 1.0, "method": "postcodes"},
    ]
    out = aggregate(lsoa, sums=("population",), weighted={"imd_score": "population"}, shares=shares)
    # W1: a quarter of A (300 people at 40); W2: 900 of A at 40 and 300 of B at 10.
    assert out["population"].to_dict() == {"W1": 300.0, "W2": 1200.0}
    assert out.loc["W1", "imd_score"] == pytest.approx(40.0)
    assert out.loc["W2", "imd_score"] == pytest.approx((900 * 40 + 300 * 10) / 1200)


def test_lsoa_split_by_area_without_postcodes(split_geography):
    lsoa, wards, _ = split_geography
    shares = lsoa_ward_shares(lsoa, wards)
    assert shares["method"].unique().tolist() == ["area"]
    assert shares["share"].tolist() == pytest.approx([2 / 3, 1 / 3, 1.0])
    out = aggregate(lsoa, sums=("population",), shares=shares)
    assert out["population"].tolist() == pytest.approx([800.0, 700.0])


def test_an_lsoa_without_postcodes_falls_back_to_area(split_geography):
    lsoa, wards, postcodes = split_geography
    shares = lsoa_ward_shares(lsoa, wards, postcodes=postcodes[postcodes["lsoa_code"] == "B"])
    assert shares.set_index(["lsoa_code", "ward_code"])["method"].to_dict() == {
        ("A", "W1"): "area",
        ("A", "W2"): "area",
        ("B", "W2"): "postcodes",
    }


def test_ward_with_no_lsoa_centroid_inside_it_still_gets_its_share():
    # W2 is a 400 m strip; the only LSOA reaching it has its centroid (x = 700) in W1.
    wards = _boxes(["W1", "W2"], [(0, 0, 1000, 1000), (1000, 0, 1400, 1000)], "ward_code")
    lsoa = _boxes(["A"], [(0, 0, 1400, 1000)], "lsoa_code")
    lsoa["ward_code"] = "W1"  # what a best-fit lookup says
    lsoa["children_0_15"] = [700]
    shares = lsoa_ward_shares(lsoa, wards)
    assert shares[["ward_code", "share"]].to_dict("list") == {
        "ward_code": ["W1", "W2"],
        "share": pytest.approx([5 / 7, 2 / 7]),
    }
    assert aggregate(lsoa, sums=("children_0_15",), shares=shares)[
        "children_0_15"
    ].tolist() == pytest.approx([500.0, 200.0])
    assert ward_coverage(lsoa, wards, shares).tolist() == pytest.approx([1.0, 1.0])


def test_slivers_below_the_tolerance_are_dropped_and_the_rest_renormalised():
    # LSOA A pokes 10 m (1%) into W2: a sliver of two generalised boundaries.
    wards = _boxes(["W1", "W2"], [(0, 0, 990, 1000), (990, 0, 2000, 1000)], "ward_code")
    lsoa = _boxes(["A"], [(0, 0, 1000, 1000)], "lsoa_code")
    assert lsoa_ward_shares(lsoa, wards)[["ward_code", "share"]].to_dict("records") == [
        {"ward_code": "W1", "share": 1.0}
    ]
    kept = lsoa_ward_shares(lsoa, wards, min_share=0.0)
    assert kept["share"].tolist() == pytest.approx([0.99, 0.01])


def test_an_lsoa_outside_every_ward_takes_its_best_fit_ward():
    wards = _boxes(["W1", "W2"], [(0, 0, 1000, 1000), (1000, 0, 2000, 1000)], "ward_code")
    lsoa = _boxes(["A", "B"], [(0, 0, 1000, 1000), (5000, 0, 6000, 1000)], "lsoa_code")
    lsoa["ward_code"] = ["W1", "W1"]
    shares = lsoa_ward_shares(lsoa, wards)
    assert shares.iloc[1].to_dict() == {
        "lsoa_code": "B",
        "ward_code": "W1",
        "share": 1.0,
        "method": "best_fit",
    }
    # Without a lookup column: the nearest ward (W2, 3 km away; W1 is 4 km).
    assert lsoa_ward_shares(lsoa.drop(columns="ward_code"), wards).iloc[1]["ward_code"] == "W2"


def test_coverage_reports_a_ward_whose_lsoa_gives_its_people_elsewhere(split_geography):
    lsoa, wards, postcodes = split_geography
    # Every postcode of A lies in W2, so no LSOA contributes to W1 at all.
    in_w2 = postcodes[postcodes["easting"] > 1000]
    shares = lsoa_ward_shares(lsoa, wards, postcodes=in_w2)
    assert set(shares["ward_code"]) == {"W2"}
    assert ward_coverage(lsoa, wards, shares).to_dict() == {"W1": 0.0, "W2": 1.0}
    assert main_ward(shares).to_dict() == {"A": "W2", "B": "W2"}


def test_shares_need_one_projected_crs(split_geography):
    lsoa, wards, _ = split_geography
    with pytest.raises(InputError, match=r"must share one projected CRS"):
        lsoa_ward_shares(lsoa.to_crs("EPSG:4326"), wards)
    with pytest.raises(InputError, match=r"min_share must be between 0 and 0.5, got 0.7"):
        lsoa_ward_shares(lsoa, wards, min_share=0.7)


def test_aggregate_refuses_an_lsoa_without_shares(split_geography):
    lsoa, wards, _ = split_geography
    shares = lsoa_ward_shares(lsoa, wards)
    with pytest.raises(InputError, match=r"no row for 1 LSOA\(s\), e.g. \['B'\]"):
        aggregate(lsoa, sums=("population",), shares=shares[shares["lsoa_code"] == "A"])


@settings(max_examples=30, deadline=None)
@given(st.floats(0.05, 0.95), st.lists(st.integers(0, 2000), min_size=2, max_size=2))
def test_shares_conserve_totals_wherever_the_boundary_runs(cut, pops):
    wards = _boxes(
        ["W1", "W2"], [(0, 0, cut * 2000, 1000), (cut * 2000, 0, 2000, 1000)], "ward_code"
    )
    lsoa = _boxes(["A", "B"], [(0, 0, 1000, 1000), (1000, 0, 2000, 1000)], "lsoa_code")
    lsoa["population"] = pops
    shares = lsoa_ward_shares(lsoa, wards, min_share=0.0)
    assert shares.groupby("lsoa_code")["share"].sum().tolist() == pytest.approx([1.0, 1.0])
    out = aggregate(lsoa, sums=("population",), shares=shares)
    assert out["population"].sum() == pytest.approx(sum(pops))


def test_idaopi_is_weighted_by_people_aged_60_and_over(grid_lsoa):
    scores = {c: 0.0 for c in DOMAIN_SCORES}
    lsoa = grid_lsoa.drop(columns="geometry").assign(
        **scores, idaopi_score=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    )
    west = ward_deprivation(lsoa).loc["E05000001"]
    # West holds LSOAs 1, 2, 4, 5 with 300, 500, 200, 100 people aged 60+:
    # (.1*300 + .2*500 + .4*200 + .5*100) / 1100; by total population it would be 0.2667.
    assert west["idaopi_score"] == pytest.approx(260 / 1100)


def test_official_ward_children_replace_the_lsoa_sums_where_given(grid_lsoa):
    scores = {c: 0.0 for c in (*DOMAIN_SCORES, "idaopi_score")}
    lsoa = grid_lsoa.drop(columns="geometry").assign(**scores)
    official = pd.DataFrame(
        {"children_0_15": [1250.0, float("nan")], "children": [1500.0, 400.0]},
        index=pd.Index(["E05000001", "E05000002"], name="ward_code"),
    )
    out = ward_deprivation(lsoa, official=official)
    # East has no official 0-15 figure: its LSOAs' sum (100 + 100) stands.
    assert out["children_0_15"].to_dict() == {"E05000001": 1250.0, "E05000002": 200.0}
    assert out["children"].to_dict() == {"E05000001": 1500.0, "E05000002": 400.0}
