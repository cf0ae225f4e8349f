"""Run configuration: one frozen dataclass tree, loaded from YAML and validated.

Defaults describe the bundled Wirral case, so ``RunConfig()`` runs it. Relative paths
in a config file are read relative to that file's folder.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from needsmap.errors import ConfigError, InputError
from needsmap.inputs import load_yaml
from needsmap.maps import style

REPO_ROOT = Path(__file__).resolve().parents[2]


def bundled_data_dir() -> Path:
    """The folder holding the bundled areas (``data/`` in the repository).

    ``NEEDSMAP_DATA`` overrides it, for an installed package used away from the repo.
    """
    return Path(os.environ.get("NEEDSMAP_DATA", REPO_ROOT / "data"))


CASELOAD_MEASURES = ("children_in_need", "child_protection_plans", "looked_after_children")


@dataclass(frozen=True)
class SuppressionConfig:
    """Small-number suppression, applied once to the ward table before anything is written."""

    enabled: bool = True
    """Hide small caseload counts in every output. Turning it off stamps every output
    "UNSUPPRESSED - not for publication"."""
    threshold: int = 5
    """Counts from 1 to threshold - 1 are suppressed ("fewer than 5"); 1 or more."""
    protection: int | None = None
    """How far either side of a withheld count a reader must stay unsure, in children
    (default: the threshold). A "fewer than 5" cell must always be able to be any
    value from 0 to 4. The run checks every output against this and writes nothing
    if any hidden count could be narrowed further."""
    rounding: int = 1
    """Round every published count of threshold or more to the nearest this many
    (DfE practice: 5), with the rates, changes and totals made from it, so that
    reruns with one child more or less cannot be differenced. 1: not rounded; otherwise
    it must divide the threshold."""


Direction = Literal["higher", "lower"]
DIRECTIONS: tuple[str, ...] = get_args(Direction)


@dataclass(frozen=True)
class Indicator:
    """One need-index indicator: a ward column, its weight and which way is more need."""

    column: str
    weight: float
    direction: Direction = "higher"
    """"higher": a higher value means more need; "lower": a lower value does."""


MAX_WEIGHT = 1_000_000
"""Weights are relative; a bigger one (or .inf) is a typo."""


def parse_indicators(spec: Mapping[str, Any]) -> tuple[Indicator, ...]:
    """Read ``need_index.indicators``: column -> weight, or -> {weight, direction}.

    ``{"imd_score": 0.2}`` and ``{"imd_score": {"weight": 0.2, "direction": "higher"}}``
    mean the same. Raises ConfigError naming the indicator and what to write instead.
    """
    if not spec:
        msg = "need_index.indicators: give at least one indicator with a weight"
        raise ConfigError(msg)
    out = []
    for column, value in spec.items():
        key = f"need_index.indicators.{column}"
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - {"weight", "direction"})
            if unknown:
                msg = f"{key}: unknown key {unknown[0]!r}; valid keys are ['direction', 'weight']"
                raise ConfigError(msg)
            if "weight" not in value:
                msg = f"{key}: give a weight, e.g. {{weight: 0.2, direction: higher}}"
                raise ConfigError(msg)
            weight, direction = value["weight"], value.get("direction", "higher")
        else:
            weight, direction = value, "higher"
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not 0 < weight <= MAX_WEIGHT
        ):
            msg = (
                f"{key}: weights must be positive numbers (got {weight!r}), at most {MAX_WEIGHT:,}"
            )
            raise ConfigError(msg)
        if direction not in DIRECTIONS:
            msg = f"{key}: direction {direction!r} is not valid; choose from {sorted(DIRECTIONS)}"
            raise ConfigError(msg)
        out.append(Indicator(str(column), float(weight), direction))
    return tuple(out)


@dataclass(frozen=True)
class NeedIndexConfig:
    """How wards are combined into one need score, and how sure the ranking is.

    Default weights (they sum to 1; any positive numbers work, they are normalised):

    - ``idaci_score`` 0.30: child poverty is the strongest area-level predictor of
      children's social care involvement, and it counts every child, including those no
      service knows yet.
    - ``imd_score`` 0.20: the wider pressures on families (work, health, crime, housing)
      beyond income; lower than IDACI because the two overlap.
    - ``children_in_need_rate_index`` 0.20: demand the council already sees, and the
      largest, steadiest caseload measure.
    - ``child_protection_plans_rate_index`` 0.15 and ``looked_after_children_rate_index``
      0.15: the most acute need, weighted less because ward counts are small and noisy,
      and looked-after counts also reflect past placement decisions.

    Deprivation and caseload carry half the weight each. Caseload indicators are the
    ``_rate_index`` columns: the published rate, or for a suppressed ward the published
    stand-in (see ``indicators.index_rates``), so the index never uses a hidden count and
    can be recomputed from ``wards.csv``.
    """

    method: Literal["zscore", "rank", "minmax"] = "zscore"
    """How each indicator is standardised across wards before weighting: zscore (mean 0,
    standard deviation 1), rank (0 to 1 by rank) or minmax (0 to 1 by value)."""
    indicators: Mapping[str, float | Mapping[str, Any]] = field(
        default_factory=lambda: {
            "idaci_score": 0.30,
            "imd_score": 0.20,
            "children_in_need_rate_index": 0.20,
            "child_protection_plans_rate_index": 0.15,
            "looked_after_children_rate_index": 0.15,
        }
    )
    """Ward column -> weight, or column -> {weight: 0.2, direction: higher|lower}.
    Weights are positive and normalised to sum to 1. Caseload indicators are the
    ``_rate_index`` columns (never the raw ``_rate``)."""
    top_n: int = 5
    """How many wards count as "the top" for ``p_top5`` and the sensitivity table."""
    draws: int = 1000
    """Monte Carlo draws for the rank intervals (1 or more)."""
    weight_spread: float = 0.5
    """Monte Carlo weights are drawn uniformly within +/- this share of each weight;
    from 0 (weights fixed) up to, not including, 1."""
    seed: int = 20251127
    """Random seed for the Monte Carlo: the same inputs always give the same intervals."""
    count_uncertainty: bool = True
    """Also draw each ward's caseload counts from their Poisson uncertainty."""
    sensitivity: float = 0.5
    """The weight-sensitivity table moves each weight by +/- this share, one at a time;
    between 0 and 1."""

    @property
    def specs(self) -> tuple[Indicator, ...]:
        """The indicators as (column, weight, direction)."""
        return parse_indicators(self.indicators)


