"""Pilots as data: where each runs, which wards it serves, and when.

A pilot comes from the config's ``pilots`` list (a site and/or wards, a start date, an
optional end and description) or from a services file row marked ``pilot = yes`` (its
site is the service; ``pilot_start`` and ``pilot_end`` give its dates). Each pilot

- counts as **existing provision** while it runs (from ``start`` to ``end``, at the
  date ``as_of``): its site covers its catchment, and wards named in ``wards`` count as
  reached as a whole;
- is drawn on every map;
- serves a set of wards (``wards``, or the ward its site lies in), which
  :attr:`Pilots.wards` gives as a tidy table ``pilot, ward_code, start, end`` for
  comparing piloted and non-piloted areas.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from needsmap.access import service_wards
from needsmap.config import Pilot
from needsmap.errors import ConfigError
from needsmap.geography import match_wards
from needsmap.sources.postcodes import normalise_postcode

log = logging.getLogger(__name__)

BNG = "EPSG:27700"
SITE_REACH_M = 5_000
"""A pilot site may lie this far outside the area (families cross borders); its ward
is then the nearest."""
PILOT_COLUMNS = [
    "pilot",
    "start",
    "end",
    "description",
    "service_id",
    "wards",
    "wards_given",
    "source",
    "active",
]
WARD_COLUMNS = ["pilot", "ward_code", "start", "end"]


@dataclass
class Pilots:
    table: gpd.GeoDataFrame
    """One row per pilot (PILOT_COLUMNS; EPSG:27700 point, empty for a pilot given by
    wards only). ``wards`` lists its ward codes joined by "; "; ``wards_given`` is True
    when they were named (they then count as reached as a whole); ``active`` is True
    when it runs on ``as_of``."""
    wards: pd.DataFrame
    """Tidy: one row per pilot and ward it serves (WARD_COLUMNS); ``end`` NaT if open."""
    as_of: dt.date
    """The date at which ``active`` is judged."""
    notes: list[str] = field(default_factory=list)

    @property
    def sites(self) -> gpd.GeoDataFrame:
        """Pilots with a site (for the maps)."""
        return self.table.loc[~self.table.geometry.is_empty & self.table.geometry.notna()]

    @property
    def active_sites(self) -> gpd.GeoDataFrame:
        """Sites of the pilots running on ``as_of``: existing provision."""
        sites = self.sites
        return sites.loc[sites["active"]]

    @property
    def active_wards(self) -> list[str]:
        """Ward codes named by running pilots: their children count as reached."""
        rows = self.table.loc[self.table["active"] & self.table["wards_given"], "wards"]
        return sorted({w for text in rows for w in text.split("; ") if w})

    @property
    def service_ids(self) -> set[str]:
        """Services that are pilot sites (never candidates for a new site)."""
        return {s for s in self.table["service_id"] if s}

    def describe(self) -> str:
        """One line for validate and the run notes."""
        if self.table.empty:
            return "pilots: none given (config key 'pilots', or pilot = yes in a services file)"
        running = int(self.table["active"].sum())
        return (
            f"pilots: {len(self.table)} ({running} running on {self.as_of.isoformat()}): "
            + "; ".join(f"{r.pilot} {_when(r.start, r.end)}" for r in self.table.itertuples())
        )


def _when(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """'from 2023-09-01 to 2024-07-31', 'from 2023-09-01', or 'start not given'."""
    if pd.isna(start):
        return "(start not given)"
    return f"from {start:%Y-%m-%d}" + (f" to {end:%Y-%m-%d}" if pd.notna(end) else "")


def _site_point(
    pilot: Pilot, key: str, services: gpd.GeoDataFrame, postcodes: pd.DataFrame
) -> tuple[float, float, str]:
    """(easting, northing, service_id) of a config pilot's site."""
    site = dict(pilot.site or {})
    if "service" in site:
        ref = str(site["service"]).strip()
        hit = services.loc[services["service_id"] == ref]
        if hit.empty:
            hit = services.loc[services["name"].str.casefold() == ref.casefold()]
        if len(hit) != 1:
            found = "no service" if hit.empty else f"{len(hit)} services"
            example = f" (e.g. {services['service_id'].iloc[0]})" if len(services) else ""
            msg = (
                f"{key}.site: {found} with service_id or name {ref!r}; give a service_id "
                f"from the services files{example} or a postcode"
            )
            raise ConfigError(msg)
        point = hit.geometry.iloc[0]
        return float(point.x), float(point.y), str(hit["service_id"].iloc[0])
    if "postcode" in site:
        pc = normalise_postcode(pd.Series([str(site["postcode"])])).iloc[0]
        if pc not in postcodes.index:
            msg = (
                f"{key}.site: postcode {site['postcode']!r} is not in the area's postcode "
                "file; check it, or give {lon, lat} or {easting, northing}"
            )
            raise ConfigError(msg)
        found = postcodes.loc[pc]
        return float(found["easting"]), float(found["northing"]), ""
    try:
        if "lon" in site:
            lon, lat = float(site["lon"]), float(site["lat"])
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError
            pt = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs="EPSG:4326").to_crs(BNG)
            return float(pt.x.iloc[0]), float(pt.y.iloc[0]), ""
        return float(site["easting"]), float(site["northing"]), ""
    except (TypeError, ValueError):
        msg = (
            f"{key}.site: {site} is not a location; give lon/lat in degrees or "
            "easting/northing in metres"
        )
        raise ConfigError(msg) from None


