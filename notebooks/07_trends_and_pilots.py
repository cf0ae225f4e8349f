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
# # 07 · Are areas getting worse? Ward trends and a fair pilot comparison
#
# The board's question: "in some areas which are not being piloted things are getting
# worse". This notebook answers it from the one real, official, yearly ward series in the
# bundle, DWP's *Children in Low Income Families* (children aged 0–15 in relative low
# income before housing costs, FYE 2022–2025, provisional), then compares piloted wards
# with comparable non-piloted wards.
#
# **The pilots below are a made-up EXAMPLE.** The bundle does not know when or where
# Wirral's pilots ran; put yours in the parameters cell (or the config's `pilots`).

# %% tags=["parameters"]
PILOTS = [  # EXAMPLE ONLY: made-up wards and dates, not Wirral's pilots
    {"name": "Example pilot (made up)", "wards": ["Seacombe", "Liscard"], "start": "2023-04-01"},
]
SHOW_WARDS = 8  # rows in the tables below

# %%
import dataclasses

from IPython.display import Image, display

from needsmap import trends
from needsmap.config import RunConfig, config_from_dict
from needsmap.maps import static, trend_chart
from needsmap.pipeline import analyse

cfg = dataclasses.replace(RunConfig(), pilots=config_from_dict({"pilots": PILOTS}).pilots)
results = analyse(cfg)
wards = results.published
cilif = results.area.child_poverty
print(f"{len(wards)} wards; DWP years: {sorted(int(y) for y in cilif['fye'].unique())}")

# %% [markdown]
# ## Each ward's trend, and how sure it is
#
# Each ward's four yearly percentages get a straight-line trend, weighted by its
# children. Under "no change" a count of *k* of *n* children varies as binomial; the
# real year-to-year scatter is wider (local economies move, DWP rounds), so the variance
# is scaled by the scatter all wards show about their lines. A ward is **rising** or
# **falling** only when the 95% interval of its slope excludes zero.

# %%
panel = trends.child_poverty_panel(cilif)
fit = trends.linear_trends(panel)
print(trends.TREND_TEST)
print(f"dispersion: {fit.dispersion:.2f} on {fit.df} degrees of freedom")
cols = [
    "ward_name",
    "child_poverty_pct_first",
    "child_poverty_pct",
    "child_poverty_change",
    "child_poverty_trend_per_year",
    "child_poverty_trend_lower",
    "child_poverty_trend_upper",
    "child_poverty_trend",
]
wards.sort_values("child_poverty_change", ascending=False)[cols].head(SHOW_WARDS)

# %% [markdown]
# One small chart per ward on a shared scale (red: rising; blue: falling; the grey line
# is the whole area). The same figure is `maps/child_poverty_trends.png` in a run.

# %%
fig = trend_chart.child_poverty_figure(
    cilif, wards, areas=results.area.child_poverty_areas, area_name=results.area.name
)
display(Image(static.figure_png(fig, dpi=110)))

# %% [markdown]
# ## The board's question in words
#
# As the report's *Change* section puts it: wards getting worse that are not piloted.

# %%
piloted = sorted(set(results.pilots.wards["ward_code"]))
benchmark = trends.poverty_benchmark(results.area.child_poverty_areas)
for line in trends.change_findings(wards, pilot_wards=piloted, benchmark=benchmark):
    print("•", line)

# %% [markdown]
# ## Wirral beside England and its statistical neighbours
#
# Summed from their wards in the same DWP release (the LA tables differ by rounding).

# %%
benchmark

# %% [markdown]
# ## Caseload trends (synthetic)
#
# The same test on each caseload rate over every period supplied. A trend is withheld
# wherever any period's count is suppressed, so no change can reveal a hidden count.

# %%
for line in trends.caseload_trend_findings(
    wards, {m: m.replace("_", " ") for m in results.caseload.measures}, synthetic=True
):
    print("•", line)

# %% [markdown]
# ## Piloted wards against comparable wards (EXAMPLE pilots)
#
# For each pilot with a start date: the comparison wards are the non-piloted wards in the
# same cluster as a piloted ward. Each ward's change is its mean after the start minus
# its mean before (a year spanning the start is left out); the difference between the
# two groups' mean changes has a pooled two-sample t interval. **This compares trends; it
# is not an estimate of what a pilot did**, and with a handful of wards it can rarely
# tell the groups apart.

# %%
comparison = results.pilot_comparison
display(comparison[["pilot", "indicator", "before", "after", "difference", "lower", "upper"]])
for reading in comparison["reading"]:
    print("•", reading)
