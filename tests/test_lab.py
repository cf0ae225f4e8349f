"""Notebook 01 in JupyterLab, as `make lab` serves it: once run, its map shows inline with
its wards. Offline: every request beyond the local server is refused."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.sign import NotebookNotary
from tests.conftest import chromium_path

pytestmark = pytest.mark.browser

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_quickstart.py"
TOKEN = "needsmap-test"
SETTINGS = {
    # No news fetched.
    "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """A JupyterLab server on a copy of the notebook (its outputs go to tmp_path/out)."""
    if chromium_path() is None:
        if os.environ.get("NEEDSMAP_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required here (NEEDSMAP_REQUIRE_BROWSER) but not installed")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    # Run as an analyst would (its outputs go to ../out, inside the served folder), and
    # saved as the notebook JupyterLab shows; signed, as a notebook run in the Lab is.
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))  # the notary's key and list
    nb = jupytext.read(NOTEBOOK)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(root / "notebooks")}}
    ).execute()
    NotebookNotary().sign(nb)
    nbformat.write(nb, root / "notebooks" / f"{NOTEBOOK.stem}.ipynb")
    settings = tmp_path / "settings"
    for name, value in SETTINGS.items():
        path = settings / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value), encoding="utf-8")
    port = _free_port()
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    jupyter = Path(sys.executable).parent / "jupyter"
    server = subprocess.Popen(
        [
            str(jupyter),
            "lab",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--ServerApp.token={TOKEN}",
            f"--ServerApp.root_dir={root}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("JupyterLab did not start")
                time.sleep(0.5)
        yield base, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_notebook_01_shows_the_map_inline(lab):
    from playwright.sync_api import sync_playwright

    base, root = lab
    refused: list[str] = []

    def local_only(route):
        url = route.request.url
        if url.startswith((base, "data:", "blob:", "about:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), args=["--headless=new", "--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route("**/*", local_only)
        # JupyterLab may ask which kernel: the one offered, Python 3, is right.
        page.add_locator_handler(
            page.get_by_text("Select Kernel", exact=True),
            lambda: page.locator(".jp-Dialog-button.jp-mod-accept").click(),
        )
        page.goto(f"{base}/lab/tree/notebooks/{NOTEBOOK.stem}.ipynb?token={TOKEN}")
        frame = page.locator(".jp-OutputArea-output iframe")
        frame.wait_for(timeout=60_000)
        src = frame.get_attribute("src") or ""
        assert src.startswith(f"{base}/files/out/notebooks/quickstart/needs_map.html"), src
        wards = frame.content_frame.locator("path[data-ward]")
        wards.first.wait_for(timeout=60_000)
        assert wards.count() == 22
        title = frame.content_frame.locator(".needsmap-title").inner_text()
        assert "Wirral: need for children's services by ward" in title
        browser.close()
    assert (root / "out" / "notebooks" / "quickstart" / "needs_map.html").exists()
    assert refused == []
