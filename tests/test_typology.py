"""The national ward typology: features by hand, planted types, similar wards, type mix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from needsmap.england import england_dir
from needsmap.typology import (
    AGES,
    DOMAINS,
    FEATURES,
    area_types,
    type_mix,
    ward_features,
    ward_typology,
)


def _lsoa(rows: list[dict]) -> pd.DataFrame:
    base = {d: 0.0 for d in DOMAINS} | {"connectivity_score": 50.0}
    base |= {a: 10 for a in AGES}
    return pd.DataFrame([base | r for r in rows])


def test_ward_features_worked_by_hand():
    lsoa = _lsoa(
        [
            {
                "ward_code": "W1",
                "ward_name": "One",
                "la_code": "A",
                "population": 100,
                "income_score": 0.1,
                "age_0_15": 40,
                "age_65_plus": 0,
            },
            {
                "ward_code": "W1",
                "ward_name": "One",
                "la_code": "A",
                "population": 300,
                "income_score": 0.3,
                "age_0_15": 20,
                "age_65_plus": 40,
            },
        ]
    )
    cp = pd.DataFrame(
        {
            "ward_code": ["W1"] * 3,
            "fye": [2022, 2025, 2025],
            "measure": ["relative_bhc", "relative_bhc", "absolute_bhc"],
            "children": [10, 15, 99],
            "percentage": [20.0, 26.5, 99.0],
        }
    )
    f = ward_features(lsoa, cp).loc["W1"]
    assert f["income_score"] == pytest.approx((0.1 * 100 + 0.3 * 300) / 400)  # 0.25
    assert f["children_0_15"] == 60
    # Census bands: 40+20 children of 400 residents; 0+40 aged 65+
    assert f["share_age_0_15"] == pytest.approx(60 / 400)
    assert f["share_age_65_plus"] == pytest.approx(40 / 400)
    assert (f["child_poverty_pct"], f["child_poverty_change"]) == (26.5, 6.5)


def _planted(n: int = 12, seed: int = 0) -> pd.DataFrame:
    """Two planted kinds of ward in each of three councils: poor and young, well off and old."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        poor = i % 2 == 0
        row = dict.fromkeys(FEATURES, 0.0)  # the same everywhere: no part in the distances
        row["child_poverty_pct"] = (40 if poor else 5) + rng.normal(0, 1)
        row["income_score"] = (0.4 if poor else 0.05) + rng.normal(0, 0.01)
        row["share_age_65_plus"] = (0.1 if poor else 0.3) + rng.normal(0, 0.01)
        rows.append(
            row
            | {
                "ward_code": f"W{i:02d}",
                "ward_name": f"Ward {i}",
                "la_code": "ABC"[i % 3],
                "children_0_15": 100 * (i + 1),
            }
        )
    return pd.DataFrame(rows).set_index("ward_code")


def test_planted_types_are_found_and_type_1_has_most_child_poverty():
    features = _planted()
    result = ward_typology(features, types=2, seed=1)
    poor = features["child_poverty_pct"] > 20
    assert set(result.wards.loc[poor, "ward_type"]) == {1}
    assert set(result.wards.loc[~poor, "ward_type"]) == {2}
    assert result.types.loc[1, "name"].startswith("1: high ")
    assert "child poverty" in result.types.loc[1, "description"]
    assert result.types["wards"].tolist() == [6, 6]


def test_similar_wards_are_alike_and_in_other_councils():
    features = _planted()
    result = ward_typology(features, types=2, seed=1)
    for code, row in result.wards.iterrows():
        similar = row["similar_wards"].split(";")
        assert len(similar) == 5
        assert not any(features.loc[s, "la_code"] == row["la_code"] for s in similar)
        # the nearest are of the same planted kind
        assert (result.wards.loc[similar[:3], "ward_type"] == row["ward_type"]).all(), code


def test_type_mix_shares_of_children_worked_by_hand():
    wards = pd.DataFrame(
        {
            "la_code": ["A", "A", "B", "C"],
            "ward_type": [1, 2, 1, 2],
            "ward_type_name": ["1: x", "2: y", "1: x", "2: y"],
            "children_0_15": [300, 100, 50, 150],
        },
        index=["W1", "W2", "W3", "W4"],
    )
    mix = type_mix(wards, "A", ["B"])
    assert mix["la_wards"].tolist() == [1, 1]
    assert mix["la_share"].tolist() == [0.75, 0.25]
    assert mix["neighbour_share"].tolist() == [1.0, 0.0]
    assert mix["england_share"].tolist() == [0.5833, 0.4167]  # 350 and 250 of 600, 4 dp


def test_wards_like_seacombe_are_named_with_their_council():
    codes = pd.Index(["E05000972", "E05000954"])  # Seacombe, Bebington
    found = area_types(codes, la_code="E08000015", neighbours=[], folder=england_dir())
    assert found is not None
    seacombe = found.columns.loc["E05000972", "similar_wards"]
    assert seacombe.count(";") == 4
    assert "(Wirral)" not in seacombe
    assert all(part.endswith(")") for part in seacombe.split("; "))
    assert found.columns.loc["E05000972", "ward_type"] == 1  # the highest child poverty type
    assert found.mix["la_share"].sum() == pytest.approx(1.0)


def test_the_bundled_typology_covers_every_english_ward():
    types = pd.read_csv(england_dir() / "ward_types.csv.gz")
    assert len(types) == 6784 and types["ward_code"].is_unique
    assert types["ward_type"].between(1, 8).all()
    assert types["similar_wards"].str.count(";").eq(4).all()
