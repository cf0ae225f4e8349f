# needsmap: `make demo` and `make test` are all a new user needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
RAW ?= ../shared/data/raw
OUT ?= out/wirral

.PHONY: setup demo test bench lab docs data lock clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m compileall -q src  # editable installs get no bytecode (0.1 s a run where PYTHONDONTWRITEBYTECODE is set)
	touch $(STAMP)

setup: $(STAMP)  ## create the virtual environment and install the pinned set

demo: setup  ## run the bundled Wirral case end to end
	$(VENV)/bin/needsmap run --out $(OUT)

test: setup  ## lint, type checks, then the test suite (unit, end-to-end, browser, notebooks)
	$(VENV)/bin/ruff check src tests scripts benchmarks notebooks
	$(VENV)/bin/mypy
	$(PY) -m pytest

bench: setup  ## speed and memory benchmark (Wirral and England scale); BENCH_ARGS="--repeat 3"
	$(PY) benchmarks/run.py $(BENCH_ARGS)

# Per-environment JupyterLab setting: double-clicking a notebooks/*.py opens it as a notebook.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json

# JupyterLab serves the repository (so a notebook can show ../out/.../needs_map.html) and
# opens on notebooks/. It refuses to run as root unless told; containers often are root.
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: setup  ## open JupyterLab on the notebooks (each .py opens as a notebook)
	mkdir -p $(dir $(LAB_OVERRIDES))
	echo '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"python": "Jupytext Notebook"}}}' > $(LAB_OVERRIDES)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks $(LAB_ROOT) $(LAB_ARGS)

docs: setup  ## regenerate docs/config.md from the settings in src/needsmap/config.py
	$(PY) -m needsmap.configdoc docs/config.md

data: setup  ## rebuild data/ from the public raw files in $(RAW)
	$(PY) scripts/prepare_data.py $(RAW)

lock:  ## re-resolve the newest compatible set and pin it (needs the registry)
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet ".[notebooks,dev]"
	(echo "# Pinned, tested set for Python 3.11 (venv + pip). Regenerate with 'make lock'."; \
	 .venv-lock/bin/pip freeze --exclude-editable | grep -v '^needsmap') > requirements.lock
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) out .pytest_cache
