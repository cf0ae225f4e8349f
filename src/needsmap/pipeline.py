"""run(config) -> Results: the only place that strings the steps together."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from needsmap import __version__, report, scan, workbook
from needsmap.clusters import Clustering, cluster_wards
from needsmap.config import RunConfig, config_to_dict
from needsmap.disclosure import Disclosure, apply_suppression
from needsmap.geography import ward_polygons
from needsmap.indicators import caseload_rates, need_index, need_rank, ward_deprivation
from needsmap.maps import interactive, layers, static, style
from needsmap.sources import Area, load_area, load_caseload, load_services
from needsmap.sources.caseload import Caseload
from needsmap.sources.services import Services

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

    @property
    def published(self) -> gpd.GeoDataFrame:
        """The ward table as written: suppression applied."""
        return gpd.GeoDataFrame(self.disclosure.table, geometry="geometry", crs=self.wards.crs)


@contextlib.contextmanager
def step(name: str) -> Iterator[None]:
    """Log a step's name and, when it takes more than a second, its duration."""
    start = time.perf_counter()
    log.info("%s…", name)
    yield
    took = time.perf_counter() - start
    if took > 1:
        log.info("%s took %.1f s", name, took)


def analyse(cfg: RunConfig) -> Results:
    """Load every input and compute the ward table; writes nothing."""
    start = time.perf_counter()
    with step("Loading the area bundle"):
        area = load_area(cfg.area)
        geoms = ward_polygons(area.lsoa)
    with step("Aggregating LSOAs to wards"):
        table = ward_deprivation(area.lsoa)
        table.insert(0, "ward_name", geoms["ward_name"])
    with step("Reading caseload"):
        path = cfg.caseload or area.files["caseload"]
        caseload = load_caseload(path, geoms["ward_name"], synthetic=cfg.caseload is None)
        latest = caseload.latest
        table["caseload_period"] = caseload.periods[-1]
        table["caseload_source"] = "synthetic" if caseload.synthetic else "council"
        table = table.join(caseload_rates(latest, table["children"]))
    with step("Need index"):
        ni = cfg.need_index
        table["need_index"] = need_index(table, ni.indicators, method=ni.method)
        table["need_rank"] = need_rank(table["need_index"])
    with step("Clustering wards"):
        cl = cfg.clustering
        clustering = cluster_wards(
            table,
            cl.features,
            table["need_index"],
            k=cl.k,
            k_range=(cl.k_min, cl.k_max),
            seed=cl.seed,
        )
        table["cluster"] = clustering.labels
    with step("Reading services"):
        outline = geoms.union_all()
        services = load_services([area.files["services"], *cfg.services], area.postcodes, outline)
    wards = gpd.GeoDataFrame(table, geometry=geoms.geometry, crs=geoms.crs)
    wards.index.name = "ward_code"
    disclosure = apply_suppression(
        wards,
        caseload.measures,
        threshold=cfg.suppression.threshold,
        enabled=cfg.suppression.enabled,
    )
    notes = list(caseload.notes)
    if len(services.unplaced):
        notes.append(
            f"{len(services.unplaced)} service(s) could not be placed; see services_unplaced.csv"
        )
    return Results(
        config=cfg,
        area=area,
        wards=wards,
        disclosure=disclosure,
        caseload=caseload,
        services=services,
        clustering=clustering,
        notes=notes,
        seconds=time.perf_counter() - start,
    )


