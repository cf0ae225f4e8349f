"""Reach to services: demand points, distances, two-step floating catchments, gap score.

How it is measured (also in README.md, *Access and gaps*):

- **Demand points**: one per 2021 LSOA, at the mean easting/northing of the postcodes
  inside it (each postcode counted once: a postcode is a cluster of about 15 addresses,
  so the mean follows where people live rather than the polygon's shape). An LSOA with no
  postcode falls back to its polygon's representative point. Each point carries the
  LSOA's children aged 0-17.
- **Cost**: straight-line distance in British National Grid metres by default, or the
  minutes of a user-supplied travel-time matrix (``lsoa_code, service_id, minutes``).
- **Per ward and service type** ``t``: ``dist_{t}_m``, the child-weighted mean
  straight-line distance from each LSOA's demand point to its nearest service of type
  ``t``; ``share_within_{t}``, the share of children whose demand point is within the
  catchment of at least one; ``per_1000_children_{t}``, services in the ward per 1,000
  children (a service belongs to the ward it lies in, or the nearest within 250 m of a
  generalised coastline). With travel times, ``time_{t}_min`` adds the child-weighted mean
  minutes to the nearest reachable service (over LSOAs that reach one).
- **Two-step floating catchment (2SFCA)**: each site's capacity is divided by the
  children within its catchment (step 1); each LSOA sums the ratios of the sites within
  its catchment (step 2). ``access_e2sfca_{t}`` weights both steps by a Gaussian decay
  that falls from 1 at the site to 0 at the catchment edge. Capacity is the service
  file's ``capacity``; a type with none counts 1 per site, and a site missing its
  capacity in a type that has some takes the type's median. Values are capacity per
  1,000 children; an LSOA with no site in reach scores 0. Wards are child-weighted means.
- **access_index**: for each type, the ward's E2SFCA divided by the area's child-weighted
  mean (1 = the area's average access), averaged over types.
- **gap_score**: ``z(need_index) - z(access_index)``, each standardised across wards:
  positive where need is above the area's average by more than access is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.spatial import cKDTree

from needsmap import vocabulary
from needsmap.errors import ConfigError, InputError

BNG = "EPSG:27700"
PER = 1_000
WARD_TOLERANCE_M = 250.0
"""Services this close to a ward (outside every polygon) belong to the nearest ward."""

Decay = Literal["none", "gaussian"]


def type_key(name: str) -> str:
    """'Children's centre', 'childrens_centre' and 'children_s_centre' all match."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def demand_points(lsoa: gpd.GeoDataFrame, postcodes: pd.DataFrame) -> gpd.GeoDataFrame:
    """One point per LSOA at the mean of its postcodes, weighted by children.

    Parameters
    ----------
    lsoa
        One row per LSOA in EPSG:27700 with ``lsoa_code``, ``lsoa_name``, ``ward_code``,
        ``ward_name``, ``children`` and polygon geometry.
    postcodes
        ``easting``, ``northing`` and ``lsoa_code`` (blank where unknown: those postcodes
        are placed in the LSOA polygon they fall in).

    Returns
    -------
    gpd.GeoDataFrame
        Indexed by ``lsoa_code`` in the order of ``lsoa``: ``lsoa_name``, ``ward_code``,
        ``ward_name``, ``children``, ``postcodes`` (how many were averaged), ``placed_by``
        ("postcodes" or "polygon") and the point geometry (EPSG:27700).
    """
    if lsoa.crs is None or lsoa.crs.to_epsg() != 27700:
        msg = "demand_points: LSOA polygons must be in British National Grid (EPSG:27700)"
        raise InputError(msg)
    codes = pd.Index(lsoa["lsoa_code"].astype(str))
    pc = pd.DataFrame(
        {
            "easting": postcodes["easting"].to_numpy(dtype=float),
            "northing": postcodes["northing"].to_numpy(dtype=float),
            "lsoa_code": postcodes.get("lsoa_code", pd.Series("", postcodes.index))
            .fillna("")
            .astype(str)
            .str.upper()
            .to_numpy(),
        }
    )
    pc = pc.loc[np.isfinite(pc["easting"]) & np.isfinite(pc["northing"])]
    blank = (pc["lsoa_code"] == "").to_numpy()
    if blank.any():
        points = gpd.GeoDataFrame(
            geometry=gpd.points_from_xy(pc.loc[blank, "easting"], pc.loc[blank, "northing"]),
            index=pc.index[blank],
            crs=BNG,
        )
        polygons = gpd.GeoDataFrame({"code": codes}, geometry=lsoa.geometry.to_numpy(), crs=BNG)
        joined = gpd.sjoin(points, polygons, predicate="within", how="left")
        joined = joined.loc[~joined.index.duplicated(keep="first")]
        pc.loc[joined.index, "lsoa_code"] = joined["code"].fillna("").to_numpy()
    inside = pc.loc[pc["lsoa_code"].isin(codes)]
    mean = inside.groupby("lsoa_code")[["easting", "northing"]].mean().reindex(codes)
    count = inside.groupby("lsoa_code").size().reindex(codes, fill_value=0)
    fallback = lsoa.geometry.representative_point().to_numpy()
    has = mean["easting"].notna().to_numpy()
    x = np.where(has, mean["easting"].to_numpy(), [p.x for p in fallback])
    y = np.where(has, mean["northing"].to_numpy(), [p.y for p in fallback])
    out = pd.DataFrame(
        {
            "lsoa_name": lsoa["lsoa_name"].to_numpy(),
            "ward_code": lsoa["ward_code"].to_numpy(),
            "ward_name": lsoa["ward_name"].to_numpy(),
            "children": lsoa["children"].to_numpy(dtype=float),
            "postcodes": count.to_numpy(),
            "placed_by": np.where(has, "postcodes", "polygon"),
        },
        index=codes.rename("lsoa_code"),
    )
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(x, y), crs=BNG)


