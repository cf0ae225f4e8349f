"""A small synthetic ward table with every layer the analyses add, for the map tests.

Six 1 km square wards in a 3 x 2 grid (British National Grid, near Birkenhead), with the
columns of issues 3-5 (need rank interval, clusters, localities, hot spots, access gap,
distances), one suppressed caseload cell, services including a hostile name and a
pilot, and two recommended sites.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from needsmap.maps.layers import MapContext

BNG = "EPSG:27700"
X0, Y0 = 328_000, 386_000
XSS = "<script>alert(1)</script>"


def square_wards() -> gpd.GeoDataFrame:
    xs = X0 + np.array([0, 1, 2, 0, 1, 2]) * 1000 + 500
    ys = Y0 + np.array([0, 0, 0, 1, 1, 1]) * 1000 + 500
    geoms = gpd.points_from_xy(xs, ys).buffer(500, cap_style="square")
    marker = "fewer than 5"
    frame = pd.DataFrame(
        {
            "ward_name": ["Alpha", "Bravo", "Charlie", "Delta", "Echo", 'Fox & "Co" <b>'],
            "children": [1200, 2400, 800, 3100, 1500, 950],
            "imd_score": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
            "idaci_score": [0.1, 0.15, 0.2, 0.25, 0.3, 0.35],
            "lsoas": [4, 5, 3, 6, 4, 3],
            "lsoas_most_deprived_10pc": [0, 1, 0, 2, 3, 3],
            "children_in_need": [40, 60, marker, 120, 90, 70],
            "children_in_need_rate": [333.3, 250.0, marker, 387.1, 600.0, 736.8],
            "children_in_need_rate_lower": [238.1, 190.8, marker, 321.0, 482.5, 574.4],
            "children_in_need_rate_upper": [453.9, 321.8, marker, 462.9, 737.5, 930.9],
            "children_in_need_rate_unreliable": [False] * 6,
            "need_index": [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5],
            "need_rank": [6, 5, 4, 3, 2, 1],
            "need_rank_lo": [5, 4, 2, 2, 1, 1],
            "need_rank_hi": [6, 6, 5, 4, 3, 2],
            "p_top5": [0.0, 0.05, 0.4, 0.625, 0.95, 1.0],
            "cluster": [3, 3, 2, 2, 1, 1],
            "cluster_label": ["Lower need", "Lower need", "Middle", "Middle", "Highest", "Highest"],
            "locality": ["West", "West", "West", "East", "East", "East"],
            "hotspot": [
                "Low-Low",
                "Not significant",
                "Not significant",
                "High-High",
                "High-High",
                "High-High",
            ],
            "gap_score": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
            "dist_school_m": [420.0, 640.0, 1250.0, 300.0, 980.0, 2210.0],
        },
        index=pd.Index([f"E0500000{i}" for i in range(1, 7)], name="ward_code"),
    )
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=BNG)


def services() -> gpd.GeoDataFrame:
    rows = [
        ("s1", "Alpha Primary", "school", "Primary", False, 300, 200),
        ("s2", "Bravo High", "school", "Secondary", False, 1300, 700),
        ("s3", XSS, "school", "", False, 2300, 300),
        ("s4", "Delta Surgery", "gp_practice", "", False, 600, 1300),
        ("s5", "Echo Library", "library", "", False, 1600, 1500),
        ("s6", "Fox Family Hub", "family_hub", "", True, 2500, 1600),
    ]
    frame = pd.DataFrame(
        rows, columns=["service_id", "name", "type", "subtype", "pilot", "dx", "dy"]
    )
    geom = gpd.points_from_xy(X0 + frame.pop("dx"), Y0 + frame.pop("dy"))
    return gpd.GeoDataFrame(frame, geometry=geom, crs=BNG)


def sites() -> gpd.GeoDataFrame:
    frame = pd.DataFrame(
        {
            "site_id": ["s5", "s2"],
            "name": ["Echo Library", "Bravo High"],
            "type": ["library", "school"],
            "order": [1, 2],
            "children_covered": [4600, 3200],
            "need_covered": [2.5, 1.25],
            "wards_served": [["Echo", "Delta"], "Bravo, Alpha"],
        }
    )
    geom = gpd.points_from_xy([X0 + 1600, X0 + 1300], [Y0 + 1500, Y0 + 700])
    return gpd.GeoDataFrame(frame, geometry=geom, crs=BNG)


def text(*, synthetic: bool = True, stamp: str | None = None) -> MapContext:
    return MapContext(
        area="Testshire",
        period="2025-03-31",
        synthetic=synthetic,
        stamp=stamp,
        attribution=("Contains OS data © Crown copyright <and> database right 2025.",),
    )
