"""Every notebook runs top to bottom on the bundled data, as an analyst would rerun it."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

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


FIGURES = {
    # notebook -> how many figures (image/png outputs) an analyst must see inline
    "03_need_index": 1,
    "04_clusters_and_hotspots": 3,
    "05_access_and_pilot_sites": 1,
    "06_board_pack": 1,
}


class Run(NamedTuple):
    error: str | None
    nb: nbformat.NotebookNode


def _outputs(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _figures(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in o.get("data", {}) for o in _outputs(nb))


def _text(nb: nbformat.NotebookNode) -> str:
    """Everything the notebook printed or displayed as text or HTML."""
    parts = []
    for o in _outputs(nb):
        parts.append(str(o.get("text", "")))
        data = o.get("data", {})
        parts += [str(data.get("text/plain", "")), str(data.get("text/html", ""))]
    return "\n".join(parts)


def _execute(path: Path, out: Path) -> Run:
    """Run one notebook, writing its outputs under ``out``: the error it raised, if any,
    and the notebook with its outputs."""
    nb = jupytext.read(path)
    for cell in _parameters(nb):  # write outputs to a temporary folder, not the repo
        cell.source = cell.source.replace('"../out/', f'"{out.as_posix()}/')
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    try:  # one event loop per notebook, closed when it finishes
        asyncio.run(client.async_execute())
    except Exception as exc:  # reported by the test of this notebook
        return Run(f"{type(exc).__name__}: {exc}", nb)
    errors = [o for o in _outputs(nb) if o.get("output_type") == "error"]
    return Run(str(errors) if errors else None, nb)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Every notebook run once, a few at a time: name -> its run."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = {
            p.stem: pool.submit(_execute, p, tmp_path_factory.mktemp(p.stem)) for p in NOTEBOOKS
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, executed: dict[str, Run]) -> None:
    assert executed[path.stem].error is None, executed[path.stem].error


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_notebook_shows_its_figures_inline(name: str, executed: dict[str, Run]) -> None:
    # A backend forced at import (e.g. Agg) leaves every chart cell empty without an error.
    assert _figures(executed[name].nb) >= FIGURES[name]


@pytest.mark.slow
def test_notebooks_show_their_key_outputs(executed: dict[str, Run]) -> None:
    quick = _text(executed["01_quickstart"].nb)
    # The map is framed from a path JupyterLab serves (make lab serves the repository).
    assert "<iframe" in quick and "needs_map.html" in quick
    assert "Seacombe" in quick  # the top wards table
    need = _text(executed["03_need_index"].nb)
    assert "Chance of being in the top 5 for need" in need  # plain headers, not p_top5
    sites = _text(executed["05_access_and_pilot_sites"].nb)
    assert "Children newly within reach" in sites


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
