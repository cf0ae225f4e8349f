"""The output-safety layer: nothing half-written, nothing of the user's lost, no rerun different.

- :func:`check_output_folder`: needsmap replaces its output folder whole, so it replaces
  only a folder it can prove it wrote: every file in it must be listed, with its SHA-256,
  in the ``run.json`` manifest of the run that wrote it. A folder holding anything else
  (a user's file, a changed output, Excel's lock file) stops the run before any work,
  and so does ``.``, ``/``, a folder holding an input, or the data folder.
- :func:`staged`: outputs are built in a temporary folder beside the destination, made
  before the analysis (so an unwritable destination fails at once), and moved into place
  only when complete; a failed run leaves the old folder as it was.
- :func:`recover_staging`: a run killed outright (``kill -9``, a power cut) cannot tidy
  up; the next run removes what it left, or puts the previous outputs back if it was
  stopped between the two renames of the final swap, and says so.
- :func:`die_with_parent`: worker processes (figure drawing, Chromium) end when the run
  does, even when it is killed.
- :func:`on_interrupt` and :func:`check_interrupted`: a Ctrl-C that a library swallows
  still stops the run before it replaces anything.
- :func:`collect_repairs`: safe repairs made while reading inputs (warned as
  :class:`~needsmap.errors.RepairWarning`) become notes in the run report.
- :func:`fixed_gpkg_timestamp`: GeoPackages otherwise record the time they were written,
  so two runs on the same inputs would differ.
- :func:`safe_cell`: text from users' files is neutralised before it goes into a CSV,
  so a spreadsheet never runs it as a formula (OWASP's advice).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import sys
import threading
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
import pyogrio

from needsmap.errors import InputError, RepairWarning

RUN_RECORD = "run.json"
"""The run's record, and the manifest of the files it wrote (``sha256``)."""
GPKG_TIMESTAMP = "2000-01-01T00:00:00.000Z"
"""Written as every GeoPackage's last_change, so reruns give identical files."""
STAGING = "needsmap-staging"
"""Temporary folders are named ``.<out>.needsmap-staging-<pid>-<random>``."""
PREVIOUS = "needsmap-previous"
"""The previous outputs wait in ``.<out>.needsmap-previous-<pid>-<random>/<out>`` during
the swap."""
MARK = ".needsmap-staging"
"""A file in a temporary folder while it is being filled: proof needsmap made it."""
SHOW = 3


def sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest(folder: Path, written: Iterable[Path] | None = None) -> dict[str, str]:
    """``{path relative to folder: sha256}``, sorted, for ``written`` or (None) every
    file in ``folder`` but the staging mark: in a staging folder, all were written by
    this run."""
    if written is None:
        written = [p for p in folder.rglob("*") if p.is_file() and p.name != MARK]
    return {
        p.relative_to(folder).as_posix(): sha256(p)
        for p in sorted(written, key=lambda q: q.relative_to(folder).as_posix())
    }


def _listing(items: list[str]) -> str:
    more = f" and {len(items) - SHOW} more" if len(items) > SHOW else ""
    return ", ".join(items[:SHOW]) + more


def not_written_by_needsmap(folder: Path) -> list[str]:
    """What in ``folder`` needsmap cannot prove it wrote (empty: the folder is ours).

    Proof is the folder's ``run.json``: each file must be listed in its ``sha256``
    manifest with the same bytes (a run.json from before the manifest lists its
    ``outputs`` by name only). Symbolic links are never ours.
    """
    folder = Path(folder)
    listed = _listed(folder / RUN_RECORD)
    if listed is None:
        return sorted(p.relative_to(folder).as_posix() for p in folder.iterdir())
    strays: list[str] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            strays.append(f"{rel} (a link)")
        elif path.is_dir():
            if not any(k.startswith(f"{rel}/") for k in listed):
                strays.append(f"{rel}/")
        elif rel == RUN_RECORD:
            continue
        elif rel not in listed:
            strays.append(rel)
        elif listed[rel] is not None and sha256(path) != listed[rel]:
            strays.append(f"{rel} (changed since needsmap wrote it)")
    return strays


