"""Hot spots of need with local Moran's I on grids of square wards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grids import grid
from needsmap.errors import ConfigError
from needsmap.hotspots import (
    CATEGORIES,
    COLD,
    HIGH_LOW,
    HOT,
    NOT_SIGNIFICANT,
    min_permutations,
    need_hotspots,
)
from needsmap.localities import ward_neighbours


@pytest.fixture(scope="module")
def square():
    wards = grid(7, 7)
    return wards, ward_neighbours(wards)


def test_gradient_gives_hot_and_cold_spots(square):
    wards, nb = square
    # Need rises from west to east: the east edge is a hot spot, the west a cold spot,
    # and the middle column (need at the mean, so I = 0) is not significant.
    need = wards["col"].astype(float).rename("need_index")
    spots = need_hotspots(need, nb, seed=1)
    table = spots.table
    assert set(table["hotspot"]) <= set(CATEGORIES)
    assert table.loc["W66", "hotspot"] == HOT
    assert table.loc["W00", "hotspot"] == COLD
    assert (table.loc[wards["col"] == 3, "hotspot"] == NOT_SIGNIFICANT).all()
    assert (table.loc[wards["col"] == 3, "local_moran_i"].abs() < 1e-12).all()
    assert spots.moran_i > 0.5 and spots.moran_p < 0.001


def test_lone_high_ward_is_an_outlier(square):
    wards, nb = square
    # Need is moderate everywhere except one high ward ringed by eight very low ones.
    need = pd.Series(5 + 0.1 * (np.arange(49) % 3), index=wards.index, name="need_index")
    need[[f"W{c}{r}" for c in (2, 3, 4) for r in (2, 3, 4)]] = 0.0
    need["W33"] = 10.0
    table = need_hotspots(need, nb, seed=1).table
    assert table.loc["W33", "hotspot"] == HIGH_LOW
    assert table.loc["W33", "local_moran_i"] < 0
    assert table.loc["W33", "local_moran_p"] <= 0.05


def test_same_seed_same_p_values_and_row_order_irrelevant(square):
    wards, nb = square
    need = pd.Series(np.random.default_rng(5).normal(size=49), index=wards.index)
    one = need_hotspots(need, nb, seed=3, permutations=199).table
    two = need_hotspots(need, nb, seed=3, permutations=199).table
    pd.testing.assert_frame_equal(one, two)
    other = need_hotspots(need, nb, seed=4, permutations=199).table
    assert not np.array_equal(one["local_moran_p"], other["local_moran_p"])
    shuffled = need.sample(frac=1.0, random_state=0)
    again = need_hotspots(shuffled, nb, seed=3, permutations=199).table
    assert list(again.index) == list(shuffled.index)
    pd.testing.assert_frame_equal(again.reindex(one.index), one)


def test_alpha_sets_what_counts_as_significant(square):
    wards, nb = square
    need = wards["col"].astype(float)
    loose = need_hotspots(need, nb, alpha=0.2, seed=1).table
    strict = need_hotspots(need, nb, alpha=0.002, seed=1).table
    assert (strict["hotspot"] != NOT_SIGNIFICANT).sum() < (
        loose["hotspot"] != NOT_SIGNIFICANT
    ).sum()
    assert (strict.loc[strict["local_moran_p"] > 0.002, "hotspot"] == NOT_SIGNIFICANT).all()


def test_constant_need_has_no_hot_spots(square):
    wards, nb = square
    spots = need_hotspots(pd.Series(1.0, index=wards.index, name="need_index"), nb)
    assert (spots.table["hotspot"] == NOT_SIGNIFICANT).all()
    assert "not computed" in spots.notes[0]


def test_settings_checked(square):
    wards, nb = square
    need = wards["col"].astype(float)
    assert min_permutations(0.05) == 19 and min_permutations(0.01) == 99
    with pytest.raises(ConfigError, match="use at least 19"):
        need_hotspots(need, nb, alpha=0.05, permutations=10)
    with pytest.raises(ConfigError, match=r"hotspot_alpha: must be between 0 and 1 \(got 0\)"):
        need_hotspots(need, nb, alpha=0)
