"""Siting: maximal covering with known answers, existing provision, fallbacks, Wirral."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import itertools
import json
import re
import time
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from shapely.geometry import box

from needsmap import siting
from needsmap.access import Travel
from needsmap.config import Pilot, config_from_dict
from needsmap.errors import ConfigError
from needsmap.pilots import load_pilots
from needsmap.siting import (
    SITE_COLUMNS,
    choose_sites,
    covered_weight,
    exact_cover,
    greedy_cover,
    need_weights,
    site_pilots,
)

BNG = "EPSG:27700"

# Six demand points, three candidates. X covers 1-4 (weight 4); Y covers 1, 2, 5 and
# Z covers 3, 4, 6 (3.5 each). For two sites greedy takes X first and ends at 5.5;
# the best pair is Y + Z, which covers everything: 7.
COVER = sparse.csr_array(
    np.array(
        [
            [1, 1, 0],
            [1, 1, 0],
            [1, 0, 1],
            [1, 0, 1],
            [0, 1, 0],
            [0, 0, 1],
        ]
    )
)
WEIGHTS = np.array([1, 1, 1, 1, 1.5, 1.5])


def test_greedy_is_myopic_on_the_known_instance():
    assert greedy_cover(COVER, WEIGHTS, 2) == [0, 1]
    assert covered_weight(COVER, WEIGHTS, [0, 1]) == 5.5


def test_exact_finds_the_known_best_pair():
    chosen, optimal, *_ = exact_cover(COVER, WEIGHTS, 2)
    assert sorted(chosen) == [1, 2] and optimal
    sol = choose_sites(COVER, WEIGHTS, 2)
    assert sol.method == "exact" and sol.status.startswith("best possible: no other set")
    assert sol.chosen == [1, 2]  # ordered by marginal weight (3.5 each; tie -> first)
    assert (sol.objective, sol.greedy_objective) == (7.0, 5.5)


def test_explicit_zeros_do_not_count_as_cover():
    stored = sparse.csr_array(
        (np.array([0.0, 1.0]), (np.array([0, 1]), np.array([0, 1]))), shape=(2, 2)
    )
    weights = np.array([5.0, 1.0])
    assert greedy_cover(stored, weights, 1) == [1]
    assert exact_cover(stored, weights, 1)[0] == [1]
    assert stored.data.tolist() == [0.0, 1.0]


def test_greedy_only_when_asked():
    sol = choose_sites(COVER, WEIGHTS, 2, method="greedy")
    assert (sol.method, sol.chosen, sol.objective) == ("greedy", [0, 1], 5.5)


def test_solver_failure_falls_back_to_greedy(monkeypatch):
    failed = SimpleNamespace(x=None, status=4, message="solver broke")
    monkeypatch.setattr(siting.optimize, "milp", lambda *a, **k: failed)
    sol = choose_sites(COVER, WEIGHTS, 2)
    assert sol.method == "greedy"
    # The relaxation (Y and Z, 7) bounds the best: greedy's 5.5 is at most 1.5 / 7 short.
    assert sol.status == (
        "one at a time (greedy): the exact solver found no solution (solver broke): "
        "at most 21.4% short of the best possible"
    )
    assert (sol.bound, round(sol.gap, 4)) == (pytest.approx(7.0), 0.2143)
    with pytest.raises(
        ConfigError,
        match=r"siting.method: the exact solver found no solution \(solver broke\); raise siting.time_limit_s or use method: auto",
    ):
        choose_sites(COVER, WEIGHTS, 2, method="exact")


def test_time_limit_keeps_best_found_or_greedy(monkeypatch):
    # Stopped with Y + Z (7): the relaxation's bound is 7 too, so it is the best.
    best_found = SimpleNamespace(x=np.r_[0, 1, 1, np.ones(6)], status=1, message="time limit")
    monkeypatch.setattr(siting.optimize, "milp", lambda *a, **k: best_found)
    sol = choose_sites(COVER, WEIGHTS, 2, time_limit=3)
    assert (sol.method, sol.status) == (
        "exact",
        "best possible: no other set of sites reaches more need (proven by an exact solver)",
    )
    # Stopped with X + Y (5.5, as greedy): at most 1.5 / 7 short of the best.
    as_greedy = SimpleNamespace(x=np.r_[1, 1, 0, np.ones(6)], status=1, message="time limit")
    monkeypatch.setattr(siting.optimize, "milp", lambda *a, **k: as_greedy)
    sol = choose_sites(COVER, WEIGHTS, 2, time_limit=3)
    assert sol.status == (
        "best found by an exact solver within the 3 s time limit: at most 21.4% short of the "
        "best possible"
    )
    worse = SimpleNamespace(x=np.r_[0, 0, 1, np.ones(6)], status=1, message="time limit")
    monkeypatch.setattr(siting.optimize, "milp", lambda *a, **k: worse)
    sol = choose_sites(COVER, WEIGHTS, 2, time_limit=3)
    assert (sol.method, sol.objective) == ("greedy", 5.5)
    assert "stopped at the 3 s time limit with a worse solution" in sol.status


def test_greedy_alone_says_how_far_short_it_may_be():
    # Submodularity: after X (4), the two largest gains are 1.5 each: nothing covers
    # more than 4 + 3 = 7, so greedy's 5.5 is at most 21.4% short.
    sol = choose_sites(COVER, WEIGHTS, 2, method="greedy")
    assert sol.status == (
        "one at a time (greedy, as set in siting.method): at most 21.4% short of the best possible"
    )


def test_time_limit_without_a_solution_says_so_in_words(monkeypatch):
    stopped = SimpleNamespace(
        x=None, status=1, message="Time limit reached. (HiGHS Status 13)", mip_dual_bound=-7.0
    )
    monkeypatch.setattr(siting.optimize, "milp", lambda *a, **k: stopped)
    sol = choose_sites(COVER, WEIGHTS, 2, time_limit=3)
    assert sol.status == (
        "one at a time (greedy): the exact solver found no solution within the 3 s time "
        "limit: at most 21.4% short of the best possible"
    )


def cover_cases(*, candidates: int, min_rows: int) -> st.SearchStrategy:
    """Small siting problems: which of ``candidates`` sites cover each of 1-8 demand
    rows, the rows' weights, and how many sites to choose (1-3)."""
    return st.integers(min_rows, 8).flatmap(
        lambda n: st.tuples(
            st.lists(
                st.lists(st.booleans(), min_size=candidates, max_size=candidates),
                min_size=n,
                max_size=n,
            ),
            st.lists(st.integers(0, 20), min_size=n, max_size=n),
            st.integers(1, 3),
        )
    )


