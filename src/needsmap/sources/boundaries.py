"""LSOA polygons with their ward: the geography everything else is joined to."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from needsmap.errors import InputError, RepairWarning
from needsmap.sources._table import README_HINT, describe_rows

BNG = "EPSG:27700"
REQUIRED = ("lsoa_code", "lsoa_name", "ward_code", "ward_name")


def load_lsoa_boundaries(path: Path) -> gpd.GeoDataFrame:
    """Read LSOA polygons (any CRS) and return them in British National Grid.

    Checks: the file has a CRS, the columns in REQUIRED, unique LSOA codes in the 2021
    vintage, and non-empty valid polygons (invalid ones are repaired with a warning).
    """
    path = Path(path)
    if not path.exists():
        msg = f"{path}: boundary file not found"
        raise InputError(msg)
    try:
        with warnings.catch_warnings(record=True) as gdal:
            warnings.simplefilter("always")  # all recorded; sorted out below
            lsoa = gpd.read_file(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
        msg = (
            f"{path.name}: cannot be read as a geographic file; save it as GeoJSON or "
            "GeoPackage (a .geojson must be valid JSON)"
        )
        raise InputError(msg) from None
    except shapely.errors.ShapelyError as exc:
        said = " ".join(str(exc).split())[:160]
        msg = (
            f"{path.name}: a geometry cannot be built ({said}); a polygon ring needs at least "
            "4 points, the last equal to the first"
        )
        raise InputError(msg) from None
    broken = [w for w in gdal if issubclass(w.category, RuntimeWarning)]
    if broken:  # GDAL skipped something it could not read (usually a malformed geometry)
        said = " ".join(str(broken[0].message).split())[:160]
        msg = f"{path.name}: part of the file cannot be read ({said}); fix or re-export it"
        raise InputError(msg)
    for w in gdal:
        # Properties of mixed types come back as text, which is how they are read anyway.
        if not issubclass(w.category, RuntimeWarning) and "as JSON" not in str(w.message):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if not isinstance(lsoa, gpd.GeoDataFrame):
        msg = (
            f"{path.name}: has no geometry; give LSOA polygons as GeoJSON or GeoPackage "
            "(or a CSV with a WKT column and a known CRS)"
        )
        raise InputError(msg)
    if lsoa.empty:
        msg = f"{path.name}: has no features; it needs one polygon per 2021 LSOA"
        raise InputError(msg)
    missing = [c for c in REQUIRED if c not in lsoa.columns]
    if missing:
        msg = (
            f"{path.name}: missing column(s) {missing}; found {sorted(lsoa.columns)}. {README_HINT}"
        )
        raise InputError(msg)
    if lsoa.crs is None:
        msg = (
            f"{path.name}: the geometry has no coordinate reference system; "
            "save it with one (EPSG:4326 or EPSG:27700)"
        )
        raise InputError(msg)
    lsoa = lsoa[[*REQUIRED, "geometry"]].copy()
    for col in REQUIRED:
        text = lsoa[col].astype(object)
        lsoa[col] = text.where(text.notna(), "").astype(str).str.strip()
    lsoa["lsoa_code"] = lsoa["lsoa_code"].str.upper()
    lsoa["ward_code"] = lsoa["ward_code"].str.upper()
    dup = lsoa["lsoa_code"].duplicated(keep=False)
    if dup.any():
        msg = (
            f"{path.name}: column 'lsoa_code' repeats "
            f"{sorted(set(lsoa.loc[dup, 'lsoa_code']))[:5]} "
            f"at {describe_rows(np.flatnonzero(dup))}; give each LSOA one row"
        )
        raise InputError(msg)
    old = ~lsoa["lsoa_code"].str.match(r"^[EW]01\d{6}$")
    if old.any():
        msg = (
            f"{path.name}: column 'lsoa_code' has values that are not LSOA codes "
            f"{lsoa.loc[old, 'lsoa_code'].head(3).tolist()} at {describe_rows(np.flatnonzero(old))}"
        )
        raise InputError(msg)
    empty = lsoa.geometry.isna() | lsoa.geometry.is_empty
    if empty.any():
        msg = (
            f"{path.name}: empty geometry for {lsoa.loc[empty, 'lsoa_code'].head(5).tolist()} "
            f"at {describe_rows(np.flatnonzero(empty))}; every LSOA needs its polygon"
        )
        raise InputError(msg)
    kinds = lsoa.geometry.geom_type
    wrong = ~kinds.isin(["Polygon", "MultiPolygon"])
    if wrong.any():
        msg = (
            f"{path.name}: geometry must be polygons, found {sorted(set(kinds[wrong]))} for "
            f"{lsoa.loc[wrong, 'lsoa_code'].head(3).tolist()} at "
            f"{describe_rows(np.flatnonzero(wrong))}; give each LSOA its boundary polygon"
        )
        raise InputError(msg)
    minx, miny, maxx, maxy = lsoa.total_bounds
    if lsoa.crs.is_geographic and (min(minx, miny) < -180 or max(maxx, maxy) > 180):
        msg = (
            f"{path.name}: the file says {lsoa.crs.to_string()} but its coordinates are not "
            "longitude/latitude (they look like metres); save it with its real CRS, "
            "e.g. EPSG:27700 in a GeoPackage"
        )
        raise InputError(msg)
    lsoa = lsoa.to_crs(BNG)
    invalid = ~lsoa.geometry.is_valid
    if invalid.any():
        warnings.warn(
            f"{path.name}: repaired {int(invalid.sum())} invalid polygon(s) "
            f"({lsoa.loc[invalid, 'lsoa_code'].head(5).tolist()}) with make_valid",
            RepairWarning,
            stacklevel=2,
        )
        lsoa.loc[invalid, "geometry"] = lsoa.loc[invalid, "geometry"].make_valid(
            method="structure", keep_collapsed=False
        )
    return lsoa.sort_values("lsoa_code", ignore_index=True)