def _xy(frame: gpd.GeoDataFrame) -> NDArray[np.float64]:
    return np.column_stack([frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()])


@dataclass(frozen=True)
class Pairs:
    """Demand-site pairs within reach and their cost: a sparse matrix as parallel arrays,
    each pair once, sorted by demand then site (as :meth:`Travel.within` gives them)."""

    origin: NDArray[np.intp]
    site: NDArray[np.intp]
    cost: NDArray[np.float64]
    shape: tuple[int, int]

    def matrix(self, values: ArrayLike | None = None) -> sparse.csr_array:
        """Sparse (demand x site) matrix holding ``values`` (default 1) for each pair."""
        data = np.ones(len(self.cost)) if values is None else np.asarray(values, dtype=float)
        # The pairs are sorted by demand then site: the rows' extents are their counts.
        indptr = np.zeros(self.shape[0] + 1, dtype=np.intp)
        np.cumsum(np.bincount(self.origin, minlength=self.shape[0]), out=indptr[1:])
        return sparse.csr_array((data, self.site, indptr), shape=self.shape)

    def within(self, limit: float) -> Pairs:
        keep = self.cost <= limit
        return Pairs(self.origin[keep], self.site[keep], self.cost[keep], self.shape)


@dataclass(frozen=True)
class Travel:
    """Cost from each demand point to sites: straight-line metres, or minutes from a matrix.

    ``times`` (columns ``lsoa_code, service_id, minutes``) replaces straight-line distance
    when given; sites are matched by their ``service_id`` (or ``site_id``) and pairs not
    listed are out of reach.
    """

    demand: gpd.GeoDataFrame
    times: pd.DataFrame | None = None

    @property
    def unit(self) -> str:
        return "m" if self.times is None else "min"

    @functools.cached_property
    def _points(self) -> NDArray[np.float64]:
        """Demand coordinates, read once (each service type and the siting reuse them)."""
        return _xy(self.demand)

    @functools.cached_property
    def _tree(self) -> cKDTree:
        """KD-tree of the demand points, built once: 3x faster pair searches at England scale."""
        return cKDTree(self._points)

    def _matrix_rows(self, sites: pd.DataFrame) -> tuple[NDArray[np.intp], ...]:
        assert self.times is not None
        origin = self.demand.index.get_indexer(self.times["lsoa_code"])
        ids = sites["service_id"] if "service_id" in sites.columns else sites["site_id"]
        site = pd.Index(ids).get_indexer(self.times["service_id"])
        keep = (origin >= 0) & (site >= 0)
        return origin[keep], site[keep], np.flatnonzero(keep)

    def within(self, sites: gpd.GeoDataFrame, limit: float) -> Pairs:
        """Every demand-site pair with cost at most ``limit``, sorted by demand then site."""
        shape = (len(self.demand), len(sites))
        if len(sites) == 0 or len(self.demand) == 0:
            empty = np.array([], dtype=np.intp)
            return Pairs(empty, empty, np.array([], dtype=float), shape)
        if self.times is None:
            found = self._tree.sparse_distance_matrix(
                cKDTree(_xy(sites)), limit, output_type="ndarray"
            )
            origin, site, cost = found["i"], found["j"], found["v"]
        else:
            origin, site, rows = self._matrix_rows(sites)
            cost = self.times["minutes"].to_numpy(dtype=float)[rows]
            keep = cost <= limit
            origin, site, cost = origin[keep], site[keep], cost[keep]
        # One sort on a single key (each pair is listed once): 5x faster than lexsort on
        # the 340,000 school pairs of England.
        order = np.argsort(origin.astype(np.int64) * shape[1] + site)
        return Pairs(origin[order].astype(np.intp), site[order].astype(np.intp), cost[order], shape)

    def nearest(self, sites: gpd.GeoDataFrame) -> NDArray[np.float64]:
        """Cost to the nearest site from each demand point; inf where none is in reach."""
        out = np.full(len(self.demand), np.inf)
        if len(sites) == 0:
            return out
        if self.times is None:
            dist, _ = cKDTree(_xy(sites)).query(self._points, k=1)
            return np.asarray(dist, dtype=float)
        origin, _, rows = self._matrix_rows(sites)
        np.minimum.at(out, origin, self.times["minutes"].to_numpy(dtype=float)[rows])
        return out


