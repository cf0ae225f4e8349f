"""The synthetic ward caseload model: bundled data and benchmarks use the same one.

Ward caseload counts are not published, so the bundled data carries synthetic counts
whose totals equal the local authority's published DfE figures. For each measure m and
year t:

    weight_w = children_w * (IDACI_w / IDACI_LA) ** gamma_m * exp(u_wm + v_wmt)
    counts_t ~ Multinomial(N_mt, weight / sum(weight))

children_w is the ward's 0-17 population, IDACI_w its IDACI score weighted by children
aged 0-15, gamma_m the assumed steepness of the deprivation gradient (statutory care
rises faster than proportionally with child poverty, more so for more intensive
measures), u_wm ~ N(0, 0.15) a persistent ward effect and v_wmt ~ N(0, 0.08) a
year-to-year one. N_mt is the published count for year t. See data/README.md.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

GAMMA = {"children_in_need": 1.0, "child_protection_plans": 1.2, "looked_after_children": 1.3}
WARD_SD = 0.15
YEAR_SD = 0.08


def synthetic_caseload(
    wards: pd.DataFrame,
    totals: Mapping[str, Mapping[int, int]],
    *,
    seed: int,
    deprivation: str = "idaci",
) -> pd.DataFrame:
    """Draw a seeded synthetic caseload.

    Parameters
    ----------
    wards
        One row per ward with ``ward_code``, ``ward_name``, ``children`` (0-17) and
        ``idaci`` (child-weighted IDACI score), in a fixed order.
    totals
        Measure -> {year: published LA count}; measures are keys of ``GAMMA``. Only
        years published for every measure are drawn.
    seed
        The same seed and inputs give the same file.
    deprivation
        The ward column of child poverty the counts follow: ``idaci`` for Wirral; for
        other councils, which have no IDACI bundled, DWP's share of children in low
        income families.

    Returns
    -------
    pd.DataFrame
        ``ward_code, ward_name, period, <measures>``, one row per ward and year
        (period ``YYYY-03-31``); each year's counts sum to the published total.
    """
    rng = np.random.default_rng(seed)
    poverty = wards[deprivation]
    idaci_la = float(np.average(poverty, weights=wards["children"]))
    years = sorted(set.intersection(*(set(by_year) for by_year in totals.values())))
    rows = []
    for measure, by_year in totals.items():
        u = rng.normal(0, WARD_SD, len(wards))
        for year in years:
            v = rng.normal(0, YEAR_SD, len(wards))
            w = wards["children"] * (poverty / idaci_la) ** GAMMA[measure] * np.exp(u + v)
            counts = rng.multinomial(int(by_year[year]), (w / w.sum()).to_numpy())
            rows.append(
                pd.DataFrame(
                    {
                        "ward_code": wards["ward_code"].to_numpy(),
                        "ward_name": wards["ward_name"].to_numpy(),
                        "period": f"{year}-03-31",
                        "measure": measure,
                        "count": counts,
                    }
                )
            )
    long = pd.concat(rows)
    wide = long.pivot_table(
        index=["ward_code", "ward_name", "period"], columns="measure", values="count"
    ).reset_index()
    wide.columns.name = None
    measures = list(totals)
    wide = wide[["ward_code", "ward_name", "period", *measures]]
    for m in measures:
        wide[m] = wide[m].astype(int)
    return wide.sort_values(["period", "ward_code"], ignore_index=True)
