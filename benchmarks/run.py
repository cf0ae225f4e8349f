"""needsmap's speed and memory benchmark: `make bench` (or `.venv/bin/python benchmarks/run.py`).

Cases
-----
wirral
    The bundled Wirral run (209 LSOAs, 22 wards), step by step, and ``needsmap run`` end
    to end as a user starts it (a fresh process: imports included).
sefton, lancashire, rutland
    A council of each kind run by name with no set-up (``needsmap run --area Sefton``): a
    metropolitan borough, a county (all 12 districts) and a small unitary. Their target
    is ``needsmap run`` end to end within 1.5 times Wirral's.
england
    England scale: all 33,755 LSOAs and the ONS May 2024 ward polygons (6,805 with data),
    built like any council's bundle (see ``benchmarks/england.py``), and the national
    ward typology timed on its own.

Each run of a case is a fresh Python process, so its peak memory is its own. Steps are
the pipeline's own (``needsmap.pipeline.step`` logs one DEBUG record per step; a
handler collects them), plus a few functions timed by wrapping them in the worker:
siting inside the access step, suppression, and writing the tables. The board figures
are drawn by worker processes while the main process writes the workbook and the
report, so those rows are the main process's wall time, overlapping the drawing.
Memory is the process's resident-set high-water mark (``getrusage``) after each step,
so each row reads "peak RSS so far", and the peak proportional set size of the whole
run (main process, drawing workers and Chromium), sampled every 0.25 s. The machine may
be shared: use ``--repeat`` and read the medians.

Peers, run in the same process after the pipeline on the same data: the interactive map
against ``geopandas.GeoDataFrame.explore()`` (same ward polygons and need index, both
saved), and the floating catchments against PySAL's ``access`` package (same demand,
capacities and demand-site pairs; values must agree).

Results: a table on stdout and ``benchmarks/results/<case>.json`` (git-ignored).

    .venv/bin/python benchmarks/run.py                      # Wirral 3 runs, England 1
    .venv/bin/python benchmarks/run.py --case england --repeat 3
    .venv/bin/python benchmarks/run.py --case wirral --quick  # smoke test, a few seconds
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import gc
import json
import logging
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
COUNCILS = {"sefton": "Sefton", "lancashire": "Lancashire", "rutland": "Rutland"}
"""Councils of each kind, run by name: metropolitan borough, county, small unitary."""
CASES = ("wirral", *COUNCILS, "england")
DEFAULT_REPEAT = 3
"""Runs of the Wirral case (seconds each); England runs once by default (minutes)."""
MB = 1024 * 1024

# Targets from issues 9 and 14: (key, what, limit, unit). "below" unless the unit says "x".
TARGETS = {
    "wirral": [
        ("cli_seconds", "needsmap run end to end, all outputs", 10.0, "s"),
        ("analysis_seconds", "analysis (analyse())", 1.0, "s"),
        ("audit_seconds", "disclosure audit of every published fact", 1.0, "s"),
    ],
    **{
        case: [("cli_vs_wirral", "needsmap run end to end, times Wirral's", 1.5, "ratio")]
        for case in COUNCILS
    },
    "england": [
        ("audit_seconds", "disclosure audit of every published fact", 10.0, "s"),
        ("all_but_report_seconds", "everything but the report", 60.0, "s"),
        ("typology_seconds", "national ward typology (read and fit)", 30.0, "s"),
        ("peak_pss_mb", "peak memory of the run, all its processes (PSS)", 3 * 1024.0, "MB"),
        ("map_mb", "interactive map (needs_map.html)", 10.0, "MB"),
        ("fca_speedup", "2SFCA vs PySAL access, with our pair search (x faster)", 2.0, "x"),
        ("fca_max_rel_diff", "2SFCA values vs PySAL access (max rel. diff)", 1e-9, "rel"),
    ],
}

# The pipeline's step names (needsmap.pipeline.step) -> the benchmark's rows.
# Steps not listed here (added by later issues) keep their own name.
LABELS = {
    "Loading the area bundle": "load: area bundle and ward polygons",
    "Aggregating LSOAs to wards": "aggregate: LSOAs to wards",
    "Reading caseload": "load: caseload",
    "Need index and ranking uncertainty": "indicators, rank draws, sensitivity",
    "Clusters, localities and hot spots": "clustering with k selection, localities, hot spots",
    "Reading services": "load: services",
    "Access to services, gaps and where new sites would reach most need": "access and 2SFCA",
    "Need tables": "write: need tables",
    "Interactive map": "interactive map",
    "Cluster profiles": "write: cluster profiles",
    "Board figures handed to the drawing workers": "static maps: handed to the workers",
    "Workbook": "write: wards.xlsx (maps drawn alongside)",
    "Report": "report html + pdf (maps drawn alongside)",
    "Static maps": "static maps: the rest of the drawing",
    "Disclosure audit": "disclosure audit (a reader's LP per hidden count)",
    "Disclosure scan": "disclosure scan of every output",
}
AUDIT = "Disclosure audit"
"""Logged by run() between analyse() and write_outputs(): in neither."""


# --------------------------------------------------------------------------- memory


def peak_rss_mb() -> float:
    """This process's resident-set high-water mark so far (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / MB


