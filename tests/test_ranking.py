from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from needsmap.indicators import need_index, need_rank
from needsmap.ranking import _min_ranks, rank_uncertainty, top_wards, weight_sensitivity


def three_wards() -> pd.DataFrame:
    # z-scores: a = (1.2247, 0, -1.2247), b = (-1.2247, 1.2247, 0)
    return pd.DataFrame(
        {"ward_name": ["Xton", "Yham", "Zby"], "a": [1.0, 0.0, -1.0], "b": [-1.0, 1.0, 0.0]},
        index=["X", "Y", "Z"],
    )


def test_weight_sensitivity_worked_by_hand():
    # need_X = 1.2247 (w_a - w_b) / (w_a + w_b), need_Y = 1.2247 w_b / (w_a + w_b):
    # X tops Y exactly when w_a > 2 w_b. With w_a = 1.5, w_b = 1, Y is top; a +50% (2.25)
    # or b -50% (0.5) puts X on top.
    table = weight_sensitivity(three_wards(), {"a": 1.5, "b": 1.0}, top_n=1)
    assert table["change"].tolist() == ["none", "-50%", "+50%", "-50%", "+50%"]
    assert table["indicator"].tolist()[1:] == ["a", "a", "b", "b"]
    assert table["weight"].tolist()[1:] == [0.75, 2.25, 0.5, 1.5]
    assert table["weight_share"].tolist()[1:] == pytest.approx(
        [0.75 / 1.75, 2.25 / 3.25, 0.5 / 2, 1.5 / 3], abs=1e-4
    )
    assert table["top_wards"].tolist() == ["Yham", "Yham", "Xton", "Xton", "Yham"]
    assert table["enter"].tolist() == ["", "", "Xton", "Xton", ""]
    assert table["leave"].tolist() == ["", "", "Yham", "Yham", ""]
    assert table["top_changed"].tolist() == [False, False, True, True, False]
    assert table["max_rank_shift"].tolist() == [0, 0, 1, 1, 0]


def test_sensitivity_weights_print_as_typed():
    # 0.3 * 1.5 is 0.44999999999999996 in binary floating point; the table says 0.45.
    table = weight_sensitivity(three_wards(), {"a": 0.3, "b": 0.2}, top_n=1)
    assert table["weight"].tolist()[1:] == [0.15, 0.45, 0.1, 0.3]
    assert "0.44999" not in table.to_csv()


def test_no_jitter_and_no_count_noise_gives_the_point_ranks():
    wards = three_wards()
    out = rank_uncertainty(wards, {"a": 1.5, "b": 1.0}, draws=50, weight_spread=0, top_n=1)
    ranks = need_rank(need_index(wards, {"a": 1.5, "b": 1.0}))
    for col in ("need_rank_median", "need_rank_lo", "need_rank_hi"):
        assert out[col].tolist() == ranks.tolist()
    assert out["p_top5"].tolist() == [0.0, 1.0, 0.0]


def test_weight_jitter_alone_matches_the_chance_of_crossing_the_threshold():
    # Y is top unless w_a > 2 w_b. With w_a = 1.5 * U(0.5, 1.5) and w_b = 1 * U(0.5, 1.5),
    # P(1.5 u > 2 v) = P(u > 4/3 v) for u, v ~ U(0.5, 1.5): the triangle where v < 3u/4,
    # area = integral over u in (2/3, 1.5) of (3u/4 - 0.5) du = 0.2604 (by hand).
    out = rank_uncertainty(three_wards(), {"a": 1.5, "b": 1.0}, draws=40_000, top_n=1, seed=3)
    assert out.loc["X", "p_top5"] == pytest.approx(0.2604, abs=0.01)
    assert out.loc["Y", "p_top5"] == pytest.approx(1 - 0.2604, abs=0.01)
    assert out.loc["Z", "p_top5"] == 0.0
    assert (out.loc["X", "need_rank_lo"], out.loc["X", "need_rank_hi"]) == (1, 2)


