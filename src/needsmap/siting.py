"""Where new pilots or family hubs would reach the most unmet need: maximal covering.

The question: with existing provision fixed, which ``p`` candidate sites cover the most
need-weighted children within the catchment? (also in README.md, *Where to put new
pilots*)

- **Demand**: the LSOA demand points of :mod:`needsmap.access`. A point is *covered* when
  a site is within the catchment (straight-line metres, or minutes with a travel-time
  matrix). Its weight is its children times a need weight: each ward's ``need_index`` is
  rescaled so a child in the least needy ward counts 1 and a child in the most needy
  ward counts ``need_weight_max`` (2 by default). "Need covered" is in these
  need-weighted children; it is never a caseload count.
- **Existing provision** (fixed, already covering its catchment): services of the
  ``existing`` types (family hubs, children's centres), and the pilots running at the
  date provision is counted (:mod:`needsmap.pilots`): their sites, and the whole wards
  a pilot names. Existing sites and pilot sites are not candidates.
- **Candidates**: services of the chosen types (schools by default) or LSOA centres.
- **Exact**: the maximal covering location problem as an integer programme, maximise
  ``sum_i w_i y_i`` subject to ``y_i <= sum_{j covers i} x_j``, ``sum_j x_j <= p``,
  ``x`` binary, ``0 <= y <= 1``, solved by HiGHS through ``scipy.optimize.milp`` under a
  time limit. **Greedy** (always computed, and the fallback): repeatedly add the site
  with the largest uncovered weight. The report says which was used.
- **Order**: the chosen sites are listed greedily by marginal need covered, so each
  row's marginal children and need add up to the total gain. Sites that add nothing are
  dropped (with a note), so fewer than ``p`` may be listed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize, sparse

from needsmap.access import BNG, Travel, type_key
from needsmap.errors import ConfigError, InputError
from needsmap.pilots import Pilots
from needsmap.vocabulary import service_number

log = logging.getLogger(__name__)

Method = Literal["auto", "exact", "greedy"]
SITE_COLUMNS = [
    "site_id",
    "name",
    "type",
    "order",
    "children_covered",
    "need_covered",
    "wards_served",
    "geometry",
]


def ward_parts(demand: pd.DataFrame, shares: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each demand point's part in each ward: ``point`` (its position in ``demand``),
    ``ward_code`` and ``share``; without ``shares``, wholly in its ``ward_code``."""
    if shares is None:
        return pd.DataFrame(
            {"point": np.arange(len(demand)), "ward_code": demand["ward_code"].to_numpy()}
        ).assign(share=1.0)
    position = pd.Series(np.arange(len(demand)), index=demand.index)
    parts = shares.loc[shares["lsoa_code"].isin(demand.index)]
    return pd.DataFrame(
        {
            "point": position.loc[parts["lsoa_code"]].to_numpy(),
            "ward_code": parts["ward_code"].to_numpy(),
            "share": parts["share"].to_numpy(dtype=float),
        }
    )


def need_weights(
    demand: pd.DataFrame,
    need: pd.Series,
    *,
    max_weight: float = 2.0,
    shares: pd.DataFrame | None = None,
) -> NDArray[np.float64]:
    """Children at each demand point times their ward's need weight (1 to ``max_weight``).

    Parameters
    ----------
    demand
        One row per demand point with ``ward_code`` and ``children``.
    need
        Need index by ward code (higher = more need).
    max_weight
        Weight of a child in the most needy ward; the least needy counts 1.
    shares
        An LSOA split between wards (``lsoa_ward_shares``) takes its wards' weights in
        proportion to its shares; without it, its ``ward_code``'s.
    """
    parts = ward_parts(demand, shares)
    weights = _part_weights(demand, parts, need, max_weight)
    return np.bincount(parts["point"], weights=weights, minlength=len(demand)).astype(float)


def _part_weights(
    demand: pd.DataFrame, parts: pd.DataFrame, need: pd.Series, max_weight: float
) -> NDArray[np.float64]:
    """Need-weighted children of each part (``ward_parts``) of each demand point."""
    x = need.astype(float)
    span = x.max() - x.min()
    scaled = (x - x.min()) / span if span > 0 else x * 0.0
    per_child = 1.0 + (max_weight - 1.0) * scaled
    w = parts["ward_code"].map(per_child)
    if w.isna().any():
        missing = sorted(set(parts.loc[w.isna(), "ward_code"]))
        msg = f"need_weights: no need index for ward(s) {missing[:3]}"
        raise InputError(msg)
    kids = demand["children"].to_numpy(dtype=float)[parts["point"].to_numpy()]
    return np.asarray(kids * parts["share"].to_numpy() * w.to_numpy(), dtype=np.float64)


def _binary(cover: sparse.sparray, fmt: str) -> sparse.sparray:
    """A 0/1 copy of ``cover`` (explicitly stored zeros dropped; the input is untouched)."""
    return sparse.csr_array(cover != 0, dtype=float).asformat(fmt)


def _rows_of(cover: sparse.csc_array, j: int) -> NDArray[np.int32]:
    return cover.indices[cover.indptr[j] : cover.indptr[j + 1]]


