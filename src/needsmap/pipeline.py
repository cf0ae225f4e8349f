"""run(config) -> Results: the only place that strings the steps together."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import platform
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from needsmap import __version__, audit, report, scan, vocabulary
from needsmap.access import Access, gap_score, measure_access, type_key
from needsmap.checks import check_measures
from needsmap.clusters import Clustering, cluster_wards, clusters_table
from needsmap.config import RunConfig, bundled_data_dir, config_to_dict
from needsmap.context import dfe_children, la_benchmark
from needsmap.disclosure import (
    Disclosure,
    apply_suppression,
    round_counts,
    stamped,
    suppression_mask,
)
from needsmap.england import (
    CHILD_POVERTY,
    england_dir,
    fill_child_poverty,
    poverty_stand_in,
)
from needsmap.geography import outline
from needsmap.hotspots import HotSpots, need_hotspots
from needsmap.indicators import (
    caseload_change,
    caseload_rates,
    change_links,
    deprivation_change,
    first_period_counts,
    index_rates,
    need_index,
    need_rank,
    ward_deprivation,
)
from needsmap.integrity import (
    check_interrupted,
    collect_repairs,
    fixed_gpkg_timestamp,
    manifest,
    recover_staging,
    safe_text,
    sha256,
    staged,
)
from needsmap.localities import contiguous_localities, ward_neighbours
from needsmap.maps import cluster_chart, interactive, layers, static, style, trend_chart
from needsmap.pilots import Pilots, load_pilots, provision_date, with_pilots
from needsmap.ranking import rank_uncertainty, weight_sensitivity
from needsmap.review import review_list, ward_flags
from needsmap.siting import Siting, existing_provision, site_pilots
from needsmap.sources import Area, load_area, load_services
from needsmap.sources.area import area_caseload
from needsmap.sources.caseload import Caseload
from needsmap.sources.services import Services
from needsmap.sources.travel_times import load_travel_times
from needsmap.trends import (
    CHILD_POVERTY_LABEL,
    TREND_TEST,
    caseload_did_panel,
    caseload_trend_findings,
    caseload_trends,
    change_findings,
    change_headline,
    child_poverty_columns,
    dfe_trend_findings,
    earlier_counts,
    pilot_comparisons,
    poverty_benchmark,
    poverty_did_panel,
    trend_links,
)
from needsmap.typology import area_types

log = logging.getLogger(__name__)

PACKAGES = (
    "needsmap",
    "geopandas",
    "shapely",
    "pandas",
    "numpy",
    "scikit-learn",
    "folium",
    "mapclassify",
    "matplotlib",
    "scipy",
    "libpysal",
    "esda",
)


@dataclass
class Results:
    """What a run computed and wrote."""

    config: RunConfig
    area: Area
    wards: gpd.GeoDataFrame
    """Full ward table with geometry (unsuppressed: for analysis in memory only)."""
    disclosure: Disclosure
    caseload: Caseload
    services: Services
    clustering: Clustering
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    access: Access | None = None
    """Demand points and access by LSOA and ward (see needsmap.access)."""
    siting: Siting | None = None
    """Recommended new sites and the coverage scenario (None when siting.sites is 0)."""
    sites: gpd.GeoDataFrame | None = None
    """Recommended sites in order (EPSG:27700), for the maps."""
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Which wards enter or leave the top ``top_n`` when one weight moves (issue 3)."""
    benchmark: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The LA's DfE rates beside England and its statistical neighbours (issue 3)."""
    hotspots: HotSpots | None = None
    pilot_comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Each pilot against comparable non-piloted wards, per indicator
    (``needsmap.trends.PILOT_COLUMNS``); empty without pilots that have a start date."""
    ward_types: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The area's mix of national ward types beside its neighbours' and England's."""
    review: pd.DataFrame = field(default_factory=pd.DataFrame)
    """What not to commission: wards with low need and good access, and the existing sites
    whose catchments hold least need (review_before_commissioning.csv; needsmap.review)."""
    pilots: Pilots | None = None
    """Existing pilots: one row each, and the tidy ``pilot, ward_code, start, end`` table
    of the wards they serve (see needsmap.pilots)."""
    audit: audit.AuditResult | None = None
    """What a reader could work out about each hidden count (None when suppression is
    off); filled in by ``run`` before anything is written."""

    @functools.cached_property
    def cluster_table(self) -> pd.DataFrame:
        """The rows of clusters.csv: cluster and locality profiles, safe to publish
        (caseload totals withheld where they could reveal a suppressed ward), and the
        k-selection table."""
        d = self.disclosure
        return clusters_table(
            self.wards,
            self.clustering,
            localities=self.wards.get("locality"),
            measures=self.caseload.measures,
            suppressed=d.suppressed if d.enabled else None,
            threshold=d.threshold,
        )

    @property
    def published(self) -> gpd.GeoDataFrame:
        """The ward table as written: suppression applied."""
        return gpd.GeoDataFrame(self.disclosure.table, geometry="geometry", crs=self.wards.crs)