def test_candidates_that_cannot_be_among_the_best_are_left_out():
    # A covers 10, B 9, C 1, all apart; two sites: greedy's A + B reach 19, and no pair
    # holding C covers more than 1 + 10 = 11.
    cover = sparse.csr_array(np.eye(3))
    keep, relaxed = siting.could_reach(cover, np.array([10.0, 9.0, 1.0]), 2, 19.0)
    assert keep.tolist() == [0, 1] and relaxed is None  # two left for two sites: no LP
    sol = choose_sites(cover, np.array([10.0, 9.0, 1.0]), 2)
    assert (sol.considered, sol.chosen, sol.objective) == (2, [0, 1], 19.0)


@settings(max_examples=40, deadline=None)
@given(cover_cases(candidates=7, min_rows=2))
def test_every_best_set_survives_the_reduction(case):
    rows, w, p = case
    cover = sparse.csr_array(np.array(rows, dtype=float))
    weights = np.array(w, dtype=float)
    value = {
        combo: covered_weight(cover, weights, combo)
        for k in range(p + 1)
        for combo in itertools.combinations(range(7), k)
    }
    best = max(value.values())
    floor = covered_weight(cover, weights, greedy_cover(cover, weights, p))
    keep, relaxed = siting.could_reach(cover, weights, p, floor)
    for combo, v in value.items():
        if v >= best - 1e-9:
            assert set(combo) <= set(keep.tolist()) or v == 0
    assert relaxed is None or relaxed >= best - 1e-6


@settings(max_examples=30, deadline=None)
@given(cover_cases(candidates=5, min_rows=1))
def test_exact_equals_brute_force_and_beats_greedy(case):
    rows, w, p = case
    cover = sparse.csr_array(np.array(rows, dtype=float))
    weights = np.array(w, dtype=float)
    best = max(
        covered_weight(cover, weights, combo)
        for k in range(p + 1)
        for combo in itertools.combinations(range(5), k)
    )
    sol = choose_sites(cover, weights, p)
    assert sol.objective == pytest.approx(best)
    assert sol.objective >= sol.greedy_objective - 1e-9
    assert len(sol.chosen) <= p and len(set(sol.chosen)) == len(sol.chosen)


