"""LSOA -> ward: each LSOA's share of each ward, weighted aggregation, matching ward references.

Wards are drawn with their own boundaries (ONS ward polygons); LSOAs carry the data. An
LSOA's contribution to the wards it overlaps is explicit, one row per LSOA and ward in
a shares table (``lsoa_ward_shares``), and every count, population or weight that
reaches a ward is the LSOA's value times its share.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from needsmap.errors import InputError

SHARE_COLUMNS = ("lsoa_code", "ward_code", "share", "method")
MIN_SHARE = 0.05
"""Shares below this are slivers (generalised boundaries that do not quite agree):
dropped, and the LSOA's other shares scaled back up to 1."""
POSTCODE_REACH_M = 250.0
"""A postcode outside every ward polygon (a generalised coastline) belongs to the
nearest ward this close."""


def ward_polygons(lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Wards as the union of their best-fit LSOAs (``ward_code`` of each LSOA).

    For synthetic geographies and areas without ward boundaries; a bundle's real ward
    polygons are in its ``wards.geojson``. Returns one row per ward, indexed by
    ``ward_code``, with ``ward_name`` and geometry, sorted by code.
    """
    frame = lsoa[["ward_code", "ward_name", "geometry"]]
    # The coverage union is fast but silently wrong where neighbours overlap or miss
    # each other's vertices (it is checked first: a council's LSOAs in a few ms); such
    # a file is dissolved by the general union, slower but exact.
    clean = shapely.coverage_is_valid(frame.geometry.to_numpy())
    wards = frame.dissolve(by="ward_code", aggfunc="first", method="coverage" if clean else "unary")
    return wards.sort_index()


def outline(wards: gpd.GeoDataFrame) -> BaseGeometry:
    """The area's outline: the union of its ward polygons (fast where they tile it)."""
    clean = shapely.coverage_is_valid(wards.geometry.to_numpy())
    return wards.union_all(method="coverage" if clean else "unary")


def aggregate(
    lsoa: pd.DataFrame,
    *,
    sums: tuple[str, ...] = (),
    weighted: Mapping[str, str] | None = None,
    shares: pd.DataFrame | None = None,
    by: str = "ward_code",
) -> pd.DataFrame:
    """Aggregate LSOA rows to wards.

    Parameters
    ----------
    lsoa
        One row per LSOA: ``lsoa_code``, and a ``by`` column unless ``shares`` is given.
    sums
        Columns summed (counts, populations), each LSOA's value split by its shares:
        totals are conserved.
    weighted
        Column -> weight column. Each becomes the weighted mean of the LSOA values, an
        LSOA's weight in a ward being its weight times its share, e.g.
        ``{"imd_score": "population"}``. Scores are averaged this way; ranks never are.
    shares
        ``lsoa_code, ward_code, share`` (:func:`lsoa_ward_shares`); without it each LSOA
        belongs wholly to its ``by`` value.

    Returns
    -------
    pd.DataFrame
        One row per ward, indexed by ``by``, sorted.
    """
    weighted = dict(weighted or {})
    frame = pd.DataFrame(lsoa)
    share: pd.Series | float = 1.0
    if shares is not None:
        absent = pd.Index(frame["lsoa_code"]).difference(pd.Index(shares["lsoa_code"]))
        if len(absent):
            msg = (
                f"LSOA -> ward shares: no row for {len(absent)} LSOA(s), e.g. "
                f"{list(absent[:3])}; every LSOA needs its share of at least one ward "
                "(rebuild the shares with needsmap.geography.lsoa_ward_shares)"
            )
            raise InputError(msg)
        frame = frame.drop(columns=by, errors="ignore").merge(
            shares[["lsoa_code", "ward_code", "share"]].rename(columns={"ward_code": by}),
            on="lsoa_code",
        )
        share = frame["share"].astype(float)
    keys = frame[by]
    out = (
        frame[list(sums)].astype(float).mul(share, axis=0).groupby(keys, sort=True).sum()
        if sums
        else pd.DataFrame(index=pd.Index(sorted(keys.unique()), name=by))
    )
    for col, wcol in weighted.items():
        w = frame[wcol].astype(float) * share
        num = (frame[col].astype(float) * w).groupby(keys).sum()
        den = w.groupby(keys).sum()
        out[col] = num / den.replace(0, np.nan)
    return out


def _ward_frame(wards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Ward polygons with a ``ward_code`` column, whether it was the index or a column."""
    if "ward_code" in wards.columns:
        frame = wards[["ward_code", "geometry"]]
    else:
        frame = gpd.GeoDataFrame(
            {"ward_code": wards.index.astype(str)}, geometry=wards.geometry.to_numpy()
        )
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry="geometry", crs=wards.crs)


def _postcode_shares(
    lsoa: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, postcodes: pd.DataFrame
) -> pd.DataFrame:
    """Share of each LSOA's postcodes in each ward (LSOAs with no postcode: no rows)."""
    pc = pd.DataFrame(
        {
            "easting": pd.to_numeric(postcodes["easting"], errors="coerce").to_numpy(),
            "northing": pd.to_numeric(postcodes["northing"], errors="coerce").to_numpy(),
            "lsoa_code": postcodes.get("lsoa_code", pd.Series("", index=postcodes.index))
            .fillna("")
            .astype(str)
            .str.upper()
            .to_numpy(),
        }
    )
    pc = pc.loc[np.isfinite(pc["easting"]) & np.isfinite(pc["northing"])].reset_index(drop=True)
    points = gpd.GeoDataFrame(
        pc, geometry=gpd.points_from_xy(pc["easting"], pc["northing"]), crs=wards.crs
    )
    blank = points["lsoa_code"] == ""
    if blank.any():  # a postcode file without LSOAs: each falls in the LSOA polygon it is in
        inside = gpd.sjoin(
            points.loc[blank, ["geometry"]], lsoa[["lsoa_code", "geometry"]], predicate="within"
        )
        inside = inside.loc[~inside.index.duplicated(keep="first")]
        points.loc[inside.index, "lsoa_code"] = inside["lsoa_code"]
    points = points.loc[points["lsoa_code"].isin(set(lsoa["lsoa_code"]))]
    placed = gpd.sjoin_nearest(
        points[["lsoa_code", "geometry"]],
        wards,
        how="inner",
        max_distance=POSTCODE_REACH_M,
    )
    placed = placed.loc[~placed.index.duplicated(keep="first")]  # on a shared edge: first
    counts = placed.groupby(["lsoa_code", "ward_code"]).size().rename("n").reset_index()
    counts["share"] = counts["n"] / counts.groupby("lsoa_code")["n"].transform("sum")
    return counts.assign(method="postcodes")[list(SHARE_COLUMNS)]


def _area_shares(lsoa: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> pd.DataFrame:
    """Share of each LSOA's area in each ward (LSOAs outside every ward: no rows)."""
    pairs = gpd.sjoin(lsoa[["lsoa_code", "geometry"]], wards, predicate="intersects")
    left = lsoa.geometry.loc[pairs.index].to_numpy()
    right = wards.geometry.loc[pairs["index_right"]].to_numpy()
    area = gpd.GeoSeries(left).intersection(gpd.GeoSeries(right)).area.to_numpy()
    frame = pd.DataFrame(
        {"lsoa_code": pairs["lsoa_code"].to_numpy(), "ward_code": pairs["ward_code"].to_numpy()}
    )
    frame["share"] = area
    frame = frame.loc[area > 0]
    frame["share"] /= frame.groupby("lsoa_code")["share"].transform("sum")
    return frame.assign(method="area")[list(SHARE_COLUMNS)]


def lsoa_ward_shares(
    lsoa: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    *,
    postcodes: pd.DataFrame | None = None,
    min_share: float = MIN_SHARE,
) -> pd.DataFrame:
    """How much of each LSOA belongs to each ward.

    Each LSOA is split among the wards it overlaps, by the first of these that applies:

    1. ``postcodes``: the share of the LSOA's postcodes that fall in each ward (a
       postcode is about 15 addresses, so this follows where people live);
    2. ``area``: the share of the LSOA's area inside each ward (no postcodes given, or
       none in this LSOA);
    3. ``best_fit``: the whole LSOA to one ward, when it overlaps none: its ``ward_code``
       if ``lsoa`` has that column (the ONS best-fit lookup) and it is one of ``wards``,
       else the nearest ward.

    Shares below ``min_share`` are slivers where two generalised boundaries do not quite
    agree: they are dropped and the LSOA's other shares scaled up to sum to 1 (an LSOA
    keeps its largest share whatever its size).

    Parameters
    ----------
    lsoa
        One row per LSOA: ``lsoa_code`` and polygon geometry, in a projected CRS
        (EPSG:27700); ``ward_code`` optional (best fit).
    wards
        Ward polygons in the same CRS, indexed by ``ward_code`` or with that column.
    postcodes
        ``easting``, ``northing`` (same CRS) and optionally ``lsoa_code`` (blank or
        absent: the LSOA polygon the postcode falls in).
    min_share
        Smallest share kept, between 0 and 0.5.

    Returns
    -------
    pd.DataFrame
        ``lsoa_code, ward_code, share, method``, sorted by LSOA and ward; each LSOA's
        shares sum to 1.
    """
    if lsoa.crs is None or wards.crs is None or lsoa.crs != wards.crs or lsoa.crs.is_geographic:
        msg = (
            f"lsoa_ward_shares: LSOAs ({lsoa.crs}) and wards ({wards.crs}) must share one "
            "projected CRS, e.g. both in EPSG:27700"
        )
        raise InputError(msg)
    if not 0 <= min_share <= 0.5:
        msg = f"lsoa_ward_shares: min_share must be between 0 and 0.5, got {min_share}"
        raise InputError(msg)
    zones = _ward_frame(wards)
    parts = [_postcode_shares(lsoa, zones, postcodes)] if postcodes is not None else []
    done = set(parts[0]["lsoa_code"]) if parts else set()
    rest = lsoa.loc[~lsoa["lsoa_code"].isin(done)]
    parts.append(_area_shares(rest, zones))
    done |= set(parts[-1]["lsoa_code"])
    rest = lsoa.loc[~lsoa["lsoa_code"].isin(done)]
    if len(rest):
        nearest = gpd.sjoin_nearest(rest[["lsoa_code", "geometry"]], zones, how="left")
        nearest = nearest.loc[~nearest.index.duplicated(keep="first"), "ward_code"]
        if "ward_code" in rest.columns:
            lookup = rest["ward_code"].astype(str)
            nearest = lookup.where(lookup.isin(set(zones["ward_code"])), nearest)
        parts.append(
            pd.DataFrame(
                {
                    "lsoa_code": rest["lsoa_code"].to_numpy(),
                    "ward_code": nearest.reindex(rest.index).to_numpy(),
                    "share": 1.0,
                    "method": "best_fit",
                }
            )
        )
    shares = pd.concat(parts, ignore_index=True)
    largest = shares["share"] == shares.groupby("lsoa_code")["share"].transform("max")
    shares = shares.loc[(shares["share"] >= min_share) | largest]
    shares = shares.sort_values(["lsoa_code", "share", "ward_code"], ascending=[True, False, True])
    shares = shares.drop_duplicates(["lsoa_code", "ward_code"])
    shares["share"] = shares["share"] / shares.groupby("lsoa_code")["share"].transform("sum")
    return shares.sort_values(["lsoa_code", "ward_code"], ignore_index=True)


def main_ward(shares: pd.DataFrame) -> pd.Series:
    """Each LSOA's ward with the largest share (ties: the lower code), by ``lsoa_code``."""
    top = shares.sort_values(["lsoa_code", "share", "ward_code"], ascending=[True, False, True])
    top = top.drop_duplicates("lsoa_code")
    return top.set_index("lsoa_code")["ward_code"]


def ward_coverage(
    lsoa: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, shares: pd.DataFrame
) -> pd.Series:
    """Share of each ward's area covered by the LSOAs that contribute to it.

    1 = every part of the ward lies in an LSOA with a share in it; a low value means
    part of the ward is drawn but gets its data from no LSOA (as where an LSOA's
    postcodes all fall in a neighbouring ward), and 0 that no LSOA contributes at all.

    Returns
    -------
    pd.Series
        ``coverage`` by ``ward_code``, in the order of ``wards``.
    """
    zones = _ward_frame(wards).set_index("ward_code").geometry
    polys = lsoa.set_index("lsoa_code").geometry
    used = shares.loc[shares["lsoa_code"].isin(polys.index) & shares["ward_code"].isin(zones.index)]
    parts = polys.loc[used["lsoa_code"]].to_numpy()
    whole = zones.loc[used["ward_code"]].to_numpy()
    shapely.prepare(whole)
    inside = shapely.covers(whole, parts)  # most LSOAs: far cheaper than intersecting
    area = shapely.area(parts)
    area[~inside] = shapely.area(shapely.intersection(parts[~inside], whole[~inside]))
    area = pd.Series(area).groupby(used["ward_code"].to_numpy()).sum()
    out = (area.reindex(zones.index, fill_value=0.0) / zones.area).clip(upper=1.0)
    return out.rename("coverage")


def _key(text: str) -> str:
    """Case-, space- and punctuation-insensitive key: 'St. James ' ~ 'st james'."""
    text = text.lower().replace("&", " and ")
    return re.sub(r"[^a-z0-9]+", "", text)


@dataclass
class WardMatch:
    """Result of matching ward references (codes or names) to the area's wards."""

    codes: pd.Series
    """Matched ward code per input row; NaN where unmatched."""
    unmatched: list[str] = field(default_factory=list)
    by_name: dict[str, str] = field(default_factory=dict)
    """Input names matched to a code, for the run report."""
    repaired: int = 0
    """Codes matched only after trimming spaces or changing case."""


def match_wards(values: pd.Series, wards: pd.Series) -> WardMatch:
    """Match ward codes or names to ``wards`` (ward_name indexed by ward_code).

    Codes match after trimming and upper-casing; names match case- and
    punctuation-insensitively ("Bidston & St. James" finds "Bidston and St James").
    """
    raw = values.astype(str)
    upper = raw.str.strip().str.upper()
    codes = upper.where(upper.isin(wards.index))
    repaired = int((codes.notna() & (raw != upper)).sum())
    by_key = {_key(str(name)): str(code) for code, name in wards.items()}
    by_name: dict[str, str] = {}
    for i in codes.index[codes.isna()]:
        code = by_key.get(_key(raw[i]))
        if code is not None:
            codes[i] = code
            by_name[raw[i]] = code
    unmatched = sorted(set(raw[codes.isna()]))
    return WardMatch(codes=codes, unmatched=unmatched, by_name=by_name, repaired=repaired)