@dataclass(frozen=True)
class ClusteringConfig:
    """Groups of similar wards (see needsmap.clusters); cluster 1 has the highest need."""

    method: Literal["kmeans", "agglomerative", "gmm"] = "kmeans"
    """Clustering algorithm."""
    features: tuple[str, ...] = (
        "idaci_score",
        "imd_score",
        "children_in_need_rate_index",
        "child_protection_plans_rate_index",
        "looked_after_children_rate_index",
    )
    """Ward columns the wards are grouped on, each standardised first; caseload as
    ``_rate_index`` (never a suppressed ward's rate)."""
    k: int | None = None
    """Number of clusters (2 or more), or null to choose it: the largest k whose mean
    silhouette is within ``k_tolerance`` of the best and whose groups are stable
    (bootstrap adjusted Rand index at least ``k_min_stability``)."""
    k_tolerance: float = 0.1
    """How far below the best mean silhouette (a share of it, 0 to 1) a larger k may
    score and still be chosen: more groups say more to a board if they are nearly as
    well separated. 0 picks the best silhouette."""
    k_min_stability: float = 0.6
    """Least mean adjusted Rand index (0 to 1) between a candidate k's clustering and
    its bootstrap refits for it to be chosen over a smaller k."""
    k_min: int = 2
    """Smallest number of clusters tried when ``k`` is null (2 or more)."""
    k_max: int = 8
    """Largest number of clusters tried when ``k`` is null."""
    seed: int = 42
    """Random seed: the same inputs always give the same clusters."""
    bootstrap: int = 100
    """Bootstrap resamples for cluster stability; 0 skips it."""
    localities: int | None = 4
    """Contiguous commissioning localities to form (Queen contiguity); null for none."""
    islands: Literal["nearest", "error"] = "nearest"
    """Wards sharing no boundary: link to the nearest ward (with a note), or stop."""
    hotspot_alpha: float = 0.05
    """Significance level for local Moran's I hot spots."""
    hotspot_permutations: int = 999
    """Permutations for the hot-spot p-values (999 gives p down to 0.001)."""