def rss_mb() -> float:
    """Resident set now (Linux /proc; 0 where unavailable)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / MB
    return 0.0


def tree_pss_mb(root: int) -> float | None:
    """Proportional set size of ``root`` and all its descendants; None where /proc
    cannot tell (not Linux, or no smaps_rollup).

    PSS divides each page among the processes sharing it, so forked drawing workers
    are not counted twice for the memory they share with the parent.
    """
    if not Path(f"/proc/{root}/smaps_rollup").exists():
        return None
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            parents[int(stat.parent.name)] = int(text[text.rindex(")") + 2 :].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        tree.update(children)
        frontier += children
    kib = 0
    for pid in tree:
        with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/smaps_rollup") as f:
            kib += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
    return kib / 1024


class TreeMemory(threading.Thread):
    """Samples ``tree_pss_mb`` of this process every ``interval`` seconds; keeps the peak
    (None if nothing could be measured).

    A sample takes about 2.5 ms of CPU: at 0.25 s, 1% of a core, taken from the run.
    """

    def __init__(self, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_mb: float | None = None
        self._done = threading.Event()

    def _sample(self) -> None:
        now = tree_pss_mb(os.getpid())
        if now is not None:
            self.peak_mb = max(self.peak_mb or 0.0, now)

    def run(self) -> None:
        while not self._done.wait(self.interval):
            self._sample()

    def stop(self) -> float | None:
        self._done.set()
        self.join()
        self._sample()
        return self.peak_mb


# --------------------------------------------------------------------------- worker


@dataclasses.dataclass
class Record:
    name: str
    seconds: float
    peak_rss_mb: float
    rss_mb: float
    kind: str  # "step" (pipeline.step), "part" (a wrapped function) or "total"


class StepHandler(logging.Handler):
    """Collects the DEBUG record ``needsmap.pipeline.step`` logs for every step."""

    def __init__(self, records: list[Record]) -> None:
        super().__init__(level=logging.DEBUG)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        name, seconds = getattr(record, "step", None), getattr(record, "seconds", None)
        if name is not None and seconds is not None:
            self.records.append(Record(name, float(seconds), peak_rss_mb(), rss_mb(), "step"))


def _timed(module: Any, attr: str, name: str, records: list[Record]) -> None:
    """Replace ``module.attr`` with a wrapper that records its duration (benchmark only)."""
    fn = getattr(module, attr)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        records.append(Record(name, time.perf_counter() - start, peak_rss_mb(), rss_mb(), "part"))
        return out

    setattr(module, attr, wrapper)


def _quick_config(cfg: Any) -> Any:
    """A cheaper run for the smoke test (not a measurement): every step, less work."""
    return dataclasses.replace(
        cfg,
        need_index=dataclasses.replace(cfg.need_index, draws=100),
        clustering=dataclasses.replace(cfg.clustering, k=3),
        output=dataclasses.replace(cfg.output, dpi=72),
    )


def worker(case: str, area: Path | None, out: Path, *, quick: bool, peers: bool) -> dict[str, Any]:
    """One run of one case in this (fresh) process; returns its measurements.

    England's target is everything but the report, so its run leaves the report out
    (report.html and report.pdf are not built) rather than subtracting a step that
    runs alongside the drawing.
    """
    import_start = time.perf_counter()
    gc.disable()  # loaded as the needsmap command loads them (needsmap/__main__.py)
    import needsmap.pipeline as pipeline
    from needsmap.config import RunConfig

    gc.freeze()
    gc.enable()
    imported = time.perf_counter() - import_start
    records: list[Record] = [Record("import needsmap", imported, peak_rss_mb(), rss_mb(), "part")]
    log = logging.getLogger("needsmap.pipeline")
    log.setLevel(logging.DEBUG)
    log.addHandler(StepHandler(records))
    _timed(pipeline, "site_pilots", "siting", records)
    _timed(pipeline, "apply_suppression", "suppression", records)
    _timed(pipeline, "analyse", "analyse()", records)
    _timed(pipeline, "write_outputs", "write_outputs()", records)

    skip_report = case == "england"
    if skip_report:
        pipeline.report.board_report = lambda *args, **kwargs: ""
        pipeline.report.write_report = lambda *args, **kwargs: ([], None)
    cfg = RunConfig() if area is None else RunConfig(area=area)  # a folder or a council
    if quick:
        cfg = _quick_config(cfg)
    if out.exists():
        shutil.rmtree(out)
    memory = TreeMemory()
    memory.start()
    start = time.perf_counter()
    results = pipeline.run(cfg, out=out)
    total = time.perf_counter() - start
    records.append(Record("run()", total, peak_rss_mb(), rss_mb(), "total"))
    pipeline_peak = peak_rss_mb()
    tree_peak = memory.stop()
    html = out / "needs_map.html"
    measured: dict[str, Any] = {
        "case": case,
        "quick": quick,
        "wards": len(results.wards),
        "lsoas": len(results.area.lsoa),
        "services": len(results.services.placed),
        "records": [dataclasses.asdict(r) for r in records],
        "run_seconds": total,
        "import_seconds": imported,
        "pipeline_peak_rss_mb": pipeline_peak,
        "tree_peak_pss_mb": tree_peak,
        "report_skipped": skip_report,
        "map_bytes": html.stat().st_size if html.exists() else None,
        "outputs": sorted(str(p.relative_to(out)) for p in results.written),
    }
    if results.siting is not None:
        sol = results.siting.solution
        measured["siting"] = {
            "sites": len(sol.chosen),
            "candidates": results.siting.candidates,
            "considered": sol.considered,
            "method": sol.method,
            "status": sol.status,
            "gap": sol.gap,
            "seconds": sol.seconds,
        }
    if case == "england":
        sys.path.insert(0, str(HERE))
        from england import time_typology

        measured["typology"] = time_typology()
    if peers:
        steps = {r.name: r.seconds for r in records}
        measured["explore"] = compare_explore(results, out, steps.get("Interactive map"))
        measured["fca"] = compare_fca(results)
        measured["peak_rss_with_peers_mb"] = peak_rss_mb()
    return measured


# --------------------------------------------------------------------------- peers


def compare_explore(results: Any, out: Path, needsmap_seconds: float | None) -> dict[str, Any]:
    """geopandas' ``explore()`` on the same ward polygons and need index, saved as HTML."""
    wards = results.published[["ward_name", "need_index", "geometry"]].reset_index()
    start = time.perf_counter()
    fmap = wards.explore(column="need_index", tooltip=["ward_code", "ward_name", "need_index"])
    path = out / "peer_explore.html"
    fmap.save(str(path))
    took = time.perf_counter() - start
    ours = out / "needs_map.html"
    size, peer_size = ours.stat().st_size, path.stat().st_size
    return {
        "explore_seconds": took,
        "explore_bytes": peer_size,
        "needsmap_seconds": needsmap_seconds,
        "needsmap_bytes": size,
        "size_ratio": size / peer_size,
        "time_ratio": (needsmap_seconds / took) if needsmap_seconds else None,
        "note": (
            "explore(): ward polygons unsimplified, one layer, tooltip of code, name and "
            "need index; Leaflet and tiles from a CDN (not in the file). needsmap: "
            "coverage-simplified wards, every layer in maps/layers.py, services, legend, "
            "Leaflet embedded so it works offline."
        ),
    }


