# oda-kg: `make run` and `make test` set up everything they need, idempotently.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: run test test-slow lint format bench setup java clean

run: setup
	$(BIN)/kg harvest examples
	@echo
	@echo "The graph is in .kg/store. Try:"
	@echo "  $(BIN)/kg workflows"
	@echo "  $(BIN)/kg workflow show lightcurve"
	@echo "  $(BIN)/kg query --name workflows"

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -m "not slow"

test-slow: setup
	$(BIN)/pytest -m slow

bench: setup
	$(BIN)/python benchmarks/harvest.py
	$(BIN)/python benchmarks/ingest.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

setup: $(STAMP) java

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# HermiT (`kg ontology check`) needs a Java runtime.
java:
	@command -v java >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq default-jre-headless; }

clean:
	rm -rf $(VENV) .kg .pytest_cache .ruff_cache