def decay_weights(cost: ArrayLike, catchment: float, decay: Decay = "none") -> NDArray[np.float64]:
    """Weight of a demand-site pair: 1 within the catchment (plain 2SFCA) or Gaussian.

    The Gaussian falls from 1 at cost 0 to 0 at the catchment edge:
    ``(exp(-(c/d0)^2 / 2) - exp(-1/2)) / (1 - exp(-1/2))``. Pairs beyond it weigh 0.
    """
    c = np.asarray(cost, dtype=float)
    inside = c <= catchment
    if decay == "none":
        return inside.astype(float)
    if decay == "gaussian":
        edge = np.exp(-0.5)
        w = (np.exp(-0.5 * (c / catchment) ** 2) - edge) / (1 - edge)
        return np.where(inside, np.clip(w, 0.0, 1.0), 0.0)
    msg = f"decay: {decay!r} is not valid; choose from ['gaussian', 'none']"
    raise ConfigError(msg)


def floating_catchment(
    demand: ArrayLike,
    supply: ArrayLike,
    pairs: Pairs,
    *,
    catchment: float,
    decay: Decay = "none",
) -> NDArray[np.float64]:
    """Two-step floating catchment accessibility of each demand point.

    Step 1: each site's ratio ``R_j = S_j / sum_i w_ij P_i`` over the demand within its
    catchment (0 if no demand is). Step 2: ``A_i = sum_j w_ij R_j``. With ``decay="none"``
    ``w_ij`` is 1 within the catchment (2SFCA); "gaussian" gives the enhanced E2SFCA.

    Parameters
    ----------
    demand
        Demand at each point (children), length ``pairs.shape[0]``.
    supply
        Capacity of each site, length ``pairs.shape[1]``.
    pairs
        Demand-site pairs and their cost, from :meth:`Travel.within`.

    Returns
    -------
    np.ndarray
        Supply per unit of demand at each point; 0 (never NaN) where no site is in reach.
    """
    p = np.asarray(demand, dtype=float)
    s = np.asarray(supply, dtype=float)
    if p.shape != (pairs.shape[0],) or s.shape != (pairs.shape[1],):
        msg = (
            f"floating_catchment: {len(p)} demand and {len(s)} supply values for a "
            f"{pairs.shape[0]} x {pairs.shape[1]} cost matrix"
        )
        raise InputError(msg)
    w = pairs.matrix(decay_weights(pairs.cost, catchment, decay))
    reached = w.T @ p
    ratio = np.divide(s, reached, out=np.zeros_like(s), where=reached > 0)
    return np.asarray(w @ ratio, dtype=float)


