"""Service locations: GP practices, schools, libraries, family hubs, pilots...

Schema (see data/README.md): ``name``, ``type``, and a location given as ``lon``/``lat``
(WGS84), ``easting``/``northing`` (British National Grid) or ``postcode``. Optional:
``service_id``, ``capacity`` (places, pupils, hours: anything that scales with what a
site can offer), ``pilot`` (yes/no: an existing pilot site) with ``pilot_start`` and
``pilot_end`` (YYYY-MM-DD or DD/MM/YYYY; see needsmap.pilots), ``subtype``, and for
schools ``category`` (mainstream, special, independent, alternative_provision, college:
which may host a new site), ``phase``, ``pupils`` and ``fsm_share`` (0 to 1). A site
with no ``capacity`` but a ``pupils`` count takes its pupils as capacity.

Rows that cannot be placed are returned with the reason, never dropped silently.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from needsmap.errors import InputError, RepairWarning
from needsmap.sources._table import describe_rows, first_rows, read_table, rows_where, to_numbers
from needsmap.sources.postcodes import POSTCODE_PATTERN, normalise_postcode

BNG = "EPSG:27700"
NEAR_AREA_M = 5_000
"""Services up to this far outside the area are kept: families cross borders."""
SERVICE_COLUMNS = [
    "service_id",
    "name",
    "type",
    "subtype",
    "capacity",
    "pilot",
    "pilot_start",
    "pilot_end",
    "category",
    "phase",
    "pupils",
    "fsm_share",
    "postcode",
    "source",
]


@dataclass
class Services:
    placed: gpd.GeoDataFrame
    """One row per placed service, EPSG:27700, columns SERVICE_COLUMNS + geometry."""
    unplaced: pd.DataFrame
    """Rows that could not be placed: source, row, name, type, postcode, reason."""


_TRUE = {"yes", "y", "true", "1", "pilot"}
_FALSE = {"no", "n", "false", "0", ""}


def _read_one(path: Path, postcodes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = read_table(path, ("name", "type"), what="services")
    name = path.name
    has_lonlat = {"lon", "lat"} <= set(frame.columns)
    has_bng = {"easting", "northing"} <= set(frame.columns)
    has_pc = "postcode" in frame.columns
    if not (has_lonlat or has_bng or has_pc):
        msg = (
            f"{name}: no location columns; add 'postcode', or 'lon' and 'lat', or "
            f"'easting' and 'northing'. Found {sorted(frame.columns)}"
        )
        raise InputError(msg)
    blank_type = frame["type"] == ""
    if blank_type.any():
        msg = f"{name}: column 'type' is blank at {rows_where(blank_type)}"
        raise InputError(msg)
    if "pilot" in frame.columns:
        odd = ~frame["pilot"].str.lower().isin(_TRUE | _FALSE)
        if odd.any():
            msg = (
                f"{name}: column 'pilot' must be yes or no (or blank) at {rows_where(odd)}; "
                f"found {sorted(set(frame.loc[odd, 'pilot']))[:3]}"
            )
            raise InputError(msg)
    dates = {c: _dates(frame, c, name) for c in ("pilot_start", "pilot_end")}
    flagged = frame["pilot"].str.lower().isin(_TRUE) if "pilot" in frame else False
    stray = (dates["pilot_start"].notna() | dates["pilot_end"].notna()) & ~flagged
    if stray.any():
        msg = (
            f"{name}: 'pilot_start'/'pilot_end' given where column 'pilot' is not yes at "
            f"{rows_where(stray)}; mark those rows pilot = yes, or clear the dates"
        )
        raise InputError(msg)
    backwards = dates["pilot_end"] < dates["pilot_start"]
    if backwards.any():
        msg = f"{name}: 'pilot_end' is before 'pilot_start' at {rows_where(backwards)}"
        raise InputError(msg)
    n = len(frame)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if has_bng:
        e = to_numbers(frame, "easting", path, allow_blank=True, non_negative=False).to_numpy()
        nn = to_numbers(frame, "northing", path, allow_blank=True, non_negative=False).to_numpy()
        lonlat = (np.abs(e) <= 180) & (np.abs(nn) <= 90)
        if lonlat.any():
            msg = (
                f"{name}: columns 'easting' and 'northing' hold longitude/latitude at "
                f"{first_rows(lonlat, frame.index)}; put them in columns 'lon' and 'lat', "
                "or give British National Grid metres"
            )
            raise InputError(msg)
        x, y = np.where(np.isnan(x), e, x), np.where(np.isnan(y), nn, y)
    if has_lonlat:
        lon = to_numbers(frame, "lon", path, allow_blank=True, non_negative=False).to_numpy()
        lat = to_numbers(frame, "lat", path, allow_blank=True, non_negative=False).to_numpy()
        swapped = (np.abs(lon) > 40) & (np.abs(lat) < 40)
        if swapped.any():
            msg = (
                f"{name}: columns 'lon' and 'lat' look swapped at "
                f"{first_rows(swapped, frame.index)}; lon is about -3 in England, lat 50-56"
            )
            raise InputError(msg)
        off = (np.abs(lon) > 180) | (np.abs(lat) > 90)
        if off.any():
            msg = (
                f"{name}: columns 'lon' and 'lat' are not degrees at "
                f"{first_rows(off, frame.index)}; for metres use columns 'easting' and 'northing'"
            )
            raise InputError(msg)
        pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(BNG)
        todo = np.isnan(x) & ~np.isnan(lon) & ~np.isnan(lat)
        x[todo], y[todo] = pts.x.to_numpy()[todo], pts.y.to_numpy()[todo]
    reason = np.where(np.isnan(x), "no coordinates or postcode", "")
    pc = normalise_postcode(frame["postcode"]) if has_pc else pd.Series("", frame.index)
    if has_pc:
        need = np.isnan(x) & (frame["postcode"] != "").to_numpy()
        valid = pc.str.match(POSTCODE_PATTERN).to_numpy()
        reason = np.where(need & ~valid, "postcode malformed", reason)
        known = pc.isin(postcodes.index).to_numpy()
        reason = np.where(need & valid & ~known, "postcode not in the postcode file", reason)
        hit = need & valid & known
        found = postcodes.reindex(pc[hit])
        x[hit], y[hit] = found["easting"].to_numpy(), found["northing"].to_numpy()
        reason = np.where(hit, "", reason)
    numbers = {
        c: to_numbers(frame, c, path, allow_blank=True)
        if c in frame.columns
        else pd.Series(np.nan, frame.index)
        for c in ("capacity", "pupils", "fsm_share")
    }
    over = numbers["fsm_share"] > 1
    if over.any():
        msg = (
            f"{name}: column 'fsm_share' is the share of pupils eligible for free school "
            f"meals, from 0 to 1, but is above 1 at {rows_where(over)}; divide percentages by 100"
        )
        raise InputError(msg)
    capacity = numbers["capacity"].fillna(numbers["pupils"])
    ids = frame["service_id"] if "service_id" in frame.columns else pd.Series("", frame.index)
    ids = ids.where(ids != "", [f"{path.stem}-{i + 2}" for i in range(n)])
    out = pd.DataFrame(
        {
            "service_id": ids.to_numpy(),
            "name": frame["name"].to_numpy(),
            "type": service_types(frame["type"], name).to_numpy(),
            "subtype": frame["subtype"].to_numpy() if "subtype" in frame else "",
            "capacity": capacity.to_numpy(),
            "pilot": (
                frame["pilot"].str.lower().isin(_TRUE).to_numpy() if "pilot" in frame else False
            ),
            "pilot_start": dates["pilot_start"].to_numpy(),
            "pilot_end": dates["pilot_end"].to_numpy(),
            "category": _text(frame, "category")
            .str.lower()
            .str.replace(r"[^a-z0-9]+", "_", regex=True),
            "phase": _text(frame, "phase"),
            "pupils": numbers["pupils"].to_numpy(),
            "fsm_share": numbers["fsm_share"].to_numpy(),
            "postcode": pc.where(pc.str.len() > 1, "").to_numpy(),
            "source": name,
            "x": x,
            "y": y,
            "reason": reason,
            "row": frame.index.to_numpy() + 2,
        }
    )
    return out[out["reason"] == ""], out[out["reason"] != ""]


KNOWN_TYPES = ("family_hub", "childrens_centre", "pilot", "school", "gp_practice", "library")
"""Types the bundle and the default config use; a plural of one reads as it."""


def service_types(values: pd.Series, name: str) -> pd.Series:
    """Types as keys ('Family hub' -> family_hub); a plural of a known type is read as it.

    'Family hubs' would otherwise be a type of its own, and not existing provision.
    Each plural read as a singular is noted (a RepairWarning).
    """
    keys = values.str.lower().str.replace(r"[^a-z0-9]+", "_", regex=True)
    # matched as access.type_key does: letters and digits only
    known = {k.replace("_", ""): k for k in (*KNOWN_TYPES, *sorted(set(keys)))}
    plural = {
        k: known[compact[: -len(end)] + single]
        for k in set(keys)
        for compact in [k.replace("_", "")]
        for end, single in (("ies", "y"), ("es", ""), ("s", ""))
        if compact.endswith(end) and compact[: -len(end)] + single in known
    }
    for before, after in sorted(plural.items()):
        rows = rows_where(keys == before)
        warnings.warn(
            f"{name}: type '{before}' read as '{after}' at {rows}", RepairWarning, stacklevel=3
        )
    return keys.replace(plural)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    """An optional text column, blank where the file has none."""
    return frame[column] if column in frame.columns else pd.Series("", frame.index)


def _dates(frame: pd.DataFrame, column: str, name: str) -> pd.Series:
    """A date column (YYYY-MM-DD or DD/MM/YYYY; blank = none), NaT where absent."""
    if column not in frame.columns:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    text = frame[column].str.strip()
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    uk = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    out = iso.fillna(uk)
    bad = out.isna() & (text != "")
    if bad.any():
        msg = (
            f"{name}: column {column!r} is not a date at {rows_where(bad)} "
            f"(found {sorted(set(text[bad]))[:3]}); write dates as YYYY-MM-DD, e.g. 2023-09-01"
        )
        raise InputError(msg)
    return out.astype("datetime64[ns]")


def load_services(paths: Sequence[Path], postcodes: pd.DataFrame, area: BaseGeometry) -> Services:
    """Read service files, geocode postcodes, and keep what lies in or near the area.

    Parameters
    ----------
    paths
        Service CSVs; several files and types at once.
    postcodes
        Postcode lookup from :func:`needsmap.sources.load_postcodes`.
    area
        The area's outline in EPSG:27700; services more than 5 km outside are unplaced.
    """
    placed, unplaced = [], []
    for path in paths:
        ok, bad = _read_one(Path(path), postcodes)
        placed.append(ok)
        unplaced.append(bad)
    frame = pd.concat(placed, ignore_index=True)
    gone = pd.concat(unplaced, ignore_index=True)
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs=BNG)
    # Most services lie inside: only those outside need a distance (all of England's
    # outline against 24,740 schools: 1.3 s for every distance, 0.1 s this way).
    outside = ~shapely.contains_xy(area, frame["x"].to_numpy(), frame["y"].to_numpy())
    far = np.zeros(len(frame), dtype=bool)
    far[outside] = shapely.distance(points.geometry.to_numpy()[outside], area) > NEAR_AREA_M
    if far.any():
        away = frame.loc[far].assign(reason=f"more than {NEAR_AREA_M // 1000} km outside the area")
        gone = pd.concat([gone, away], ignore_index=True)
        points = points.loc[~far]
    _check_nothing_placed(paths, gone, points)
    dup = points["service_id"].duplicated(keep=False)
    if dup.any():
        first = points.loc[dup].iloc[0]
        same = points[points["service_id"] == first["service_id"]]
        where = " and ".join(
            f"{source} {describe_rows(rows - 2)}" for source, rows in same.groupby("source")["row"]
        )
        msg = (
            f"{first['source']}: column 'service_id' repeats {first['service_id']!r} at {where}; "
            "give each service its own id"
        )
        raise InputError(msg)
    points = points[[*SERVICE_COLUMNS, "geometry"]].reset_index(drop=True)
    gone = gone[["source", "row", "name", "type", "postcode", "reason"]].reset_index(drop=True)
    return Services(placed=points, unplaced=gone)


def _check_nothing_placed(
    paths: Sequence[Path], gone: pd.DataFrame, points: gpd.GeoDataFrame
) -> None:
    """A file none of whose rows can be placed is almost surely the wrong file."""
    for path in paths:
        name = Path(path).name
        if points["source"].eq(name).any():
            continue
        mine = gone[gone["source"] == name]
        if len(mine):
            why = mine["reason"].value_counts()
            reasons = ", ".join(f"{n} {r}" for r, n in why.items())
            msg = (
                f"{name}: none of its {len(mine)} service(s) could be placed ({reasons}); "
                "check the location columns and that the file is for this area"
            )
            raise InputError(msg)