# --- site_pilots on a line of three neighbourhoods ---------------------------------
# East (x=0, 100 children) and Middle (x=3000, 80) in ward W1; West (x=6000, 60) in W2,
# the needier ward. Schools at each, plus S4 at x=1500, within 1600 m of East and Middle.


@pytest.fixture
def line():
    demand = gpd.GeoDataFrame(
        {
            "lsoa_name": ["East", "Middle", "West"],
            "ward_code": ["W1", "W1", "W2"],
            "ward_name": ["One", "One", "Two"],
            "children": [100.0, 80.0, 60.0],
        },
        geometry=gpd.points_from_xy([0, 3000, 6000], [0, 0, 0]),
        crs=BNG,
        index=pd.Index(["L1", "L2", "L3"], name="lsoa_code"),
    )
    services = gpd.GeoDataFrame(
        {
            "service_id": ["S1", "S2", "S3", "S4", "G1"],
            "name": ["East School", "Middle School", "West School", "Bridge School", "GP"],
            "type": ["school"] * 4 + ["gp_practice"],
            "capacity": np.nan,
            "pilot": False,
        },
        geometry=gpd.points_from_xy([0, 3000, 6000, 1500, 6000], [0, 0, 0, 0, 0]),
        crs=BNG,
    )
    need = pd.Series({"W1": 0.0, "W2": 1.0})
    return demand, services, need


def run_line(line, **kw):
    demand, services, need = kw.pop("frames", line)
    return site_pilots(demand, services, need, travel=Travel(demand), catchment=1600, **kw)


def test_need_weights_scale_children_by_ward_need(line):
    demand, _, need = line
    assert need_weights(demand, need).tolist() == [100, 80, 120]
    assert need_weights(demand, need, max_weight=4).tolist() == [100, 80, 240]
    assert need_weights(demand, need * 0).tolist() == [100, 80, 60]


def test_best_single_site_is_known(line):
    got = run_line(line, sites=1)
    row = got.sites.iloc[0]
    assert (row["site_id"], row["children_covered"], row["need_covered"]) == ("S4", 180, 180.0)
    assert row["wards_served"] == "One"
    # when a needy child counts 4 times, West (60 x 4 = 240) beats East + Middle (180)
    got = run_line(line, sites=1, need_weight_max=4)
    assert got.sites["site_id"].tolist() == ["S3"]


def test_two_sites_cover_everyone_then_stop(line):
    got = run_line(line, sites=3)
    assert got.sites["site_id"].tolist() == ["S4", "S3"]
    assert got.sites["order"].tolist() == [1, 2]
    assert got.sites["children_covered"].tolist() == [180, 60]
    assert got.notes == [
        "siting: only 2 of 3 site(s) add coverage; the others would reach no child not already covered"
    ]
    total = got.scenario.loc["All wards"]
    assert (total["children_covered_now"], total["children_covered_after"]) == (0, 240)
    assert got.table["share_covered_cumulative"].tolist() == [0.75, 1.0]


def test_why_each_site_in_words_and_columns(line):
    """By hand: weights East 100, Middle 80, West 120 (W2 counts twice). S4 reaches East and
    Middle (180); the next best, West School, 120: 60 fewer, and none of S4's 180 children."""
    demand, services, need = line
    hub = services.iloc[[2]].assign(service_id="H1", type="family_hub", name="West Hub")
    hub = hub.set_geometry(gpd.points_from_xy([6000], [1000], crs=BNG))
    frames = (demand, pd.concat([services.iloc[:4], hub], ignore_index=True), need)
    got = run_line(line, sites=1)
    row = got.table.iloc[0]
    assert row[["next_best", "next_best_need", "children_beyond_next_best"]].tolist() == [
        "West School",
        120.0,
        180,
    ]
    assert row["ward_need_ranks"] == "One (2 of 2)"
    assert row["why"] == (
        "Bridge School would bring about 180 more children within 1,600 metres of a service "
        "(180 when weighted by need), mostly in One (need rank 2 of 2). No existing provision "
        "was supplied, so its distance to one is not known. The next-best choice at this "
        "step, West School, would reach 120 need-weighted children (60 fewer); Bridge School "
        "reaches about 180 children it would not."
    )
    # with a hub by West, the nearest provision is named, 4.6 km from the Bridge School
    got = run_line(line, frames=frames, sites=1)
    row = got.table.iloc[0]
    assert row[["nearest_provision", "nearest_provision_m"]].tolist() == ["West Hub", 4610]
    assert "The nearest existing provision is West Hub, 4.6 km away." in row["why"]
    assert got.provision_reach[["name", "children_in_reach", "need_in_reach"]].values.tolist() == [
        ["West Hub", 60, 120.0]
    ]