def site_capacity(services: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Capacity per site for the floating catchments, with notes on what was filled in.

    A type with no capacity at all counts 1 per site (so 2SFCA is sites per child); a site
    missing its capacity in a type that has some takes that type's median.
    """
    cap = services["capacity"].astype(float).copy()
    notes = []
    for kind, group in services.groupby("type", sort=True):
        missing = group["capacity"].isna()
        look = vocabulary.service(str(kind))
        if missing.all():
            cap[group.index] = 1.0
            notes.append(
                f"access: no capacity given for {vocabulary.mid(look.plural)}; each counts 1"
            )
        elif missing.any():
            median = float(group["capacity"].median())
            cap[group.index[missing.to_numpy()]] = median
            n = int(missing.sum())
            notes.append(
                f"access: {vocabulary.service_number(str(kind), n)} "
                f"without a capacity given the median of the others ({median:g})"
            )
    return cap, notes


def service_wards(
    services: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, *, tolerance: float = WARD_TOLERANCE_M
) -> pd.Series:
    """The ward each service lies in (or nearest within ``tolerance`` metres); NaN outside."""
    right = gpd.GeoDataFrame(
        {"ward": wards.index.to_numpy()}, geometry=wards.geometry.to_numpy(), crs=wards.crs
    )
    left = gpd.GeoDataFrame(geometry=services.geometry.to_numpy(), crs=services.crs)
    joined = gpd.sjoin_nearest(left, right, how="left", max_distance=tolerance)
    joined = joined.loc[~joined.index.duplicated(keep="first")].sort_index()
    return pd.Series(joined["ward"].to_numpy(), index=services.index, name="ward_code")


def resolve_types(requested: Sequence[str], present: Sequence[str], *, key: str) -> list[str]:
    """Match configured type names to the service types present (ignoring case, punctuation)."""
    by_key = {type_key(t): t for t in present}
    unknown = [t for t in requested if type_key(t) not in by_key]
    if unknown:
        msg = f"{key}: {unknown} not among the service types; choose from {sorted(present)}"
        raise ConfigError(msg)
    return [by_key[type_key(t)] for t in requested]


def _weighted_mean(values: pd.DataFrame, weights: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """Weighted mean of each column by group, ignoring NaN; plain mean where weights are 0."""
    w = weights.astype(float)
    known = values.notna()
    num = values.fillna(0).mul(w, axis=0).groupby(groups).sum()
    den = known.mul(w, axis=0).groupby(groups).sum()
    plain = values.groupby(groups).mean()
    return (num / den.where(den > 0)).fillna(plain)


@dataclass
class Access:
    demand: gpd.GeoDataFrame
    """Demand points (see :func:`demand_points`) with per-LSOA access columns."""
    wards: pd.DataFrame
    """Ward columns, indexed by ward_code: dist_, share_within_, per_1000_children_,
    access_2sfca_, access_e2sfca_ per type, and access_index."""
    types: tuple[str, ...]
    catchment: float
    unit: str
    travel: Travel
    notes: list[str] = field(default_factory=list)


def measure_access(
    lsoa: gpd.GeoDataFrame,
    postcodes: pd.DataFrame,
    services: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    *,
    catchment: float = 1600.0,
    types: Sequence[str] = (),
    travel_times: pd.DataFrame | None = None,
    shares: pd.DataFrame | None = None,
) -> Access:
    """Distances, reach and floating-catchment access by LSOA and ward, per service type.

    Parameters
    ----------
    lsoa
        LSOA polygons with ward and ``children`` (EPSG:27700).
    postcodes
        Postcode lookup (``easting``, ``northing``, ``lsoa_code``) for the demand points.
    services
        Placed services (``service_id``, ``type``, ``capacity``, point geometry, EPSG:27700).
    wards
        Ward polygons indexed by ``ward_code``.
    catchment
        Reach in metres, or in minutes when ``travel_times`` is given.
    types
        Service types to measure; empty = every type present.
    travel_times
        ``lsoa_code, service_id, minutes``; replaces straight-line distance when given.
    shares
        ``lsoa_code, ward_code, share``: an LSOA split between wards counts towards each
        by its share of children (:func:`needsmap.geography.lsoa_ward_shares`); without
        it, wholly towards its ``ward_code``.

    Returns
    -------
    Access
        Per-LSOA and per-ward tables; see the module docstring for the definitions.
    """
    demand = demand_points(lsoa, postcodes)
    present = sorted(services["type"].unique())
    kinds = resolve_types(types, present, key="access.types") if types else present
    capacity, notes = site_capacity(services.loc[services["type"].isin(kinds)])
    straight = Travel(demand)
    travel = straight if travel_times is None else Travel(demand, travel_times)
    children = demand["children"]
    in_ward = service_wards(services, wards)
    if shares is None:
        shares = pd.DataFrame({"lsoa_code": demand.index, "ward_code": demand["ward_code"]})
        shares["share"] = 1.0
    parts = shares.loc[shares["lsoa_code"].isin(demand.index)]
    lsoa_of, ward_of = parts["lsoa_code"].to_numpy(), parts["ward_code"].to_numpy()
    pair_children = children.reindex(lsoa_of).to_numpy() * parts["share"].to_numpy()
    lsoa_cols: dict[str, NDArray[np.float64]] = {}
    ward_cols: dict[str, pd.Series] = {}
    ward_children = pd.Series(pair_children).groupby(ward_of).sum().reindex(wards.index)
    for t in kinds:
        sites = services.loc[services["type"] == t]
        lsoa_cols[f"dist_{t}_m"] = straight.nearest(sites)
        if travel.times is not None:
            minutes = travel.nearest(sites)
            lsoa_cols[f"time_{t}_min"] = np.where(np.isfinite(minutes), minutes, np.nan)
        pairs = travel.within(sites, catchment)
        supply = capacity.loc[sites.index].to_numpy()
        lsoa_cols[f"within_{t}"] = (pairs.matrix().sum(axis=1) > 0).astype(float)
        decays: tuple[tuple[str, Decay], ...] = (("2sfca", "none"), ("e2sfca", "gaussian"))
        for name, decay in decays:
            a = floating_catchment(children, supply, pairs, catchment=catchment, decay=decay)
            lsoa_cols[f"access_{name}_{t}"] = a * PER
        count = in_ward.loc[sites.index].value_counts().reindex(wards.index, fill_value=0)
        ward_cols[f"per_1000_children_{t}"] = (count / ward_children * PER).round(3)
    per_lsoa = pd.DataFrame(lsoa_cols, index=demand.index)
    per_pair = per_lsoa.reindex(lsoa_of).reset_index(drop=True)
    weights = pd.Series(pair_children)
    means = _weighted_mean(per_pair, weights, pd.Series(ward_of)).reindex(wards.index)
    table = pd.DataFrame(index=wards.index)
    for t in kinds:
        table[f"dist_{t}_m"] = means[f"dist_{t}_m"].round(0)
        if travel.times is not None:
            table[f"time_{t}_min"] = means[f"time_{t}_min"].round(1)
        within = (per_pair[f"within_{t}"] * weights).groupby(ward_of).sum()
        table[f"share_within_{t}"] = (within.reindex(wards.index) / ward_children).round(3)
        table[f"per_1000_children_{t}"] = ward_cols[f"per_1000_children_{t}"]
        for name in ("2sfca", "e2sfca"):
            col = f"access_{name}_{t}"
            table[col] = means[col].fillna(0.0).round(3)
    ratios = []
    for t in kinds:
        col = f"access_e2sfca_{t}"
        area_mean = float(np.average(per_lsoa[col], weights=children)) if children.sum() else 0
        if area_mean > 0:
            ratios.append(means[col].fillna(0.0) / area_mean)
    table["access_index"] = (
        pd.concat(ratios, axis=1).mean(axis=1).round(3) if ratios else pd.Series(0.0, table.index)
    )
    placed = demand.join(per_lsoa)
    fallback = int((demand["placed_by"] == "polygon").sum())
    if fallback:
        notes.append(
            f"access: {fallback} LSOA(s) have no postcode; placed at the polygon's "
            "representative point"
        )
    return Access(
        demand=placed,
        wards=table,
        types=tuple(kinds),
        catchment=catchment,
        unit=travel.unit,
        travel=travel,
        notes=notes,
    )


def standardise(values: pd.Series) -> pd.Series:
    """z-score across wards (population standard deviation); 0 if all equal."""
    x = values.astype(float)
    sd = x.std(ddof=0)
    return (x - x.mean()) / sd if sd > 0 else x * 0.0


def gap_score(need: pd.Series, access: pd.Series) -> pd.Series:
    """High need with low access: ``z(need) - z(access)`` across wards.

    Parameters
    ----------
    need
        Need index by ward (higher = more need).
    access
        Access index by ward (higher = better access), same index.

    Returns
    -------
    pd.Series
        Named "gap_score"; positive where need outruns access relative to other wards.
    """
    gap = standardise(need) - standardise(access.reindex(need.index))
    return gap.round(3).rename("gap_score")