@dataclass(frozen=True)
class OutputConfig:
    """Where the outputs go and how the static maps are saved."""

    folder: Path = Path("out/wirral")
    """Output folder; replaced as a whole only when a run succeeds (``--out`` overrides)."""
    static_formats: tuple[str, ...] = ("png", "svg", "pdf")
    """Static map formats, any of png, svg and pdf."""
    dpi: int = 300
    """Resolution of PNG maps in dots per inch (300 suits print)."""


@dataclass(frozen=True)
class AccessConfig:
    """How reach to services is measured (see needsmap.access)."""

    catchment_m: float = 1600.0
    """Straight-line distance families can reasonably reach: 1,600 m is about a mile,
    some 20 minutes' walk with a pushchair. Used for the share of children within reach,
    both floating catchments and the siting."""
    travel_times: Path | None = None
    """Optional CSV ``lsoa_code, service_id, minutes``; when given, minutes replace
    straight-line metres for reach, floating catchments and siting."""
    catchment_minutes: float = 15.0
    """The catchment when ``travel_times`` is given."""
    types: tuple[str, ...] = ()
    """Service types to measure (e.g. school, gp_practice); empty = every type present."""


@dataclass(frozen=True)
class SitingConfig:
    """Where new pilots or hubs would reach the most unmet need (see needsmap.siting)."""

    sites: int = 5
    """How many new sites to choose; 0 switches siting off."""
    candidates: tuple[str, ...] = ("school",)
    """Service types offered as candidate sites, or ``lsoa`` for LSOA centres. Schools by
    default: the two successful pilots were school-based."""
    candidate_categories: tuple[str, ...] = ("mainstream",)
    """Which schools may host a new site, by their ``category``: mainstream (state-funded
    nursery, primary, secondary and all-through schools), special, independent,
    alternative_provision (pupil referral units), college (16-19 and further education),
    other. Candidates without a category (a council's own venues, LSOA centres) are
    always eligible."""
    existing: tuple[str, ...] = ("family_hub", "childrens_centre", "pilot")
    """Service types that are existing provision, fixed in place; pilots (``pilots``, or
    ``pilot = yes`` in a services file) are existing provision too while they run."""
    as_of: dt.date | None = None
    """The date at which existing provision is counted "now": pilots running on that
    date (see ``pilots``). Null: the caseload's latest date (its newest period), so a rerun
    on another day counts the same pilots; the day of the run only if no period is a date."""
    need_weight_max: float = 2.0
    """A child in the most needy ward counts this many times a child in the least needy."""
    method: Literal["auto", "exact", "greedy"] = "auto"
    """auto: exact integer programme, greedy if it fails; exact: fail instead; greedy only."""
    time_limit_s: float = 20.0
    """Time limit for the exact solver; the best solution found by then is used."""


@dataclass(frozen=True)
class Pilot:
    """One pilot: where it runs, which wards it serves and when (see needsmap.pilots)."""

    name: str
    """What the pilot is called in every output."""
    start: dt.date
    """The date it began (required), e.g. 2023-09-01."""
    site: Mapping[str, Any] | None = None
    """Where it runs: {postcode: CH44 7AN}, {lon: -3.04, lat: 53.41},
    {easting: 331000, northing: 391000} or {service: <service_id or name>}."""
    wards: tuple[str, ...] = ()
    """Wards it serves (codes or names); their children count as reached. Default: the
    ward its site is in."""
    end: dt.date | None = None
    """The date it ended, if it has."""
    description: str = ""
    """What it offers, in a sentence."""