def test_no_provision_says_so_instead_of_zero_now(line):
    """Issue 17: every output said "0.0% now" when the bundle held no provision."""
    got = run_line(line, sites=2)
    assert not got.provision_known and got.provision_label == "none supplied"
    assert not re.search(r"(?<!\d)0(\.0)?% now", got.summary) and "now is not known" in got.summary
    assert got.coverage == (
        "No existing provision was supplied (family hubs, children's centres or pilots), so "
        "how many children are within reach of a service now is not known; the 2 new site(s) "
        "would bring 100% of children within 1,600 metres. Add existing provision in a "
        "services file (config key 'services') or the config key 'pilots'"
    )
    assert got.scenario["share_covered_now"].isna().all()
    assert got.scenario["share_covered_after"].notna().all()


def test_sites_frame_follows_the_contract(line):
    got = run_line(line, sites=2)
    assert list(got.sites.columns) == SITE_COLUMNS
    assert got.sites.crs == BNG
    assert got.table.columns[:7].tolist() == [
        "order",
        "site_id",
        "name",
        "type",
        "children_covered",
        "need_covered",
        "wards_served",
    ]
    assert got.table.loc[0, ["easting", "northing"]].tolist() == [1500, 0]


def line_wards():
    """W1 (x -1000 to 4500) and W2 (4500 to 7000), around the line's neighbourhoods."""
    return gpd.GeoDataFrame(
        {"ward_name": ["One", "Two"]},
        geometry=[box(-1000, -1000, 4500, 1000), box(4500, -1000, 7000, 1000)],
        crs=BNG,
        index=pd.Index(["W1", "W2"], name="ward_code"),
    )


def line_pilots(services, pilots=(), as_of=dt.date(2025, 3, 31)):
    return load_pilots(pilots, services, line_wards(), pd.DataFrame(), as_of=as_of)


def test_existing_pilot_is_fixed_and_not_a_candidate(line):
    demand, services, need = line
    services = services.copy()
    services.loc[services["service_id"] == "S4", "pilot"] = True
    pilots = line_pilots(services)
    got = run_line(line, frames=(demand, services, need), sites=1, pilots=pilots)
    assert got.sites["site_id"].tolist() == ["S3"]
    assert got.existing == 1 and got.candidates == 3
    assert got.provision["name"].tolist() == ["Bridge School"]
    assert got.wards.loc["W1"].tolist() == [1.0, 1.0]
    assert got.scenario.loc["All wards", "share_covered_now"] == 0.75
    assert services["pilot"].sum() == 1  # caller's frame untouched


def test_existing_types_are_provision(line):
    demand, services, need = line
    hub = services.iloc[[2]].assign(service_id="H1", type="children_s_centre", name="Hub")
    frames = (demand, pd.concat([services, hub], ignore_index=True), need)
    got = run_line(line, frames=frames, sites=1, existing=("Children's centre",))
    assert got.scenario.loc["W2", "share_covered_now"] == 1.0
    assert got.sites["site_id"].tolist() == ["S4"]


def test_wards_a_pilot_names_count_as_covered_while_it_runs(line):
    pilot = Pilot(name="West pilot", wards=("two",), start=dt.date(2024, 1, 1))
    pilots = line_pilots(line[1], (pilot,))
    assert pilots.wards.to_dict("records") == [
        {
            "pilot": "West pilot",
            "ward_code": "W2",
            "start": pd.Timestamp("2024-01-01"),
            "end": pd.NaT,
        }
    ]
    got = run_line(line, sites=1, pilots=pilots, need_weight_max=4)
    assert got.sites["site_id"].tolist() == ["S4"]
    assert got.wards.loc["W2", "share_covered_now"] == 1.0
    # before it started, and after it ended, it is not provision
    for as_of in (dt.date(2023, 12, 31), dt.date(2025, 1, 1)):
        ended = dataclasses.replace(pilot, end=dt.date(2024, 12, 31))
        got = run_line(
            line, sites=1, pilots=line_pilots(line[1], (ended,), as_of), need_weight_max=4
        )
        assert pd.isna(got.wards.loc["W2", "share_covered_now"])  # none running: not known
        assert not got.provision_known
        assert got.sites["site_id"].tolist() == ["S3"]


