"""End to end on Wirral: clusters, localities and hot spots in what is written."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
from scipy.sparse.csgraph import connected_components

from needsmap.disclosure import small_counts
from needsmap.hotspots import CATEGORIES
from needsmap.localities import ward_neighbours

MEASURES = ("children_in_need", "child_protection_plans", "looked_after_children")


def test_wards_csv_carries_groups(bundled_run):
    folder = bundled_run.written[0].parent
    wards = pd.read_csv(folder / "wards.csv", index_col="ward_code")
    for col in ("cluster", "cluster_label", "cluster_stability", "locality", "hotspot"):
        assert col in wards.columns, col
        assert wards[col].notna().all(), col
    k = bundled_run.clustering.k
    assert sorted(wards["cluster"].unique()) == list(range(1, k + 1))
    assert all(
        lab.startswith(f"{c}: ")
        for c, lab in zip(wards["cluster"], wards["cluster_label"], strict=True)
    )
    assert wards["cluster_stability"].between(0, 1).all()
    assert sorted(wards["locality"].unique()) == [1, 2, 3, 4]
    assert set(wards["hotspot"]) <= set(CATEGORIES)
    # Cluster 1 and locality 1 have the highest mean need.
    for col in ("cluster", "locality"):
        means = wards.groupby(col)["need_index"].mean()
        assert means.idxmax() == 1 and means.is_monotonic_decreasing, col
    # Wirral's most deprived wards are a hot spot of need.
    assert wards.loc["E05000955", "hotspot"] == "High-High (hot spot)"  # Bidston and St James


def test_localities_contiguous_on_wirral(bundled_run):
    folder = bundled_run.written[0].parent
    wards = gpd.read_file(folder / "wards.gpkg").set_index("ward_code")
    nb = ward_neighbours(wards, islands="error")  # Wirral has no island wards
    for g in sorted(wards["locality"].unique()):
        pos = [nb.index.get_loc(c) for c in wards.index[wards["locality"] == g]]
        assert connected_components(nb.adjacency[pos][:, pos], directed=False)[0] == 1, g


def test_clusters_csv_profiles_and_k_selection(bundled_run):
    folder = bundled_run.written[0].parent
    table = pd.read_csv(folder / "clusters.csv", dtype=str)
    sections = table["section"].value_counts().to_dict()
    assert sections == {"cluster": bundled_run.clustering.k, "locality": 4, "k_selection": 7}
    ks = table[table["section"] == "k_selection"]
    assert ks["k"].tolist() == [str(k) for k in range(2, 9)]
    assert ks["chosen"].tolist().count("True") == 1
    ari = pd.to_numeric(ks["bootstrap_ari"])
    assert ari.notna().sum() == 1 and 0 < ari.max() <= 1
    clusters = table[table["section"] == "cluster"]
    assert clusters["description"].str.contains("average").all()
    chosen = ks[ks["chosen"] == "True"].iloc[0]
    assert chosen["description"].startswith("chosen: largest k with silhouette within 10%")
    assert clusters["ward_names"].str.contains("Bidston and St James").any()
    # Each cluster's children are rounded to whole children (the ward figures are scaled
    # to DfE's total), so the clusters add up to it within half a child each.
    children = pd.to_numeric(clusters["children"])
    assert abs(children.sum() - bundled_run.wards["children"].sum()) <= len(children) / 2
    for m in MEASURES:
        assert not small_counts(table[m], 5).any(), m
    assert (folder / "maps" / "cluster_k_selection.png").stat().st_size > 10_000
    outputs = json.loads((folder / "run.json").read_text())["outputs"]
    assert {"clusters.csv", "maps/cluster_k_selection.png"} <= set(outputs)
