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
# # 02 · Your own data: load, validate and fix
#
# Each quarter you replace the synthetic caseload with the council's own counts and add
# your own services (family hubs, pilots). This notebook walks through it with the same
# steps as the command line:
#
# 1. `needsmap init DIR` writes a commented config and two templates;
# 2. you fill them in;
# 3. `needsmap validate --config DIR/needsmap.yml` reads every input as a run would and
#    lists every problem, each saying which file, column and rows, and what to do;
# 4. `needsmap run --config DIR/needsmap.yml`.
#
# The example council's files are written into `WORK`. Here the bundled synthetic counts
# stand in for an extract from the case system.

# %% tags=["parameters"]
WORK = "../out/notebooks/your_own_data"  # folder for the example council's files

# %%
from pathlib import Path

import pandas as pd

from needsmap.checks import validate_inputs
from needsmap.config import load_config
from needsmap.starter import write_starter

config_file, caseload_file, services_file = write_starter(Path(WORK), force=True)
print(config_file.read_text(encoding="utf-8")[:1200], "...")

# %% [markdown]
# ## The templates
#
# The caseload template has one row per ward of the area, with the counts blank. The
# services template shows the three ways to give a location: a postcode, `lon`/`lat`, or
# `easting`/`northing` (British National Grid). `pilot = yes` marks an existing pilot.

# %%
pd.read_csv(caseload_file).head()

# %%
pd.read_csv(services_file, dtype=str, keep_default_na=False)

# %% [markdown]
# ## Validate the untouched templates
#
# Nothing runs yet: every blank count and every leftover example row is a problem.

# %%
cfg = load_config(config_file)
print(validate_inputs(cfg).report())

# %% [markdown]
# ## Fill them in, with the mistakes exports often have
#
# The extract below has a *Total* row at the bottom, as spreadsheets often do; and one of
# our two family hubs has a mistyped postcode.

# %%
extract = pd.read_csv(cfg.area / "caseload_synthetic.csv", dtype=str)
extract = extract[extract["period"] == extract["period"].max()]
measures = ["children_in_need", "child_protection_plans", "looked_after_children"]
total = {"ward_code": "Total", "ward_name": "", "period": extract["period"].iloc[0]}
total |= {m: str(extract[m].astype(int).sum()) for m in measures}
pd.concat([extract, pd.DataFrame([total])]).to_csv(caseload_file, index=False)

hubs = pd.DataFrame(
    {
        "name": ["Birkenhead family hub", "Seacombe family hub"],
        "type": "family_hub",
        "postcode": ["CH41 5LH", "CH44 7ZZ"],  # the second should read CH44 7AN
    }
)
hubs.to_csv(services_file, index=False)
print(validate_inputs(cfg).report())

# %% [markdown]
# The report names the file, the column, the value and the row to fix. The hub whose
# postcode cannot be found is a *note*, not a problem: a run goes ahead without it and
# lists it in `services_unplaced.csv`. Fix both and check again.

# %%
extract.to_csv(caseload_file, index=False)
hubs.loc[1, "postcode"] = "CH44 7AN"
hubs.to_csv(services_file, index=False)
report = validate_inputs(cfg)
print(report.report())
assert report.ok

# %% [markdown]
# Ready. From a terminal:
#
# ```bash
# needsmap run --config out/notebooks/your_own_data/needsmap.yml
# ```
#
# or in a notebook: `needsmap.pipeline.run(load_config(config_file))` (see `01_quickstart`).
