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
# # 01 · Quick start: the bundled Wirral case
#
# Runs needsmap on the bundled data: Wirral's 22 wards, IoD2025 deprivation, real
# service locations and a **synthetic** caseload (ward figures are not published; the
# synthetic counts add up to Wirral's DfE totals). Change the parameters below and rerun.

# %% tags=["parameters"]
CONFIG = None  # a YAML config file, or None for the bundled Wirral defaults
OUT = "../out/notebooks/quickstart"

# %%
from pathlib import Path

from needsmap.config import RunConfig, load_config
from needsmap.pipeline import run
from needsmap.vocabulary import plain

cfg = load_config(Path(CONFIG)) if CONFIG else RunConfig()
results = run(cfg, out=Path(OUT))
print(f"{len(results.wards)} wards; wrote {len(results.written)} files to {OUT}")

# %% [markdown]
# ## The wards with most need
#
# The table as published: counts of 1–4 children read "fewer than 5".

# %%
cols = ["ward_name", "need_rank", "need_index", "children", "idaci_score", "children_in_need_rate"]
plain(results.published.sort_values("need_rank")[cols].head(8))

# %% [markdown]
# ## The interactive map
#
# The same self-contained file as `needs_map.html`; it works offline.

# %%
from IPython.display import IFrame

IFrame(Path(OUT, "needs_map.html").as_posix(), width="100%", height=600)
