"""Benchmark: access and siting on the bundled Wirral data, all LSOAs x all candidates.

    .venv/bin/python benchmarks/siting.py

Times the floating catchments (against PySAL's `access` package as the reference) and
the maximal-covering siting with every service and every LSOA centre as a candidate,
for several numbers of sites and catchments; prints exact vs greedy coverage.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from needsmap.access import floating_catchment, measure_access
from needsmap.config import RunConfig
from needsmap.geography import ward_polygons
from needsmap.indicators import caseload_rates, need_index, ward_deprivation
from needsmap.siting import site_pilots
from needsmap.sources import load_area, load_caseload, load_services

ALL = ("school", "gp_practice", "library", "lsoa")


def main() -> None:
    cfg = RunConfig()
    area = load_area(cfg.area)
    wards = ward_polygons(area.lsoa)
    services = load_services([area.files["services"]], area.postcodes, wards.union_all()).placed
    table = ward_deprivation(area.lsoa)
    caseload = load_caseload(area.files["caseload"], wards["ward_name"], synthetic=True)
    table = table.join(caseload_rates(caseload.latest, table["children"]))
    need = need_index(table, cfg.need_index.indicators)

    start = time.perf_counter()
    acc = measure_access(area.lsoa, area.postcodes, services, wards, catchment=1600)
    print(
        f"access, {len(acc.demand)} LSOAs x {len(services)} services, "
        f"{len(acc.types)} types: {time.perf_counter() - start:.3f} s"
    )
    compare_with_pysal(acc, services)

    print(f"\nsiting, {len(acc.demand)} LSOAs x {len(services) + len(acc.demand)} candidates")
    print(f"{'sites':>5} {'catchment':>9} {'seconds':>8} {'exact':>9} {'greedy':>9}  status")
    for catchment in (1000, 1600, 2400):
        for p in (5, 10, 20):
            start = time.perf_counter()
            got = site_pilots(
                acc.demand,
                services,
                need,
                travel=acc.travel,
                catchment=catchment,
                sites=p,
                candidates=ALL,
            )
            took = time.perf_counter() - start
            s = got.solution
            print(
                f"{p:>5} {catchment:>8}m {took:>8.3f} {s.objective:>9.0f} "
                f"{s.greedy_objective:>9.0f}  {s.status}"
            )


def compare_with_pysal(acc, services) -> None:  # type: ignore[no-untyped-def]
    try:
        from access import Access
    except ImportError:
        print("PySAL access not installed: reference comparison skipped")
        return
    sites = services.loc[services["type"] == "school"]
    cap = sites["capacity"].fillna(sites["capacity"].median()).to_numpy()
    pairs = acc.travel.within(sites, 1600)
    children = acc.demand["children"].to_numpy()
    start = time.perf_counter()
    ours = floating_catchment(children, cap, pairs, catchment=1600)
    t_ours = time.perf_counter() - start
    demand = pd.DataFrame({"children": children}, index=acc.demand.index)
    supply = pd.DataFrame({"cap": cap}, index=pd.Index(sites["service_id"], name="sid"))
    costs = pd.DataFrame(
        {
            "o": acc.demand.index[pairs.origin],
            "d": sites["service_id"].to_numpy()[pairs.site],
            "cost": pairs.cost,
        }
    )
    start = time.perf_counter()
    ref = Access(
        demand_df=demand,
        demand_value="children",
        supply_df=supply,
        supply_value="cap",
        cost_df=costs,
        cost_origin="o",
        cost_dest="d",
        cost_name="cost",
    ).two_stage_fca(max_cost=1600)
    t_ref = time.perf_counter() - start
    diff = np.abs(ref.iloc[:, 0].reindex(demand.index).fillna(0).to_numpy() - ours).max()
    print(
        f"2SFCA schools: needsmap {t_ours * 1000:.1f} ms, PySAL access {t_ref * 1000:.1f} ms, "
        f"max difference {diff:.1e}"
    )


if __name__ == "__main__":
    main()
