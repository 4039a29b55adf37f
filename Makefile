# Everything runs from a virtualenv in .venv, created on first use from pyproject.toml.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PYTEST_ARGS ?=
BENCH_ARGS ?=

# Demo defaults: documented in the README; never use these keys in production.
export PZ_API_KEY ?= demo-api-key
export PZ_IDENTITY_SECRET ?= demo-identity-secret

.DEFAULT_GOAL := help
.PHONY: help install demo test test-fast lint format check fixtures loadtest bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is required, found " + sys.version) if sys.version_info < (3, 11) else None'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## create .venv and install the project with its dev tools

demo: $(STAMP) ## serve the demo store on http://127.0.0.1:8000 (memory store)
	$(BIN)/personalize serve

test: $(STAMP) ## run the whole test suite (Redis, slow and dataset groups included)
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: $(STAMP) ## the suite without the groups that start server processes
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP) ## ruff (lint and format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP) ## apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: lint test ## what CI runs: lint, then the whole suite

loadtest: $(STAMP) ## Locust personas for LOADTEST_TIME (2m) against a fresh server (LOADTEST_STORE=redis|memory)
	./loadtests/run_loadtest.sh

bench: $(STAMP) ## python -m loadtests.bench: the server against a bare endpoint (memory, Redis); writes BENCHMARKS.md
	$(BIN)/python -m loadtests.bench $(BENCH_ARGS)

fixtures: $(STAMP) ## write the demo store as JSONL into var/fixtures
	$(BIN)/personalize fixtures --out var/fixtures

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache var
