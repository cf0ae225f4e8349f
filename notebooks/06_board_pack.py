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
# # 06 · Board pack
#
# One run of the whole analysis, and the pieces a board paper needs: what was written,
# the board map, the wards with most need, the council beside England and its
# neighbours, and where new sites would reach the most need. Everything here is as
# published: small counts read "fewer than 5".

# %% tags=["parameters"]
CONFIG = None  # a YAML config file, or None for the bundled Wirral defaults
OUT = "../out/notebooks/board_pack"

# %%
from pathlib import Path

import pandas as pd
from IPython.display import Image, display

from needsmap.config import RunConfig, load_config
from needsmap.pipeline import run

cfg = load_config(Path(CONFIG)) if CONFIG else RunConfig()
results = run(cfg, out=Path(OUT))
if results.caseload.synthetic:
    print("SYNTHETIC caseload: not real ward figures.")
if results.disclosure.stamp:
    print(results.disclosure.stamp)
pd.DataFrame(
    {
        "file": [p.relative_to(OUT).as_posix() for p in results.written],
        "kB": [round(p.stat().st_size / 1024, 1) for p in results.written],
    }
)

# %% [markdown]
# ## The board map

# %%
Image(filename=str(Path(OUT, "maps", "need_index.png")), width=700)

# %% [markdown]
# ## The wards with most need
#
# Rank with its 90% interval, and the chance of being in the top 5.

# %%
cols = ["ward_name", "need_rank", "need_rank_lo", "need_rank_hi", "p_top5", "children"]
cols += [f"{m}_rate" for m in results.caseload.measures] + ["gap_score"]
results.published.sort_values("need_rank")[cols].head(cfg.need_index.top_n)

# %% [markdown]
# ## The council beside England and its statistical neighbours

# %%
results.benchmark[["year", "la_number", "la_rate", "england_rate", "neighbour_median", "la_change"]]

# %% [markdown]
# ## Where new sites would reach the most need

# %%
if results.siting is not None:
    print(results.siting.summary)
    display(results.siting.table[["order", "name", "type", "children_covered", "wards_served"]])
