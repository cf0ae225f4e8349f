"""The benchmark's England-scale bundle and national typology, from the real England data.

The England case is all of England as one area, built the way any council's bundle is
(``needsmap.england.build_bundle``): all 33,755 LSOAs with their real (BSC) polygons and
the ONS May 2024 ward polygons (6,805 that LSOAs give data to), each LSOA split among
the wards it overlaps by area; IoD2025 domains; Census 2021 population
with children 0-17 scaled to DfE's England total; DWP child poverty standing in for
IDACI; every open school (about 24,700) as the services; and the synthetic caseload
calibrated to England's published DfE totals. Nothing here is invented for the
benchmark.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from needsmap import typology
from needsmap.england import build_bundle as build_council_bundle
from needsmap.england import england, england_dir


def build_bundle(folder: Path) -> dict[str, int]:
    """Write the England bundle into ``folder``; returns its sizes."""
    folder.mkdir(parents=True, exist_ok=True)
    build_council_bundle(england(), folder)
    lsoa = pd.read_csv(folder / "population_lsoa21.csv")
    services = pd.read_csv(folder / "services.csv", usecols=["service_id"])
    wards = pd.read_csv(folder / "caseload_synthetic.csv", usecols=["ward_code"])
    return {"lsoas": len(lsoa), "wards": wards["ward_code"].nunique(), "services": len(services)}


def time_typology() -> dict[str, float]:
    """The national ward typology from the England files: seconds to read and to fit."""
    start = time.perf_counter()
    lsoa = pd.read_parquet(
        england_dir() / "lsoa21.parquet",
        columns=list(typology.LSOA_COLUMNS),
    )
    cp = pd.read_csv(england_dir() / "child_poverty_wards.csv.gz")
    read = time.perf_counter() - start
    result = typology.ward_typology(typology.ward_features(lsoa, cp))
    total = time.perf_counter() - start
    return {"read_seconds": read, "seconds": total, "wards": float(len(result.wards))}


if __name__ == "__main__":
    import sys

    t = time.perf_counter()
    print(build_bundle(Path(sys.argv[1])), f"{time.perf_counter() - t:.1f} s")
    print(time_typology())
