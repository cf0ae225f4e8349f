"""Small synthetic geographies of 1 km square wards, built in code (tobler's style)."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

BNG = "EPSG:27700"


def grid(cols: int, rows: int, *, extra: Sequence[tuple[float, float]] = ()) -> gpd.GeoDataFrame:
    """1 km square wards, column-major codes W<col><row> (W00, W01, ...; zero-padded to
    three digits each beyond 10 x 10); ``extra`` adds squares whose lower-left corners
    are given in km, coded X0, X1, ..."""
    cells = [(c, r) for c in range(cols) for r in range(rows)]
    width = 1 if max(cols, rows) <= 10 else 3
    codes = [f"W{c:0{width}d}{r:0{width}d}" for c, r in cells]
    corners = [(c * 1000.0, r * 1000.0) for c, r in cells]
    for i, (x, y) in enumerate(extra):
        codes.append(f"X{i}")
        corners.append((x * 1000, y * 1000))
    xs = np.array([x for x, _ in corners]) + 500
    ys = np.array([y for _, y in corners]) + 500
    geoms = gpd.points_from_xy(xs, ys).buffer(500, cap_style="square")
    return gpd.GeoDataFrame(
        {"ward_name": [f"Ward {c}" for c in codes], "col": [x // 1000 for x, _ in corners]},
        geometry=geoms,
        index=pd.Index(codes, name="ward_code"),
        crs=BNG,
    )