def greedy_cover(cover: sparse.sparray, weights: NDArray[np.float64], p: int) -> list[int]:
    """Up to ``p`` columns of ``cover`` (demand x candidate, 1 = covered), chosen greedily.

    Each step adds the candidate covering the most still-uncovered weight (ties: the
    lowest column); stops early when no candidate adds anything.
    """
    return _greedy(_binary(cover, "csc"), np.asarray(weights, dtype=float), p)[0]


def _greedy(csc: sparse.csc_array, weights: NDArray[np.float64], p: int) -> tuple[list[int], float]:
    """Greedy's columns, and a bound on what any ``p`` columns cover.

    Coverage is submodular: any ``p`` columns cover at most what greedy's first ``i``
    cover plus the ``p`` largest gains on top of them. The least of these over the steps
    bounds the optimum, so greedy's shortfall is known without an exact solver.
    """
    remaining = weights.copy()
    chosen: list[int] = []
    covered, bound = 0.0, np.inf
    for step in range(min(p, csc.shape[1]) + 1):
        gain = csc.T @ remaining
        gain[chosen] = 0.0
        bound = min(bound, covered + float(np.sort(gain)[::-1][:p].sum()))
        if step == p or not len(gain) or gain.max() <= 0:
            break
        j = int(np.argmax(gain))
        chosen.append(j)
        covered += float(gain[j])
        remaining[_rows_of(csc, j)] = 0.0
    return chosen, bound


class Exact(NamedTuple):
    """What the exact solver returned."""

    chosen: list[int] | None
    """Chosen columns (None if the solver found no solution)."""
    optimal: bool
    """Whether optimality was proven."""
    message: str
    """The solver's message."""
    bound: float | None
    """The most weight any ``p`` columns could cover, as the solver proved it (its dual
    bound; the optimum when proven), or None when it gives none."""


def _covering_model(
    csr: sparse.csr_array, w: NDArray[np.float64], p: int
) -> tuple[NDArray[np.float64], list[optimize.LinearConstraint], int]:
    """The maximal covering problem over ``csr``'s rows (all weighted and covered) as a
    minimisation: objective, constraints and how many site variables lead ``x``."""
    n, m = csr.shape
    c = np.concatenate([np.zeros(m), -w])
    link = sparse.hstack([-csr, sparse.eye_array(n)], format="csr")
    budget = sparse.csr_array(np.concatenate([np.ones(m), np.zeros(n)])[None, :])
    constraints = [
        optimize.LinearConstraint(link, -np.inf, 0.0),
        optimize.LinearConstraint(budget, 0.0, float(p)),
    ]
    return c, constraints, m


def _weighted_rows(cover: sparse.sparray, weights: NDArray[np.float64]) -> NDArray[np.intp]:
    csr = _binary(cover, "csr")
    w = np.asarray(weights, dtype=float)
    return np.flatnonzero((w > 0) & (np.asarray(csr.sum(axis=1)).ravel() > 0))


def exact_cover(
    cover: sparse.sparray,
    weights: NDArray[np.float64],
    p: int,
    *,
    time_limit: float = 20.0,
) -> Exact:
    """Maximal covering by integer programming (HiGHS via ``scipy.optimize.milp``)."""
    rows = _weighted_rows(cover, weights)
    a = sparse.csr_array(_binary(cover, "csr")[rows])
    if a.shape[0] == 0 or p == 0:
        return Exact([], True, "nothing left to cover", 0.0)
    c, constraints, m = _covering_model(a, np.asarray(weights, dtype=float)[rows], p)
    res = optimize.milp(
        c,
        constraints=constraints,
        integrality=np.concatenate([np.ones(m), np.zeros(a.shape[0])]),
        bounds=optimize.Bounds(0.0, 1.0),
        options={"time_limit": float(time_limit), "mip_rel_gap": 0.0, "disp": False},
    )
    dual = getattr(res, "mip_dual_bound", None)
    bound = -float(dual) if dual is not None and np.isfinite(dual) else None
    if res.x is None:
        return Exact(None, False, str(res.message), bound)
    chosen = [int(j) for j in np.flatnonzero(res.x[:m] > 0.5)]
    return Exact(chosen, res.status == 0, str(res.message), bound)


