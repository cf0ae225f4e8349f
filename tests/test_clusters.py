"""Clusters of similar wards: planted groups recovered, numbering, words, stability,
determinism, and caseload totals that never reveal a suppressed ward."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from needsmap.clusters import (
    HIDDEN_TOTAL,
    choose_k,
    cluster_wards,
    clusters_table,
    describe,
    feature_words,
    group_profiles,
    number_by_need,
    publishable_totals,
    short_name,
    standardised_features,
    stays_with_mates,
)
from needsmap.config import config_from_dict
from needsmap.disclosure import small_counts, suppression_mask
from needsmap.errors import ConfigError, InputError

FEATURES = ("idaci_score", "children_in_need_rate")
# Planted groups: (IDACI, children in need per 10,000), far apart on both features.
CENTRES = {"A": (0.45, 800.0), "B": (0.25, 400.0), "C": (0.08, 100.0)}


def planted(n_per_group: int = 8, seed: int = 0) -> pd.DataFrame:
    """Three planted groups of wards with small noise; group A has the most need."""
    rng = np.random.default_rng(seed)
    rows = []
    for g, (idaci, cin) in CENTRES.items():
        for i in range(n_per_group):
            rows.append(
                {
                    "ward_code": f"E05{g}{i:02d}",
                    "ward_name": f"{g} ward {i}",
                    "group": g,
                    "idaci_score": idaci + rng.normal(0, 0.01),
                    "children_in_need_rate": cin + rng.normal(0, 20),
                    "children": 1000 + 100 * i,
                }
            )
    wards = pd.DataFrame(rows).set_index("ward_code")
    z = standardised_features(wards, FEATURES)
    wards["need_index"] = z.mean(axis=1)
    return wards


@pytest.mark.parametrize("method", ["kmeans", "agglomerative", "gmm"])
def test_planted_groups_recovered_and_numbered_by_need(method):
    wards = planted()
    result = cluster_wards(wards, FEATURES, wards["need_index"], method=method, resamples=20)
    assert result.k == 3
    assert adjusted_rand_score(wards["group"], result.labels) == 1.0
    # Group A has the most need, so it is cluster 1; C the least.
    assert set(result.labels[wards["group"] == "A"]) == {1}
    assert set(result.labels[wards["group"] == "C"]) == {3}
    assert result.scores.loc[3, "chosen"]
    assert result.scores["silhouette"].idxmax() == 3
    # Well-separated groups survive every resample.
    assert result.ari == 1.0
    assert (result.stability == 1.0).all()


def test_k_selection_table_covers_range_and_fixed_k():
    wards = planted()
    auto = cluster_wards(wards, FEATURES, wards["need_index"], resamples=0)
    assert list(auto.scores.index) == list(range(2, 9))
    assert auto.scores["chosen"].sum() == 1
    fixed = cluster_wards(wards, FEATURES, wards["need_index"], k=2, k_range=(3, 4), resamples=0)
    assert fixed.k == 2
    assert list(fixed.scores.index) == [2, 3, 4]
    assert fixed.scores.loc[2, "chosen"] and not fixed.scores.loc[3, "chosen"]
    assert fixed.stability.isna().all()


def _silhouettes(values: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame({"silhouette": values}).rename_axis("k")


def test_choose_k_takes_the_largest_stable_k_near_the_best_silhouette():
    wards = planted()  # three planted groups: k = 3 is stable, k = 2 merges two of them
    x = standardised_features(wards, FEATURES).to_numpy()
    truth = wards["group"].map({"A": 0, "B": 1, "C": 2}).to_numpy()
    labels = {2: np.minimum(truth, 1), 3: truth}
    # 0.50 is within 10% of the best (0.54): the larger k wins, being stable.
    scores = _silhouettes({2: 0.54, 3: 0.50})
    k, rule = choose_k(x, scores, labels, tolerance=0.1, min_stability=0.6)
    assert k == 3 and scores.loc[3, "choice_ari"] == 1.0
    assert rule == (
        "largest k with silhouette within 10% of the best (0.50 vs 0.54 at k = 2) and "
        "stable (bootstrap ARI 1.00 ≥ 0.6)"
    )
    # 0.48 is not: the best silhouette's k stays.
    k, rule = choose_k(x, _silhouettes({2: 0.54, 3: 0.48}), labels, tolerance=0.1)
    assert (k, rule) == (2, "highest mean silhouette (0.54); no other k within 10% of it")


def test_choose_k_passes_over_an_unstable_k():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 2))  # no structure: any 4-way split is unstable
    labels = {2: (x[:, 0] > 0).astype(int), 4: rng.integers(0, 4, 30)}
    scores = _silhouettes({2: 0.30, 4: 0.29})
    k, rule = choose_k(x, scores, labels, tolerance=0.1, min_stability=0.6)
    assert k == 2 and scores.loc[4, "choice_ari"] < 0.6
    assert rule == (
        "highest mean silhouette (0.30); no larger k within 10% of it was stable "
        "(bootstrap ARI ≥ 0.6)"
    )


@pytest.mark.parametrize("key", ["k_tolerance", "k_min_stability"])
def test_k_choice_settings_are_shares(key):
    with pytest.raises(
        ConfigError, match=rf"clustering.{key}: must be between 0 and 1 \(got 1.5\)"
    ):
        config_from_dict({"clustering": {key: 1.5}})


def test_same_seed_same_output_and_row_order_irrelevant():
    wards = planted(n_per_group=5, seed=3)
    wards.loc[wards.index[:3], "idaci_score"] = 0.35  # make some wards ambiguous
    kwargs = {"k": 3, "seed": 7, "resamples": 15}
    one = cluster_wards(wards, FEATURES, wards["need_index"], **kwargs)
    two = cluster_wards(wards, FEATURES, wards["need_index"], **kwargs)
    pd.testing.assert_series_equal(one.labels, two.labels)
    pd.testing.assert_series_equal(one.stability, two.stability)
    pd.testing.assert_frame_equal(one.scores, two.scores)
    assert one.ari == two.ari
    shuffled = wards.sample(frac=1.0, random_state=1)
    three = cluster_wards(shuffled, FEATURES, shuffled["need_index"], **kwargs)
    assert list(three.labels.index) == list(shuffled.index)
    pd.testing.assert_series_equal(three.labels.reindex(wards.index), one.labels)
    pd.testing.assert_series_equal(three.stability.reindex(wards.index), one.stability)


def test_stays_with_mates_by_hand():
    # Reference clusters {0,1,2} and {3,4}; ward 2 moves to the other cluster.
    ref = np.array([0, 0, 0, 1, 1])
    new = np.array([5, 5, 7, 7, 7])
    # Ward 0: {0,1,2} vs {0,1}: Jaccard 2/3 -> stays. Ward 2: {0,1,2} vs {2,3,4}: 1/5.
    # Ward 3: {3,4} vs {2,3,4}: 2/3 -> stays.
    assert stays_with_mates(ref, new).tolist() == [True, True, False, True, True]
    # A singleton merged with one other ward: Jaccard exactly 1/2 does not count.
    assert stays_with_mates(np.array([0, 1, 1]), np.array([0, 0, 1])).tolist() == [
        False,
        False,
        False,
    ]


def test_number_by_need_by_hand():
    raw = pd.Series([0, 0, 1, 1, 2], index=list("abcde"))
    need = pd.Series([1.0, 2.0, 5.0, 6.0, -1.0], index=list("abcde"))
    # Means: raw 0 -> 1.5, raw 1 -> 5.5, raw 2 -> -1.
    assert number_by_need(raw, need, name="cluster").tolist() == [2, 2, 1, 1, 3]


def test_standardised_features_by_hand():
    wards = pd.DataFrame({"x": [1.0, 2.0, 3.0], "flat": [4.0, 4.0, 4.0]}, index=list("abc"))
    z = standardised_features(wards, ["x", "flat"])
    # mean 2, population SD sqrt(2/3): z = -+1.2247
    assert z["x"].round(4).tolist() == [-1.2247, 0.0, 1.2247]
    assert z["flat"].tolist() == [0.0, 0.0, 0.0]


def test_words_for_profiles_and_names():
    means = pd.Series(
        {
            "idaci_score": 1.2,
            "imd_score": 0.9,
            "looked_after_children_rate": 0.1,
            "dist_gp_practice_m": -0.6,
        }
    )
    assert describe(means) == (
        "much higher than average child poverty score; higher than average "
        "overall deprivation score; lower than average distance to the nearest GP practice; "
        "about average looked-after children rate"
    )
    # deprivation: mean(1.2, 0.9) = 1.05 high; statutory 0.1 average; distance -0.6
    assert short_name(1, means) == (
        "1: high deprivation, average statutory demand, fairly close to services"
    )
    assert short_name(4, pd.Series({"children_in_need_rate": -0.3, "imd_score": -0.8})) == (
        "4: fairly low statutory demand, low deprivation"
    )
    assert feature_words("access_2sfca_library") == "access to libraries"
    assert feature_words("dist_school_m") == "distance to the nearest school"


def test_labels_and_columns_for_the_ward_table():
    wards = planted()
    result = cluster_wards(wards, FEATURES, wards["need_index"], resamples=5)
    cols = result.columns()
    assert list(cols.columns) == ["cluster", "cluster_label", "cluster_stability"]
    assert cols["cluster_label"][wards["group"] == "A"].iloc[0] == (
        "1: high deprivation, high statutory demand"
    )
    assert all(
        lab.startswith(f"{c}: ")
        for c, lab in zip(cols["cluster"], cols["cluster_label"], strict=True)
    )


def test_feature_errors_name_the_problem():
    wards = planted()
    with pytest.raises(ConfigError, match=r"clustering.features: \['imd'\] not available"):
        cluster_wards(wards, ["imd"], wards["need_index"])
    with pytest.raises(ConfigError, match=r"\['ward_name'\] are not numeric"):
        cluster_wards(wards, ["ward_name"], wards["need_index"])
    with pytest.raises(ConfigError, match="give at least one ward column"):
        cluster_wards(wards, [], wards["need_index"])
    gappy = wards.copy()
    gappy.loc["E05B03", "idaci_score"] = np.nan
    with pytest.raises(
        InputError,
        match=r"idaci_score has no value for 1 ward\(s\), e.g. \['B ward 3 \(E05B03\)'\]",
    ):
        cluster_wards(gappy, FEATURES, wards["need_index"])


def test_too_few_wards_or_too_many_clusters():
    wards = planted(n_per_group=1)  # 3 wards
    with pytest.raises(
        InputError, match="needs at least 3 wards to compare groups; the area has 2"
    ):
        cluster_wards(wards.iloc[:2], FEATURES, wards["need_index"])
    with pytest.raises(ConfigError, match="clustering.k: 3 clusters is too many for 3 wards"):
        cluster_wards(wards, FEATURES, wards["need_index"], k=3)
    with pytest.raises(ConfigError, match="clustering.k_min: 5 is too many clusters for 3 wards"):
        cluster_wards(wards, FEATURES, wards["need_index"], k_range=(5, 8))
    with pytest.raises(ConfigError, match=r"'dbscan' is not valid; choose from \['agglomerative'"):
        cluster_wards(wards, FEATURES, wards["need_index"], method="dbscan")  # type: ignore[arg-type]
    # Fewer distinct wards than k_max: the range is capped, not an error.
    same = planted(n_per_group=3)
    same[list(FEATURES)] = same[list(FEATURES)].round(-3).clip(lower=0)
    same.loc[same.index[0], "children_in_need_rate"] = 1000.0
    result = cluster_wards(same, FEATURES, same["need_index"], resamples=5)
    assert list(result.scores.index) == [2]


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"bootstrap": -1}, r"clustering.bootstrap: must be 0 \(skip\) or more"),
        ({"localities": 0}, r"clustering.localities: must be 1 or more, or null"),
        (
            {"islands": "drop"},
            r"clustering.islands: 'drop' is not valid; choose from \['error', 'nearest'\]",
        ),
        ({"hotspot_alpha": 1.5}, r"clustering.hotspot_alpha: must be in \(0, 1\)"),
        (
            {"hotspot_alpha": 0.01, "hotspot_permutations": 50},
            r"hotspot_permutations: 50 cannot give a p-value at or below hotspot_alpha 0.01; use at least 99",
        ),
        ({"method": "dbscan"}, r"clustering.method: 'dbscan' is not valid"),
    ],
)
def test_bad_clustering_config(settings_, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict({"clustering": settings_})


def test_config_defaults_run_localities_and_hotspots():
    cl = config_from_dict({}).clustering
    assert (cl.method, cl.bootstrap, cl.localities, cl.islands) == ("kmeans", 100, 4, "nearest")
    assert (cl.hotspot_alpha, cl.hotspot_permutations) == (0.05, 999)
    assert config_from_dict({"clustering": {"localities": None}}).clustering.localities is None


# --- publishing group totals ------------------------------------------------------------


def test_publishable_totals_by_hand():
    counts = pd.Series([2, 10, 7, 0, 3, 12], index=list("abcdef"))
    mask = pd.Series([True, False, False, False, True, False], index=counts.index)  # a, e
    # Each of {a,b} and {e,f} holds one of the two suppressed wards: subtracting b or f
    # would reveal it. {c,d} holds none: 7 is a sum of published counts.
    split = pd.Series([1, 1, 2, 2, 3, 3], index=counts.index)
    assert publishable_totals(counts, split, mask).tolist() == [HIDDEN_TOTAL, 7, HIDDEN_TOTAL]
    # {a,b,e} holds both suppressed wards: 15 - 10 would give their sum, which no one
    # publishes for a quarterly run.
    whole = pd.Series([1, 1, 2, 2, 1, 2], index=counts.index)
    assert publishable_totals(counts, whole, mask).tolist() == [HIDDEN_TOTAL, 19]
    assert publishable_totals(counts, split, None).tolist() == [12, 7, 15]
    # A group total from 1 to 4 is never shown, whatever the mask says.
    few = pd.Series([3, 0, 9], index=list("xyz"))
    none = pd.Series(False, index=few.index)
    groups = pd.Series([1, 1, 2], index=few.index)
    assert publishable_totals(few, groups, none).tolist() == ["fewer than 5", 9]


@settings(max_examples=60, deadline=None)
@given(data=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 3)), min_size=3, max_size=14))
def test_group_totals_never_reveal_a_suppressed_ward(data):
    index = [f"w{i}" for i in range(len(data))]
    counts = pd.Series([c for c, _ in data], index=index)
    groups = pd.Series([g for _, g in data], index=index)
    mask = suppression_mask(counts.to_frame("m"), 5)["m"]
    totals = publishable_totals(counts, groups, mask)
    assert not small_counts(totals, 5).any()
    hits = mask.groupby(groups).sum()
    for g, value in totals.items():
        if not isinstance(value, str):
            # Shown only when it is a sum of published counts.
            assert hits[g] == 0
            assert value == counts[groups == g].sum()


def test_group_profiles_rates_and_names():
    wards = pd.DataFrame(
        {
            "ward_name": ["North", "South", "East", "West"],
            "children": [1000, 3000, 2000, 2000],
            "population": [5000, 9000, 8000, 8000],
            "need_index": [1.0, 0.5, -0.5, -1.0],
            "m": [10, 30, 2, 40],
        },
        index=["w1", "w2", "w3", "w4"],
    )
    groups = pd.Series([1, 1, 2, 2], index=wards.index)
    mask = suppression_mask(wards[["m"]], 5)  # w3 (2), then in row order w1 (10), w2 (30)
    prof = group_profiles(wards, groups, measures=["m"], suppressed=mask)
    assert prof.loc[1, "ward_names"] == "North; South"
    assert prof.loc[1, "children"] == 4000
    assert prof.loc[1, "need_index_mean"] == 0.75
    # One suppressed ward in each group: both totals withheld, and their rates.
    assert prof["m"].tolist() == [HIDDEN_TOTAL, HIDDEN_TOTAL]
    assert prof["m_rate"].tolist() == [HIDDEN_TOTAL, HIDDEN_TOTAL]
    open_ = group_profiles(wards, groups, measures=["m"], suppressed=None)
    # 40 / 4000 * 10,000 = 100.0; 42 / 4000 * 10,000 = 105.0
    assert open_["m"].tolist() == [40, 42]
    assert open_["m_rate"].tolist() == [100.0, 105.0]


def test_clusters_table_sections_and_hidden_caseload_means():
    wards = planted()
    wards["children_in_need"] = (wards["children_in_need_rate"] * wards["children"] / 1e4).round()
    wards.loc["E05C00", "children_in_need"] = 3
    result = cluster_wards(wards, FEATURES, wards["need_index"], resamples=5)
    mask = suppression_mask(wards[["children_in_need"]], 5)
    table = clusters_table(
        wards,
        result,
        localities=pd.Series(np.repeat([1, 2], 12), index=wards.index),
        measures=["children_in_need"],
        suppressed=mask,
    )
    assert table["section"].value_counts().to_dict() == {
        "k_selection": 7,
        "cluster": 3,
        "locality": 2,
    }
    assert list(table.columns[:4]) == ["section", "group", "label", "description"]
    # The standardised mean of a caseload feature could be solved for suppressed rates.
    assert "mean_z_idaci_score" in table.columns
    assert "mean_z_children_in_need_rate" not in table.columns
    assert not small_counts(table["children_in_need"], 5).any()
    unsuppressed = clusters_table(wards, result, measures=["children_in_need"], suppressed=None)
    assert "mean_z_children_in_need_rate" in unsuppressed.columns


def test_rate_index_columns_read_as_their_rate():
    from needsmap.clusters import feature_words

    assert feature_words("looked_after_children_rate_index") == feature_words(
        "looked_after_children_rate"
    )
    assert "index" not in feature_words("children_in_need_rate_index")
