"""Every notebook runs top to bottom on the bundled data, as an analyst would rerun it."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9]*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    nb = jupytext.read(path)
    for cell in nb.cells:  # write outputs to a temporary folder, not the repo
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source = cell.source.replace('"../out/', f'"{tmp_path.as_posix()}/')
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


def test_notebooks_have_one_parameters_cell_and_no_outputs() -> None:
    assert len(NOTEBOOKS) >= 1
    for path in NOTEBOOKS:
        nb = jupytext.read(path)
        tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, path.name
        assert nb.cells.index(tagged[0]) <= 2, f"{path.name}: parameters cell must come first"