def _listed(record: Path) -> dict[str, str | None] | None:
    """The files a run.json says its run wrote, with their SHA-256 where recorded."""
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("sha256"), dict):
        return {str(k): str(v) for k, v in data["sha256"].items()}
    outputs = data.get("outputs")
    if isinstance(outputs, list) and all(isinstance(o, str) for o in outputs):
        return {Path(o).as_posix(): None for o in outputs}
    return None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output_folder(out: Path, *, inputs: Iterable[Path] = ()) -> Path:
    """Refuse an output folder whose contents a run would destroy; return the real folder.

    A symbolic link is followed: the folder it points to is the one replaced, and the
    link stays. Refused, before any work: the current folder, the root, the home folder
    or any folder above them; a file; a folder that holds or lies inside an input
    (``inputs``: files or folders, e.g. the caseload or the area bundle); and a folder
    holding anything needsmap cannot prove it wrote (see :func:`not_written_by_needsmap`).
    """
    out = Path(out)
    real = out.expanduser().resolve()
    cwd, home = Path.cwd().resolve(), Path.home().resolve()
    for where, what in ((cwd, "the current folder"), (home, "your home folder")):
        if _inside(where, real):
            above = "" if real == where else "a folder above "
            msg = (
                f"{out}: is {above}{what}; a run replaces its output folder whole, "
                "so give --out a new folder, e.g. out/q3"
            )
            raise InputError(msg)
    for item in inputs:
        source = Path(item).expanduser().resolve()
        if _inside(source, real) or (source.is_dir() and _inside(real, source)):
            relation = "holds" if _inside(source, real) else "is inside"
            msg = (
                f"{out}: {relation} an input of this run ({source}); a run replaces its "
                "output folder whole, so keep inputs and outputs apart and give --out "
                "a new folder, e.g. out/q3"
            )
            raise InputError(msg)
    if real.exists() and not real.is_dir():
        msg = f"{out}: is a file, not a folder; give --out a folder for the outputs"
        raise InputError(msg)
    if real.is_dir() and any(real.iterdir()):
        strays = not_written_by_needsmap(real)
        if strays:
            msg = (
                f"{out}: holds what needsmap did not write ({_listing(strays)}); a run "
                "replaces its output folder whole, so move those out or give --out a new "
                "or empty folder"
            )
            raise InputError(msg)
    return real


def _ours(path: Path) -> bool:
    """A leftover temporary folder that needsmap can prove it made."""
    if (path / MARK).is_file():
        return True
    if PREVIOUS in path.name:
        inner = [p for p in path.iterdir()]
        return len(inner) == 1 and inner[0].is_dir() and not not_written_by_needsmap(inner[0])
    return (path / RUN_RECORD).is_file() and not not_written_by_needsmap(path)


def _alive(name: str) -> bool:
    """Is the process whose id is in a temporary folder's name still running?"""
    try:
        pid = int(name.rsplit("-", 2)[-2])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def recover_staging(out: Path) -> list[str]:
    """Tidy what a killed run left beside ``out``; one note per thing done.

    A temporary folder is removed; previous outputs left mid-swap are put back when
    ``out`` is missing (else removed). Only folders needsmap can prove it made, of runs
    no longer running, are touched.
    """
    real = Path(out).expanduser().resolve()
    parent = real.parent
    if not parent.is_dir():
        return []
    notes = []
    prefix = f".{real.name}."
    for path in sorted(parent.iterdir()):
        if not path.name.startswith(prefix) or path.is_symlink() or not path.is_dir():
            continue
        kind = path.name[len(prefix) :]
        if not kind.startswith((STAGING, PREVIOUS)) or _alive(path.name) or not _ours(path):
            continue
        if kind.startswith(PREVIOUS) and not real.exists():
            os.replace(path / real.name, real)
            path.rmdir()
            notes.append(
                f"put the previous outputs back in {real} from {path.name}, left by a run "
                "that was stopped while swapping folders"
            )
            continue
        shutil.rmtree(path)
        notes.append(f"removed {path.name} from {parent}, left by a run that was stopped")
    return notes


def _new_folder(parent: Path, name: str, kind: str) -> Path:
    path = parent / f".{name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"
    path.mkdir()
    return path


