"""LSOA and ward polygons: the geography everything else is joined to and drawn on."""

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
WARD_REQUIRED = ("ward_code", "ward_name")


def load_lsoa_boundaries(path: Path) -> gpd.GeoDataFrame:
    """Read LSOA polygons (any CRS) and return them in British National Grid.

    Checks: the file has a CRS, the columns in REQUIRED, unique LSOA codes in the 2021
    vintage, and non-empty valid polygons (invalid ones are repaired with a warning).
    ``ward_code``/``ward_name`` are the best-fit ward (the ONS lookup).
    """
    lsoa = _read_polygons(path, REQUIRED, key="lsoa_code", pattern=r"^[EW]01\d{6}$", what="LSOA")
    return lsoa


def load_ward_boundaries(path: Path) -> gpd.GeoDataFrame:
    """Read ward polygons (any CRS): ``ward_name`` and geometry in British National Grid,
    indexed by ``ward_code`` and sorted. Checked as LSOA polygons are."""
    wards = _read_polygons(
        path, WARD_REQUIRED, key="ward_code", pattern=r"^[EWSN]05\d{6}$", what="ward"
    )
    return wards.set_index("ward_code").sort_index()


def _read_polygons(
    path: Path, required: tuple[str, ...], *, key: str, pattern: str, what: str
) -> gpd.GeoDataFrame:
    """Read a polygon file with the ``required`` text columns, one row per ``key`` value
    matching ``pattern``, and return it in British National Grid (EPSG:27700)."""
    path = Path(path)
    if not path.exists():
        msg = f"{path}: boundary file not found"
        raise InputError(msg)
    try:
        with warnings.catch_warnings(record=True) as gdal:
            warnings.simplefilter("always")  # all recorded; sorted out below
            frame = gpd.read_file(path)
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
    if not isinstance(frame, gpd.GeoDataFrame):
        msg = (
            f"{path.name}: has no geometry; give {what} polygons as GeoJSON or GeoPackage "
            "(or a CSV with a WKT column and a known CRS)"
        )
        raise InputError(msg)
    if frame.empty:
        msg = f"{path.name}: has no features; it needs one polygon per {what}"
        raise InputError(msg)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        found = sorted(frame.columns)
        msg = f"{path.name}: missing column(s) {missing}; found {found}. {README_HINT}"
        raise InputError(msg)
    if frame.crs is None:
        msg = (
            f"{path.name}: the geometry has no coordinate reference system; "
            "save it with one (EPSG:4326 or EPSG:27700)"
        )
        raise InputError(msg)
    frame = frame[[*required, "geometry"]].copy()
    for col in required:
        text = frame[col].astype(object)
        frame[col] = text.where(text.notna(), "").astype(str).str.strip()
    for col in required:
        if col.endswith("_code"):
            frame[col] = frame[col].str.upper()
    dup = frame[key].duplicated(keep=False)
    if dup.any():
        msg = (
            f"{path.name}: column '{key}' repeats "
            f"{sorted(set(frame.loc[dup, key]))[:5]} "
            f"at {describe_rows(np.flatnonzero(dup))}; give each {what} one row"
        )
        raise InputError(msg)
    old = ~frame[key].str.match(pattern)
    if old.any():
        msg = (
            f"{path.name}: column '{key}' has values that are not {what} codes "
            f"{frame.loc[old, key].head(3).tolist()} at {describe_rows(np.flatnonzero(old))}"
        )
        raise InputError(msg)
    empty = frame.geometry.isna() | frame.geometry.is_empty
    if empty.any():
        msg = (
            f"{path.name}: empty geometry for {frame.loc[empty, key].head(5).tolist()} "
            f"at {describe_rows(np.flatnonzero(empty))}; every {what} needs its polygon"
        )
        raise InputError(msg)
    kinds = frame.geometry.geom_type
    wrong = ~kinds.isin(["Polygon", "MultiPolygon"])
    if wrong.any():
        msg = (
            f"{path.name}: geometry must be polygons, found {sorted(set(kinds[wrong]))} for "
            f"{frame.loc[wrong, key].head(3).tolist()} at "
            f"{describe_rows(np.flatnonzero(wrong))}; give each {what} its boundary polygon"
        )
        raise InputError(msg)
    minx, miny, maxx, maxy = frame.total_bounds
    if frame.crs.is_geographic and (min(minx, miny) < -180 or max(maxx, maxy) > 180):
        msg = (
            f"{path.name}: the file says {frame.crs.to_string()} but its coordinates are not "
            "longitude/latitude (they look like metres); save it with its real CRS, "
            "e.g. EPSG:27700 in a GeoPackage"
        )
        raise InputError(msg)
    frame = frame.to_crs(BNG)
    invalid = ~frame.geometry.is_valid
    if invalid.any():
        warnings.warn(
            f"{path.name}: repaired {int(invalid.sum())} invalid polygon(s) "
            f"({frame.loc[invalid, key].head(5).tolist()}) with make_valid",
            RepairWarning,
            stacklevel=2,
        )
        frame.loc[invalid, "geometry"] = frame.loc[invalid, "geometry"].make_valid(
            method="structure", keep_collapsed=False
        )
    return frame