def compare_fca(results: Any) -> dict[str, Any]:
    """2SFCA per service type: needsmap.access.floating_catchment against PySAL access."""
    import numpy as np
    import pandas as pd

    from needsmap.access import floating_catchment, site_capacity

    try:
        from access import Access as PysalAccess
    except ImportError:
        return {"skipped": "PySAL access is not installed"}
    acc = results.access
    demand = acc.demand
    services = results.services.placed
    services = services.loc[services["type"].isin(acc.types)]
    capacity, _ = site_capacity(services)
    children = demand["children"].to_numpy(dtype=float)
    catchment = acc.catchment
    rows = []
    for t in acc.types:
        sites = services.loc[services["type"] == t]
        supply = capacity.loc[sites.index].to_numpy(dtype=float)
        start = time.perf_counter()
        pairs = acc.travel.within(sites, catchment)
        searched = time.perf_counter() - start
        start = time.perf_counter()
        ours = floating_catchment(children, supply, pairs, catchment=catchment)
        ours_seconds = time.perf_counter() - start

        demand_df = pd.DataFrame({"children": children}, index=demand.index)
        supply_df = pd.DataFrame(
            {"capacity": supply}, index=pd.Index(sites["service_id"].to_numpy(), name="site")
        )
        cost_df = pd.DataFrame(
            {
                "origin": demand.index.to_numpy()[pairs.origin],
                "site": sites["service_id"].to_numpy()[pairs.site],
                "cost": pairs.cost,
            }
        )
        start = time.perf_counter()
        ref = PysalAccess(
            demand_df=demand_df,
            demand_value="children",
            supply_df=supply_df,
            supply_value="capacity",
            cost_df=cost_df,
            cost_origin="origin",
            cost_dest="site",
            cost_name="cost",
        ).two_stage_fca(max_cost=catchment)
        ref_seconds = time.perf_counter() - start
        theirs = ref.iloc[:, 0].reindex(demand.index).fillna(0.0).to_numpy(dtype=float)
        diff = np.abs(theirs - ours)
        scale = np.maximum(np.abs(theirs), np.abs(ours))
        rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
        rows.append(
            {
                "type": t,
                "sites": len(sites),
                "pairs": len(pairs.cost),
                "needsmap_search_seconds": searched,
                "needsmap_seconds": ours_seconds,
                "access_seconds": ref_seconds,
                "max_abs_diff": float(diff.max()) if len(diff) else 0.0,
                "max_rel_diff": float(rel.max()) if len(rel) else 0.0,
            }
        )
    ours_total = sum(r["needsmap_seconds"] for r in rows)
    search_total = sum(r["needsmap_search_seconds"] for r in rows)
    ref_total = sum(r["access_seconds"] for r in rows)
    return {
        "types": rows,
        "demand_points": len(demand),
        "catchment": catchment,
        "needsmap_seconds": ours_total,
        "needsmap_with_search_seconds": ours_total + search_total,
        "access_seconds": ref_total,
        "speedup": ref_total / ours_total if ours_total else None,
        "speedup_with_search": ref_total / (ours_total + search_total)
        if ours_total + search_total
        else None,
        "max_rel_diff": max((r["max_rel_diff"] for r in rows), default=0.0),
        "max_abs_diff": max((r["max_abs_diff"] for r in rows), default=0.0),
        "note": (
            "Both get the same demand (children), capacities and demand-site pairs within the "
            "catchment; 'with search' adds needsmap's own KD-tree search for those pairs."
        ),
    }