@contextlib.contextmanager
def step(name: str) -> Iterator[None]:
    """Log a step's name and, when it takes more than a second, its duration.

    Every step also logs a DEBUG record carrying ``step`` and ``seconds`` attributes,
    which the benchmark collects. A Ctrl-C swallowed on the way stops the run at the
    step's start or end (:func:`~needsmap.integrity.check_interrupted`).
    """
    check_interrupted()
    start = time.perf_counter()
    log.info("%s…", name)
    yield
    check_interrupted()
    took = time.perf_counter() - start
    log.debug("%s: %.3f s", name, took, extra={"step": name, "seconds": took})
    if took > 1:
        log.info("%s took %.1f s", name, took)


def analyse(cfg: RunConfig) -> Results:
    """Load every input and compute the ward table; writes nothing."""
    start = time.perf_counter()
    with step("Loading the area bundle"):
        area = load_area(cfg.area)
        geoms = area.wards
    with step("Aggregating LSOAs to wards"):
        table = ward_deprivation(area.lsoa, area.shares, official=area.ward_population)
        table = table.reindex(geoms.index)
        table.insert(0, "ward_name", geoms["ward_name"])
        area_notes = [area.missing_note] if area.missing_note else []
    with step("Reading caseload"):
        caseload = area_caseload(area, cfg.caseload)
        check_measures(cfg, caseload)
        area, scaled = children_for_year(area, table, caseload.periods[-1])
        table["children"] = scaled
        sup = cfg.suppression
        # Published counts: rounded where suppression.rounding asks (the truth stays in
        # ``caseload`` for choosing what to hide and for the audit).
        counts = round_counts(caseload.counts, sup.rounding if sup.enabled else 1, sup.threshold)
        latest = counts.xs(caseload.periods[-1], level="period")
        assert isinstance(latest, pd.DataFrame)
        table["caseload_period"] = caseload.periods[-1]
        table["caseload_source"] = "synthetic" if caseload.synthetic else "council"
        table = table.join(caseload_rates(latest, table["children"]))
    with step("Need index and ranking uncertainty"):
        ni = cfg.need_index
        if area.iod2019 is not None and area.lsoa11_lookup is not None:
            table = table.join(
                deprivation_change(area.lsoa, area.iod2019, area.lsoa11_lookup, area.shares)
            )
        table = table.join(caseload_change(counts, table["children"]))
        table = table.join(caseload_trends(counts, table["children"]))
        if area.child_poverty is not None:
            table = table.join(child_poverty_columns(area.child_poverty, table.index))
            if not area.has_idaci:  # DWP's share stands in for IDACI: every ward needs one
                table[CHILD_POVERTY], filled = fill_child_poverty(
                    table[CHILD_POVERTY], table["children"]
                )
                area_notes += filled
        specs, features, stand_in = poverty_stand_in(
            cfg.need_index.specs, cfg.clustering.features, table.columns
        )
        area_notes += stand_in
        table = table.copy()  # one block per dtype again after the joins
        # Every earlier period: published changes and trends are computed from them.
        earlier = earlier_counts(caseload.counts)
        # Chosen once from the true counts; the index uses only what is published.
        hidden = (
            suppression_mask(
                caseload.latest.join(earlier),
                sup.threshold,
                order=table["children"],
                protection=sup.protection,
                rounding=sup.rounding,
            )
            & sup.enabled
        )
        table = table.join(index_rates(latest, table["children"], hidden, threshold=sup.threshold))
        table["need_index"] = need_index(table, specs, method=ni.method)
        table["need_rank"] = need_rank(table["need_index"])
        redraw = [f"{m}_rate_index" for m in caseload.measures] if ni.count_uncertainty else []
        table = table.join(
            rank_uncertainty(
                table,
                specs,
                method=ni.method,
                draws=ni.draws,
                weight_spread=ni.weight_spread,
                top_n=ni.top_n,
                count_rates=redraw,
                seed=ni.seed,
            )
        )
        sensitivity = weight_sensitivity(
            table, specs, method=ni.method, change=ni.sensitivity, top_n=ni.top_n
        )
        benchmark = la_benchmark(area.dfe)
    with step("Clusters, localities and hot spots"):
        cl = cfg.clustering
        clustering = cluster_wards(
            table,
            features,
            table["need_index"],
            method=cl.method,
            k=cl.k,
            k_range=(cl.k_min, cl.k_max),
            seed=cl.seed,
            resamples=cl.bootstrap,
            tolerance=cl.k_tolerance,
            min_stability=cl.k_min_stability,
        )
        table = table.join(clustering.columns())
        neighbours = ward_neighbours(geoms, islands=cl.islands)
        if cl.localities is not None:
            table["locality"] = contiguous_localities(
                table, features, table["need_index"], k=cl.localities, neighbours=neighbours
            )
        hotspots = need_hotspots(
            table["need_index"],
            neighbours,
            alpha=cl.hotspot_alpha,
            permutations=cl.hotspot_permutations,
            seed=cl.seed,
        )
        table = table.join(hotspots.table)
        group_notes = [*neighbours.notes, *hotspots.notes]
    with step("Wards like ours nationally"):
        dfe = area.dfe
        sn = dfe.loc[dfe["group"] == "Statistical neighbour", "la_code"].dropna().unique()
        nat = area_types(
            table.index,
            la_code=str(area.meta.get("la_code", area.meta.get("lad_code", ""))),
            neighbours=[str(c) for c in sn],
            folder=england_dir(),
        )
        if nat is not None:
            table = table.join(nat.columns)
    with step("Reading services"):
        services = load_services(
            [area.files["services"], *cfg.services], area.postcodes, outline(geoms)
        )
        as_of, counted = provision_date(cfg.siting.as_of, caseload.periods)
        pilots = load_pilots(cfg.pilots, services.placed, geoms, area.postcodes, as_of=as_of)
        pilots.notes.insert(0, f"existing provision counted on {as_of.isoformat()} ({counted})")
    with step("Access to services, gaps and where new sites would reach most need"):
        ac, sc = cfg.access, cfg.siting
        catchment, times, access_notes = ac.catchment_m, None, []
        if ac.travel_times is not None:
            tt = load_travel_times(
                ac.travel_times, pd.Index(area.lsoa["lsoa_code"]), services.placed["service_id"]
            )
            catchment, times, access_notes = ac.catchment_minutes, tt.times, tt.notes
        access = measure_access(
            area.lsoa,
            area.postcodes,
            services.placed,
            geoms,
            catchment=catchment,
            types=ac.types,
            travel_times=times,
            shares=area.shares,
        )
        table = table.join(access.wards)
        table["gap_score"] = gap_score(table["need_index"], table["access_index"])
        siting, review = None, pd.DataFrame()
        if sc.sites:
            siting = site_pilots(
                access.demand,
                services.placed,
                table["need_index"],
                travel=access.travel,
                catchment=catchment,
                sites=sc.sites,
                candidates=sc.candidates,
                categories=sc.candidate_categories,
                existing=sc.existing,
                pilots=pilots,
                need_weight_max=sc.need_weight_max,
                method=sc.method,
                time_limit=sc.time_limit_s,
                shares=area.shares,
            )
            table = table.join(siting.wards)
            access_notes += [*siting.notes, siting.summary]
            if siting.provision_known and area.meta.get("provision_note"):
                access_notes.append(f"existing provision: {area.meta['provision_note']}")
            review = review_list(
                table,
                siting.provision_reach,
                reach=siting.reach,
                provision_note=str(area.meta.get("provision_note", "")),
            )
            table["review"] = ward_flags(table, review)
        access_notes = [*access_notes, *access.notes]
    wards = gpd.GeoDataFrame(table, geometry=geoms.geometry, crs=geoms.crs)
    wards.index.name = "ward_code"
    disclosure = apply_suppression(
        wards,
        caseload.measures,
        threshold=cfg.suppression.threshold,
        enabled=cfg.suppression.enabled,
        hidden=earlier,
        derived=change_links(caseload.measures, earlier) | trend_links(caseload.measures, earlier),
        mask=hidden,
    )
    notes = (
        area_notes
        + list(caseload.notes)
        + list(area.notes)
        + pilots.notes
        + access_notes
        + group_notes
    )
    if area.child_poverty is None:
        notes.append(
            f"{area.files['child_poverty'].name} is not in the area bundle: no child poverty "
            "trend (rebuild the bundle with scripts/prepare_data.py)"
        )
    if len(services.unplaced):
        notes.append(
            f"{len(services.unplaced)} service(s) could not be placed; see services_unplaced.csv"
        )
    with step("Pilot comparison"):
        comparison = compare_pilots(area, caseload, wards, disclosure, pilots)
    return Results(
        config=cfg,
        area=area,
        wards=wards,
        disclosure=disclosure,
        caseload=caseload,
        services=services,
        clustering=clustering,
        notes=notes,
        hotspots=hotspots,
        seconds=time.perf_counter() - start,
        access=access,
        siting=siting,
        sites=siting.sites if siting is not None else None,
        sensitivity=sensitivity,
        benchmark=benchmark,
        ward_types=nat.mix if nat is not None else pd.DataFrame(),
        pilots=pilots,
        review=review,
        pilot_comparison=comparison,
    )


