# oda-kg: `make run` and `make test` set up everything they need, idempotently.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
UI_STAMP := api/ui/node_modules/.installed-stamp
PYTHON ?= python3

.PHONY: run test test-slow lint format bench setup java chromium ui clean

run: setup
	$(BIN)/kg harvest examples
	@echo
	@echo "The graph is in .kg/store. In another terminal, try:"
	@echo "  $(BIN)/kg workflows"
	@echo "  $(BIN)/kg workflow show lightcurve"
	@echo "(the store is owned by the server while it runs: stop it first, or query it over HTTP)"
	@echo
	$(BIN)/kg serve

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -m "not slow"

test-slow: setup
	$(BIN)/pytest -m slow

bench: setup
	$(BIN)/python benchmarks/harvest.py
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/sparql.py
	$(BIN)/python benchmarks/runs.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

setup: $(STAMP) java chromium ui

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# HermiT (`kg ontology check`) needs a Java runtime.
java:
	@command -v java >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq default-jre-headless; }

# The query UI's browser assets: YASGUI from npm, pinned in api/ui/package-lock.json. The stamp lives
# inside node_modules, so deleting node_modules reinstalls, and so does a changed lock file.
ui: $(UI_STAMP)

$(UI_STAMP): api/ui/package.json api/ui/package-lock.json
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
	npm ci --prefix api/ui --ignore-scripts --no-audit --no-fund
	touch $(UI_STAMP)

# Headless Chromium for the UI tests: Debian's package, driven by Playwright at /usr/bin/chromium
# (never `playwright install`, which downloads a browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

clean:
	rm -rf $(VENV) .kg .pytest_cache .ruff_cache api/ui/node_modules test-artifacts