def could_reach(
    cover: sparse.sparray, weights: NDArray[np.float64], p: int, floor: float
) -> tuple[NDArray[np.intp], float | None]:
    """Columns that could belong to ``p`` columns covering at least ``floor`` (what
    greedy reached), and a bound on what any ``p`` cover (None if not computed).

    Leaving the others out changes no best set, and the solver's problem shrinks from
    20,000 candidates to under 2,000 on England's schools. Two tests, each exact:

    - a column covering ``v`` adds at most ``v`` to a set, so a set holding it covers at
      most ``v`` plus the ``p - 1`` largest ``v`` of the others;
    - the linear relaxation (sites may be fractions) bounds the optimum, and forcing a
      column in costs at least its reduced cost: where the relaxation's value less that
      cost falls short of ``floor``, no set holding the column reaches it.
    """
    w = np.asarray(weights, dtype=float)
    v = _binary(cover, "csc").T @ w
    if p <= 0 or len(v) <= p:
        return np.arange(len(v)), None
    top = np.sort(v)[::-1][:p]
    # No p columns cover more than the p largest together; a column among them is
    # bounded by that total, any other by itself plus the p - 1 largest.
    slack = 1e-7 * max(abs(floor), 1.0)
    keep = np.flatnonzero(np.minimum(top.sum(), top[: p - 1].sum() + v) >= floor - slack)
    sub = sparse.csc_array(cover)[:, keep]
    rows = _weighted_rows(sub, w)
    if len(keep) <= p or not len(rows):
        return keep, None
    c, constraints, m = _covering_model(sparse.csr_array(_binary(sub, "csr")[rows]), w[rows], p)
    res = optimize.linprog(
        c,
        A_ub=sparse.vstack([constraints[0].A, constraints[1].A], format="csr"),
        b_ub=np.concatenate([np.zeros(len(rows)), [float(p)]]),
        bounds=(0.0, 1.0),
        method="highs",
    )
    if res.status != 0:
        return keep, None
    relaxed = -float(res.fun)
    cost = np.maximum(np.asarray(res.lower.marginals[:m], dtype=float), 0.0)
    return keep[relaxed - cost >= floor - slack], relaxed


def covered_weight(
    cover: sparse.sparray, weights: NDArray[np.float64], chosen: Sequence[int]
) -> float:
    """Total weight of demand points covered by at least one of ``chosen``."""
    if not len(chosen):
        return 0.0
    hit = np.asarray(sparse.csc_array(cover)[:, list(chosen)].sum(axis=1)).ravel() > 0
    return float(np.asarray(weights, dtype=float)[hit].sum())


@dataclass
class Solution:
    chosen: list[int]
    """Candidate columns in the order chosen (greedy by marginal need)."""
    method: Literal["exact", "greedy"]
    status: str
    """In words: optimal, best found by the time limit (and how far from the best it
    can be), or why greedy was used."""
    objective: float
    greedy_objective: float
    seconds: float
    bound: float | None = None
    """The most need any set of sites could reach: the least of greedy's bound and the
    exact solver's (the optimum when proven)."""
    considered: int = 0
    """Candidates given to the exact solver (those that could be among the best)."""

    @property
    def gap(self) -> float | None:
        """How far short of the best possible the sites can be, as a share of it
        (0 when proven best; None when not known)."""
        return shortfall(self.bound, self.objective)


def shortfall(bound: float | None, value: float) -> float | None:
    """How far ``value`` may fall short of the best possible, as a share of the bound."""
    if bound is None or not np.isfinite(bound) or bound <= 0:
        return None
    gap = (bound - value) / bound
    return 0.0 if gap <= 1e-9 else gap


def _short(bound: float | None, value: float) -> str:
    """': at most 2.1% short of the best possible', from a bound on the optimum."""
    gap = shortfall(bound, value)
    if gap is None:
        return ""
    if gap < 0.001:
        return ": within 0.1% of the best possible"
    return f": at most {gap:.1%} short of the best possible"


def choose_sites(
    cover: sparse.sparray,
    weights: NDArray[np.float64],
    p: int,
    *,
    method: Method = "auto",
    time_limit: float = 20.0,
) -> Solution:
    """Choose up to ``p`` candidates maximising the weight covered.

    Parameters
    ----------
    cover
        Demand x candidate, non-zero where the candidate covers the demand point.
    weights
        Weight of each demand point still to cover (0 where already covered).
    p
        How many sites to choose.
    method
        "auto": exact, greedy if the solver fails; "exact": raise instead; "greedy".
    time_limit
        Seconds for the exact solver; its best solution by then is used if it beats
        greedy, and the status says how far short of the best possible it may be.

    The exact solver sees only the candidates that could be among the best
    (:func:`could_reach`, from greedy's result): the same best sets, a smaller problem.
    """
    start = time.perf_counter()
    w = np.asarray(weights, dtype=float)
    greedy, bound = _greedy(_binary(cover, "csc"), w, p)
    greedy_value = covered_weight(cover, w, greedy)
    chosen, used = greedy, "greedy"
    status = "one at a time (greedy, as set in siting.method)" + _short(bound, greedy_value)
    considered = 0
    if method in ("auto", "exact"):
        keep, relaxed = could_reach(cover, w, p, greedy_value)
        considered = len(keep)
        found = exact_cover(sparse.csc_array(cover)[:, keep], w, p, time_limit=time_limit)
        for b in (relaxed, found.bound):
            bound = min(bound, b) if b is not None else bound
        limit = "Time limit" in found.message
        if found.chosen is None:
            if method == "exact":
                msg = (
                    f"siting.method: the exact solver found no solution ({found.message}); "
                    "raise siting.time_limit_s or use method: auto to fall back to greedy"
                )
                raise ConfigError(msg)
            why = f"within the {time_limit:g} s time limit" if limit else f"({found.message})"
            short = _short(bound, greedy_value)
            status = f"one at a time (greedy): the exact solver found no solution {why}{short}"
            log.warning("siting: %s", status)
        else:
            exact = [int(keep[j]) for j in found.chosen]
            value = covered_weight(cover, w, exact)
            proven = found.optimal or shortfall(bound, value) == 0.0
            if proven or value >= greedy_value:
                chosen, used = exact, "exact"
                status = (
                    "best possible: no other set of sites reaches more need "
                    "(proven by an exact solver)"
                    if proven
                    else f"best found by an exact solver within the {time_limit:g} s time "
                    "limit" + (_short(bound, value) or ", not proven best possible")
                )
            else:
                status = (
                    f"one at a time (greedy): the exact solver stopped at the {time_limit:g} s "
                    "time limit with a worse solution" + _short(bound, greedy_value)
                )
        if found.chosen is not None and not status.startswith("best possible"):
            log.warning("siting: %s", status)
    ordered = order_by_marginal(cover, w, chosen)
    return Solution(
        chosen=ordered,
        method=used,  # type: ignore[arg-type]
        status=status,
        objective=covered_weight(cover, w, ordered),
        greedy_objective=greedy_value,
        seconds=time.perf_counter() - start,
        bound=bound,
        considered=considered,
    )