def compare_pilots(
    area: Area, caseload: Caseload, wards: pd.DataFrame, disclosure: Disclosure, pilots: Pilots
) -> pd.DataFrame:
    """Each pilot with a start date against non-piloted wards of the same cluster, for
    child poverty and every caseload measure (see ``needsmap.trends.pilot_comparisons``).

    A caseload comparison that involves a ward with a suppressed count in any period is
    not shown.
    """
    panels: dict[str, tuple[pd.DataFrame, str]] = {}
    if area.child_poverty is not None:
        panels[CHILD_POVERTY_LABEL] = (poverty_did_panel(area.child_poverty), "points")
    withheld: dict[str, set[str]] = {}
    hidden = disclosure.suppressed.join(disclosure.hidden_counts)
    for m in caseload.measures:
        label = vocabulary.phrase(m) + " per 10,000 children"
        if caseload.synthetic:
            label += " (synthetic)"
        panels[label] = (caseload_did_panel(caseload.counts, wards["children"], m), "per 10,000")
        cols = [c for c in hidden.columns if c == m or c.startswith(f"{m}@")]
        withheld[label] = set(hidden.index[hidden[cols].any(axis=1)])
    return pilot_comparisons(
        pilots.wards,
        panels,
        wards["cluster"].rename("cluster"),
        wards["ward_name"],
        withheld=withheld,
    )


