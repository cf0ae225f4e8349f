"""An England-scale area bundle for the benchmark: real IoD2025 scores, synthetic geometry.

No national LSOA boundary file is bundled, so this builds a synthetic tessellation:
every 2024 ward gets a 2 km square on a national grid (wards of one LAD next to each
other), its LSOAs are seeded at random points inside that square, and the LSOA polygons
are the Voronoi cells of those points clipped to the grid. Dissolving LSOAs by ward then
gives contiguous, irregular wards with realistic vertex counts.

What is real: all 33,755 IoD2025 LSOAs, their scores, ranks and deciles, and their
best-fit 2024 ward and LAD (data/england/iod2025_lsoa21_wards.csv.gz).
What stands in (documented, seeded):
- population ~ Normal(1,700, 250) per LSOA (England's mean is about 1,680);
  children 0-15 = 19% and 0-17 = 21% of it;
- IDACI score = the LSOA's income-domain score (the England file has no IDACI);
- one synthetic postcode per LSOA at its seed point (for demand points);
- 5,000 services placed at random LSOA seed points (GP practices, schools, libraries,
  family hubs) with random capacities;
- caseload: needsmap's synthetic model with England's published 2021-2025 totals;
- IoD2019 and the 2011->2021 LSOA lookup: the England-wide IoD2019 is not bundled, so
  every 2021 LSOA stands for its own 2011 LSOA (an unchanged 1:1 lookup) and its IoD2019
  IMD and IDACI deciles are its IoD2025 deciles moved one decile up or down for a random
  fifth of LSOAs (clipped to 1..10), so the deprivation-change step does its full work.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from needsmap.config import bundled_data_dir
from needsmap.geography import ward_polygons
from needsmap.synthetic import synthetic_caseload

SEED = 2025
CELL_M = 2_000.0
N_SERVICES = 5_000
DFE_MEASURES = {
    "children_in_need": "children_in_need_at_31_march",
    "child_protection_plans": "child_protection_plans_at_31_march",
    "looked_after_children": "children_looked_after_at_31_march",
}


def _tessellate(lsoa: pd.DataFrame, rng: np.random.Generator) -> tuple[gpd.GeoSeries, np.ndarray]:
    wards = lsoa[["lad_code", "ward_code"]].drop_duplicates().sort_values(["lad_code", "ward_code"])
    side = int(np.ceil(np.sqrt(len(wards))))
    pos = np.arange(len(wards))
    origin = pd.DataFrame(
        {"x0": (pos % side) * CELL_M + 100_000, "y0": (pos // side) * CELL_M + 100_000},
        index=wards["ward_code"].to_numpy(),
    )
    o = origin.loc[lsoa["ward_code"]].to_numpy()
    pts = o + rng.uniform(0.05, 0.95, size=(len(lsoa), 2)) * CELL_M
    points = shapely.points(pts)
    minx, miny = origin["x0"].min(), origin["y0"].min()
    extent = shapely.box(minx, miny, minx + side * CELL_M, miny + side * CELL_M)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=extent)
    )
    cells = shapely.intersection(cells, extent)
    # voronoi_polygons returns cells in no fixed order: match each to its seed point.
    tree = shapely.STRtree(cells)
    point_idx, cell_idx = tree.query(points, predicate="within")
    order = np.empty(len(points), dtype=int)
    order[point_idx] = cell_idx
    return gpd.GeoSeries(cells[order], crs="EPSG:27700"), pts


def build_bundle(folder: Path) -> dict[str, int]:
    """Write an England-scale bundle into ``folder``; returns its sizes."""
    rng = np.random.default_rng(SEED)
    data = bundled_data_dir()
    iod = pd.read_csv(data / "england" / "iod2025_lsoa21_wards.csv.gz")
    iod = iod.dropna(subset=["ward_code"]).sort_values("lsoa_code", ignore_index=True)
    geoms, pts = _tessellate(iod, rng)
    folder.mkdir(parents=True, exist_ok=True)

    lsoa = gpd.GeoDataFrame(
        {
            "lsoa_code": iod["lsoa_code"],
            "lsoa_name": iod["lsoa_code"],
            "ward_code": iod["ward_code"],
            "ward_name": iod["ward_name"] + " (" + iod["lad_name"] + ")",
        },
        geometry=geoms,
        crs="EPSG:27700",
    )
    lsoa.to_file(folder / "lsoa21.geojson", driver="GeoJSON")
    # The tessellation nests LSOAs in wards exactly: the wards are their union, and each
    # LSOA's share of its ward is 1 (lsoa_ward_shares would find the same, slower).
    ward_polygons(lsoa).to_file(folder / "wards.geojson", driver="GeoJSON")
    shares = pd.DataFrame({"lsoa_code": lsoa["lsoa_code"], "ward_code": lsoa["ward_code"]})
    shares.assign(share=1.0, method="best_fit").to_csv(folder / "lsoa_ward_shares.csv", index=False)

    dep = iod[["lsoa_code"]].copy()
    for col in iod.columns:
        if col.endswith("_score"):
            dep[col] = iod[col]
    dep["idaci_score"] = iod["income_score"]
    dep["idaopi_score"] = iod["income_score"]
    dep["imd_rank"] = iod["imd_rank"]
    dep["imd_decile"] = iod["imd_decile"]
    dep["idaci_rank"] = iod["income_score"].rank(ascending=False, method="first").astype(int)
    dep["idaci_decile"] = np.ceil(dep["idaci_rank"] / len(dep) * 10).astype(int)
    dep.to_csv(folder / "deprivation_iod2025_lsoa21.csv", index=False)

    population = rng.normal(1700, 250, len(iod)).clip(800).round()
    pop = pd.DataFrame(
        {
            "lsoa_code": iod["lsoa_code"],
            "population": population,
            "children_0_15": (population * 0.19).round(),
            "population_60_plus": (population * 0.25).round(),
            "children": (population * 0.21).round(1),
        }
    )
    pop.to_csv(folder / "population_lsoa21.csv", index=False)

    pd.DataFrame(
        {
            "postcode": [
                f"ZZ{i // 1000} {i % 10}{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}"
                for i in range(len(iod))
            ],
            "easting": pts[:, 0].round(),
            "northing": pts[:, 1].round(),
            "lsoa_code": iod["lsoa_code"],
        }
    ).to_csv(folder / "postcodes.csv", index=False)

    kinds = rng.choice(
        ["gp_practice", "school", "library", "family_hub"], N_SERVICES, p=[0.3, 0.5, 0.1, 0.1]
    )
    at = rng.choice(len(iod), N_SERVICES, replace=False)
    pd.DataFrame(
        {
            "service_id": [f"SVC-{i:05d}" for i in range(N_SERVICES)],
            "name": [f"Service {i}" for i in range(N_SERVICES)],
            "type": kinds,
            "subtype": "",
            "easting": pts[at, 0].round(),
            "northing": pts[at, 1].round(),
            "capacity": rng.integers(50, 1500, N_SERVICES),
        }
    ).to_csv(folder / "services.csv", index=False)

    wirral = data / "wirral"
    dfe = pd.read_csv(wirral / "dfe_childrens_social_care.csv")
    national = dfe[dfe["group"] == "England"]
    totals = {
        m: {
            int(r.year): int(r.number)
            for r in national[national["measure"] == dm].itertuples()
            if 2021 <= r.year <= 2025 and pd.notna(r.number)
        }
        for m, dm in DFE_MEASURES.items()
    }
    frame = lsoa[["lsoa_code", "ward_code", "ward_name"]].merge(pop, on="lsoa_code")
    frame["idaci_x"] = dep["idaci_score"].to_numpy() * frame["children"]
    wards = frame.groupby(["ward_code", "ward_name"], as_index=False)[["children", "idaci_x"]].sum()
    wards["idaci"] = wards["idaci_x"] / wards["children"]
    synthetic_caseload(wards, totals, seed=SEED).to_csv(
        folder / "caseload_synthetic.csv", index=False
    )
    pd.DataFrame(
        {"lsoa11_code": iod["lsoa_code"], "lsoa_code": iod["lsoa_code"], "change": "U"}
    ).to_csv(folder / "lsoa11_to_lsoa21.csv", index=False)
    moved = rng.choice([-1, 0, 0, 0, 0, 0, 0, 0, 0, 1], size=(len(iod), 2))
    pd.DataFrame(
        {
            "lsoa11_code": iod["lsoa_code"],
            "imd_decile": (dep["imd_decile"] + moved[:, 0]).clip(1, 10),
            "idaci_decile": (dep["idaci_decile"] + moved[:, 1]).clip(1, 10),
        }
    ).to_csv(folder / "deprivation_iod2019_lsoa11.csv", index=False)
    shutil.copy(wirral / "dfe_childrens_social_care.csv", folder / "dfe_childrens_social_care.csv")
    meta = json.loads((wirral / "bundle.json").read_text(encoding="utf-8"))
    meta.update(area_name="England (synthetic geometry)", lad_code="E92000001")
    (folder / "bundle.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return {"lsoas": len(lsoa), "wards": int(lsoa["ward_code"].nunique()), "services": N_SERVICES}


if __name__ == "__main__":
    import sys
    import time

    t = time.perf_counter()
    print(build_bundle(Path(sys.argv[1])), f"{time.perf_counter() - t:.1f} s")