def order_by_marginal(
    cover: sparse.sparray, weights: NDArray[np.float64], chosen: Sequence[int]
) -> list[int]:
    """``chosen`` re-ordered greedily by marginal weight; members adding nothing dropped."""
    if not len(chosen):
        return []
    sub = sparse.csc_array(cover)[:, list(chosen)]
    picked = greedy_cover(sub, weights, len(chosen))
    return [int(chosen[k]) for k in picked]


@dataclass
class Siting:
    sites: gpd.GeoDataFrame
    """Chosen sites in order (EPSG:27700): SITE_COLUMNS."""
    table: pd.DataFrame
    """recommended_sites.csv: the sites with coordinates and running coverage."""
    scenario: pd.DataFrame
    """Coverage now and with the new sites: one row per ward, then 'All wards'."""
    wards: pd.DataFrame
    """Ward columns share_covered_now and share_covered_after, indexed by ward_code."""
    solution: Solution
    candidates: int
    existing: int
    """How many sites are existing provision (services of the existing types and running
    pilots' sites)."""
    provision: gpd.GeoDataFrame
    """Those sites (PROVISION_COLUMNS, EPSG:27700)."""
    provision_reach: pd.DataFrame
    """Per existing site: children and need-weighted children within its catchment, and
    those no other existing site reaches (see :func:`provision_reach`)."""
    catchment: float
    unit: str
    ward_pilots: int = 0
    """How many wards running pilots serve as a whole (counted as reached)."""
    notes: list[str] = field(default_factory=list)

    @property
    def provision_known(self) -> bool:
        """False when no existing provision was supplied: coverage now is not known."""
        return bool(len(self.provision) or self.ward_pilots)

    @property
    def provision_label(self) -> str:
        """What existing provision is counted, in words: '3 family hubs and 1 pilot'."""
        return describe_provision(self.provision, self.ward_pilots)

    @property
    def reach(self) -> str:
        return f"{self.catchment:,g} {'metres' if self.unit == 'm' else 'minutes'}"

    @property
    def coverage(self) -> str:
        """Coverage now and after, in a sentence that says what provision it counts."""
        s = self.scenario.loc["All wards"]
        after = s["share_covered_after"]
        if not self.provision_known:
            return (
                f"No existing provision was supplied (family hubs, children's centres or "
                f"pilots), so how many children are within reach of a service now is not "
                f"known; the {len(self.sites)} new site(s) would bring {after:.0%} of children "
                f"within {self.reach}. Add existing provision in a services file (config key "
                f"'services') or the config key 'pilots'"
            )
        return (
            f"{s['share_covered_now']:.0%} of children live within {self.reach} of existing "
            f"provision ({self.provision_label}); with the {len(self.sites)} new site(s), "
            f"{after:.0%} would"
        )

    @property
    def summary(self) -> str:
        return (
            f"siting: {len(self.sites)} new site(s) chosen from {self.candidates} candidates "
            f"({self.solution.status}); {self.coverage[:1].lower()}{self.coverage[1:]}"
        )


PROVISION_COLUMNS = ["service_id", "name", "type", "geometry"]


