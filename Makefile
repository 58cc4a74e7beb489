# Quick start: `make demo` shows the whole loop; `make up` installs and starts Vigil;
# `make test` installs and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: up demo screenshots test lint install system-deps

$(BIN)/vigil: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,dask]"
	touch $(BIN)/vigil

install: $(BIN)/vigil

up: install
	$(BIN)/vigil up

demo: install
	$(BIN)/vigil demo

# The screenshots in docs/ (demo-*.png, slo-page.png, incidents-page.png), made by browser tests.
screenshots: install
	VIGIL_UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/deployments/test_first_run.py -k demo -s
	VIGIL_UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/dashboard/test_slo_browser.py

# Debian packages and services the tests use (PostgreSQL, node exporter, Chromium).
system-deps:
	bash scripts/system-deps.sh

test: install system-deps
	$(BIN)/python -m pytest -n 2 --dist worksteal

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy && $(BIN)/lint-imports