def publication(results: Results) -> audit.Publication:
    """Every published fact about the caseload counts, as the audit's reader holds them.

    The ward table's counts (with the rules' bounds), each column's total (DfE
    publishes the latest; earlier periods are taken as known too), each published
    change since the first period, and each cluster's and locality's published total.
    Rates of published counts add nothing to the counts; stand-ins are made from
    published values only (``indicators.index_rates``).
    """
    d, cfg = results.disclosure, results.config
    t = d.threshold
    rounding = cfg.suppression.rounding
    measures = list(results.caseload.measures)
    wards = results.wards.index
    earlier = first_period_counts(results.caseload.counts)
    truth = results.caseload.latest.join(earlier).reindex(wards).astype(float)
    hidden = d.suppressed.join(d.hidden_counts).reindex(index=wards, columns=truth.columns)
    lower = pd.DataFrame(0.0, index=wards, columns=truth.columns)
    upper = pd.DataFrame(float("inf"), index=wards, columns=truth.columns)
    for m in measures:
        lower[m], upper[m] = audit.reader_bounds(d.table[m], t, rounding=rounding)
    for c in earlier.columns:  # not published: the rules' bands where hidden, else open
        lo, hi = audit.band_bounds(truth[c].to_numpy(), t)
        lower[c] = lower[c].where(~hidden[c], lo)
        upper[c] = upper[c].where(~hidden[c], hi)
    relations = audit.column_totals(truth)
    for col, sources in change_links(measures, earlier).items():
        m = col.removesuffix("_rate_change")
        for first in sources[1:]:
            relations += audit.change_relations(
                d.table, m, first, results.wards["children"], threshold=t, rounding=rounding
            )
    table = results.cluster_table
    for section, column in (("cluster", "cluster"), ("locality", "locality")):
        rows = table[table["section"] == section] if "section" in table.columns else table[:0]
        if len(rows) and column in results.wards.columns:
            totals = rows.set_index("group")[[m for m in measures if m in rows.columns]]
            relations += audit.group_relations(
                results.wards[column],
                totals,
                d.table,
                threshold=t,
                rounding=rounding,
                name=section,
            )
    return audit.Publication(
        values=truth,
        hidden=hidden,
        lower=lower,
        upper=upper,
        relations=relations,
        threshold=t,
        protection=t if cfg.suppression.protection is None else cfg.suppression.protection,
    )