# --------------------------------------------------------------------------- orchestrator


@dataclasses.dataclass
class Spawned:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0
    """User + system time of the process and the processes it waited for: on a busy,
    shared machine a steadier measure of the work than the wall time."""


def spawn(cmd: Sequence[str]) -> Spawned:
    """Run a command; its wall time and its own peak RSS (from wait4, not the parent's)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        peak = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / MB
        cpu = usage.ru_utime + usage.ru_stime
        return Spawned(took, peak, proc.returncode, out.read(), err.read(), cpu)


def needsmap_cli() -> list[str]:
    exe = Path(sys.executable).parent / "needsmap"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "needsmap.cli"]


def build_england(folder: Path) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from england import build_bundle

    if folder.exists():
        shutil.rmtree(folder)
    start = time.perf_counter()
    sizes = build_bundle(folder)
    return {**sizes, "seconds": time.perf_counter() - start}


def median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def rows_of(run: dict[str, Any]) -> list[tuple[str, float, float]]:
    """The table rows of one run: (label, seconds, peak RSS so far), in execution order.

    Siting is split out of the access step; "write: ward tables" is write_outputs() minus
    the steps logged inside it; "run record" is run() minus analyse(), the disclosure
    audit and write_outputs().
    """
    records = [Record(**r) for r in run["records"]]
    by_name = {r.name: r for r in records}
    analysed, written, total = by_name["analyse()"], by_name["write_outputs()"], by_name["run()"]
    after = records.index(analysed)
    siting = sum(r.seconds for r in records if r.name == "siting")
    rows: list[tuple[str, float, float]] = []
    for i, r in enumerate(records):
        if r.kind == "step":
            access = r.name.startswith("Access to services")
            rows.append((LABELS.get(r.name, r.name), r.seconds - siting * access, r.peak_rss_mb))
            if access and siting:
                rows.append(("siting", siting, r.peak_rss_mb))
        elif r.name in ("import needsmap", "suppression"):
            rows.append((r.name, r.seconds, r.peak_rss_mb))
        elif r is written:
            inside = [x for x in records[after + 1 : i] if x.kind == "step" and x.name != AUDIT]
            ward_tables = r.seconds - sum(x.seconds for x in inside)
            # Written first (before the steps logged inside write_outputs): show it there.
            at = len(rows) - len(inside)
            rows.insert(at, ("write: ward tables (csv, gpkg)", ward_tables, rows[at - 1][2]))
    audit = sum(r.seconds for r in records if r.name == AUDIT)
    rest = total.seconds - analysed.seconds - audit - written.seconds
    rows.append(("write: run record (input hashes, run.json)", rest, total.peak_rss_mb))
    return rows


def summarise(
    case: str, runs: list[dict[str, Any]], cli: list[Spawned], meta: dict[str, Any]
) -> dict[str, Any]:
    tables = [rows_of(r) for r in runs]
    labels = [label for label, _, _ in tables[0]]
    table = []
    for i, label in enumerate(labels):
        secs = [t[i][1] for t in tables if i < len(t)]
        peaks = [t[i][2] for t in tables if i < len(t)]
        table.append({"step": label, "seconds": median(secs), "peak_rss_so_far_mb": median(peaks)})

    def step_seconds(run: dict[str, Any], names: Sequence[str]) -> float:
        return sum(r["seconds"] for r in run["records"] if r["name"] in names)

    end_to_end = [r["run_seconds"] + r["import_seconds"] for r in runs]
    without_report = all(r.get("report_skipped") for r in runs)
    measured: dict[str, Any] = {
        "end_to_end_seconds": median(end_to_end),
        "analysis_seconds": median([step_seconds(r, ["analyse()"]) for r in runs]),
        "audit_seconds": median([step_seconds(r, [AUDIT]) for r in runs]),
        "all_but_report_seconds": median(end_to_end) if without_report else None,
        "peak_rss_mb": median([r["pipeline_peak_rss_mb"] for r in runs]),
        "peak_pss_mb": median([r.get("tree_peak_pss_mb") for r in runs]),
        "map_mb": median([r["map_bytes"] / MB if r["map_bytes"] else None for r in runs]),
        "cpu_seconds": median([r.get("process_cpu_seconds") for r in runs]),
    }
    if "siting" in runs[-1]:
        measured["siting"] = runs[-1]["siting"]
    if "typology" in runs[0]:
        measured["typology_seconds"] = median([r["typology"]["seconds"] for r in runs])
    if cli:
        measured["cli_seconds"] = median([c.seconds for c in cli])
        measured["cli_peak_rss_mb"] = median([c.peak_rss_mb for c in cli])
        measured["cli_cpu_seconds"] = median([c.cpu_seconds for c in cli])
        wirral = meta.get("wirral_cli_seconds")
        if wirral:
            measured["cli_vs_wirral"] = measured["cli_seconds"] / wirral
        wirral_cpu = meta.get("wirral_cli_cpu_seconds")
        if wirral_cpu:
            measured["cli_cpu_vs_wirral"] = measured["cli_cpu_seconds"] / wirral_cpu
    peers: dict[str, Any] = {}
    if "explore" in runs[0]:
        ex = [r["explore"] for r in runs]
        peers["explore"] = {
            **ex[-1],
            "size_ratio": median([e["size_ratio"] for e in ex]),
            "time_ratio": median([e["time_ratio"] for e in ex]),
            "explore_seconds": median([e["explore_seconds"] for e in ex]),
            "needsmap_seconds": median([e["needsmap_seconds"] for e in ex]),
        }
    if "fca" in runs[0] and "skipped" not in runs[0]["fca"]:
        fc = [r["fca"] for r in runs]
        peers["fca"] = {
            **fc[-1],
            "speedup": median([f["speedup"] for f in fc]),
            "speedup_with_search": median([f["speedup_with_search"] for f in fc]),
            "needsmap_seconds": median([f["needsmap_seconds"] for f in fc]),
            "access_seconds": median([f["access_seconds"] for f in fc]),
            "max_rel_diff": max(f["max_rel_diff"] for f in fc),
        }
        measured["fca_speedup"] = peers["fca"]["speedup_with_search"]
        measured["fca_max_rel_diff"] = peers["fca"]["max_rel_diff"]
    targets = []
    for key, what, limit, unit in TARGETS.get(case, []):
        value = measured.get(key)
        if value is None or meta.get("quick"):
            status = "n/a"  # a quick run is a smoke test, not a measurement
        elif unit == "x":
            status = "PASS" if value >= limit else "FAIL"
        else:
            status = "PASS" if value <= limit else "FAIL"
        targets.append(
            {
                "key": key,
                "what": what,
                "limit": limit,
                "unit": unit,
                "value": value,
                "status": status,
            }
        )
    return {
        "case": case,
        "repeats": len(runs),
        "meta": meta,
        "table": table,
        "measured": measured,
        "targets": targets,
        "peers": peers,
        "runs": runs,
        "cli_runs": [
            dataclasses.asdict(c) | {"stdout": c.stdout[-2000:], "stderr": c.stderr[-2000:]}
            for c in cli
        ],
    }


def show(summary: dict[str, Any]) -> str:
    m = summary["meta"]
    lines = [
        "",
        f"== {summary['case']}: {m['lsoas']:,} LSOAs, {m['wards']:,} wards, "
        f"{m['services']:,} services; median of {summary['repeats']} run(s) ==",
    ]
    if m.get("note"):
        lines.append(m["note"])
    lines.append(f"{'step':<42} {'seconds':>8} {'peak RSS so far':>16}")
    for row in summary["table"]:
        lines.append(
            f"{row['step']:<42} {row['seconds']:>8.2f} {row['peak_rss_so_far_mb']:>13.0f} MB"
        )
    me = summary["measured"]
    lines.append(
        f"{'end to end (imports + run())':<42} {me['end_to_end_seconds']:>8.2f} "
        f"{me['peak_rss_mb']:>13.0f} MB"
    )
    if me.get("peak_pss_mb"):
        lines.append(
            f"{'peak memory, all processes (PSS)':<42} {'':>8} {me['peak_pss_mb']:>13.0f} MB"
        )
    if me.get("cpu_seconds"):
        lines.append(f"{'CPU seconds of the run, all processes':<42} {me['cpu_seconds']:>8.2f}")
    if "cli_seconds" in me:
        lines.append(
            f"{'needsmap run (CLI, fresh process)':<42} {me['cli_seconds']:>8.2f} "
            f"{me['cli_peak_rss_mb']:>13.0f} MB"
        )
        lines.append(f"{'  its CPU seconds, all processes':<42} {me['cli_cpu_seconds']:>8.2f}")
    if "cli_cpu_vs_wirral" in me:
        lines.append(
            f"vs Wirral's needsmap run: {me['cli_vs_wirral']:.2f}x wall, "
            f"{me['cli_cpu_vs_wirral']:.2f}x CPU"
        )
    if "siting" in me:
        s = me["siting"]
        lines.append(
            f"siting: {s['sites']} site(s) from {s['candidates']:,} candidates, "
            f"{s['considered']:,} given to the exact solver, {s['seconds']:.2f} s: {s['status']}"
        )
    peers = summary["peers"]
    if "explore" in peers:
        e = peers["explore"]
        lines.append(
            f"interactive map vs explore(): size {e['needsmap_bytes'] / MB:.2f} MB vs "
            f"{e['explore_bytes'] / MB:.2f} MB (ratio {e['size_ratio']:.2f}); build and save "
            f"{e['needsmap_seconds']:.2f} s vs {e['explore_seconds']:.2f} s "
            f"(ratio {e['time_ratio']:.2f})"
        )
    if "fca" in peers:
        f = peers["fca"]
        lines.append(
            f"2SFCA vs PySAL access ({len(f['types'])} types, {f['demand_points']:,} demand "
            f"points): {f['needsmap_seconds'] * 1000:.1f} ms "
            f"({f['needsmap_with_search_seconds'] * 1000:.1f} ms with the pair search) vs "
            f"{f['access_seconds'] * 1000:.1f} ms: "
            f"{f['speedup']:.0f}x ({f['speedup_with_search']:.1f}x with search) faster; "
            f"max relative difference {f['max_rel_diff']:.1e}"
        )
    for t in summary["targets"]:
        value = t["value"]
        shown = (
            "n/a" if value is None else (f"{value:.2g}" if t["unit"] == "rel" else f"{value:.2f}")
        )
        op = ">=" if t["unit"] == "x" else "<="
        lines.append(f"[{t['status']:>4}] {t['what']}: {shown} {t['unit']} ({op} {t['limit']:g})")
    return "\n".join(lines)


def run_case(
    case: str, *, repeat: int, quick: bool, peers: bool, cli: bool, results: Path = RESULTS
) -> dict[str, Any]:
    results.mkdir(parents=True, exist_ok=True)
    work = results / case
    work.mkdir(exist_ok=True)
    meta: dict[str, Any] = {}
    area: Path | None = None
    if case == "england":
        area = work / "bundle"
        meta["bundle"] = build_england(area)
        meta["note"] = (
            "Real geometry: every LSOA's polygon and the ONS May 2024 ward polygons (BSC), each "
            "LSOA split among the wards it overlaps by area, built like any council's bundle "
            "(benchmarks/england.py). The report is left out: the target is everything but the "
            "report."
        )
    elif case in COUNCILS:
        # Built once before the runs (as a user's first run does; its time is in the meta).
        os.environ["NEEDSMAP_CACHE"] = str(work / "cache")
        from needsmap.england import council_bundle

        start = time.perf_counter()
        council_bundle(COUNCILS[case])
        meta["bundle_seconds"] = time.perf_counter() - start
        area = Path(COUNCILS[case])
        wirral = results / "wirral.json"
        if wirral.exists():
            measured = json.loads(wirral.read_text(encoding="utf-8"))["measured"]
            meta["wirral_cli_seconds"] = measured.get("cli_seconds")
            meta["wirral_cli_cpu_seconds"] = measured.get("cli_cpu_seconds")
    runs = []
    for i in range(repeat):
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            case,
            "--out",
            str(work / "out"),
        ]
        cmd += ["--area", str(area)] if area else []
        cmd += ["--quick"] if quick else []
        cmd += ["--peers"] if peers else []
        cmd += ["--json", str(work / f"run{i}.json")]
        got = spawn(cmd)
        if got.returncode:
            sys.stderr.write(got.stderr)
            msg = f"benchmark worker for {case} failed (exit {got.returncode})"
            raise SystemExit(msg)
        run = json.loads((work / f"run{i}.json").read_text(encoding="utf-8"))
        run["process_seconds"] = got.seconds
        run["process_peak_rss_mb"] = got.peak_rss_mb
        run["process_cpu_seconds"] = got.cpu_seconds
        runs.append(run)
        print(f"  {case} run {i + 1}/{repeat}: {got.seconds:.1f} s", file=sys.stderr, flush=True)
    clis = []
    if cli:
        for _ in range(repeat):
            cmd = [*needsmap_cli(), "run", "--quiet", "--out", str(work / "cli")]
            if case in COUNCILS:
                cmd += ["--area", COUNCILS[case]]
            elif area:
                config = work / "config.yml"
                config.write_text(f"area: {area}\n", encoding="utf-8")
                cmd += ["--config", str(config)]
            got = spawn(cmd)
            if got.returncode:
                sys.stderr.write(got.stderr)
                msg = f"needsmap run for {case} failed (exit {got.returncode})"
                raise SystemExit(msg)
            clis.append(got)
    meta |= {
        "lsoas": runs[0]["lsoas"],
        "wards": runs[0]["wards"],
        "services": runs[0]["services"],
        "quick": quick,
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    summary = summarise(case, runs, clis, meta)
    (results / f"{case}.json").write_text(
        json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8"
    )
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument(
        "--repeat", type=int, help="runs per case (default: Wirral 3, England 1); medians shown"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test, not a measurement: one run, 100 draws, k=3, 72 dpi, no peers",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON")
    parser.add_argument("--worker", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--area", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--peers", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        measured = worker(args.worker, args.area, args.out, quick=args.quick, peers=args.peers)
        args.json.write_text(json.dumps(measured, indent=2, default=str) + "\n", encoding="utf-8")
        return 0
    cases = CASES if args.case == "all" else (args.case,)
    for case in cases:
        once = args.quick or case == "england" or case in COUNCILS
        repeat = args.repeat or (1 if once else DEFAULT_REPEAT)
        print(f"running {case} ({repeat} run(s))…", file=sys.stderr, flush=True)
        # Wirral's and the councils' targets are the command as a user starts it; England's
        # excludes the report.
        cli = case != "england" and not args.quick
        summary = run_case(
            case,
            repeat=repeat,
            quick=args.quick,
            peers=not args.quick,
            cli=cli,
            results=args.results,
        )
        print(show(summary), flush=True)
    print(f"\nJSON in {args.results}/", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