def _config_rows(
    pilots: Sequence[Pilot],
    services: gpd.GeoDataFrame,
    postcodes: pd.DataFrame,
    names: pd.Series,
) -> list[dict[str, object]]:
    rows = []
    for i, p in enumerate(pilots, start=1):
        key = f"pilots[{i}] ({p.name})"
        x, y, service_id = np.nan, np.nan, ""
        if p.site is not None:
            x, y, service_id = _site_point(p, key, services, postcodes)
        codes: list[str] = []
        if p.wards:
            match = match_wards(pd.Series(list(p.wards)), names)
            if match.unmatched:
                msg = (
                    f"{key}.wards: {match.unmatched} not wards of this area; use codes or "
                    f"names such as {names.index[0]} or {names.iloc[0]}"
                )
                raise ConfigError(msg)
            codes = list(dict.fromkeys(match.codes))
        rows.append(
            {
                "pilot": p.name,
                "start": pd.Timestamp(p.start),
                "end": pd.Timestamp(p.end) if p.end else pd.NaT,
                "description": p.description,
                "service_id": service_id,
                "wards": "; ".join(codes),
                "wards_given": bool(codes),
                "source": "config",
                "x": x,
                "y": y,
            }
        )
    return rows


def _service_rows(services: gpd.GeoDataFrame, taken: set[str]) -> list[dict[str, object]]:
    """Services marked pilot = yes that the config does not already describe."""
    flagged = services.loc[services["pilot"].astype(bool) & ~services["service_id"].isin(taken)]
    rows = []
    for _, s in flagged.iterrows():
        rows.append(
            {
                "pilot": s["name"],
                "start": s.get("pilot_start", pd.NaT),
                "end": s.get("pilot_end", pd.NaT),
                "description": str(s.get("subtype", "") or ""),
                "service_id": s["service_id"],
                "wards": "",
                "wards_given": False,
                "source": s.get("source", ""),
                "x": s.geometry.x,
                "y": s.geometry.y,
            }
        )
    return rows


def provision_date(as_of: dt.date | None, periods: Sequence[str]) -> tuple[dt.date, str]:
    """The date existing provision is counted on, and where that date comes from.

    ``siting.as_of`` when the config sets it; else the caseload's latest dated period, so
    a rerun on another day counts the same pilots; else the day of the run.

    >>> provision_date(None, ["2024-03-31", "2025-03-31"])
    (datetime.date(2025, 3, 31), "the caseload's latest date")
    """
    if as_of is not None:
        return as_of, "siting.as_of"
    dated = pd.to_datetime(pd.Series(list(periods), dtype=object), errors="coerce")
    if dated.notna().any():
        return dated.max().date(), "the caseload's latest date"
    return dt.date.today(), "the day of the run: the caseload has no dated period; set siting.as_of"