def check_disclosure(results: Results) -> audit.AuditResult | None:
    """Audit every published fact together; raise DisclosureError if any hidden count
    could be narrowed below its protection interval (None when suppression is off)."""
    if not results.disclosure.enabled:
        return None
    with step("Disclosure audit"):
        result = audit.audit(publication(results))
    bad = result.failures
    if len(bad):
        where = ", ".join(f"{w} {c}" for w, c in bad[["ward_code", "column"]].head(3).to_numpy())
        msg = (
            f"disclosure audit: {len(bad)} hidden count(s) could be narrowed by a reader "
            f"below the protection interval ({where}); nothing was written. Raise "
            "suppression.rounding or lower suppression.protection, or report this as a bug."
        )
        raise scan.DisclosureError(msg)
    return result


def children_for_year(area: Area, wards: pd.DataFrame, period: str) -> tuple[Area, pd.Series]:
    """Children 0-17 scaled so the wards sum to DfE's denominator for the caseload year.

    Then the wards' rates add up to the rate DfE publishes for the council. Returns the
    area with its LSOA children (the demand points of access and siting) scaled alike,
    and the ward children; unchanged where DfE gives no figure for that year.
    """
    dfe = dfe_children(area.dfe, str(period))
    children = wards["children"].astype(float)
    if dfe is None or not children.sum():
        return area, children
    year, total = dfe
    factor = total / children.sum()
    if abs(factor - 1) < 1e-4:
        return area, children
    note = (
        f"children 0-17 scaled by {factor:.4f} to the {total:,.0f} DfE used for "
        f"{area.name}'s {year} rates (caseload period {period})"
    )
    lsoa = area.lsoa.assign(children=area.lsoa["children"] * factor)
    return dataclasses.replace(area, lsoa=lsoa, notes=[*area.notes, note]), children * factor


def map_context(results: Results) -> layers.MapContext:
    """What every map, the report and the workbook say about this run's data."""
    disc, meta = results.disclosure, results.area.meta
    return layers.MapContext(
        area=results.area.name,
        period=str(results.caseload.periods[-1]),
        synthetic=results.caseload.synthetic,
        stamp=disc.stamp,
        attribution=tuple(meta.get("attribution", [])),
        marker=disc.marker,
        withheld=disc.withheld,
        deprivation=str(meta.get("deprivation", "English Indices of Deprivation 2025")),
        poverty_stand_in=(
            "idaci_score" not in results.wards.columns and CHILD_POVERTY in results.wards.columns
        ),
    )


def map_style(cfg: RunConfig) -> style.MapStyle:
    """The council's colours and font (config ``maps``), for every map of the run."""
    return style.MapStyle(
        sequential=cfg.maps.palette,
        categorical=cfg.maps.categorical,
        font=static.font_family(cfg.maps.font),
    )


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    out["needsmap"] = __version__
    return out


def write_csv(frame: pd.DataFrame, path: Path, *, index: bool, **options: Any) -> Path:
    """Write a published table as CSV, every text cell safe to open in a spreadsheet.

    Text a spreadsheet would run as a formula (a service named ``=HYPERLINK(...)``)
    is prefixed with ``'`` (``integrity.safe_cell``, OWASP's advice).
    """
    safe_text(frame).to_csv(path, index=index, lineterminator="\n", **options)
    return path


