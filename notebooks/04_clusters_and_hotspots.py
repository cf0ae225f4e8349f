# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Clusters and hot spots
#
# Wards that look alike on deprivation and caseload fall into the same cluster: KMeans on
# standardised indicators, with the number of clusters chosen by silhouette. Cluster 1 has
# the highest mean need. Hot spots are wards of high need surrounded by high need (local
# Moran's I on the need index).

# %% tags=["parameters"]
CONFIG = None  # a YAML config file, or None for the bundled Wirral defaults
K = None  # number of clusters; None chooses it by silhouette

# %%
from pathlib import Path

from esda.moran import Moran_Local
from libpysal.weights import Queen

from needsmap.clusters import cluster_wards
from needsmap.config import RunConfig, load_config
from needsmap.pipeline import analyse

cfg = load_config(Path(CONFIG)) if CONFIG else RunConfig()
results = analyse(cfg)
cl = cfg.clustering
clustering = cluster_wards(
    results.wards,
    cl.features,
    results.wards["need_index"],
    k=K,
    k_range=(cl.k_min, cl.k_max),
    seed=cl.seed,
)
print(f"{clustering.k} clusters on {', '.join(cl.features)}")

# %% [markdown]
# ## Choosing the number of clusters
#
# Higher silhouette means tighter, better-separated clusters.

# %%
clustering.scores.round(3)

# %% [markdown]
# ## What each cluster looks like
#
# Means of published columns only (the caseload `_rate_index` columns, not the raw
# rates), so no suppressed count can be worked back from them.

# %%
wards = results.published.assign(cluster=clustering.labels)
profile = ["idaci_score", "imd_score", *(f"{m}_rate_index" for m in results.caseload.measures)]
summary = wards.groupby("cluster")[[*profile, "need_index"]].mean().round(2)
summary.insert(0, "wards", wards.groupby("cluster")["ward_name"].agg("; ".join))
summary

# %%
ax = wards.plot(column="cluster", categorical=True, cmap="viridis", legend=True, figsize=(7, 7))
ax.set_title("Clusters of similar wards (1 = highest need)")
ax.set_axis_off()

# %% [markdown]
# ## Hot spots
#
# Local Moran's I of the need index with Queen contiguity (wards that share a border or a
# corner), 999 permutations: a hot spot is a high-need ward among high-need neighbours,
# significant at 5%.

# %%
w = Queen.from_dataframe(wards, use_index=True)
w.transform = "r"
lisa = Moran_Local(wards["need_index"], w, permutations=999, seed=cl.seed)
wards["hotspot"] = (lisa.q == 1) & (lisa.p_sim <= 0.05)
wards.loc[wards["hotspot"], ["ward_name", "need_rank", "cluster"]]

# %%
ax = wards.plot(column="hotspot", categorical=True, cmap="Reds", legend=True, figsize=(7, 7))
ax.set_title("Hot spots of need")
ax.set_axis_off()
