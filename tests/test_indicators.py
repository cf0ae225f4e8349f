from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needsmap.errors import ConfigError
from needsmap.indicators import caseload_rates, need_index, need_rank, poisson_interval


def test_exact_poisson_interval_known_values():
    lo, hi = poisson_interval(np.array([0, 1, 10]))
    # Garwood 95% limits from published tables.
    assert lo == pytest.approx([0.0, 0.0253, 4.7954], abs=1e-3)
    assert hi == pytest.approx([3.6889, 5.5716, 18.3904], abs=1e-3)


def test_rates_per_10000_with_intervals_and_reliability():
    counts = pd.DataFrame({"children_in_need": [100, 3]}, index=["A", "B"])
    out = caseload_rates(counts, pd.Series({"A": 2000, "B": 1000}))
    assert out.loc["A", "children_in_need_rate"] == pytest.approx(500)
    assert out.loc["B", "children_in_need_rate"] == pytest.approx(30)
    assert (
        out.loc["A", "children_in_need_rate_lower"]
        < 500
        < out.loc["A", "children_in_need_rate_upper"]
    )
    assert not out.loc["A", "children_in_need_rate_unreliable"]
    assert out.loc["B", "children_in_need_rate_unreliable"]


def test_need_index_worked_by_hand():
    wards = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [30.0, 10.0, 20.0]}, index=["X", "Y", "Z"])
    # z-scores (population sd): a -> [-1.2247, 0, 1.2247]; b -> [1.2247, -1.2247, 0]
    idx = need_index(wards, {"a": 3, "b": 1})
    assert idx.tolist() == pytest.approx([-0.6124, -0.3062, 0.9186], abs=1e-4)
    assert need_rank(idx).tolist() == [3, 2, 1]
    mm = need_index(wards, {"a": 1, "b": 1}, method="minmax")
    assert mm.tolist() == pytest.approx([0.5, 0.25, 0.75])
    rk = need_index(wards, {"a": 1}, method="rank")
    assert rk.tolist() == pytest.approx([0.0, 0.5, 1.0])


def test_need_index_unknown_indicator():
    with pytest.raises(ConfigError, match=r"\['nope'\] not available; choose from \['a'\]"):
        need_index(pd.DataFrame({"a": [1.0, 2.0]}), {"nope": 1})


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0, 100, allow_nan=False), min_size=4, max_size=12, unique=True),
    st.floats(0.1, 50),
    st.randoms(use_true_random=False),
)
def test_need_index_row_order_and_weight_scale_invariant(values, scale, rnd):
    wards = pd.DataFrame(
        {"a": values, "b": values[::-1]}, index=[f"W{i}" for i in range(len(values))]
    )
    base = need_index(wards, {"a": 2, "b": 1})
    order = list(wards.index)
    rnd.shuffle(order)
    shuffled = need_index(wards.loc[order], {"a": 2, "b": 1})
    pd.testing.assert_series_equal(base, shuffled.loc[base.index], check_exact=False)
    scaled = need_index(wards, {"a": 2 * scale, "b": scale})
    assert need_rank(scaled).tolist() == need_rank(base).tolist()