@contextlib.contextmanager
def staged(out: Path, *, inputs: Iterable[Path] = ()) -> Iterator[Path]:
    """A temporary folder beside ``out`` that replaces it only if the block succeeds.

    ``out`` is checked (:func:`check_output_folder`) and the temporary folder made
    before the block runs, so a folder that may not be replaced, or cannot be written,
    stops the run before any work. A failed run (an exception, or Ctrl-C) leaves an
    existing output folder exactly as it was and removes the temporary folder. A write
    that fails (a full disk) is reported naming the file.
    """
    real = check_output_folder(out, inputs=inputs)
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        tmp = _new_folder(real.parent, real.name, STAGING)
        (tmp / MARK).write_text(f"{os.getpid()}\n", encoding="utf-8")
    except OSError as exc:
        msg = (
            f"{out}: cannot write the outputs there ({exc.strerror or exc}); give --out a "
            "folder you can write to"
        )
        raise InputError(msg) from None
    tmp.chmod(0o755)  # outputs are for sharing
    try:
        yield tmp
        check_interrupted()
        (tmp / MARK).unlink()
    except OSError as exc:
        error = _write_error(out, exc, tmp)
        shutil.rmtree(tmp, ignore_errors=True)
        raise error from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not real.exists():
        os.replace(tmp, real)
        return
    old = _new_folder(real.parent, real.name, PREVIOUS)
    try:
        os.replace(real, old / real.name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        raise
    try:
        os.replace(tmp, real)
    except BaseException:
        os.replace(old / real.name, real)  # put the previous outputs back
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write_error(out: Path, exc: OSError, tmp: Path) -> InputError:
    """One line for a write that failed: what, which file, what to do.

    A failed write() does not say which file it was: then it is the file written last.
    """
    name = exc.filename
    if not name:
        files = [p for p in tmp.rglob("*") if p.is_file() and p.name != MARK]
        name = max(files, key=lambda p: p.stat().st_mtime_ns, default=None)
    if name and Path(name).is_relative_to(tmp):
        name = Path(name).relative_to(tmp).as_posix()
    what = f" writing {name}" if name else ""
    return InputError(
        f"{out}: could not finish the outputs ({exc.strerror or exc}{what}); "
        "free some space or give --out a folder you can write to; the previous outputs "
        "are unchanged"
    )


INTERRUPTED = threading.Event()
"""Set by :func:`on_interrupt`: Ctrl-C was pressed during this command."""


def on_interrupt(signum: int, frame: object) -> None:
    """The command's Ctrl-C handler: remembers the interrupt, then raises KeyboardInterrupt.

    Python raises the interrupt wherever the run happens to be. If that is inside a
    ``__del__`` or a callback, Python only prints it and goes on, and a library's bare
    ``except`` can swallow it too: the run would then finish and replace the outputs
    after the user asked it to stop. Remembered here, the interrupt is raised again by
    :func:`check_interrupted` at the next step and before the final swap.
    """
    INTERRUPTED.set()
    raise KeyboardInterrupt


def check_interrupted() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed, even if it was swallowed since."""
    if INTERRUPTED.is_set():
        raise KeyboardInterrupt


def die_with_parent() -> None:
    """Make this (child) process end when its parent does, even if it is killed outright.

    Linux only (``prctl(PR_SET_PDEATHSIG, SIGKILL)``); elsewhere it does nothing. Used
    by the figure-drawing workers and the Chromium that prints the report.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() == 1:  # the parent died before the call above
        os._exit(1)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet reads a cell starting with one of these as a formula (OWASP)."""


_PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9, ]*(\.[0-9]+)?%?")
"""A signed number, maybe with thousands separators or a per cent sign ("-50%"): a
spreadsheet reads it as a number, and it cannot hold a formula."""


def safe_cell(value: object) -> object:
    """Neutralise text a spreadsheet would run: prefix ``'`` (OWASP's CSV advice).

    Numbers, and text that reads as a plain number ("-5", "+50%"), are left alone.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    return value if _PLAIN_NUMBER.fullmatch(value) else "'" + value


def safe_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`safe_cell` applied to every text cell and label."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col].dtype):  # text, or mixed (object)
            out[col] = out[col].map(safe_cell)
    if pd.api.types.is_string_dtype(out.index.dtype):
        out.index = out.index.map(safe_cell)
    out.columns = pd.Index([safe_cell(c) for c in out.columns])
    return out


@contextlib.contextmanager
def collect_repairs() -> Iterator[list[str]]:
    """Collect the messages of RepairWarnings raised in the block (once each, in order).

    The list is filled when the block ends, even when it fails. Other warnings are
    passed on unchanged.
    """
    notes: list[str] = []
    seen: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RepairWarning)
            try:
                yield notes
            finally:
                seen = list(caught)
    finally:
        for w in seen:
            if not issubclass(w.category, RepairWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            elif str(w.message) not in notes:
                notes.append(str(w.message))


@contextlib.contextmanager
def fixed_gpkg_timestamp(value: str = GPKG_TIMESTAMP) -> Iterator[None]:
    """Make GDAL stamp GeoPackages with ``value`` instead of the current time."""
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": value})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})
