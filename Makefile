# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --disable-pip-version-check -q -c constraints.txt
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false

.PHONY: demo test lint typecheck unit install dev bench clean

$(VENV)/.base: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q --upgrade pip
	$(PIP) torch==2.13.0
	$(PIP) -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PIP) -e '.[dev]'
	@touch $@

install: $(VENV)/.base
dev: $(VENV)/.dev

demo: $(VENV)/.base
	$(VENV)/bin/hragent demo

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check agent graphs tools policies tests benchmarks
	$(VENV)/bin/ruff format --check agent graphs tools policies tests benchmarks

typecheck: $(VENV)/.dev
	$(VENV)/bin/mypy

unit: $(VENV)/.dev
	$(PY) -m pytest

test: lint typecheck unit

bench: $(VENV)/.dev
	$(PIP) -e '.[bench]'
	$(PY) -m benchmarks.retrieval

clean:
	rm -rf $(VENV) .hragent .hragent-demo .pytest_cache .mypy_cache .ruff_cache