@dataclass(frozen=True)
class InteractiveMapConfig:
    """The interactive map (needs_map.html)."""

    background: bool = False
    """Show background tiles when the map opens. They need internet; off, the map shows
    ward outlines on a neutral background and works anywhere."""
    tiles_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    """Background tile server (an https URL with {z}, {x} and {y})."""
    tiles_attribution: str = "© OpenStreetMap contributors"
    """Credit shown on the map while the background tiles are on (the tile licence's)."""
    simplify_m: float = 15.0
    """Ward borders are simplified as a coverage to within this many metres (0: not at all)."""
    decimals: int = 5
    """Coordinates are rounded to this many decimal places of a degree (5: about 1 m)."""


@dataclass(frozen=True)
class MapsConfig:
    """How the maps look: a council's own colours (board maps and the interactive map)
    and font (board maps; see maps/style.py)."""

    palette: tuple[str, ...] = style.SEQUENTIAL
    """Sequential colours for continuous layers, light to dark, as '#rrggbb' (quote them in
    YAML); one class of wards per colour, 3 to 9. Darker always means more need."""
    categorical: tuple[str, ...] = style.CATEGORICAL
    """Colours for clusters and localities ('#rrggbb'), used in turn; hot-spot classes
    keep their conventional colours."""
    font: str = style.FONT
    """Font family for the static maps; if it is not installed, DejaVu Sans with a warning."""
    labels: Literal["auto", "on", "off"] = "auto"
    """Ward names on the static maps; auto draws them up to label_max_wards wards."""
    label_max_wards: int = 60
    """With labels: auto, the most wards whose names are drawn (more would not be legible)."""


