"""Benchmark: siting on the bundled Wirral data, all LSOAs x all candidates.

    .venv/bin/python benchmarks/siting.py

Times the maximal-covering siting with every service and every LSOA centre as a
candidate, for several numbers of sites and catchments, and prints exact vs greedy
coverage. The 2SFCA comparison with PySAL's `access` is part of `make bench`.
"""

from __future__ import annotations

import time

from needsmap.config import RunConfig
from needsmap.pipeline import analyse
from needsmap.siting import site_pilots

ALL = ("school", "gp_practice", "library", "lsoa")


def main() -> None:
    results = analyse(RunConfig())
    acc, services = results.access, results.services.placed
    assert acc is not None
    need = results.wards["need_index"]

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


if __name__ == "__main__":
    main()