def write_outputs(results: Results, folder: Path) -> list[Path]:
    """Write every output into ``folder`` (made by ``integrity.staged``)."""
    cfg = results.config
    published = results.published
    disc = results.disclosure
    written: list[Path] = []
    csv_table = pd.DataFrame(published.drop(columns="geometry"))
    if disc.stamp:
        csv_table.insert(0, "status", disc.stamp)
    written.append(write_csv(csv_table, folder / "wards.csv", index=True, float_format="%.6g"))

    path = folder / "wards.gpkg"
    gpkg = published.reset_index()
    if disc.stamp:
        gpkg.insert(0, "status", disc.stamp)
    for col in gpkg.columns:
        if gpkg[col].dtype == object and col != "geometry":
            gpkg[col] = gpkg[col].astype(str)
    with fixed_gpkg_timestamp():  # reruns give byte-identical files
        gpkg.to_file(path, driver="GPKG", layer="wards")
    written.append(path)

    tables: list[tuple[str, pd.DataFrame, bool]] = []
    if len(results.services.unplaced):
        tables.append(("services_unplaced.csv", results.services.unplaced, False))
    if results.siting is not None:
        tables.append(("recommended_sites.csv", results.siting.table, False))
        tables.append(("siting_scenario.csv", results.siting.scenario, True))
        tables.append(("review_before_commissioning.csv", results.review, False))
    for name, frame, index in tables:
        written.append(write_csv(stamped(frame, disc), folder / name, index=index))
    with step("Need tables"):
        for name, frame, index in (
            ("sensitivity.csv", results.sensitivity, False),
            ("la_benchmark.csv", results.benchmark, True),
            ("pilot_comparison.csv", results.pilot_comparison, False),
            ("ward_types.csv", results.ward_types, True),
        ):
            if len(frame):
                written.append(write_csv(stamped(frame, disc), folder / name, index=index))
    with step("Cluster profiles"):
        table = stamped(results.cluster_table, disc)
        written.append(write_csv(table, folder / "clusters.csv", index=False))

    look = map_style(cfg)
    services = results.services.placed
    if results.pilots is not None:
        services = with_pilots(services, results.pilots)
    with step("Interactive map"):
        im = cfg.interactive_map
        fmap = interactive.build_map(
            published,
            services,
            map_context(results),
            sites=results.sites,
            comparison=interactive.comparison(results.benchmark, area=results.area.name),
            background=im.background,
            tiles_url=im.tiles_url,
            tiles_attribution=im.tiles_attribution,
            simplify_m=im.simplify_m,
            decimals=im.decimals,
            map_style=look,
            shown=cfg.siting.existing,
        )
        path = folder / "needs_map.html"
        interactive.save_map(fmap, str(path))
        written.append(path)
    written += board_outputs(results, cfg, folder, csv_table, look)
    return written


