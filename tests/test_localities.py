"""Ward neighbours and contiguous localities on small grids of square wards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import connected_components

from grids import grid
from needsmap.clusters import cluster_wards
from needsmap.errors import ConfigError, InputError
from needsmap.localities import contiguous_localities, ward_neighbours


def degree(nb, code: str) -> int:
    return int(nb.adjacency[nb.index.get_loc(code)].sum())


def connected(nb, members: pd.Index) -> bool:
    pos = [nb.index.get_loc(c) for c in members]
    sub = nb.adjacency[pos][:, pos]
    return connected_components(sub, directed=False)[0] == 1


def test_queen_neighbours_by_hand():
    nb = ward_neighbours(grid(3, 3))
    assert degree(nb, "W11") == 8  # the centre touches every other square
    assert degree(nb, "W00") == 3  # a corner: two edges and one diagonal
    assert degree(nb, "W10") == 5  # an edge square
    assert nb.links.empty and nb.notes == []
    w = nb.weights()
    assert sorted(w.neighbors["W00"]) == ["W01", "W10", "W11"]


def banded(cols: int = 6, rows: int = 5):
    """Three vertical bands of two columns: west has the most need."""
    wards = grid(cols, rows)
    level = {0: 3.0, 1: 3.0, 2: 2.0, 3: 2.0, 4: 1.0, 5: 1.0}
    rng = np.random.default_rng(0)
    wards["idaci_score"] = wards["col"].map(level) + rng.normal(0, 0.05, len(wards))
    wards["need_index"] = wards["idaci_score"]
    return wards


def test_planted_localities_recovered_and_numbered_by_need():
    wards = banded()
    nb = ward_neighbours(wards)
    loc = contiguous_localities(wards, ["idaci_score"], wards["need_index"], k=3, neighbours=nb)
    assert loc.name == "locality"
    expected = wards["col"].map({0: 1, 1: 1, 2: 2, 3: 2, 4: 3, 5: 3})
    assert loc.tolist() == expected.tolist()


def test_localities_are_contiguous_where_similar_wards_are_not():
    # Alternate columns alike: unconstrained clusters scatter across the area, while
    # every locality must be one connected patch.
    wards = grid(6, 5)
    wards["idaci_score"] = (wards["col"] % 2).astype(float)
    wards["idaci_score"] += np.random.default_rng(1).normal(0, 0.1, len(wards))
    wards["need_index"] = wards["idaci_score"]
    nb = ward_neighbours(wards)
    free = cluster_wards(wards, ["idaci_score"], wards["need_index"], k=2, resamples=0)
    assert not all(connected(nb, wards.index[free.labels == g]) for g in (1, 2))
    for k in (2, 3, 5):
        loc = contiguous_localities(wards, ["idaci_score"], wards["need_index"], k=k, neighbours=nb)
        assert sorted(loc.unique()) == list(range(1, k + 1))
        for g in range(1, k + 1):
            assert connected(nb, wards.index[loc == g]), (k, g)


def test_localities_ignore_row_order():
    wards = banded()
    nb = ward_neighbours(wards)
    loc = contiguous_localities(wards, ["idaci_score"], wards["need_index"], k=3, neighbours=nb)
    shuffled = wards.sample(frac=1.0, random_state=2)
    again = contiguous_localities(
        shuffled, ["idaci_score"], shuffled["need_index"], k=3, neighbours=nb
    )
    assert list(again.index) == list(shuffled.index)
    pd.testing.assert_series_equal(again.reindex(wards.index), loc)


def test_island_linked_to_nearest_ward_with_a_message():
    # A square 7 km east of the grid's bottom-right square (W20, x 2-3 km, y 0-1 km),
    # offset half a km down: W20 is 7.0 km away, W21 sqrt(7^2 + 0.5^2) = 7.02 km.
    wards = grid(3, 3, extra=[(10.0, -0.5)])
    with pytest.warns(
        UserWarning,
        match=r"Ward Ward X0 \(X0\) share\(s\) no boundary .* "
        r"linked to the nearest ward, Ward W20 \(W20\), 7.0 km away",
    ):
        nb = ward_neighbours(wards)
    assert nb.links.to_dict("records") == [
        {"ward_code": "X0", "linked_to": "W20", "distance_m": 7000.0}
    ]
    assert degree(nb, "X0") == 1
    assert len(nb.notes) == 1
    wards["idaci_score"] = np.arange(len(wards), dtype=float)
    loc = contiguous_localities(wards, ["idaci_score"], wards["idaci_score"], k=3, neighbours=nb)
    for g in range(1, 4):
        assert connected(nb, wards.index[loc == g])


def test_group_of_island_wards_and_error_option():
    # Two touching squares far north form their own group of wards.
    wards = grid(2, 2, extra=[(0.0, 5.0), (1.0, 5.0)])
    with pytest.warns(UserWarning, match=r"Wards Ward X0 \(X0\), Ward X1 \(X1\) share\(s\) no"):
        nb = ward_neighbours(wards)
    assert connected_components(nb.adjacency, directed=False)[0] == 1
    assert nb.links["distance_m"].tolist() == [3000.0]
    with pytest.raises(
        InputError,
        match=r"Wards Ward X0 \(X0\), Ward X1 \(X1\) share no boundary with the rest of the area "
        r"\(2 separate groups of wards\).*Set clustering.islands: nearest",
    ):
        ward_neighbours(wards, islands="error")


def test_locality_count_checked():
    wards = banded(2, 2)
    nb = ward_neighbours(wards)
    with pytest.raises(
        ConfigError, match="clustering.localities: 5 localities cannot be made from 4 wards"
    ):
        contiguous_localities(wards, ["idaci_score"], wards["need_index"], k=5, neighbours=nb)
    one = contiguous_localities(wards, ["idaci_score"], wards["need_index"], k=1, neighbours=nb)
    assert set(one) == {1}
    with pytest.raises(ConfigError, match=r"clustering.islands: 'skip' is not valid"):
        ward_neighbours(wards, islands="skip")  # type: ignore[arg-type]
