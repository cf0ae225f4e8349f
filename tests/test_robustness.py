"""Nothing half-written, nothing lost, nothing leaked, no network: end to end."""

from __future__ import annotations

import copy
import json
import logging
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.guards import block_network, fake_output, snapshot, strays

from needsmap import integrity
from needsmap.cli import main
from needsmap.config import RunConfig, bundled_data_dir
from needsmap.errors import InputError, RepairWarning
from needsmap.geography import main_ward
from needsmap.integrity import collect_repairs, staged
from needsmap.pipeline import run

MEASURES = ("children_in_need", "child_protection_plans", "looked_after_children")
WIRRAL = bundled_data_dir() / "wirral"


# ------------------------------------------------------------------ nothing half-written


@pytest.fixture
def previous_output(bundled_run, tmp_path: Path) -> Path:
    """A copy of a finished run's output folder, as a user would have from last week."""
    out = tmp_path / "out"
    out.mkdir()
    for rel, data in snapshot(bundled_run.written[0].parent).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    return out


@pytest.mark.parametrize(
    ("fault", "raised", "match"),
    [
        (
            OSError(28, "No space left on device"),
            InputError,
            r"could not finish the outputs "
            r"\(No space left on device writing .+\); free some space .* previous outputs are "
            "unchanged",
        ),
        (KeyboardInterrupt(), KeyboardInterrupt, None),
    ],
)
def test_failure_while_writing_leaves_previous_output_as_it_was(
    fault, raised, match, bundled_run, previous_output, monkeypatch
):
    before = snapshot(previous_output)
    seen = previous_output.parent / "seen.txt"

    def analysed(cfg):
        return copy.copy(bundled_run)  # skip the analysis: this test is about writing

    def broken_figure(*args, **kwargs):
        # By the first figure, wards.csv and wards.gpkg are in the temporary folder.
        # Figures are drawn in worker processes: what this one saw comes back in a file.
        seen.write_text("\n".join(p.name for p in Path(args[1]).parent.parent.iterdir()))
        raise fault

    monkeypatch.setattr("needsmap.pipeline.analyse", analysed)
    monkeypatch.setattr("needsmap.pipeline.static.save_figure", broken_figure)
    with pytest.raises(raised, match=match):
        run(RunConfig(), out=previous_output)
    assert {"wards.csv", "wards.gpkg"} <= set(seen.read_text().split("\n"))
    assert snapshot(previous_output) == before
    assert strays(previous_output.parent) == []