def board_outputs(
    results: Results, cfg: RunConfig, folder: Path, table: pd.DataFrame, look: style.MapStyle
) -> list[Path]:
    """Board maps and charts, wards.xlsx and report.html/pdf, then the disclosure scan.

    ``table`` is the published ward table as written to wards.csv; ``look`` the run's
    colours and font (``map_style``), as on the interactive map. The figures are
    drawn by worker processes (``static.drawing_pool``) while this process writes the
    workbook and the report, so Chromium prints the PDF alongside the drawing.
    """
    published, disc = results.published, results.disclosure
    threshold = disc.threshold if disc.enabled else None
    check = None if threshold is None else functools.partial(scan.check_texts, threshold=threshold)
    ctx = map_context(results)
    sites, siting = results.sites, results.siting
    formats, dpi = cfg.output.static_formats, cfg.output.dpi
    labels = static.use_labels(len(published), cfg.maps.labels, cfg.maps.label_max_wards)
    by_type = results.services.placed["type"].map(type_key)
    provision = existing_provision(
        results.services.placed.loc[by_type.isin({type_key(t) for t in cfg.siting.existing})],
        results.pilots,
        running_only=False,
    )
    drawings = static.map_drawings(
        published,
        results.services.placed,
        folder / "maps",
        ctx,
        formats=formats,
        dpi=dpi,
        map_style=look,
        labels=labels,
        sites=sites,
        check=check,
        provision=provision,
    )
    how = results.clustering.rule
    k_chart = functools.partial(
        cluster_chart.k_selection_figure,
        results.clustering.scores,
        chosen=results.clustering.k,
        note=f"{cfg.clustering.method} on {len(results.wards)} wards; k: {how}",
    )
    drawings.append(static.Drawing(folder / "maps" / "cluster_k_selection", k_chart, formats, dpi))
    change = change_section(results)
    area = results.area
    poverty_stem = folder / "maps" / "child_poverty_trends"
    if area.child_poverty is not None:
        poverty_chart = functools.partial(
            trend_chart.child_poverty_figure,
            area.child_poverty,
            pd.DataFrame(published.drop(columns="geometry")),
            areas=area.child_poverty_areas,
            area_name=area.name,
        )
        drawings.append(static.Drawing(poverty_stem, poverty_chart, formats, dpi, check, look.font))
    comparison = report.la_comparison(results.area.dfe)
    benchmark, clusters = results.benchmark, results.cluster_table
    about = report.about_lines(
        ctx,
        subtitle=ctx.data_line(len(published)),
        notes=results.notes,
        version=__version__,
        rounding=cfg.suppression.rounding,
    )
    site_table = siting.table if siting is not None else None
    written: list[Path] = []
    # Imported here, not at the top: the workbook's writer loads while the figures are
    # drawn instead of delaying the analysis.
    from needsmap import workbook

    need = layers.LAYERS[0]
    need_png = folder / "maps" / f"{need.stem}.png"
    # The report's pictures are drawn first, so Chromium prints the report while the
    # workers draw the rest (the poverty chart, drawn last, held the report back 3 s).
    pictured = {need_png.with_suffix(""), poverty_stem, folder / "maps" / "child_poverty_change"}
    drawings.sort(key=lambda d: d.stem not in pictured)
    with static.drawing_pool(len(drawings)) as pool:
        with step("Board figures handed to the drawing workers"):  # in-process: drawn
            drawn = [pool.submit(d) for d in drawings]
        need_drawn = dict(zip([d.stem for d in drawings], drawn, strict=True)).get(
            need_png.with_suffix("")
        )
        with step("Workbook"):
            written.append(
                workbook.write_workbook(
                    folder / "wards.xlsx",
                    {
                        "Wards": table,
                        "Clusters": clusters,
                        "Recommended sites": site_table,
                        "Review list": results.review if len(results.review) else None,
                        "LA benchmark": benchmark,
                        "Child poverty": change.benchmark,
                        "Pilot comparison": results.pilot_comparison
                        if len(results.pilot_comparison)
                        else None,
                    },
                    about=about,
                    stamp=disc.stamp,
                    marker=disc.marker,
                )
            )
        with step("Report"):
            by_stem = dict(zip([d.stem for d in drawings], drawn, strict=True))

            def picture(stem: Path) -> bytes | None:
                """A board figure's PNG once its worker has drawn it, shrunk to embed."""
                if stem not in by_stem or "png" not in formats:
                    return None
                by_stem[stem].result()
                return report.shrink_png(stem.with_suffix(".png").read_bytes())

            change = dataclasses.replace(
                change,
                chart=picture(poverty_stem),
                map=picture(folder / "maps" / "child_poverty_change"),
            )
            if need_drawn is not None and "png" in formats:
                need_drawn.result()  # the need map's PNG is written
                need_map = need_png.read_bytes()
            else:
                fig = static.layer_map(published, need, ctx, map_style=look, labels=labels)
                need_map = static.figure_png(fig, dpi=150, font=look.font)
            page = report.board_report(
                published,
                report.ReportContext(
                    **dataclasses.asdict(ctx),
                    subtitle=ctx.data_line(len(published)),
                    version=__version__,
                    top_n=cfg.need_index.top_n,
                ),
                comparison=comparison,
                benchmark=benchmark,
                clusters=clusters,
                sites=site_table,
                sites_summary=siting.coverage if siting is not None else None,
                review=results.review,
                provision_note=str(results.area.meta.get("provision_note", "")),
                pilots=results.pilots.table if results.pilots is not None else None,
                provision_date=provision_date(cfg.siting.as_of, results.caseload.periods),
                ward_types=results.ward_types,
                need_map=need_map,
                map_style=look,
                top_wards=cfg.report.top_wards,
                profiles=cfg.report.profiles,
                change=change,
                medians=report.rate_medians(results.wards, disc, results.caseload.measures),
            )
            paths, note = report.write_report(page, folder, pdf=cfg.report.pdf)
            if note and note not in results.notes:
                results.notes.append(note)
        with step("Static maps"):  # what the workers have left to draw
            figures = [path for future in drawn for path in future.result()]
    written = figures + written + paths
    with step("Disclosure scan"):
        if threshold is not None:
            scan.assert_clean(folder, threshold=threshold)
    return written


