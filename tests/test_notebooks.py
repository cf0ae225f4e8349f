"""Every notebook runs top to bottom on the bundled data, as an analyst would rerun it."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9]*.py"))
WORKERS = 2
"""Notebooks run two at a time: most of each one's time is its kernel starting and
importing, which overlaps well."""


def _parameters(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]


def _execute(path: Path, out: Path) -> str | None:
    """Run one notebook, writing its outputs under ``out``; the error it raised, if any."""
    nb = jupytext.read(path)
    for cell in _parameters(nb):  # write outputs to a temporary folder, not the repo
        cell.source = cell.source.replace('"../out/', f'"{out.as_posix()}/')
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    try:  # one event loop per notebook, closed when it finishes
        asyncio.run(client.async_execute())
    except Exception as exc:  # reported by the test of this notebook
        return f"{type(exc).__name__}: {exc}"
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    return str(errors) if errors else None


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """Every notebook run once, a few at a time: name -> the error it raised, or None."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = {
            p.stem: pool.submit(_execute, p, tmp_path_factory.mktemp(p.stem)) for p in NOTEBOOKS
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, executed: dict[str, str | None]) -> None:
    assert executed[path.stem] is None, executed[path.stem]


def test_notebooks_have_one_parameters_cell_and_no_outputs() -> None:
    assert len(NOTEBOOKS) >= 6
    for path in NOTEBOOKS:
        nb = jupytext.read(path)
        tagged = _parameters(nb)
        assert len(tagged) == 1, path.name
        assert nb.cells.index(tagged[0]) <= 2, f"{path.name}: parameters cell must come first"
        assert not any(c.get("outputs") for c in nb.cells), f"{path.name}: stored with outputs"
        # Outputs go under ../out/, which the test redirects to a temporary folder.
        assert "../" not in tagged[0].source.replace('"../out/', ""), path.name
