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
# # 03 · The need index: indicators, weights and how sure the ranking is
#
# The need index combines deprivation and caseload indicators, each standardised across
# the wards and signed so that higher means more need, as a weighted mean:
#
# $$\text{need\_index} = \frac{\sum_i w_i \, s(d_i x_i)}{\sum_i w_i}$$
#
# This notebook shows the indicators and weights, how sure the ranking is, which wards
# move when a weight moves, and how the council compares with England and its
# statistical neighbours. Everything shown is as published: small counts read "fewer
# than 5".

# %% tags=["parameters"]
CONFIG = None  # a YAML config file, or None for the bundled Wirral defaults
# Weights to compare with the config's (any positive numbers; they are normalised).
ALTERNATIVE = {
    "idaci_score": 0.5,
    "imd_score": 0.1,
    "children_in_need_rate_index": 0.2,
    "child_protection_plans_rate_index": 0.1,
    "looked_after_children_rate_index": 0.1,
}

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from needsmap.config import RunConfig, load_config
from needsmap.indicators import need_index, need_rank
from needsmap.pipeline import analyse
from needsmap.vocabulary import label, plain

cfg = load_config(Path(CONFIG)) if CONFIG else RunConfig()
results = analyse(cfg)
wards = results.published.sort_values("need_rank")
specs = pd.DataFrame(cfg.need_index.specs)
specs.assign(share=specs["weight"] / specs["weight"].sum())

# %% [markdown]
# ## The indicators, ward by ward
#
# Caseload indicators are the `_rate_index` columns: the published rate per 10,000
# children, or, for wards whose count is suppressed, a stand-in made only from published
# figures (the rate of 2 children for "fewer than 5"; the median published rate for
# "withheld"), so the index never rests on a hidden count and does not move with one.

# %%
wards[["ward_name", *specs["column"], "need_index", "need_rank"]].round(3)

# %% [markdown]
# ## How sure is the ranking?
#
# 1,000 seeded draws jitter every weight by up to ±50% and redraw each ward's caseload
# counts from their Poisson uncertainty. `need_rank_lo` and `need_rank_hi` bound a 90%
# interval; `p_top5` is the share of draws in which the ward is in the top 5.

# %%
cols = ["ward_name", "need_rank", "need_rank_median", "need_rank_lo", "need_rank_hi", "p_top5"]
plain(wards[cols])

# %%
fig, ax = plt.subplots(figsize=(7, 6))
y = range(len(wards))
low, high = wards["need_rank"] - wards["need_rank_lo"], wards["need_rank_hi"] - wards["need_rank"]
ax.errorbar(wards["need_rank"], y, xerr=[low, high], fmt="o", color="#08519c", capsize=3)
ax.set(yticks=list(y), yticklabels=wards["ward_name"])
ax.set_xlabel(label("need_rank") + " (1 = most need)")
ax.invert_yaxis()
ax.set_title("Need rank with its 90% interval")
fig.tight_layout()

# %% [markdown]
# ## What moves the ranking?
#
# Each weight in turn moved by −50% and +50%: which wards enter or leave the top 5, and
# the largest move of any ward's rank (this table is `sensitivity.csv`).

# %%
results.sensitivity

# %% [markdown]
# ## Your own weights
#
# The index can be recomputed from the published ward table alone. Here with the
# `ALTERNATIVE` weights from the parameters cell:

# %%
alternative = need_rank(need_index(wards, ALTERNATIVE, method=cfg.need_index.method))
compare = pd.DataFrame(
    {"ward_name": wards["ward_name"], "as_set": wards["need_rank"], "alternative": alternative}
)
compare.assign(moved=compare["as_set"] - compare["alternative"])

# %% [markdown]
# ## The council beside England and its statistical neighbours
#
# Published DfE rates per 10,000 children (this table is `la_benchmark.csv`).

# %%
results.benchmark[
    ["year", "la_rate", "england_rate", "neighbour_median", "la_rank_among_neighbours", "la_change"]
]
