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
# # 05 · Access to services and where new pilots would reach most need
#
# How far children live from each type of service, where need outruns access
# (`gap_score` = z(need_index) − z(access_index)), and which sites would bring the most
# need-weighted children within reach of provision. Change the parameters to try other
# numbers of sites, candidate types or catchments.

# %% tags=["parameters"]
SITES = 5  # how many new sites to choose
CANDIDATES = ["school"]  # service types offered as sites, or "lsoa" for LSOA centres
CATCHMENT_M = 1600  # straight-line reach in metres (1,600 m is about a mile)
PILOTS = []  # existing pilots, as in the config's `pilots`, e.g.
# [{"name": "Seacombe pilot", "wards": ["Seacombe"], "start": "2023-09-01"}]

# %%
import dataclasses

from needsmap.config import RunConfig, config_from_dict
from needsmap.pipeline import analyse
from needsmap.siting import site_pilots
from needsmap.vocabulary import label, plain

d = RunConfig()
cfg = dataclasses.replace(
    d,
    access=dataclasses.replace(d.access, catchment_m=float(CATCHMENT_M)),
    siting=dataclasses.replace(d.siting, sites=SITES, candidates=tuple(CANDIDATES)),
    pilots=config_from_dict({"pilots": PILOTS}).pilots,
)
results = analyse(cfg)
wards = results.published
print(f"Service types measured: {', '.join(results.access.types)}")

# %% [markdown]
# ## Where need outruns access
#
# `share_within_{type}`: share of the ward's children within the catchment of one;
# `access_index`: each type's enhanced two-step floating catchment relative to the area's
# average (1 = average). The highest gap scores are high need with low access.

# %%
share = [f"share_within_{t}" for t in results.access.types]
cols = ["ward_name", *share, "access_index", "need_index", "gap_score"]
wards.sort_values("gap_score", ascending=False)[cols].round(2)

# %% [markdown]
# ## The recommended sites
#
# Chosen in order of the need they newly cover (this table is `recommended_sites.csv`).

# %%
print(results.siting.summary)
sites = ["order", "name", "type", "children_covered", "need_covered", "wards_served"]
plain(results.siting.table[sites])

# %%
ax = wards.plot(column="gap_score", cmap="RdBu_r", legend=True, figsize=(7, 7))
results.sites.plot(ax=ax, color="black", markersize=40)
for site in results.sites.itertuples():
    ax.annotate(
        str(site.order),
        (site.geometry.x, site.geometry.y),
        xytext=(4, 4),
        textcoords="offset points",
    )
ax.set_title(f"{label('gap_score')} (red: more need than access) and the recommended sites")
ax.set_axis_off()

# %% [markdown]
# ## Coverage now and after, by ward
#
# Share of children within reach of existing provision or a pilot, now and with the new
# sites (this table is `siting_scenario.csv`).

# %%
results.siting.scenario[["ward_name", "children", "share_covered_now", "share_covered_after"]]

# %% [markdown]
# ## What if LSOA centres could host a site too?
#
# The same choice with community venues anywhere (one candidate at each LSOA's centre of
# population) beside the candidates above.

# %%
wider = site_pilots(
    results.access.demand,
    results.services.placed,
    results.wards["need_index"],
    travel=results.access.travel,
    catchment=results.access.catchment,
    sites=SITES,
    candidates=[*CANDIDATES, "lsoa"],
    categories=cfg.siting.candidate_categories,
    existing=cfg.siting.existing,
    pilots=results.pilots,
    need_weight_max=cfg.siting.need_weight_max,
)
print(wider.summary)
wider.table[["order", "name", "type", "children_covered", "need_covered"]]