@dataclass(frozen=True)
class ReportConfig:
    """The board summary: report.html, and report.pdf where Chromium is installed."""

    pdf: bool = True
    """Also print report.pdf with headless Chromium; without Chromium the run notes why not."""
    top_wards: int = 10
    """How many wards the 'most need' table lists."""
    profiles: int = 100
    """How many one-page ward profiles, most need first (0 for none)."""


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs; every key is optional and the defaults run the Wirral case."""

    area: Path = field(default_factory=lambda: bundled_data_dir() / "wirral")
    """The area bundle: a folder with bundle.json and the public data files listed in
    data/README.md (default: the bundled Wirral data)."""
    caseload: Path | None = None
    """The council's ward caseload CSV; null uses the bundle's synthetic caseload."""
    services: tuple[Path, ...] = ()
    """Your own service CSVs (family hubs, pilots...), added to the bundle's services.csv."""
    pilots: tuple[Pilot, ...] = ()
    """Existing pilots, each ``{name, start, site and/or wards, end, description}``:
    e.g. ``{name: Seacombe school pilot, site: {postcode: CH44 7AN}, start: 2023-09-01}``.
    ``site`` is ``{postcode}``, ``{lon, lat}``, ``{easting, northing}`` or ``{service:
    <service_id or name>}``; ``wards`` (codes or names) are the wards it serves (default:
    the ward its site is in); ``end`` is optional. A pilot counts as existing provision
    from its start to its end, is drawn on every map, and its wards are compared with the
    others'. A services file can mark pilots too (``pilot = yes``, with ``pilot_start`` and
    ``pilot_end``)."""
    suppression: SuppressionConfig = field(default_factory=SuppressionConfig)
    need_index: NeedIndexConfig = field(default_factory=NeedIndexConfig)
    clustering: ClusteringConfig = field(default_factory=ClusteringConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    access: AccessConfig = field(default_factory=AccessConfig)
    siting: SitingConfig = field(default_factory=SitingConfig)
    interactive_map: InteractiveMapConfig = field(default_factory=InteractiveMapConfig)
    maps: MapsConfig = field(default_factory=MapsConfig)
    report: ReportConfig = field(default_factory=ReportConfig)

    def __post_init__(self) -> None:
        _check(self)


SEED_MAX = 2**32 - 1
"""numpy and scikit-learn take seeds from 0 to 2**32 - 1."""
LIMITS: dict[str, tuple[float, float]] = {
    "suppression.threshold": (1, 1000),
    "suppression.rounding": (1, 1000),
    "suppression.protection": (0, 1000),
    "need_index.top_n": (1, 1000),
    "need_index.draws": (1, 100_000),
    "need_index.weight_spread": (0, 1),
    "need_index.seed": (0, SEED_MAX),
    "need_index.sensitivity": (0, 1),
    "clustering.k": (2, 50),
    "clustering.k_min": (2, 50),
    "clustering.k_max": (2, 50),
    "clustering.k_tolerance": (0, 1),
    "clustering.k_min_stability": (0, 1),
    "clustering.seed": (0, SEED_MAX),
    "clustering.bootstrap": (0, 10_000),
    "clustering.localities": (1, 1000),
    "clustering.hotspot_alpha": (0, 1),
    "clustering.hotspot_permutations": (1, 99_999),
    "output.dpi": (50, 1200),
    "access.catchment_m": (0, 100_000),
    "access.catchment_minutes": (0, 600),
    "siting.sites": (0, 1000),
    "siting.need_weight_max": (1, 1000),
    "siting.time_limit_s": (0, 3600),
    "interactive_map.simplify_m": (0, 500),
    "interactive_map.decimals": (3, 7),
    "maps.label_max_wards": (0, 100_000),
    "report.top_wards": (1, 1000),
    "report.profiles": (0, 100_000),
}
"""The range of every number in the config (inclusive; some checks below are tighter).

A value outside it is a typo, or would make a run take hours or fail deep inside a
library (a seed of -1, a billion draws); ``tests/test_config.py`` checks that every
number has its limits here.
"""


def numeric_settings(cfg: RunConfig) -> dict[str, Any]:
    """Every number in the config by dotted key (``need_index.draws``), None if unset."""
    out: dict[str, Any] = {}
    for section in dataclasses.fields(cfg):
        value = getattr(cfg, section.name)
        if not dataclasses.is_dataclass(value):
            continue
        hints = get_type_hints(type(value))
        for f in dataclasses.fields(value):
            kinds = {hints[f.name], *get_args(hints[f.name])} - {type(None)}
            if kinds & {int, float}:
                out[f"{section.name}.{f.name}"] = getattr(value, f.name)
    return out


def _check_limits(cfg: RunConfig) -> None:
    for key, value in numeric_settings(cfg).items():
        if value is None:
            continue
        lo, hi = LIMITS[key]
        if isinstance(value, bool) or not math.isfinite(value) or not lo <= value <= hi:
            msg = f"{key}: must be from {lo:,} to {hi:,} (got {value!r})"
            raise ConfigError(msg)


def _check(cfg: RunConfig) -> None:
    s = cfg.suppression
    if s.threshold < 1:
        msg = f"suppression.threshold: must be 1 or more (got {s.threshold})"
        raise ConfigError(msg)
    if s.protection is not None and s.protection < 0:
        msg = f"suppression.protection: must be 0 or more children (got {s.protection})"
        raise ConfigError(msg)
    if s.rounding < 1:
        msg = f"suppression.rounding: must be 1 (no rounding) or more, e.g. 5 (got {s.rounding})"
        raise ConfigError(msg)
    if s.rounding > 1 and s.threshold % s.rounding:
        msg = (
            f"suppression.rounding: {s.rounding} does not divide suppression.threshold "
            f"({s.threshold}), so a count of the threshold could round below it; use a "
            "rounding that divides the threshold (5 for the default threshold 5)"
        )
        raise ConfigError(msg)
    ni = cfg.need_index
    specs = ni.specs
    hidden = [f"{m}_rate" for m in CASELOAD_MEASURES]
    raw = [i.column for i in specs if i.column in hidden]
    if raw:
        msg = (
            f"need_index.indicators: use {[f'{c}_index' for c in raw]} instead of {raw}: the "
            "_rate_index columns hold a published stand-in for suppressed wards, so the index "
            "never rests on a hidden count and can be recomputed from wards.csv"
        )
        raise ConfigError(msg)
    raw = [c for c in cfg.clustering.features if c in hidden]
    if raw:
        msg = (
            f"clustering.features: use {[f'{c}_index' for c in raw]} instead of {raw}: "
            "clusters are published, so they must not rest on a suppressed ward's rate"
        )
        raise ConfigError(msg)
    if ni.draws < 1 or ni.top_n < 1:
        msg = "need_index.draws and need_index.top_n must be 1 or more"
        raise ConfigError(msg)
    if not 0 <= ni.weight_spread < 1:
        msg = f"need_index.weight_spread: must be in [0, 1) (got {ni.weight_spread})"
        raise ConfigError(msg)
    if not 0 < ni.sensitivity < 1:
        msg = f"need_index.sensitivity: must be between 0 and 1, e.g. 0.5 (got {ni.sensitivity})"
        raise ConfigError(msg)
    c = cfg.clustering
    if c.k is not None and c.k < 2:
        msg = f"clustering.k: must be 2 or more, or null to choose it (got {c.k})"
        raise ConfigError(msg)
    if not 2 <= c.k_min <= c.k_max:
        msg = f"clustering.k_min/k_max: need 2 <= k_min <= k_max (got {c.k_min}, {c.k_max})"
        raise ConfigError(msg)
    if c.bootstrap < 0:
        msg = f"clustering.bootstrap: must be 0 (skip) or more resamples (got {c.bootstrap})"
        raise ConfigError(msg)
    if c.localities is not None and c.localities < 1:
        msg = f"clustering.localities: must be 1 or more, or null for none (got {c.localities})"
        raise ConfigError(msg)
    for key in ("k_tolerance", "k_min_stability"):
        value = getattr(c, key)
        if not 0 <= value <= 1:
            msg = f"clustering.{key}: must be between 0 and 1 (got {value})"
            raise ConfigError(msg)
    if not 0 < c.hotspot_alpha < 1:
        msg = f"clustering.hotspot_alpha: must be in (0, 1), e.g. 0.05 (got {c.hotspot_alpha})"
        raise ConfigError(msg)
    least = math.ceil(1 / c.hotspot_alpha - 1 - 1e-9)
    if c.hotspot_permutations < least:
        msg = (
            f"clustering.hotspot_permutations: {c.hotspot_permutations} cannot give a p-value "
            f"at or below hotspot_alpha {c.hotspot_alpha}; use at least {least} (999 is usual)"
        )
        raise ConfigError(msg)
    if not 50 <= cfg.output.dpi <= 1200:
        msg = f"output.dpi: must be between 50 and 1200 (got {cfg.output.dpi}); 300 suits print"
        raise ConfigError(msg)
    fmts = set(cfg.output.static_formats) - {"png", "svg", "pdf"}
    if fmts:
        msg = f"output.static_formats: {sorted(fmts)} not valid; choose from ['pdf', 'png', 'svg']"
        raise ConfigError(msg)
    _check_access(cfg.access, cfg.siting)
    _check_pilots(cfg.pilots)
    _check_map(cfg.interactive_map)
    _check_board(cfg)
    _check_limits(cfg)


def _check_access(a: AccessConfig, s: SitingConfig) -> None:
    for key, value in (
        ("access.catchment_m", a.catchment_m),
        ("access.catchment_minutes", a.catchment_minutes),
        ("siting.time_limit_s", s.time_limit_s),
    ):
        if not value > 0:
            msg = f"{key}: must be a positive number (got {value})"
            raise ConfigError(msg)
    if s.sites < 0:
        msg = f"siting.sites: must be 0 (no siting) or more (got {s.sites})"
        raise ConfigError(msg)
    if s.sites and not s.candidates:
        msg = "siting.candidates: give at least one service type (e.g. school) or 'lsoa'"
        raise ConfigError(msg)
    if s.sites and not s.candidate_categories:
        msg = "siting.candidate_categories: give at least one, e.g. [mainstream]"
        raise ConfigError(msg)
    if not s.need_weight_max >= 1:
        msg = f"siting.need_weight_max: must be 1 or more (got {s.need_weight_max})"
        raise ConfigError(msg)


def _check_pilots(pilots: tuple[Pilot, ...]) -> None:
    seen: set[str] = set()
    for i, p in enumerate(pilots, start=1):
        key = f"pilots[{i}] ({p.name})"
        if not p.name.strip():
            msg = f"pilots[{i}].name: give the pilot a name"
            raise ConfigError(msg)
        if p.name in seen:
            msg = f"{key}: the name is used twice; give each pilot its own name"
            raise ConfigError(msg)
        seen.add(p.name)
        if p.site is None and not p.wards:
            msg = (
                f"{key}: give a site (e.g. site: {{postcode: CH44 7AN}}) or the wards it "
                "serves (e.g. wards: [Seacombe]), or both"
            )
            raise ConfigError(msg)
        if p.site is not None:
            keys = set(p.site)
            shapes = [{"postcode"}, {"lon", "lat"}, {"easting", "northing"}, {"service"}]
            if keys not in shapes:
                msg = (
                    f"{key}.site: {sorted(keys)} is not a location; give one of {{postcode}}, "
                    "{lon, lat}, {easting, northing} or {service: <service_id or name>}"
                )
                raise ConfigError(msg)
        if p.end is not None and p.end < p.start:
            msg = f"{key}.end: {p.end} is before its start {p.start}"
            raise ConfigError(msg)


def _check_map(m: InteractiveMapConfig) -> None:
    url = m.tiles_url
    if not url.startswith("https://") or not all(p in url for p in ("{z}", "{x}", "{y}")):
        msg = (
            f"interactive_map.tiles_url: {url!r} is not a tile URL; give an https address "
            "with {z}, {x} and {y}, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png"
        )
        raise ConfigError(msg)
    if not 0 <= m.simplify_m <= 500:
        msg = (
            f"interactive_map.simplify_m: must be from 0 to 500 metres (got {m.simplify_m}); "
            "15 keeps ward borders true at street zoom"
        )
        raise ConfigError(msg)
    if not 3 <= m.decimals <= 7:
        msg = (
            f"interactive_map.decimals: must be from 3 to 7 (got {m.decimals}); "
            "5 places of a degree is about 1 m"
        )
        raise ConfigError(msg)


HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def _check_board(cfg: RunConfig) -> None:
    """The maps and report sections (board-paper outputs)."""
    _check_maps(cfg.maps)
    r = cfg.report
    if r.top_wards < 1 or r.profiles < 0:
        msg = (
            f"report: top_wards must be 1 or more and profiles 0 or more "
            f"(got {r.top_wards}, {r.profiles})"
        )
        raise ConfigError(msg)


def _check_maps(m: MapsConfig) -> None:
    for key, colours in (("palette", m.palette), ("categorical", m.categorical)):
        bad = [c for c in colours if not isinstance(c, str) or not HEX_COLOUR.fullmatch(c)]
        if bad:
            msg = (
                f"maps.{key}: {bad} not colours; write each as #rrggbb in quotes, "
                "e.g. '#fd8d3c' (unquoted, YAML reads # as a comment)"
            )
            raise ConfigError(msg)
    if not 3 <= len(m.palette) <= 9:
        msg = (
            f"maps.palette: give 3 to 9 colours, light to dark (got {len(m.palette)}); "
            "each colour is one class of wards"
        )
        raise ConfigError(msg)
    if not m.categorical:
        msg = "maps.categorical: give at least one colour (#rrggbb)"
        raise ConfigError(msg)
    if not m.font.strip():
        msg = "maps.font: give a font family name, e.g. 'DejaVu Sans'"
        raise ConfigError(msg)
    if m.label_max_wards < 0:
        msg = f"maps.label_max_wards: must be 0 or more (got {m.label_max_wards})"
        raise ConfigError(msg)


def _convert(value: Any, hint: Any, key: str, base: Path) -> Any:
    """Turn a YAML value into the type a dataclass field expects, or say why not."""
    origin = get_origin(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            msg = f"{key}: expected a mapping of settings, got {value!r}"
            raise ConfigError(msg)
        return _build(hint, value, base, prefix=f"{key}.")  # type: ignore[arg-type]
    if origin in (types.UnionType, typing.Union):
        args = [a for a in get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _convert(value, args[0], key, base)
    if origin is Literal:
        choices = get_args(hint)
        if value not in choices:
            msg = f"{key}: {value!r} is not valid; choose from {sorted(choices)}"
            raise ConfigError(msg)
        return value
    if origin is tuple:
        items = value if isinstance(value, list | tuple) else [value]
        item = get_args(hint)[0]
        if dataclasses.is_dataclass(item):
            return tuple(_convert(v, item, f"{key}[{i}]", base) for i, v in enumerate(items, 1))
        return tuple(_convert(v, item, key, base) for v in items)
    if hint is dt.date:
        return _date(value, key)
    if origin in (Mapping, dict, typing.Mapping):
        if not isinstance(value, Mapping):
            msg = f"{key}: expected a mapping, got {value!r}"
            raise ConfigError(msg)
        return dict(value)
    if hint is Path:
        if not isinstance(value, str | Path):
            msg = f"{key}: expected a file or folder path, got {value!r}"
            raise ConfigError(msg)
        path = Path(value).expanduser()
        return path if path.is_absolute() else base / path
    if hint is bool:
        if not isinstance(value, bool):
            msg = f"{key}: expected true or false, got {value!r}"
            raise ConfigError(msg)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            msg = f"{key}: expected a whole number, got {value!r}"
            raise ConfigError(msg)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"{key}: expected a number, got {value!r}"
            raise ConfigError(msg)
        return float(value)
    if hint is str:
        return str(value)
    return value


def _date(value: Any, key: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        msg = f"{key}: {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2023-09-01"
        raise ConfigError(msg) from None


RETIRED = {
    "siting.pilot_wards": (
        "replaced by the top-level 'pilots' list, which gives each pilot its wards and "
        "dates: pilots: [{name: Seacombe pilot, wards: [Seacombe], start: 2023-09-01}]"
    ),
}
"""Keys that no longer exist, with what to write instead."""


def _build(cls: type, data: Mapping[str, Any], base: Path, prefix: str = "") -> Any:
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    for k in unknown:
        if f"{prefix}{k}" in RETIRED:
            msg = f"{prefix}{k}: {RETIRED[prefix + k]}"
            raise ConfigError(msg)
    required = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    absent = [k for k in required if k not in data]
    if absent and not unknown:
        msg = f"{prefix}{absent[0]}: required; give it (keys here are {names})"
        raise ConfigError(msg)
    if unknown:
        msg = f"{prefix}{unknown[0]}: unknown key; valid keys here are {names}"
        raise ConfigError(msg)
    kwargs = {k: _convert(v, hints[k], f"{prefix}{k}", base) for k, v in data.items()}
    return cls(**kwargs)


def config_from_dict(data: Mapping[str, Any] | None, *, base: Path | None = None) -> RunConfig:
    """Build a RunConfig from a mapping (as read from YAML); paths relative to ``base``."""
    return _build(RunConfig, data or {}, base or Path.cwd())  # type: ignore[no-any-return]


def load_config(path: Path) -> RunConfig:
    """Read and validate a YAML config file (``inputs.load_yaml``: no aliases, no key
    given twice; UTF-16 and Windows-1252 are read with a note)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        msg = f"{path}: config file not found; create one with 'needsmap init DIR'"
        raise ConfigError(msg) from None
    except IsADirectoryError:
        msg = f"{path}: is a folder; give the config file (e.g. needsmap.yml) inside it"
        raise ConfigError(msg) from None
    try:
        data = load_yaml(raw, path.name)
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    if data is not None and not isinstance(data, Mapping):
        msg = f"{path.name}: expected key: value settings at the top level"
        raise ConfigError(msg)
    try:
        return config_from_dict(data, base=path.parent.resolve())
    except ConfigError as exc:
        msg = f"{path.name}: {exc}"
        raise ConfigError(msg) from None


def config_to_dict(cfg: RunConfig) -> dict[str, Any]:
    """A plain, JSON-friendly view of the config (for run.json)."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, dt.date):  # a pilot's start and end
            return value.isoformat()
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        return value

    return plain(cfg)  # type: ignore[no-any-return]