def existing_provision(
    services: gpd.GeoDataFrame, pilots: Pilots | None, *, running_only: bool = True
) -> gpd.GeoDataFrame:
    """Existing provision as one frame: the given services and the running pilots' sites
    (every pilot's site with ``running_only=False``, for the maps).

    A pilot at a service keeps that service's id (travel times find it); a pilot placed
    by postcode or coordinates gets the id ``pilot: <name>``.
    """
    frames = [pd.DataFrame(services[PROVISION_COLUMNS])]
    if pilots is not None and len(pilots.sites):
        sites = pilots.active_sites if running_only else pilots.sites
        ids = sites["service_id"].where(sites["service_id"] != "", "pilot: " + sites["pilot"])
        frames.append(
            pd.DataFrame(
                {
                    "service_id": ids.to_numpy(),
                    "name": sites["pilot"].to_numpy(),
                    "type": "pilot",
                    "geometry": sites.geometry.to_numpy(),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out = out.drop_duplicates("service_id", keep="last", ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=BNG)


CATEGORIES = ("mainstream", "special", "independent", "alternative_provision", "college", "other")
"""School categories (the bundle's ``category`` column; see siting.candidate_categories)."""


def eligible(services: pd.DataFrame, categories: Sequence[str]) -> pd.Series:
    """True for services that may host a site: no category, or one of ``categories``."""
    if "category" in services.columns:
        cat = services["category"].fillna("").astype(str)
    else:
        cat = pd.Series("", index=services.index)
    present = sorted(set(cat) - {""})
    unknown = [c for c in categories if c not in CATEGORIES and c not in present]
    if unknown:
        msg = (
            f"siting.candidate_categories: {unknown} not a category; choose from "
            f"{sorted(set(CATEGORIES) | set(present))}"
        )
        raise ConfigError(msg)
    return (cat == "") | cat.isin(list(categories))


def _candidates(
    services: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, kinds: Sequence[str], fixed: pd.Series
) -> gpd.GeoDataFrame:
    present = sorted(services["type"].unique())
    by_key = {type_key(t): t for t in present}
    wanted = [k for k in kinds if type_key(k) != "lsoa"]
    unknown = [k for k in wanted if type_key(k) not in by_key]
    if unknown:
        msg = (
            f"siting.candidates: {unknown} not among the service types; choose from "
            f"{[*present, 'lsoa']}"
        )
        raise ConfigError(msg)
    types = {by_key[type_key(k)] for k in wanted}
    pick = services.loc[services["type"].isin(types) & ~fixed]
    frames = [
        gpd.GeoDataFrame(
            {
                "site_id": pick["service_id"].to_numpy(),
                "name": pick["name"].to_numpy(),
                "type": pick["type"].to_numpy(),
            },
            geometry=pick.geometry.to_numpy(),
            crs=BNG,
        )
    ]
    if any(type_key(k) == "lsoa" for k in kinds):
        frames.append(
            gpd.GeoDataFrame(
                {
                    "site_id": demand.index.to_numpy(),
                    "name": demand["lsoa_name"].to_numpy(),
                    "type": "lsoa_centre",
                },
                geometry=demand.geometry.to_numpy(),
                crs=BNG,
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=BNG)


def site_pilots(
    demand: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    need: pd.Series,
    *,
    travel: Travel,
    catchment: float,
    sites: int = 5,
    candidates: Sequence[str] = ("school",),
    categories: Sequence[str] = ("mainstream",),
    existing: Sequence[str] = ("family_hub", "childrens_centre", "pilot"),
    pilots: Pilots | None = None,
    need_weight_max: float = 2.0,
    method: Method = "auto",
    time_limit: float = 20.0,
    shares: pd.DataFrame | None = None,
) -> Siting:
    """Choose new sites that reach the most need-weighted children not yet covered.

    Parameters
    ----------
    demand
        LSOA demand points from :func:`needsmap.access.demand_points` (``ward_code``,
        ``ward_name``, ``children``, ``lsoa_name``), indexed by ``lsoa_code``.
    services
        Placed services (``service_id``, ``name``, ``type``, ``pilot``, geometry).
    need
        Need index by ward code.
    travel
        How cost is measured (straight line or a travel-time matrix) from ``demand``.
    catchment
        Reach of a site, in the travel cost's unit (metres or minutes).
    sites
        How many new sites to choose.
    candidates
        Service types offered as sites, or "lsoa" for LSOA centres.
    categories
        Of those, the ``category`` values that may host a site (services without a
        category always may): by default state-funded mainstream schools only.
    existing
        Service types that are existing provision.
    pilots
        Pilots (:func:`needsmap.pilots.load_pilots`): the sites of those running are
        existing provision, and the wards they name count as reached. Services marked
        ``pilot = yes`` are never candidates.
    need_weight_max
        Weight of a child in the most needy ward (the least needy counts 1).
    method, time_limit
        See :func:`choose_sites`.
    shares
        Each LSOA's share of each ward (``lsoa_ward_shares``): an LSOA split between
        wards counts towards each by its share, in the need weights and the scenario.

    Returns
    -------
    Siting
        The sites, the table for recommended_sites.csv and the before/after scenario.
    """
    notes: list[str] = []
    if travel.times is not None and any(type_key(k) == "lsoa" for k in candidates):
        msg = (
            "siting.candidates: 'lsoa' centres have no travel times; with "
            "access.travel_times choose service types as candidates"
        )
        raise ConfigError(msg)
    existing_keys = {type_key(k) for k in existing}
    by_type = services["type"].map(type_key).isin(existing_keys)
    pilot_ids = pilots.service_ids if pilots is not None else set()
    fixed = by_type | services["pilot"].astype(bool) | services["service_id"].isin(pilot_ids)
    allowed = eligible(services, categories)
    left_out = services.loc[~allowed & ~fixed]
    left_out = left_out.loc[left_out["type"].map(type_key).isin({type_key(k) for k in candidates})]
    if len(left_out):
        counts = left_out["category"].value_counts()
        types = left_out["type"].value_counts().sort_index()
        words = " and ".join(service_number(str(k), int(n)) for k, n in types.items())
        notes.append(
            f"siting: {words} not offered as new sites because of their category ("
            + ", ".join(f"{n} {c.replace('_', ' ')}" for c, n in counts.items())
            + "); siting.candidate_categories chooses which may host a site"
        )
    cands = _candidates(services, demand, candidates, fixed | ~allowed)
    if cands.empty:
        msg = (
            f"siting.candidates: no candidate sites of type(s) {list(candidates)} "
            "(existing provision and pilots are not candidates)"
        )
        raise ConfigError(msg)
    children = demand["children"].to_numpy(dtype=float)
    parts = ward_parts(demand, shares)
    point = parts["point"].to_numpy()
    part_weights = _part_weights(demand, parts, need, need_weight_max)
    weights = np.bincount(point, weights=part_weights, minlength=len(demand)).astype(float)
    provision = existing_provision(services.loc[by_type], pilots)
    covered_now = np.asarray(travel.within(provision, catchment).matrix().sum(axis=1)).ravel() > 0
    part_now = covered_now[point]
    if pilots is not None:
        part_now |= parts["ward_code"].isin(pilots.active_wards).to_numpy()
    # What a new site would add at each point: its parts not yet served (a pilot ward's
    # part of an LSOA is served; the LSOA's other parts are not).
    open_share = np.bincount(
        point, weights=parts["share"].to_numpy() * ~part_now, minlength=len(demand)
    )
    remaining: NDArray[np.float64] = np.bincount(
        point, weights=part_weights * ~part_now, minlength=len(demand)
    ).astype(np.float64)
    covered_now = open_share == 0
    cover = travel.within(cands, catchment).matrix()
    solution = choose_sites(cover, remaining, sites, method=method, time_limit=time_limit)
    if len(solution.chosen) < sites:
        notes.append(
            f"siting: only {len(solution.chosen)} of {sites} site(s) add coverage; "
            "the others would reach no child not already covered"
        )
    csc = sparse.csc_array(cover)
    covered_after = covered_now.copy()
    rows, why = [], []
    for order, j in enumerate(solution.chosen, start=1):
        hit = _rows_of(csc, j)
        new = hit[~covered_after[hit]]
        why.append(
            _next_best(csc, children * open_share, remaining, covered_after, solution.chosen, j)
        )
        covered_after[new] = True
        served = (
            pd.Series((children * open_share)[new], index=demand["ward_name"].to_numpy()[new])
            .groupby(level=0)
            .sum()
            .sort_values(ascending=False, kind="stable")
        )
        rows.append(
            {
                "site_id": cands.at[j, "site_id"],
                "name": cands.at[j, "name"],
                "type": cands.at[j, "type"],
                "order": order,
                "children_covered": round(float((children * open_share)[new].sum())),
                "need_covered": round(float(remaining[new].sum()), 1),
                "wards_served": "; ".join(served.index[served > 0]),
                "geometry": cands.geometry.iloc[j],
            }
        )
    chosen_sites = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=SITE_COLUMNS), geometry="geometry", crs=BNG
    )
    scenario = _scenario(
        demand, parts, children, part_weights, part_now, part_now | covered_after[point]
    )
    if provision.empty and not (pilots is not None and pilots.active_wards):
        # Nothing was supplied as existing provision: coverage now is not known, not 0.
        for c in ("share_covered_now", "need_share_covered_now"):
            scenario[c] = np.nan
    ranks = need.rank(ascending=False, method="min").astype(int)
    names = demand.groupby("ward_code")["ward_name"].first()
    table = _sites_table(chosen_sites, scenario, solution)
    table = _explain(
        table,
        chosen_sites,
        cands,
        why,
        services=services,
        provision=provision,
        ranks=ranks.rename(index=names),
        catchment=catchment,
        unit=travel.unit,
    )
    reach = provision_reach(
        provision, demand, children, weights, travel=travel, catchment=catchment
    )
    log.info(
        "siting: %s in %.2f s (greedy reaches %.1f%% of it)",
        solution.status,
        solution.seconds,
        100 * solution.greedy_objective / solution.objective if solution.objective else 100,
    )
    return Siting(
        sites=chosen_sites,
        table=table,
        scenario=scenario,
        wards=scenario.drop(index="All wards")[["share_covered_now", "share_covered_after"]],
        solution=solution,
        candidates=len(cands),
        existing=len(provision),
        provision=provision,
        provision_reach=reach,
        ward_pilots=len(pilots.active_wards) if pilots is not None else 0,
        catchment=catchment,
        unit=travel.unit,
        notes=notes,
    )


_WORDS = [
    "no",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
]


def _count_word(n: int) -> str:
    """Counts of sites in words (never "1 children's centre", which reads as a count of
    children): 'three'; 13 and above as digits."""
    return _WORDS[n] if n < len(_WORDS) else f"{n:,}"


def describe_provision(provision: pd.DataFrame, ward_pilots: int = 0) -> str:
    """'3 family hubs, 1 children's centre and 2 pilots', or 'none supplied'."""
    words = {
        "family_hub": ("family hub", "family hubs"),
        "childrens_centre": ("children's centre", "children's centres"),
        "pilot": ("pilot site", "pilot sites"),
    }
    parts = []
    counts = provision["type"].value_counts()
    for kind, n in counts.sort_values(ascending=False, kind="stable").items():
        one, many = words.get(str(kind), (str(kind).replace("_", " "),) * 2)
        parts.append(f"{_count_word(int(n))} {one if n == 1 else many}")
    if ward_pilots:
        parts.append(
            f"{_count_word(ward_pilots)} ward{'s' if ward_pilots > 1 else ''} a pilot serves"
        )
    if not parts:
        return "none supplied"
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def provision_reach(
    provision: gpd.GeoDataFrame,
    demand: pd.DataFrame,
    children: NDArray[np.float64],
    weights: NDArray[np.float64],
    *,
    travel: Travel,
    catchment: float,
) -> pd.DataFrame:
    """Children and need-weighted children within each existing site's catchment.

    ``need_only_here`` counts those no other existing site reaches. The ward is where
    most of the site's children live.
    """
    columns = ["service_id", "name", "type", "ward_code", "children_in_reach"]
    columns += ["need_in_reach", "need_only_here"]
    if provision.empty:
        return pd.DataFrame(columns=columns)
    m = sparse.csc_array(_binary(travel.within(provision, catchment).matrix(), "csc"))
    sites_reaching = np.asarray(m.sum(axis=1)).ravel()
    rows = []
    for j in range(m.shape[1]):
        hit = _rows_of(m, j)
        alone = hit[sites_reaching[hit] == 1]
        wards = pd.Series(children[hit], index=demand["ward_code"].to_numpy()[hit])
        rows.append(
            {
                "service_id": provision["service_id"].iloc[j],
                "name": provision["name"].iloc[j],
                "type": provision["type"].iloc[j],
                "ward_code": wards.groupby(level=0).sum().idxmax() if len(hit) else "",
                "children_in_reach": round(float(children[hit].sum())),
                "need_in_reach": round(float(weights[hit].sum()), 1),
                "need_only_here": round(float(weights[alone].sum()), 1),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _next_best(
    cover: sparse.csc_array,
    children: NDArray[np.float64],
    weights: NDArray[np.float64],
    covered: NDArray[np.bool_],
    chosen: Sequence[int],
    j: int,
) -> dict[str, float | int | None]:
    """At the step site ``j`` is added: the best candidate not chosen, and what ``j``
    reaches that it would not."""
    remaining = np.where(covered, 0.0, weights)
    gain = cover.T @ remaining
    gain[list(chosen)] = -1.0
    alt = int(np.argmax(gain)) if len(gain) else -1
    if alt < 0 or gain[alt] <= 0:
        return {"alt": None, "alt_need": 0.0, "beyond_children": 0, "beyond_need": 0.0}
    mine = _rows_of(cover, j)
    mine = mine[~covered[mine]]
    beyond = np.setdiff1d(mine, _rows_of(cover, alt))
    return {
        "alt": alt,
        "alt_need": round(float(gain[alt]), 1),
        "beyond_children": round(float(children[beyond].sum())),
        "beyond_need": round(float(weights[beyond].sum()), 1),
    }


def about(n: float) -> str:
    """A count of children in words, rounded so no small number shows: 'about 1,230'."""
    if n < 10:
        return "fewer than 10"
    return f"about {round(n, -1):,.0f}"


SCHOOL_COLUMNS = ["category", "phase", "pupils", "fsm_share"]


def _explain(
    table: pd.DataFrame,
    sites: gpd.GeoDataFrame,
    cands: gpd.GeoDataFrame,
    why: list[dict[str, float | int | None]],
    *,
    services: pd.DataFrame,
    provision: gpd.GeoDataFrame,
    ranks: pd.Series,
    catchment: float,
    unit: str,
) -> pd.DataFrame:
    """Add to recommended_sites.csv why each site: its school, wards and their need
    ranks, the nearest existing provision and the next-best alternative, and ``why``,
    the same in plain words."""
    out = table.copy()
    attrs = services.drop_duplicates("service_id").set_index("service_id")
    for c in SCHOOL_COLUMNS:
        col = attrs[c] if c in attrs.columns else pd.Series(dtype=object)
        out[c] = out["site_id"].map(col)
    n_wards = len(ranks)
    out["ward_need_ranks"] = [
        "; ".join(f"{w} ({ranks.get(w, '?')} of {n_wards})" for w in str(text).split("; ") if w)
        for text in out["wards_served"]
    ]
    if len(provision) and len(sites):
        dist = np.array([provision.distance(p).to_numpy() for p in sites.geometry])
        nearest = dist.argmin(axis=1)
        out["nearest_provision"] = provision["name"].to_numpy()[nearest]
        out["nearest_provision_m"] = np.round(dist.min(axis=1), -1).astype(int)
    else:
        out["nearest_provision"] = ""
        out["nearest_provision_m"] = np.nan
    out["next_best"] = [cands["name"].iloc[w["alt"]] if w["alt"] is not None else "" for w in why]
    out["next_best_need"] = [w["alt_need"] for w in why]
    out["children_beyond_next_best"] = [w["beyond_children"] for w in why]
    out["need_beyond_next_best"] = [w["beyond_need"] for w in why]
    reach = f"{catchment:,g} {'metres' if unit == 'm' else 'minutes'}"
    out["why"] = [
        _why({str(k): v for k, v in r.items()}, reach, n_wards) for r in out.to_dict("records")
    ]
    return out


def _school(r: dict[str, Any]) -> str:
    bits = []
    kind = " ".join(
        str(x).lower() for x in (r.get("category"), r.get("phase")) if x and pd.notna(x)
    ).replace("_", " ")
    if kind:
        bits.append(f"a {kind} school")
    pupils = r.get("pupils")
    if pupils is not None and pd.notna(pupils):
        bits.append(f"{float(pupils):,.0f} pupils")
    fsm = r.get("fsm_share")
    if fsm is not None and pd.notna(fsm):
        bits.append(f"{float(fsm):.0%} eligible for free school meals")
    return f" ({', '.join(bits)})" if bits else ""


def _why(r: dict[str, Any], reach: str, n_wards: int) -> str:
    """One recommended site, in words a councillor reads without help."""
    wards = str(r["ward_need_ranks"]).split("; ")[:3]
    ward_text = ", ".join(w.replace(" (", " (need rank ") for w in wards if w)
    text = (
        f"{r['name']}{_school(r)} would bring {about(float(r['children_covered']))} more "
        f"children within {reach} of a service ({r['need_covered']:,.0f} when weighted by "
        f"need), mostly in {ward_text}."
    )
    if r["nearest_provision"]:
        km = float(r["nearest_provision_m"]) / 1000
        text += f" The nearest existing provision is {r['nearest_provision']}, {km:.1f} km away."
    else:
        text += " No existing provision was supplied, so its distance to one is not known."
    if r["next_best"]:
        fewer = float(r["need_covered"]) - float(r["next_best_need"])
        text += (
            f" The next-best choice at this step, {r['next_best']}, would reach "
            f"{float(r['next_best_need']):,.0f} need-weighted children ({fewer:,.0f} fewer); "
            f"{r['name']} reaches {about(float(r['children_beyond_next_best']))} children "
            "it would not."
        )
    else:
        text += " No other candidate would reach anyone not already within reach."
    return text


def _scenario(
    demand: pd.DataFrame,
    parts: pd.DataFrame,
    children: NDArray[np.float64],
    need: NDArray[np.float64],
    now: NDArray[np.bool_],
    after: NDArray[np.bool_],
) -> pd.DataFrame:
    """Children and need covered now and after, by ward; ``need``, ``now`` and ``after``
    are per part (``ward_parts``) of each demand point."""
    kids = children[parts["point"].to_numpy()] * parts["share"].to_numpy()
    names = demand.groupby("ward_code")["ward_name"].first()
    codes = parts["ward_code"]
    frame = pd.DataFrame(
        {
            "ward_code": codes.to_numpy(),
            "ward_name": names.reindex(codes).fillna(codes).to_numpy(),
            "children": kids,
            "children_covered_now": kids * now,
            "children_covered_after": kids * after,
            "need": need,
            "need_covered_now": need * now,
            "need_covered_after": need * after,
        }
    )
    sums = ["children", "children_covered_now", "children_covered_after"]
    sums += ["need", "need_covered_now", "need_covered_after"]
    wards = frame.groupby("ward_code").agg(
        ward_name=("ward_name", "first"), **{c: (c, "sum") for c in sums}
    )
    total = pd.DataFrame(frame[sums].sum()).T.assign(ward_name="All wards")
    total.index = pd.Index(["All wards"])
    out = pd.concat([wards, total])
    out.index.name = "ward_code"
    den = out["children"].where(out["children"] > 0)
    need_den = out["need"].where(out["need"] > 0)
    out["share_covered_now"] = (out["children_covered_now"] / den).round(3)
    out["share_covered_after"] = (out["children_covered_after"] / den).round(3)
    out["need_share_covered_now"] = (out["need_covered_now"] / need_den).round(3)
    out["need_share_covered_after"] = (out["need_covered_after"] / need_den).round(3)
    for c in ("children", "children_covered_now", "children_covered_after"):
        out[c] = out[c].round(0).astype("int64")
    for c in ("need", "need_covered_now", "need_covered_after"):
        out[c] = out[c].round(1)
    return out


def _sites_table(
    sites: gpd.GeoDataFrame, scenario: pd.DataFrame, solution: Solution
) -> pd.DataFrame:
    table = pd.DataFrame(sites.drop(columns="geometry"))
    table = table[
        ["order", "site_id", "name", "type", "children_covered", "need_covered", "wards_served"]
    ]
    base = scenario.loc["All wards"]
    table["share_covered_cumulative"] = (
        (base["children_covered_now"] + table["children_covered"].cumsum()) / base["children"]
    ).round(3)
    table["easting"] = sites.geometry.x.round(0).astype("int64").to_numpy()
    table["northing"] = sites.geometry.y.round(0).astype("int64").to_numpy()
    lonlat = sites.geometry.to_crs("EPSG:4326")
    table["lon"] = lonlat.x.round(6).to_numpy()
    table["lat"] = lonlat.y.round(6).to_numpy()
    table["chosen_by"] = solution.status
    return table.reset_index(drop=True)