def change_section(results: Results) -> report.ChangeSection:
    """The report's Change section from the published ward table (chart added later)."""
    published = results.published
    areas = results.area.child_poverty_areas
    benchmark = poverty_benchmark(areas) if areas is not None else None
    measures = {m: vocabulary.label(m) for m in results.caseload.measures}
    piloted = sorted(set(results.pilots.wards["ward_code"])) if results.pilots else []
    return report.ChangeSection(
        findings=change_findings(published, pilot_wards=piloted, benchmark=benchmark),
        pilots=list(results.pilot_comparison["reading"]),
        headline=change_headline(published, pilot_wards=piloted),
        benchmark=benchmark,
        caseload=[
            *dfe_trend_findings(results.benchmark, measures, area=results.area.name),
            *caseload_trend_findings(published, measures, synthetic=results.caseload.synthetic),
        ],
        test=(
            f"How rising and falling are decided: {TREND_TEST}. Four yearly figures per "
            "ward give the test little power: 'not clearly changing' means the figures "
            "cannot tell, not that nothing changed."
        ),
    )


def input_paths(cfg: RunConfig) -> list[Path]:
    """Every file and folder a run reads (and the bundled data folder): the output
    folder may neither hold nor lie inside any of them."""
    paths = [bundled_data_dir(), Path(cfg.area), *cfg.services]
    paths += [p for p in (cfg.caseload, cfg.access.travel_times) if p is not None]
    return paths


def _inputs(results: Results) -> dict[str, str]:
    cfg = results.config
    files = [p for k, p in results.area.files.items() if k != "caseload" or cfg.caseload is None]
    files += [p for p in (cfg.caseload, *cfg.services) if p is not None]
    return {str(p): sha256(p) for p in files if p.exists()}


def run(cfg: RunConfig, *, out: Path | None = None) -> Results:
    """Analyse and write every output to ``out`` (default: the config's output folder).

    The output folder is checked, and its temporary folder made, before the analysis:
    a folder that may not be replaced, or cannot be written, stops the run at once.
    """
    start = time.perf_counter()
    folder = Path(out or cfg.output.folder)
    recovered = recover_staging(folder)
    for note in recovered:
        log.info("%s", note)
    with staged(folder, inputs=input_paths(cfg)) as tmp:
        with collect_repairs() as repairs:
            results = analyse(cfg)
        # The audit refuses (InputError) before a file is written; staged() then
        # removes its temporary folder and the output folder is left as it was.
        results.audit = check_disclosure(results)
        results.notes = list(dict.fromkeys([*recovered, *repairs, *results.notes]))
        written = write_outputs(results, tmp)
        results.seconds = time.perf_counter() - start
        record: dict[str, Any] = {
            "needsmap": __version__,
            "area": results.area.name,
            "caseload_synthetic": results.caseload.synthetic,
            "suppression": {
                "enabled": results.disclosure.enabled,
                "threshold": results.disclosure.threshold,
                "stamp": results.disclosure.stamp,
                "rounding": cfg.suppression.rounding if results.disclosure.enabled else 1,
                "protection": results.disclosure.threshold
                if cfg.suppression.protection is None
                else cfg.suppression.protection,
                "audit": None
                if results.audit is None
                else {
                    "what": "the range a reader holding every output can narrow each "
                    "hidden count to (lowest..highest); never the true value",
                    "hidden_cells": len(results.audit.ranges),
                    "ranges": results.audit.record(),
                },
            },
            "inputs": _inputs(results),
            "provision_counted_on": results.pilots.as_of.isoformat() if results.pilots else None,
            "config": config_to_dict(cfg),
            "versions": _versions(),
            "notes": results.notes,
            "outputs": sorted(p.relative_to(tmp).as_posix() for p in written),
            "sha256": manifest(tmp),  # every file in it: the proof the folder is ours
        }
        path = tmp / "run.json"
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    results.written = [folder / p.relative_to(tmp) for p in written]
    return results
