"""A small synthetic ward table with every column the board outputs know about.

Nine 1 km square wards in a 3x3 grid (British National Grid), with the foundation's
columns plus those the parallel issues add (rank intervals, clusters, localities, hot
spots, access gap), so every registered map layer and report section can be tested
without the bundled run.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from needsmap.disclosure import apply_suppression
from needsmap.indicators import caseload_rates, need_rank
from needsmap.maps.layers import MapContext
from needsmap.review import NOT_FLAGGED, WARD_FLAG

BNG = "EPSG:27700"
CODES = [f"E0500000{i}" for i in range(1, 10)]
NAMES = [
    "Abbey",
    "Bridge",
    "Castle and Dock",
    "Dale",
    "East Moor",
    "Ferry",
    "Grange",
    "Hill Top and Lower Marsh",
    "Isle",
]
CHILDREN = [1000, 1200, 900, 1500, 800, 1100, 1300, 700, 1000]
COUNTS = {
    # Suppressed in row order (published_wards passes no children order):
    # CPP: 3 is suppressed (primary) with the zero; 5, 12 and 20 are withheld.
    # CLA: 2 and 4 are suppressed; 10 and 15 are withheld.
    "children_in_need": [50, 80, 30, 120, 20, 60, 90, 15, 40],
    "child_protection_plans": [5, 12, 3, 20, 0, 8, 14, 6, 9],
    "looked_after_children": [10, 15, 2, 25, 7, 11, 18, 4, 9],
}
MEASURES = tuple(COUNTS)


def full_wards() -> gpd.GeoDataFrame:
    """The unsuppressed ward table (index ward_code)."""
    xs = np.array([0, 1, 2] * 3) * 1000 + 330_500
    ys = np.repeat([2, 1, 0], 3) * 1000 + 380_500
    geoms = gpd.points_from_xy(xs, ys).buffer(500, cap_style="square")
    table = pd.DataFrame(
        {
            "ward_name": NAMES,
            "population": [c * 4 for c in CHILDREN],
            "children": CHILDREN,
            "lsoas": [3, 4, 3, 5, 2, 4, 4, 2, 3],
            "lsoas_most_deprived_10pc": [1, 2, 0, 4, 0, 1, 3, 0, 0],
            "imd_score": [30.5, 41.2, 12.8, 55.0, 9.1, 28.4, 47.3, 15.6, 22.2],
            "idaci_score": [0.21, 0.32, 0.11, 0.41, 0.08, 0.19, 0.36, 0.12, 0.17],
        },
        index=pd.Index(CODES, name="ward_code"),
    )
    counts = pd.DataFrame(COUNTS, index=table.index)
    table = table.join(caseload_rates(counts, table["children"]))
    table["need_index"] = [0.35, 1.10, -0.90, 1.75, -1.20, 0.05, 1.30, -0.80, -0.35]
    table["need_rank"] = need_rank(table["need_index"])
    table["need_rank_lo"] = (table["need_rank"] - 1).clip(lower=1)
    table["need_rank_hi"] = (table["need_rank"] + 2).clip(upper=9)
    table["p_top5"] = [0.55, 0.97, 0.02, 1.0, 0.0, 0.31, 0.93, 0.01, 0.21]
    table["cluster"] = [2, 1, 3, 1, 3, 2, 1, 3, 2]
    table["cluster_label"] = table["cluster"].map(
        {1: "1: high need", 2: "2: middling", 3: "3: low need"}
    )
    table["locality"] = ["North"] * 3 + ["Central"] * 3 + ["South"] * 3
    table["hotspot"] = [
        "High-High",
        "High-High",
        "Not significant",
        "High-High",
        "Low-Low",
        "Not significant",
        "High-Low",
        "Low-Low",
        "Not significant",
    ]
    table["gap_score"] = [0.4, 1.2, -0.6, 1.6, -1.1, 0.1, 0.9, -0.7, -0.2]
    # DWP children in low income (needsmap.trends.child_poverty_columns), FYE 2022-2025.
    table["child_poverty_fye_first"] = 2022
    table["child_poverty_fye"] = 2025
    table["child_poverty_pct_first"] = [20.0, 30.0, 8.0, 35.0, 5.0, 18.0, 31.0, 9.0, 15.0]
    table["child_poverty_pct"] = [22.0, 34.9, 7.5, 36.0, 5.5, 18.1, 33.0, 9.4, 14.0]
    table["child_poverty_change"] = table["child_poverty_pct"] - table["child_poverty_pct_first"]
    table["child_poverty_trend_per_year"] = table["child_poverty_change"] / 3
    table["child_poverty_trend_lower"] = table["child_poverty_trend_per_year"] - 1.2
    table["child_poverty_trend_upper"] = table["child_poverty_trend_per_year"] + 1.2
    table["child_poverty_trend"] = np.select(
        [table["child_poverty_trend_lower"] > 0, table["child_poverty_trend_upper"] < 0],
        ["rising", "falling"],
        "not clearly changing",
    )
    table["review"] = [NOT_FLAGGED] * 4 + [WARD_FLAG] + [NOT_FLAGGED] * 4
    return gpd.GeoDataFrame(table, geometry=geoms, crs=BNG)


def published_wards(*, enabled: bool = True) -> gpd.GeoDataFrame:
    """The same table after suppression, as every output sees it."""
    full = full_wards()
    disc = apply_suppression(full, MEASURES, enabled=enabled)
    return gpd.GeoDataFrame(disc.table, geometry="geometry", crs=BNG)


def services() -> gpd.GeoDataFrame:
    pts = gpd.points_from_xy(
        [330_300, 331_400, 332_600, 330_800, 331_900, 332_200],
        [382_700, 381_500, 380_400, 380_300, 382_100, 381_200],
    )
    return gpd.GeoDataFrame(
        {
            "name": ["Surgery A", "School B", "Library C", "Hub D", "School E", "Surgery F"],
            "type": ["gp_practice", "school", "library", "family_hub", "school", "gp_practice"],
            "pilot": [False, False, False, True, False, False],
        },
        geometry=pts,
        crs=BNG,
    )


def sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"site": ["Hub at Dale", "Hub at Bridge"], "ward_code": [CODES[3], CODES[1]]},
        geometry=gpd.points_from_xy([330_500, 331_500], [381_500, 382_500]),
        crs=BNG,
    )


def context(*, synthetic: bool = True, stamp: str | None = None) -> MapContext:
    return MapContext(
        area="Testshire",
        period="2025-03-31",
        synthetic=synthetic,
        stamp=stamp,
        attribution=(
            "Contains OS data © Crown copyright and database right 2025.",
            "Source: Office for National Statistics licensed under the Open Government "
            "Licence v3.0.",
        ),
    )


def dfe() -> pd.DataFrame:
    """LA 400, England 330, neighbours 300, 500, 450 (children in need, 2025)."""
    rows = [
        ("England", "National", 2025, "children_in_need_at_31_march", 400000, 330.0),
        ("Local authority", "Testshire", 2025, "children_in_need_at_31_march", 2000, 400.0),
        ("Statistical neighbour", "Alpha", 2025, "children_in_need_at_31_march", 1500, 300.0),
        ("Statistical neighbour", "Beta", 2025, "children_in_need_at_31_march", 2500, 500.0),
        ("Statistical neighbour", "Gamma", 2025, "children_in_need_at_31_march", 1800, 450.0),
        ("Local authority", "Testshire", 2024, "children_in_need_at_31_march", 1900, 380.0),
        ("Local authority", "Testshire", 2025, "children_ceasing_to_be_looked_after", 90, 18.0),
    ]
    return pd.DataFrame(
        rows, columns=["group", "area_name", "year", "measure", "number", "rate_per_10000"]
    )