def load_pilots(
    pilots: Sequence[Pilot],
    services: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    postcodes: pd.DataFrame,
    *,
    as_of: dt.date | None = None,
) -> Pilots:
    """Place the config's pilots and the services marked as pilots, and list their wards.

    Parameters
    ----------
    pilots
        The config's ``pilots``.
    services
        Placed services (EPSG:27700) with ``service_id``, ``name``, ``pilot`` and, when a
        file gave them, ``pilot_start`` and ``pilot_end``.
    wards
        Ward polygons indexed by ``ward_code`` with ``ward_name`` (EPSG:27700).
    postcodes
        The area's postcode lookup (``easting``, ``northing``), indexed by postcode.
    as_of
        The date at which a pilot counts as running (default: today).

    Returns
    -------
    Pilots
        One row per pilot and the tidy pilot-ward table.
    """
    as_of = as_of or dt.date.today()
    names = wards["ward_name"]
    rows = _config_rows(pilots, services, postcodes, names)
    rows += _service_rows(services, {str(r["service_id"]) for r in rows if r["service_id"]})
    frame = pd.DataFrame(rows, columns=[*PILOT_COLUMNS[:-1], "x", "y"])
    frame["start"] = pd.to_datetime(frame["start"])
    frame["end"] = pd.to_datetime(frame["end"])
    has_site = frame["x"].notna().to_numpy()
    geometry = gpd.GeoSeries(
        [
            gpd.points_from_xy([x], [y])[0] if ok else None
            for x, y, ok in zip(frame["x"], frame["y"], has_site, strict=True)
        ],
        crs=BNG,
    )
    table = gpd.GeoDataFrame(frame.drop(columns=["x", "y"]), geometry=geometry, crs=BNG)
    notes: list[str] = []
    if has_site.any():
        at = service_wards(table.loc[has_site], wards, tolerance=SITE_REACH_M)
        far = at.isna()
        if far.any():
            msg = (
                f"pilots: {list(table.loc[at.index[far], 'pilot'])} more than "
                f"{SITE_REACH_M // 1000} km outside the area; check the site"
            )
            raise ConfigError(msg)
        derived = ~table.loc[has_site, "wards_given"]
        table.loc[at.index[derived.to_numpy()], "wards"] = at[derived.to_numpy()]
    when = pd.Timestamp(as_of)
    undated = table["start"].isna()
    if undated.any():
        notes.append(
            f"pilots: {list(table.loc[undated, 'pilot'])} have no start date (add a "
            "pilot_start column to the services file); they count as running, and are left "
            "out of comparisons over time"
        )
    table["active"] = (undated | (table["start"] <= when)) & (
        table["end"].isna() | (table["end"] >= when)
    )
    tidy = (
        table.assign(ward_code=table["wards"].str.split("; "))
        .explode("ward_code")
        .loc[lambda f: f["ward_code"].fillna("") != "", WARD_COLUMNS]
        .reset_index(drop=True)
    )
    result = Pilots(table=table[[*PILOT_COLUMNS, "geometry"]], wards=tidy, as_of=as_of, notes=notes)
    log.info("%s", result.describe())
    return result


def with_pilots(services: gpd.GeoDataFrame, pilots: Pilots) -> gpd.GeoDataFrame:
    """The services for the maps: each pilot marked (``pilot`` True, its dates in
    ``subtype``), and pilots placed by postcode or coordinates added as ``type`` pilot."""
    out = services.copy()
    sites = pilots.sites
    if sites.empty:
        return out
    when = {
        str(r.service_id or r.pilot): f"pilot {_when(r.start, r.end)}"
        + ("" if r.active else " (not running now)")
        for r in sites.itertuples()
    }
    linked = out["service_id"].isin(list(when))
    out.loc[linked, "pilot"] = True
    out.loc[linked, "subtype"] = [
        " · ".join(x for x in (str(sub or ""), when[sid]) if x)
        for sub, sid in zip(out.loc[linked, "subtype"], out.loc[linked, "service_id"], strict=True)
    ]
    own = sites.loc[sites["service_id"] == ""]
    if len(own):
        extra = gpd.GeoDataFrame(
            {
                "service_id": "pilot: " + own["pilot"],
                "name": own["pilot"].to_numpy(),
                "type": "pilot",
                "subtype": [when[p] for p in own["pilot"]],
                "pilot": True,
            },
            geometry=own.geometry.to_numpy(),
            crs=BNG,
        )
        out = pd.concat([out, extra], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=BNG)