def test_lsoa_centres_as_candidates(line):
    got = run_line(line, sites=1, candidates=("lsoa",), need_weight_max=4)
    assert got.sites.iloc[0][["site_id", "name", "type"]].tolist() == ["L3", "West", "lsoa_centre"]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"candidates": ("hub",)},
            r"siting.candidates: \['hub'\] not among the service types; choose from \['gp_practice', 'school', 'lsoa'\]",
        ),
        (
            {"candidates": ("school",), "existing": ("school",)},
            r"siting.candidates: no candidate sites of type\(s\) \['school'\]",
        ),
    ],
)
def test_siting_errors(line, kw, message):
    with pytest.raises(ConfigError, match=message):
        run_line(line, sites=1, **kw)


def test_lsoa_candidates_need_straight_line(line):
    demand, services, need = line
    times = pd.DataFrame({"lsoa_code": ["L1"], "service_id": ["S1"], "minutes": [1.0]})
    with pytest.raises(ConfigError, match="'lsoa' centres have no travel times"):
        site_pilots(
            demand, services, need, travel=Travel(demand, times), catchment=10, candidates=("lsoa",)
        )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"access": {"catchment_m": 0}}, r"access.catchment_m: must be a positive number \(got 0"),
        ({"siting": {"sites": -1}}, r"siting.sites: must be 0 \(no siting\) or more"),
        ({"siting": {"candidates": []}}, r"siting.candidates: give at least one service type"),
        ({"siting": {"need_weight_max": 0.5}}, r"siting.need_weight_max: must be 1 or more"),
        (
            {"siting": {"method": "best"}},
            r"siting.method: 'best' is not valid; choose from \['auto', 'exact', 'greedy'\]",
        ),
        ({"siting": {"time_limit_s": -2}}, r"siting.time_limit_s: must be a positive number"),
    ],
)
def test_config_errors(data, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(data)


# --- Wirral, end to end -------------------------------------------------------------

ACCESS_COLUMNS = [
    f"{m}_{t}{s}"
    for t in ("school", "gp_practice", "library")
    for m, s in (
        ("dist", "_m"),
        ("share_within", ""),
        ("per_1000_children", ""),
        ("access_2sfca", ""),
        ("access_e2sfca", ""),
    )
]


def test_wards_csv_carries_access_and_gap(bundled_run):
    folder = bundled_run.written[0].parent
    wards = pd.read_csv(folder / "wards.csv")
    cols = ["access_index", "gap_score", "share_covered_now", "share_covered_after"]
    for col in [*ACCESS_COLUMNS, *cols]:
        assert col in wards.columns, col
        assert wards[col].notna().all(), col
    assert wards["gap_score"].sum() == pytest.approx(0, abs=0.01)  # difference of z-scores
    assert wards["share_within_school"].between(0, 1).all()
    # access falls and the gap rises with need: the neediest ward has a positive gap
    assert wards.sort_values("need_index").iloc[-1]["gap_score"] > 0


def test_recommended_sites_written(bundled_run):
    folder = bundled_run.written[0].parent
    sites = pd.read_csv(folder / "recommended_sites.csv")
    assert sites["order"].tolist() == [1, 2, 3, 4, 5]
    assert (sites["type"] == "school").all()
    assert sites["chosen_by"].str.startswith("best possible: no other set").all()
    assert sites["wards_served"].str.len().gt(0).all()
    scenario = pd.read_csv(folder / "siting_scenario.csv", index_col="ward_code")
    total = scenario.loc["All wards"]
    gained = total["children_covered_after"] - total["children_covered_now"]
    assert sites["children_covered"].sum() == pytest.approx(gained, abs=5)
    assert total["children"] == 66223  # DfE's 2025 denominator for Wirral
    record = json.loads((folder / "run.json").read_text())
    assert any(n.startswith("siting: 5 new site(s) chosen from") for n in record["notes"])
    assert {"recommended_sites.csv", "siting_scenario.csv"} <= set(record["outputs"])


def test_results_sites_for_the_map(bundled_run):
    sites = bundled_run.sites
    assert list(sites.columns) == SITE_COLUMNS
    assert sites.crs.to_epsg() == 27700
    assert len(sites) == 5
    assert sites.geometry.within(bundled_run.wards.union_all().buffer(100)).all()


def test_siting_all_lsoas_by_all_candidates_is_fast(bundled_run):
    """The benchmark's case: 209 LSOAs x every service and LSOA centre (~400 candidates)."""
    acc = bundled_run.access
    services = bundled_run.services.placed
    need = bundled_run.wards["need_index"]
    start = time.perf_counter()
    got = site_pilots(
        acc.demand,
        services,
        need,
        travel=acc.travel,
        catchment=1600,
        sites=10,
        candidates=("school", "gp_practice", "library", "lsoa"),
    )
    took = time.perf_counter() - start
    # every placed service but the 4 bundled hubs and the 24 special, independent and
    # college schools (not candidates by default), plus the 209 LSOA centres
    assert len(services) == 198
    assert got.candidates == 198 - 4 - 24 + 209
    assert got.solution.method == "exact" and got.solution.status.startswith("best possible")
    assert took < 10, took


def test_user_pilots_and_travel_times(tmp_path, wirral_dir):
    """A council's own hubs and pilot school, and a travel-time matrix, through analyse()."""
    from needsmap.config import AccessConfig, Pilot, RunConfig, SitingConfig
    from needsmap.pipeline import analyse
    from needsmap.sources import load_area

    hubs = tmp_path / "hubs.csv"
    hubs.write_text(
        "service_id,name,type,postcode,pilot\n"
        "HUB1,Birkenhead Family Hub,Family hub,CH41 0AA,\n"
        "PIL1,Pilot at a school,School,CH44 0AA,yes\n"
    )
    area = load_area(wirral_dir)
    ids = pd.read_csv(wirral_dir / "services.csv")["service_id"].tolist() + ["HUB1", "PIL1"]
    rows = []
    rng = np.random.default_rng(3)
    for code in area.lsoa["lsoa_code"]:
        for sid in rng.choice(ids, 40, replace=False):
            rows.append((code, sid, round(float(rng.uniform(1, 30)), 1)))
    times = tmp_path / "times.csv"
    pd.DataFrame(rows, columns=["lsoa_code", "service_id", "minutes"]).to_csv(times, index=False)
    cfg = RunConfig(
        services=(hubs,),
        access=AccessConfig(travel_times=times, catchment_minutes=10),
        siting=SitingConfig(sites=3),
        pilots=(
            Pilot(name="Bidston pilot", wards=("Bidston & St. James",), start=dt.date(2024, 4, 1)),
        ),
    )
    res = analyse(cfg)
    assert res.access.unit == "min"
    assert "time_school_min" in res.wards.columns
    assert res.siting.existing == 6  # the bundle's 4 hubs, HUB1 and the pilot PIL1
    assert {"HUB1", "PIL1"} <= set(res.siting.provision["service_id"])
    assert "PIL1" not in set(res.sites["site_id"])
    assert res.wards.loc["E05000955", "share_covered_now"] == 1.0
    assert any("not among the placed services" in n for n in res.notes)  # the 2 unplaced
    assert res.wards["access_2sfca_family_hub"].notna().all()


# --- which schools may host a site ----------------------------------------------------


def test_special_and_independent_schools_are_candidates_only_when_asked(line):
    demand, services, need = line
    services = services.assign(category=["mainstream", "mainstream", "special", "independent", ""])
    got = run_line(line, frames=(demand, services, need), sites=2)
    # Bridge School (S4, independent) and West School (S3, special) would be the best
    # two sites; by default neither is offered
    assert got.sites["site_id"].tolist() == ["S1", "S2"]
    assert got.candidates == 2  # S1 and S2; the GP is not a school
    assert got.notes[0] == (
        "siting: 2 schools not offered as new sites because of their category "
        "(1 special, 1 independent); siting.candidate_categories chooses which may host a site"
    )
    got = run_line(
        line,
        frames=(demand, services, need),
        sites=2,
        categories=("mainstream", "special", "independent"),
    )
    assert got.sites["site_id"].tolist() == ["S4", "S3"]


def test_unknown_candidate_category(line):
    with pytest.raises(
        ConfigError,
        match=r"siting.candidate_categories: \['specal'\] not a category; choose from "
        r"\['alternative_provision', 'college', 'independent', 'mainstream', 'other', 'special'\]",
    ):
        run_line(line, sites=1, categories=("specal",))


def test_empty_candidate_categories_in_the_config():
    with pytest.raises(ConfigError, match=r"siting.candidate_categories: give at least one"):
        config_from_dict({"siting": {"candidate_categories": []}})


def test_default_wirral_run_recommends_only_mainstream_schools(bundled_run):
    """Issue 17: Clare Mount Specialist Sports College (special) was recommended."""
    placed = bundled_run.services.placed.set_index("service_id")
    chosen = placed.loc[bundled_run.sites["site_id"]]
    assert len(chosen) == 5
    assert set(chosen["category"]) == {"mainstream"}
    assert "Clare Mount Specialist Sports College" in set(placed["name"])
    assert "Clare Mount Specialist Sports College" not in set(chosen["name"])
    table = pd.read_csv(bundled_run.written[0].parent / "recommended_sites.csv")
    assert set(table["category"]) == {"mainstream"}


def test_default_wirral_run_counts_and_draws_the_bundled_hubs(bundled_run):
    """Issue 17: the family hubs are existing provision, on every map, and no output
    states 0.0% now."""
    from needsmap.scan import figure_text

    siting_run = bundled_run.siting
    assert siting_run.provision_label == "three family hubs and one children's centre"
    assert set(siting_run.provision["type"]) == {"family_hub", "childrens_centre"}
    assert siting_run.scenario.loc["All wards", "share_covered_now"] == pytest.approx(
        0.265, abs=0.01
    )
    folder = bundled_run.written[0].parent
    maps = sorted((folder / "maps").glob("*.png"))
    charts = ("cluster_k_selection", "child_poverty_trends", "services")
    ward_maps = [p for p in maps if p.stem not in charts]
    assert len(ward_maps) == 15  # 12 + child poverty, its change and its trend (issue 18)
    for path in ward_maps:
        text = figure_text(path)
        assert "Family hubs (3)" in text and "Children's centre (1)" in text
    # The services map draws them as every map does (large, on top), not as one more type.
    services = figure_text(folder / "maps" / "services.png")
    assert services.count("Family hubs (3)") == 1  # as the interactive map's layer reads
    report = html.unescape((folder / "report.html").read_text(encoding="utf-8"))
    notes = "\n".join(json.loads((folder / "run.json").read_text())["notes"])
    for text in (report, notes):
        assert not re.search(r"\b0(\.0)?% now", text)
        assert "existing provision (three family hubs and one children's centre)" in text
        assert "Family hubs and children's centres are a partial list" in text


def test_an_lsoa_split_between_wards_counts_towards_each(line):
    demand, _, need = line
    # Middle (80 children) is three quarters in One, a quarter in Two (need weight 2).
    shares = pd.DataFrame(
        {
            "lsoa_code": ["L1", "L2", "L2", "L3"],
            "ward_code": ["W1", "W1", "W2", "W2"],
            "share": [1.0, 0.75, 0.25, 1.0],
        }
    )
    assert need_weights(demand, need, shares=shares).tolist() == [100, 80 * 1.25, 120]
    # Two is a pilot ward: its quarter of Middle is served already, the rest is not.
    pilot = Pilot(name="Two pilot", wards=("Two",), start=dt.date(2024, 1, 1))
    got = run_line(line, sites=1, pilots=line_pilots(line[1], (pilot,)), shares=shares)
    row = got.sites.iloc[0]
    assert (row["site_id"], row["children_covered"], row["need_covered"]) == ("S4", 160, 160.0)
    scenario = got.scenario
    assert scenario.loc["W2", ["children", "children_covered_now"]].tolist() == [80, 80]
    assert scenario.loc[
        "W1", ["children", "children_covered_now", "children_covered_after"]
    ].tolist() == [160, 0, 160]
    assert scenario.loc["All wards", "share_covered_after"] == 1.0