def test_failure_in_the_final_swap_puts_the_old_folder_back(tmp_path, monkeypatch):
    out = fake_output(tmp_path / "out", {"wards.csv": "last week"})
    real = os.replace
    calls = []

    def flaky(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == 2:  # old folder moved aside; now moving the new one in fails
            msg = "device busy"
            raise OSError(msg)
        return real(src, dst)

    monkeypatch.setattr(integrity.os, "replace", flaky)
    with pytest.raises(OSError, match="device busy"), staged(out) as tmp:
        (tmp / "wards.csv").write_text("this week")
    assert (out / "wards.csv").read_text() == "last week"
    assert strays(tmp_path) == []


def test_staged_replaces_a_previous_run_whole(tmp_path):
    out = fake_output(tmp_path / "out", {"stale.csv": "from an older version"})
    with staged(out) as tmp:
        (tmp / "run.json").write_text("new")
    assert snapshot(out) == {"run.json": b"new"}
    assert strays(tmp_path) == []


def test_refuses_to_replace_a_folder_that_is_not_an_output(tmp_path):
    """`--out Documents` must never wipe the folder: stop before any work."""
    mine = tmp_path / "Documents"
    mine.mkdir()
    (mine / "budget.xlsx").write_text("precious")
    with pytest.raises(
        InputError, match=r"Documents: holds what needsmap did not write \(budget.xlsx\)"
    ):
        run(RunConfig(), out=mine)
    assert snapshot(mine) == {"budget.xlsx": b"precious"}
    a_file = tmp_path / "notes.txt"
    a_file.write_text("precious")
    with pytest.raises(InputError, match=r"notes.txt: is a file, not a folder"):
        run(RunConfig(), out=a_file)
    assert a_file.read_text() == "precious"


def test_collect_repairs_turns_repair_warnings_into_notes():
    with warnings.catch_warnings(record=True) as other, collect_repairs() as notes:
        warnings.simplefilter("always")
        warnings.warn("a.csv: trimmed spaces", RepairWarning, stacklevel=1)
        warnings.warn("a.csv: trimmed spaces", RepairWarning, stacklevel=1)
    assert notes == ["a.csv: trimmed spaces"]
    assert other == []


def test_collect_repairs_passes_other_warnings_on():
    with pytest.warns(FutureWarning, match="not a repair"), collect_repairs() as notes:
        warnings.warn("not a repair", FutureWarning, stacklevel=1)
    assert notes == []


# ------------------------------------------------------------------ record-level, offline


def _child_records(path: Path) -> tuple[set[str], set[str]]:
    """Write one row per child for the synthetic 2025 counts; return ids and postcodes.

    Each child gets a postcode in its ward (via the postcode's LSOA, whose ward is the one
    holding its largest share), avoiding postcodes
    of services, which are public and rightly appear in outputs. The file is saved as
    Windows-1252 with a worker's name in it, so the run also has a repair to report.
    """
    counts = pd.read_csv(WIRRAL / "caseload_synthetic.csv", dtype={"period": str})
    counts = counts[counts["period"] == "2025-03-31"]
    lsoa = main_ward(pd.read_csv(WIRRAL / "lsoa_ward_shares.csv")).reset_index()
    postcodes = pd.read_csv(WIRRAL / "postcodes.csv", dtype=str)
    services = set(pd.read_csv(WIRRAL / "services.csv", dtype=str)["postcode"].dropna())
    postcodes = postcodes[~postcodes["postcode"].isin(services)]
    postcodes = postcodes.merge(lsoa, on="lsoa_code")
    by_ward = postcodes.groupby("ward_code")["postcode"].apply(list)
    rng = np.random.default_rng(7)
    lines, ids, used = ["Child ID,Postcode,Period,Measure,Worker"], set(), set()
    for _, row in counts.iterrows():
        for m in MEASURES:
            for _ in range(int(row[m])):
                child = f"SECRET-CHILD-{len(ids):05d}"
                pc = str(rng.choice(by_ward[row["ward_code"]]))
                ids.add(child)
                used.add(pc)
                lines.append(f"{child},{pc},2025-03-31,{m},Zo\u00eb Worker")
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    return ids, used


def test_record_level_run_offline_leaks_nothing(bundled_run, tmp_path, monkeypatch, capsys, caplog):
    attempts = block_network(monkeypatch)
    records = tmp_path / "records.csv"
    ids, postcodes = _child_records(records)
    assert len(ids) == 2707 + 353 + 681
    out = tmp_path / "out"
    with caplog.at_level(logging.DEBUG):
        code = main(["run", "--caseload", str(records), "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert attempts == []

    # Aggregated in memory to the same ward counts the synthetic file holds.
    mine = pd.read_csv(out / "wards.csv", dtype=str).set_index("ward_code")
    synthetic = pd.read_csv(bundled_run.written[0].parent / "wards.csv", dtype=str)
    synthetic = synthetic.set_index("ward_code")
    cols = [*MEASURES, *(f"{m}_rate" for m in MEASURES), "need_rank"]
    pd.testing.assert_frame_equal(mine[cols], synthetic[cols])
    assert (mine["caseload_source"] == "council").all()

    # The run report says what happened, in numbers only.
    notes = json.loads((out / "run.json").read_text(encoding="utf-8"))["notes"]
    assert notes[:2] == [
        "records.csv: not UTF-8; read as Windows-1252 (Excel's default). "
        "Save as UTF-8 to silence this.",
        "records.csv: one row per child; 3,741 children aggregated to ward counts for 1 "
        "period(s) in memory (no record is written anywhere)",
    ]
    for note in notes:
        assert f"note: {note}" in printed.out
    inputs = json.loads((out / "run.json").read_text(encoding="utf-8"))["inputs"]
    assert len(inputs[str(records.resolve())]) == 64  # traced by its hash, never copied

    # No output, log, note or printed line holds an id, a child's postcode or a row.
    secrets = ids | postcodes | {"Zo\u00eb Worker", "Zo\\u00eb Worker"}
    texts = {"stdout": printed.out, "stderr": printed.err, "log": caplog.text}
    for rel, data in snapshot(out).items():
        texts[rel] = data.decode("latin-1")
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, (where, secret)


# ------------------------------------------------------------------ the CLI, for real


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "needsmap", *args],  # as the needsmap command runs
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def test_cli_bad_record_file_one_line_exit_2_nothing_leaked(tmp_path):
    records = tmp_path / "children.csv"
    records.write_text(
        "child_id,postcode,measure\nSECRET-A,CH41 0AA,CIN\nSECRET-B,CH41 0AD,Early help\n"
    )
    out = tmp_path / "out"
    done = _cli("run", "--caseload", str(records), "--out", str(out), "--quiet", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines == [
        "needsmap: error: children.csv: column 'measure' has values that are not a caseload "
        "measure at row 3; use ['children_in_need', 'child_protection_plans', "
        "'looked_after_children'] (or CIN, CPP, CLA)"
    ]
    assert "SECRET" not in done.stderr and "CH41" not in done.stderr
    assert not out.exists()
    assert strays(tmp_path) == []


def test_cli_run_writes_everything_and_says_so_in_one_line(tmp_path, bundled_run):
    out = tmp_path / "out"
    done = _cli("run", "--out", str(out), "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(f"Wrote {len(bundled_run.written)} files for 22 wards")
    assert snapshot(out).keys() == snapshot(bundled_run.written[0].parent).keys()
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["outputs"]


def test_ctrl_c_one_line_exit_130_previous_output_kept(previous_output, tmp_path):
    before = snapshot(previous_output)
    proc = subprocess.Popen(
        [sys.executable, "-m", "needsmap", "run", "--out", str(previous_output)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the interrupt goes to the command and its workers only
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as at a terminal
    )
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:  # interrupt once the board outputs are being written
        lines.append(line)
        if line.startswith("Interactive map"):
            os.killpg(proc.pid, signal.SIGINT)
            break
    rest = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130
    assert rest.strip().splitlines()[-1] == "needsmap: interrupted"
    assert "Traceback" not in rest
    assert snapshot(previous_output) == before
    assert strays(previous_output.parent) == []


def test_cli_bad_config_one_line_exit_2(tmp_path):
    cfg = tmp_path / "needsmap.yml"
    cfg.write_text("suppression:\n  treshold: 3\n")
    done = _cli("run", "--config", str(cfg), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "needsmap: error: needsmap.yml: suppression.treshold: unknown key; valid keys here "
        "are ['enabled', 'threshold', 'protection', 'rounding']"
    ]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("caseload", "message"),
    [
        (
            "ward_code,children_in_need\nE05000954,10\nE05009288,3\n",
            "E05009288 is Aldersgate in City of London, not in this area",
        ),
        ("ward_code;children_in_need\nE05000954;10\n", "It looks semicolon-separated"),
        ("", "the caseload file is empty"),
    ],
)
def test_cli_errors_are_one_line_without_traceback(tmp_path, capsys, caseload, message):
    path = tmp_path / "caseload.csv"
    path.write_text(caseload)
    code = main(["run", "--caseload", str(path), "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith("needsmap: error: caseload.csv: ")
    assert message in err


# ------------------------------------------------------------------ user strings in HTML


def test_service_names_from_user_files_are_escaped_in_the_map(bundled_run, tmp_path):
    from needsmap.maps import interactive
    from needsmap.pipeline import map_context
    from needsmap.sources import load_services

    evil = tmp_path / "hubs.csv"
    evil.write_text(
        "name,type,subtype,postcode\n"
        '"<img src=x onerror=alert(1)>",Family hub,"<script>alert(2)</script>",CH41 0AA\n'
    )
    outline = bundled_run.wards.union_all()
    services = load_services([evil], bundled_run.area.postcodes, outline)
    fmap = interactive.build_map(
        bundled_run.published, services.placed, map_context(bundled_run)
    )
    page = fmap.get_root().render()
    assert "onerror=alert(1)>" not in page
    assert "<script>alert(2)" not in page
    # The names travel as JSON data, drawn with textContent (the browser test checks that
    # they show as text); here: present, and never as markup.
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in page
