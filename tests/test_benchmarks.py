"""The benchmark harness runs (no timings are asserted: those belong to `make bench`)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("needsmap_bench_run", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def record(name: str, seconds: float, kind: str, peak: float = 100.0) -> dict[str, object]:
    return {"name": name, "seconds": seconds, "peak_rss_mb": peak, "rss_mb": peak, "kind": kind}


def test_rows_split_siting_and_writing_worked_by_hand():
    access = "Access to services, gaps and where new sites would reach most need"
    run = {
        "records": [
            record("import needsmap", 1.0, "part"),
            record("Loading the area bundle", 2.0, "step"),
            record("siting", 1.0, "part"),  # logged inside the access step, before it
            record(access, 3.0, "step"),
            record("suppression", 0.25, "part"),
            record("analyse()", 5.5, "part"),
            record("Disclosure audit", 0.1, "step"),  # in run(), between the two
            record("Interactive map", 0.5, "step", peak=150.0),
            record("write_outputs()", 1.0, "part", peak=150.0),
            record("run()", 7.1, "total", peak=160.0),
        ]
    }
    rows = harness().rows_of(run)
    assert [(label, pytest.approx(s), peak) for label, s, peak in rows] == [
        ("import needsmap", 1.0, 100.0),
        ("load: area bundle and ward polygons", 2.0, 100.0),
        ("access and 2SFCA", 2.0, 100.0),  # 3.0 - siting
        ("siting", 1.0, 100.0),
        ("suppression", 0.25, 100.0),
        ("disclosure audit (a reader's LP per hidden count)", 0.1, 100.0),
        ("write: ward tables (csv, gpkg)", 0.5, 100.0),  # 1.0 - the map inside it
        ("interactive map", 0.5, 150.0),
        ("write: run record (input hashes, run.json)", 0.5, 160.0),  # 7.1 - 5.5 - 0.1 - 1.0
    ]


def test_quick_wirral_run_writes_a_table_and_json(tmp_path):
    cmd = [sys.executable, str(BENCH), "--case", "wirral", "--quick", "--results", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "wirral.json").read_text(encoding="utf-8"))
    steps = [row["step"] for row in summary["table"]]
    for step in (
        "load: area bundle and ward polygons",
        "siting",
        "static maps: the rest of the drawing",
    ):
        assert step in steps
    assert summary["measured"]["peak_pss_mb"] > 0
    assert all(row["seconds"] >= 0 for row in summary["table"])
    assert summary["meta"]["wards"] == 22
    assert {t["status"] for t in summary["targets"]} == {"n/a"}  # quick: not a measurement
    assert "end to end" in done.stdout


@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="Linux /proc only")
def test_tree_memory_counts_child_processes():
    bench = harness()
    before = bench.tree_pss_mb(os.getpid())
    code = 'import sys; b = b"x" * (200 * 2**20); print(flush=True); sys.stdin.read()'
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        child.stdout.readline()  # the child holds its 200 MB now
        during = bench.tree_pss_mb(os.getpid())
    finally:
        child.communicate("")
    assert during - before > 150
