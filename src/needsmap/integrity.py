"""Nothing half-written, nothing lost, nothing different on a rerun.

- :func:`staged`: outputs are built in a temporary folder beside the destination and
  moved into place only when complete; a failed run leaves the old folder as it was.
- :func:`check_output_folder`: needsmap replaces its output folder whole, so it refuses
  a folder that holds anything but a previous run (it would otherwise be deleted).
- :func:`collect_repairs`: safe repairs made while reading inputs (warned as
  :class:`~needsmap.errors.RepairWarning`) become notes in the run report.
- :func:`fixed_gpkg_timestamp`: GeoPackages otherwise record the time they were written,
  so two runs on the same inputs would differ.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pyogrio

from needsmap.errors import InputError, RepairWarning

RUN_RECORD = "run.json"
GPKG_TIMESTAMP = "2000-01-01T00:00:00.000Z"
"""Written as every GeoPackage's last_change, so reruns give identical files."""


def check_output_folder(out: Path) -> None:
    """Refuse an output folder whose contents a run would destroy.

    An absent or empty folder is fine, and so is one written by an earlier run (it holds
    ``run.json``). Anything else (a file, or a folder of other things, such as ``.`` or
    a data folder) stops the run before any work is done.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        msg = f"{out}: is a file, not a folder; give --out a folder for the outputs"
        raise InputError(msg)
    if out.is_dir() and not (out / RUN_RECORD).exists() and any(out.iterdir()):
        msg = (
            f"{out}: the folder already holds other files and no {RUN_RECORD}, so it is not "
            "a needsmap output folder; a run replaces its output folder whole, so choose a "
            "new or empty folder"
        )
        raise InputError(msg)


@contextlib.contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A temporary folder beside ``out`` that replaces it only if the block succeeds.

    A failed run (an exception, or Ctrl-C) leaves an existing output folder exactly as it
    was and removes the temporary folder.
    """
    out = Path(out)
    check_output_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; outputs are for sharing
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not out.exists():
        os.replace(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
    try:
        os.replace(out, old / out.name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        raise
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(old / out.name, out)  # put the previous outputs back
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


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