def map_text(results: Results, subject: str) -> interactive.MapText:
    area = results.area
    period = results.caseload.periods[-1]
    source = "synthetic caseload" if results.caseload.synthetic else "council caseload"
    return interactive.MapText(
        title=f"{area.name}: {subject} by ward",
        subtitle=(
            f"IoD2025 deprivation (LSOA 2021, population-weighted) · {source} at {period} · "
            f"{len(results.wards)} wards (2024)"
        ),
        synthetic=results.caseload.synthetic,
        stamp=results.disclosure.stamp,
        attribution=list(area.meta.get("attribution", [])),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    out["needsmap"] = __version__
    return out


def write_outputs(results: Results, folder: Path) -> list[Path]:
    """Write every output into ``folder`` (which must exist and be empty)."""
    cfg = results.config
    published = results.published
    written: list[Path] = []
    csv_table = pd.DataFrame(published.drop(columns="geometry"))
    if results.disclosure.stamp:
        csv_table.insert(0, "status", results.disclosure.stamp)
    path = folder / "wards.csv"
    csv_table.to_csv(path, lineterminator="\n", float_format="%.6g")
    written.append(path)

    path = folder / "wards.gpkg"
    gpkg = published.reset_index()
    if results.disclosure.stamp:
        gpkg.insert(0, "status", results.disclosure.stamp)
    for col in gpkg.columns:
        if gpkg[col].dtype == object and col != "geometry":
            gpkg[col] = gpkg[col].astype(str)
    gpkg.to_file(path, driver="GPKG", layer="wards")
    written.append(path)

    if len(results.services.unplaced):
        path = folder / "services_unplaced.csv"
        results.services.unplaced.to_csv(path, index=False, lineterminator="\n")
        written.append(path)

    classes = style.classify(results.wards["need_index"])
    text = map_text(results, "need for children's services")
    with step("Interactive map"):
        fmap = interactive.build_map(published, results.services.placed, text, classes)
        path = folder / "needs_map.html"
        interactive.save_map(fmap, str(path))
        written.append(path)
    with step("Board maps, workbook and report"):
        written += board_outputs(results, cfg, folder, csv_table)
    return written


def board_outputs(
    results: Results, cfg: RunConfig, folder: Path, table: pd.DataFrame
) -> list[Path]:
    """Static maps, wards.xlsx and report.html/pdf, then the disclosure scan of the folder.

    ``table`` is the published ward table as written to wards.csv.
    """
    published, disc = results.published, results.disclosure
    threshold = disc.threshold if disc.enabled else None
    check = None if threshold is None else functools.partial(scan.check_texts, threshold=threshold)
    look = style.MapStyle(
        sequential=cfg.maps.palette,
        categorical=cfg.maps.categorical,
        font=static.font_family(cfg.maps.font),
    )
    meta = results.area.meta
    ctx = static.MapContext(
        area=results.area.name,
        period=str(results.caseload.periods[-1]),
        synthetic=results.caseload.synthetic,
        stamp=disc.stamp,
        attribution=tuple(meta.get("attribution", [])),
        marker=disc.marker,
        withheld=str(getattr(disc, "withheld", "withheld")),
        deprivation=str(meta.get("deprivation", "English Indices of Deprivation 2025")),
    )
    # Tables other steps may add to Results (recommended sites, LA benchmark, cluster
    # profiles); computed here from the published table when a run has none.
    sites = getattr(results, "sites", None)
    siting = getattr(results, "siting", None)
    labels = static.use_labels(len(published), cfg.maps.labels, cfg.maps.label_max_wards)
    written = static.write_maps(
        published,
        results.services.placed,
        folder / "maps",
        ctx,
        formats=cfg.output.static_formats,
        dpi=cfg.output.dpi,
        map_style=look,
        labels=labels,
        sites=sites,
        check=check,
    )
    comparison = report.la_comparison(results.area.dfe)
    benchmark = getattr(results, "benchmark", None)
    if benchmark is None or not len(benchmark):
        benchmark = report.la_benchmark(comparison)
    clusters = getattr(results, "cluster_table", None)
    if clusters is None:
        clusters = report.cluster_profiles(published)
    about = report.about_lines(
        ctx, subtitle=map_text(results, "need").subtitle, notes=results.notes, version=__version__
    )
    site_table = getattr(siting, "table", None)
    if site_table is None and sites is not None:
        site_table = pd.DataFrame(sites.drop(columns="geometry"))
    summary = getattr(siting, "summary", None)
    written.append(
        workbook.write_workbook(
            folder / "wards.xlsx",
            {
                "Wards": table,
                "Clusters": clusters,
                "Recommended sites": site_table,
                "LA benchmark": benchmark,
            },
            about=about,
            stamp=disc.stamp,
            marker=disc.marker,
        )
    )
    png = folder / "maps" / "need_index.png"
    if png.exists():
        need_map = png.read_bytes()
    else:
        need = layers.LAYERS[0]
        text = static.layer_text(need, ctx, len(published))
        fig = static.layer_map(
            published,
            need,
            text,
            map_style=look,
            labels=labels,
            marker=disc.marker,
            withheld=ctx.withheld,
        )
        need_map = static.figure_png(fig, dpi=150, font=look.font)
    page = report.board_report(
        published,
        report.ReportContext(
            area=ctx.area,
            period=ctx.period,
            synthetic=ctx.synthetic,
            stamp=ctx.stamp,
            attribution=ctx.attribution,
            marker=disc.marker,
            subtitle=map_text(results, "need").subtitle,
            version=__version__,
            top_n=cfg.need_index.top_n,
        ),
        comparison=comparison,
        benchmark=benchmark,
        clusters=clusters,
        sites=site_table,
        sites_summary=summary.removeprefix("siting: ") if isinstance(summary, str) else None,
        need_map=need_map,
        map_style=look,
        top_wards=cfg.report.top_wards,
        profiles=cfg.report.profiles,
    )
    paths, note = report.write_report(page, folder, pdf=cfg.report.pdf)
    written += paths
    if note and note not in results.notes:
        results.notes.append(note)
    if threshold is not None:
        scan.assert_clean(folder, threshold=threshold)
    return written


def _inputs(results: Results) -> dict[str, str]:
    cfg = results.config
    files = [p for k, p in results.area.files.items() if k != "caseload" or cfg.caseload is None]
    files += [p for p in (cfg.caseload, *cfg.services) if p is not None]
    return {str(p): _sha256(p) for p in files if p.exists()}


@contextlib.contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A temporary folder beside ``out`` that replaces it only if the block succeeds.

    A failed run leaves an existing output folder exactly as it was.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; outputs are for sharing
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = out.with_name(f".{out.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def run(cfg: RunConfig, *, out: Path | None = None) -> Results:
    """Analyse and write every output to ``out`` (default: the config's output folder)."""
    start = time.perf_counter()
    folder = Path(out or cfg.output.folder)
    results = analyse(cfg)
    with staged(folder) as tmp:
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
            },
            "inputs": _inputs(results),
            "config": config_to_dict(cfg),
            "versions": _versions(),
            "notes": results.notes,
            "outputs": sorted(str(p.relative_to(tmp)) for p in written),
            "seconds": round(results.seconds, 2),
        }
        path = tmp / "run.json"
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    results.written = [folder / p.relative_to(tmp) for p in written]
    return results
