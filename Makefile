# Quick start: `make demo` (see it work) and `make test` (check it works). Both install first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit e2e catalogs bench soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/gezinslijn demo

# ruff, and the layers as import-linter contracts (.importlinter).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# pytest exits 5 when it collected no tests: that must fail, and it does (non-zero).
# Two pytest-xdist workers, each with databases of its own; a worker that is free takes
# tests from the other (worksteal), so the long SIGKILL tests do not end the run alone.
test: lint typecheck
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist worksteal

# The performance benchmark (minutes; not part of `make test`): see bench/README.md.
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.run

# The long SIGKILL soak (several minutes; not part of `make test`). PostgreSQL too when
# GEZINSLIJN_TEST_POSTGRES_URL is set. Reproduce a failing round with --seed N.
soak: $(STAMP)
	$(BIN)/python -m tests.faults.soak --rounds 3

catalogs: $(STAMP)
	$(BIN)/python scripts/catalogs.py update

clean:
	rm -rf $(VENV) build *.egg-info
