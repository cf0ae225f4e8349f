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
# # 04 · Clusters, localities and hot spots
#
# - **Clusters**: wards that look alike on deprivation and caseload (KMeans on
#   standardised indicators; the number of clusters is the largest k nearly as well
#   separated as the best and stable, unless fixed).
#   Cluster 1 has the highest mean need; each has a name and a profile in plain words.
# - **Localities**: contiguous patches of similar wards, for commissioning as one area.
# - **Hot spots**: high-need wards among high-need neighbours (local Moran's I).

# %% tags=["parameters"]
CONFIG = None  # a YAML config file, or None for the bundled Wirral defaults
K = None  # number of clusters; None chooses it (see the README's Clusters)
LOCALITIES = 4  # contiguous localities to form

# %%
import dataclasses
from pathlib import Path

from needsmap.config import RunConfig, load_config
from needsmap.pipeline import analyse
from needsmap.vocabulary import label

cfg = load_config(Path(CONFIG)) if CONFIG else RunConfig()
cfg = dataclasses.replace(
    cfg, clustering=dataclasses.replace(cfg.clustering, k=K, localities=LOCALITIES)
)
results = analyse(cfg)
wards = results.published
print(f"{results.clustering.k} clusters on {', '.join(cfg.clustering.features)}")

# %% [markdown]
# ## Choosing the number of clusters
#
# Higher silhouette means tighter, better-separated clusters; Calinski–Harabasz is a
# second opinion.

# %%
results.clustering.scores.round(3)

# %% [markdown]
# ## What each cluster and locality looks like
#
# As written to `clusters.csv`: caseload totals are withheld where they could reveal a
# suppressed ward.

# %%
results.cluster_table

# %%
ax = wards.plot(column="cluster_label", categorical=True, legend=True, figsize=(8, 8),
                legend_kwds={"loc": "lower left", "fontsize": 8})
ax.set_title(label("cluster_label"))
ax.set_axis_off()

# %%
ax = wards.plot(column="locality", categorical=True, cmap="Set2", legend=True, figsize=(8, 8))
ax.set_title(f"{LOCALITIES} {label('locality').lower()}s: neighbouring wards with similar need")
ax.set_axis_off()

# %% [markdown]
# ## Hot spots
#
# Local Moran's I of the need index (Queen contiguity, 999 permutations, 5% level).

# %%
wards.loc[wards["hotspot"] != "Not significant", ["ward_name", "need_rank", "hotspot"]]

# %%
ax = wards.plot(column="hotspot", categorical=True, cmap="coolwarm_r", legend=True,
                figsize=(8, 8), legend_kwds={"loc": "lower left", "fontsize": 8})
ax.set_title(label("hotspot"))
ax.set_axis_off()
