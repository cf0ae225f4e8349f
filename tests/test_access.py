"""Access: demand points, distances, floating catchments (hand-worked), gap score."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import write_csv

from needsmap.access import (
    Travel,
    decay_weights,
    demand_points,
    floating_catchment,
    gap_score,
    measure_access,
    service_wards,
    site_capacity,
)
from needsmap.errors import ConfigError, InputError
from needsmap.geography import ward_polygons
from needsmap.sources.travel_times import load_travel_times

BNG = "EPSG:27700"
W1, W2 = "E05000001", "E05000002"
# conftest.grid_lsoa: six 1 km squares; centres (500|1500|2500, 500|1500); children
# 250, 700, 150 (bottom row), 350, 150, 150 (top row); W1 = left two columns.
CHILDREN = np.array([250, 700, 150, 350, 150, 150], dtype=float)


def centre_postcodes(lsoa: gpd.GeoDataFrame) -> pd.DataFrame:
    """Two postcodes per LSOA, 200 m either side of its centre: their mean is the centre."""
    c = lsoa.geometry.centroid
    return pd.DataFrame(
        {
            "easting": np.concatenate([c.x - 200, c.x + 200]),
            "northing": np.concatenate([c.y, c.y]),
            "lsoa_code": np.concatenate([lsoa["lsoa_code"], lsoa["lsoa_code"]]),
        },
        index=[f"PC{i}" for i in range(2 * len(lsoa))],
    )


def hubs(points, capacity=(10.0, 20.0), kind="hub") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "service_id": [f"S{i}" for i in range(len(points))],
            "name": [f"Site {i}" for i in range(len(points))],
            "type": kind,
            "capacity": list(capacity),
            "pilot": False,
        },
        geometry=gpd.points_from_xy(*np.array(points, dtype=float).T),
        crs=BNG,
    )


# Site A at the centre of LSOA 1 (capacity 10), B at the centre of LSOA 6 (capacity 20).
A_B = [(500, 500), (2500, 1500)]


@pytest.fixture
def grid_access(grid_lsoa):
    wards = ward_polygons(grid_lsoa)
    return measure_access(
        grid_lsoa, centre_postcodes(grid_lsoa), hubs(A_B), wards, catchment=1500.0
    )


def test_demand_points_are_postcode_means_with_polygon_fallback(grid_lsoa):
    pc = centre_postcodes(grid_lsoa)
    pc.loc["PC0", ["easting", "northing"]] = (100.0, 100.0)  # LSOA 1: mean of (100,100),(700,500)
    pc = pc.drop(index=["PC5", "PC11"])  # LSOA 6 has none: polygon fallback
    pc.loc["PC1", "lsoa_code"] = ""  # blank code: placed by the polygon it falls in (LSOA 2)
    pts = demand_points(grid_lsoa, pc)
    assert list(pts.index) == list(grid_lsoa["lsoa_code"])
    assert (pts.geometry.x.iloc[0], pts.geometry.y.iloc[0]) == (400.0, 300.0)
    assert pts["postcodes"].tolist() == [2, 2, 2, 2, 2, 0]
    assert pts["placed_by"].tolist() == ["postcodes"] * 5 + ["polygon"]
    assert grid_lsoa.geometry.iloc[5].contains(pts.geometry.iloc[5])
    assert pts["children"].tolist() == CHILDREN.tolist()
    assert pts.crs == BNG


def test_demand_points_need_british_national_grid(grid_lsoa):
    with pytest.raises(InputError, match="must be in British National Grid"):
        demand_points(grid_lsoa.to_crs("EPSG:4326"), centre_postcodes(grid_lsoa))


def test_two_step_fca_hand_worked(grid_access):
    # Catchment 1500 m. A reaches LSOAs 1, 2, 4, 5 (0, 1000, 1000, 1414 m): 1450 children.
    # B reaches LSOAs 2, 3, 5, 6 (1414, 1000, 1000, 0 m): 1150 children.
    ra, rb = 10 / 1450 * 1000, 20 / 1150 * 1000  # per 1,000 children
    lsoa = grid_access.demand["access_2sfca_hub"].to_numpy()
    expected = [ra, ra + rb, rb, ra, ra + rb, rb]
    np.testing.assert_allclose(lsoa, expected)
    assert lsoa[0] == pytest.approx(6.896552, abs=1e-6)
    assert lsoa[1] == pytest.approx(24.287856, abs=1e-6)
    # all capacity is reached by someone, so children x access sums to capacity x 1000
    assert (lsoa * CHILDREN).sum() == pytest.approx(30_000)
    wards = grid_access.wards
    # W1 = LSOAs 1, 2, 4, 5: 600 children at ra, 850 at ra + rb
    assert wards.loc[W1, "access_2sfca_hub"] == pytest.approx(
        (600 * ra + 850 * (ra + rb)) / 1450, abs=1e-3
    )
    assert wards.loc[W2, "access_2sfca_hub"] == pytest.approx(rb, abs=1e-3)


def test_enhanced_two_step_fca_hand_worked(grid_access):
    def g(d):  # Gaussian that reaches 0 at the 1500 m edge
        return (math.exp(-0.5 * (d / 1500) ** 2) - math.exp(-0.5)) / (1 - math.exp(-0.5))

    g1, g2 = g(1000), g(math.hypot(1000, 1000))
    assert g1 == pytest.approx(0.493575, abs=1e-6)
    assert g2 == pytest.approx(0.088062, abs=1e-6)
    ra = 10 / (250 * 1 + 700 * g1 + 350 * g1 + 150 * g2) * 1000
    rb = 20 / (700 * g2 + 150 * g1 + 150 * g1 + 150 * 1) * 1000
    expected = [ra, g1 * ra + g2 * rb, g1 * rb, g1 * ra, g2 * ra + g1 * rb, rb]
    np.testing.assert_allclose(grid_access.demand["access_e2sfca_hub"], expected)


def test_distance_share_within_and_services_per_1000(grid_access):
    wards = grid_access.wards
    # nearest: LSOA 1 and 6 at 0 m, the rest 1000 m
    assert wards.loc[W1, "dist_hub_m"] == round((700 + 350 + 150) * 1000 / 1450)
    assert wards.loc[W2, "dist_hub_m"] == 500
    assert wards["share_within_hub"].tolist() == [1.0, 1.0]
    assert wards.loc[W1, "per_1000_children_hub"] == pytest.approx(1000 / 1450, abs=1e-3)
    assert wards.loc[W2, "per_1000_children_hub"] == pytest.approx(1000 / 300, abs=1e-3)


def test_no_provider_in_reach_scores_zero_not_nan(grid_lsoa):
    far = hubs([*A_B, (9000, 9000)], capacity=(10, 20, 50))  # the third reaches nobody
    acc = measure_access(
        grid_lsoa, centre_postcodes(grid_lsoa), far, ward_polygons(grid_lsoa), catchment=900.0
    )
    lsoa = acc.demand["access_2sfca_hub"].to_numpy()
    np.testing.assert_allclose(lsoa, [40.0, 0, 0, 0, 0, 20 / 150 * 1000])
    assert not acc.wards.isna().any().any()
    assert acc.wards.loc[W1, "share_within_hub"] == pytest.approx(250 / 1450, abs=1e-3)
    assert acc.wards.loc[W2, "share_within_hub"] == 0.5


def test_access_index_is_ratio_to_area_mean(grid_access):
    e = grid_access.demand["access_e2sfca_hub"]
    area = np.average(e, weights=CHILDREN)
    ward = grid_access.wards["access_e2sfca_hub"]
    np.testing.assert_allclose(grid_access.wards["access_index"], ward / area, atol=2e-3)


def test_decay_weights():
    w = decay_weights([0, 750, 1500, 1600], 1500, "gaussian")
    np.testing.assert_allclose(w, [1.0, 0.701367, 0.0, 0.0], atol=1e-6)
    assert decay_weights([0, 1500, 1501], 1500).tolist() == [1.0, 1.0, 0.0]
    with pytest.raises(
        ConfigError, match=r"'cubic' is not valid; choose from \['gaussian', 'none'\]"
    ):
        decay_weights([0], 1, "cubic")  # type: ignore[arg-type]


def test_floating_catchment_checks_lengths(grid_lsoa):
    travel = Travel(demand_points(grid_lsoa, centre_postcodes(grid_lsoa)))
    pairs = travel.within(hubs(A_B), 1500)
    with pytest.raises(InputError, match="3 demand and 2 supply values for a 6 x 2"):
        floating_catchment([1, 2, 3], [1, 2], pairs, catchment=1500)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5000), st.integers(0, 5000), st.integers(0, 300)),
        min_size=1,
        max_size=25,
    ),
    st.lists(
        st.tuples(st.integers(0, 5000), st.integers(0, 5000), st.integers(1, 50)),
        min_size=1,
        max_size=8,
    ),
)
def test_capacity_is_conserved_and_never_nan(demand, supply):
    """Every unit of capacity with children in reach is shared out exactly; no NaN."""
    d = np.array(demand, dtype=float)
    s = np.array(supply, dtype=float)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(d[:, 0], d[:, 1]), crs=BNG)
    sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy(s[:, 0], s[:, 1]), crs=BNG)
    pairs = Travel(pts).within(sites, 1500)
    a = floating_catchment(d[:, 2], s[:, 2], pairs, catchment=1500, decay="gaussian")
    assert np.isfinite(a).all() and (a >= 0).all()
    w = pairs.matrix(decay_weights(pairs.cost, 1500, "gaussian"))
    reached = (w.T @ d[:, 2]) > 0
    assert (a * d[:, 2]).sum() == pytest.approx(s[reached, 2].sum(), rel=1e-9, abs=1e-9)


def test_matches_pysal_access_reference(grid_lsoa):
    """The PySAL `access` package gives the same 2SFCA on random points."""
    from access import Access

    rng = np.random.default_rng(7)
    xy, sxy = rng.uniform(0, 8000, (120, 2)), rng.uniform(0, 8000, (15, 2))
    pop, cap = rng.integers(0, 400, 120).astype(float), rng.uniform(1, 80, 15)
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(*xy.T), crs=BNG, index=pd.Index(range(120), name="o")
    )
    sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*sxy.T), crs=BNG)
    pairs = Travel(pts).within(sites, 1500)
    ours = floating_catchment(pop, cap, pairs, catchment=1500)
    ref = Access(
        demand_df=pd.DataFrame({"p": pop}, index=pts.index),
        demand_value="p",
        supply_df=pd.DataFrame({"c": cap}, index=pd.Index(range(15), name="d")),
        supply_value="c",
        cost_df=pd.DataFrame({"o": pairs.origin, "d": pairs.site, "cost": pairs.cost}),
        cost_origin="o",
        cost_dest="d",
        cost_name="cost",
    ).two_stage_fca(max_cost=1500)
    np.testing.assert_allclose(ours, ref.iloc[:, 0].reindex(pts.index).fillna(0), atol=1e-12)


def test_site_capacity_fills_gaps():
    services = pd.DataFrame(
        {
            "type": ["childrens_centre", "childrens_centre", "school", "school", "school"],
            "capacity": [np.nan, np.nan, 100.0, np.nan, 300.0],
        }
    )
    cap, notes = site_capacity(services)
    assert cap.tolist() == [1.0, 1.0, 100.0, 200.0, 300.0]
    assert notes == [
        "access: no capacity given for children's centres; each counts 1",
        "access: 1 school without a capacity given the median of the others (200)",
    ]
    assert services["capacity"].isna().sum() == 3  # caller's frame untouched
    two = pd.DataFrame({"type": ["family_hub"] * 3, "capacity": [np.nan, np.nan, 40.0]})
    assert site_capacity(two)[1] == [
        "access: 2 family hubs without a capacity given the median of the others (40)"
    ]


def test_service_wards_snaps_just_outside(grid_lsoa):
    wards = ward_polygons(grid_lsoa)
    sites = hubs([(500, 500), (2900, 1000), (3100, 1000), (3400, 1000)], capacity=(1, 1, 1, 1))
    got = service_wards(sites, wards)
    assert got.iloc[:3].tolist() == [W1, W2, W2]  # 100 m outside snaps to the nearest ward
    assert pd.isna(got.iloc[3])  # 400 m outside belongs to no ward


def test_unknown_type_lists_choices(grid_lsoa):
    with pytest.raises(
        ConfigError,
        match=r"access.types: \['library'\] not among the service types; choose from \['hub'\]",
    ):
        measure_access(
            grid_lsoa,
            centre_postcodes(grid_lsoa),
            hubs(A_B),
            ward_polygons(grid_lsoa),
            types=("library",),
        )


def test_gap_score_hand_worked():
    need = pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"])
    access = pd.Series([3.0, 2.0, 1.0], index=["a", "b", "c"])
    z = math.sqrt(1.5)  # (1 - 2) / population sd sqrt(2/3)
    assert gap_score(need, access).tolist() == [round(-2 * z, 3), 0.0, round(2 * z, 3)]
    assert gap_score(need, access * 0 + 1).tolist() == [round(-z, 3), 0.0, round(z, 3)]


# --- travel-time matrix ------------------------------------------------------------

TT_HEADER = "lsoa_code,service_id,minutes\n"


def times_csv(tmp_path, body):
    return write_csv(tmp_path / "times.csv", TT_HEADER + body)


def test_travel_times_replace_straight_line(grid_lsoa, tmp_path):
    # A (S0) is 5 minutes from every LSOA in W1 and 25 from W2; B (S1) only from LSOA 6.
    body = "".join(f"E0100000{i},S0,{5 if i in (1, 2, 4, 5) else 25}\n" for i in range(1, 7))
    body += "E01000006,S1,2\nE01000006,S9,1\nE09999999,S0,1\n"
    codes = pd.Index(grid_lsoa["lsoa_code"])
    tt = load_travel_times(times_csv(tmp_path, body), codes, pd.Index(["S0", "S1", "S2"]))
    assert len(tt.times) == 7
    assert tt.notes == [
        "times.csv: set aside 1 row(s) for LSOAs outside the area",
        "times.csv: set aside 1 row(s) for 1 service id(s) not among the placed services, e.g. ['S9']",
        "times.csv: 1 placed service(s) have no travel times and count as out of reach, e.g. ['S2']",
    ]
    acc = measure_access(
        grid_lsoa,
        centre_postcodes(grid_lsoa),
        hubs(A_B),
        ward_polygons(grid_lsoa),
        catchment=15.0,
        travel_times=tt.times,
    )
    assert acc.unit == "min"
    lsoa = acc.demand["access_2sfca_hub"].to_numpy()
    np.testing.assert_allclose(
        lsoa, [10 / 1450 * 1000] * 2 + [0] + [10 / 1450 * 1000] * 2 + [20 / 150 * 1000]
    )
    assert acc.wards.loc[W1, "time_hub_min"] == 5.0
    assert acc.wards.loc[W2, "time_hub_min"] == pytest.approx((150 * 25 + 150 * 2) / 300, abs=0.05)
    # distance columns stay straight-line metres
    assert acc.wards.loc[W2, "dist_hub_m"] == 500


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "E01000001,S0,abc\n",
            r"times.csv: column 'minutes' has values that are not numbers \('abc'\) at row 2",
        ),
        ("E01000001,S0,-1\n", r"times.csv: column 'minutes' has negative values at row 2"),
        (
            "E01000001,S0,1\nE01000001,S0,2\n",
            r"times.csv: the same LSOA and service appear more than once at rows 2, 3",
        ),
        (",S0,1\n", r"times.csv: 'lsoa_code' or 'service_id' is blank at row 2"),
        (
            "E09999999,S0,1\n",
            r"times.csv: none of its LSOA codes are in this area \(e.g. \['E09999999'\]",
        ),
        (
            "E01000001,S0,1\n",
            r"times.csv: no row for 5 of the area's LSOAs, e.g. \['E01000002', 'E01000003', 'E01000004'\]",
        ),
        (
            "".join(f"E0100000{i},X,1\n" for i in range(1, 7)),
            r"times.csv: none of its service ids match a placed service \(e.g. \['X', 'X', 'X'\]\)",
        ),
    ],
)
def test_travel_time_errors(grid_lsoa, tmp_path, body, message):
    with pytest.raises(InputError, match=message):
        load_travel_times(
            times_csv(tmp_path, body), pd.Index(grid_lsoa["lsoa_code"]), pd.Index(["S0"])
        )


def test_travel_times_missing_column(grid_lsoa, tmp_path):
    path = write_csv(tmp_path / "times.csv", "lsoa_code,service_id,mins\nE01000001,S0,1\n")
    with pytest.raises(InputError, match=r"times.csv: missing column\(s\) \['minutes'\]"):
        load_travel_times(path, pd.Index(grid_lsoa["lsoa_code"]), pd.Index(["S0"]))