def test_poisson_counts_match_the_exact_chance():
    # One indicator, so weights do not matter. Two wards of 10,000 children with 100 and
    # 80 cases: A ranks first (ties share rank 1) when its redrawn count is >= B's.
    wards = pd.DataFrame({"children": [10_000, 10_000], "r": [100.0, 80.0]}, index=["A", "B"])
    out = rank_uncertainty(wards, {"r": 1}, draws=40_000, top_n=1, count_rates=["r"], seed=7)
    y = np.arange(0, 400)
    exact = float((stats.poisson.pmf(y, 80) * stats.poisson.sf(y - 1, 100)).sum())
    assert out.loc["A", "p_top5"] == pytest.approx(exact, abs=0.01)
    assert 0.9 < exact < 0.95


def test_seeded_and_deterministic():
    wards = pd.DataFrame(
        {
            "children": [900, 1200, 800, 1500],
            "r": [40.0, 55.0, 20.0, 50.0],
            "s": [1.0, 0.2, 0.5, 0.3],
        },
        index=list("ABCD"),
    )
    kw = {"draws": 300, "count_rates": ["r"], "top_n": 2}
    one = rank_uncertainty(wards, {"r": 1, "s": 1}, seed=11, **kw)
    two = rank_uncertainty(wards, {"r": 1, "s": 1}, seed=11, **kw)
    pd.testing.assert_frame_equal(one, two)
    assert list(one.columns) == ["need_rank_median", "need_rank_lo", "need_rank_hi", "p_top5"]
    assert (one["need_rank_lo"] <= one["need_rank_median"]).all()
    assert (one["need_rank_median"] <= one["need_rank_hi"]).all()
    # the top-2 chances add up to 2 (ties aside)
    assert one["p_top5"].sum() == pytest.approx(2, abs=0.05)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(100, 5000), st.integers(0, 200), st.floats(0, 1)),
        min_size=3,
        max_size=10,
    ),
    st.randoms(use_true_random=False),
)
def test_monte_carlo_does_not_depend_on_row_order(rows, rnd):
    wards = pd.DataFrame(rows, columns=["children", "count", "s"])
    wards.index = [f"W{i:02d}" for i in range(len(rows))]
    wards["r"] = (wards["count"] / wards["children"] * 10_000).round(1)
    kw = {"draws": 200, "count_rates": ["r"], "top_n": 2, "seed": 5}
    base = rank_uncertainty(wards, {"r": 2, "s": 1}, **kw)
    order = list(wards.index)
    rnd.shuffle(order)
    shuffled = rank_uncertainty(wards.loc[order], {"r": 2, "s": 1}, **kw)
    assert list(shuffled.index) == order
    pd.testing.assert_frame_equal(base, shuffled.loc[base.index])


def test_top_wards_include_ties_at_the_boundary():
    idx = pd.Series([3.0, 2.0, 2.0, 1.0], index=list("ABCD"))
    assert top_wards(idx, 2) == ["A", "B", "C"]


def test_thousand_draws_for_wirral_size_well_under_a_second():
    rng = np.random.default_rng(0)
    n = 22
    wards = pd.DataFrame(
        {
            "children": rng.integers(1500, 5000, n),
            "idaci_score": rng.uniform(0.05, 0.5, n),
            "imd_score": rng.uniform(5, 60, n),
            **{f"m{i}": rng.uniform(5, 500, n).round(1) for i in range(3)},
        },
        index=[f"E05{i:06d}" for i in range(n)],
    )
    ind = {"idaci_score": 0.3, "imd_score": 0.2, "m0": 0.2, "m1": 0.15, "m2": 0.15}
    rank_uncertainty(wards, ind, draws=10, count_rates=["m0", "m1", "m2"])  # warm up imports
    start = time.perf_counter()
    rank_uncertainty(wards, ind, draws=1000, count_rates=["m0", "m1", "m2"])
    assert time.perf_counter() - start < 0.5


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from([-1.5, -0.0, 0.0, 0.5, 2.0, 3.25]), min_size=4, max_size=4),
        min_size=1,
        max_size=6,
    )
)
def test_min_ranks_match_scipy_with_ties(rows):
    score = np.array(rows)
    expected = stats.rankdata(-score, method="min", axis=1)
    assert (_min_ranks(score) == expected).all()
