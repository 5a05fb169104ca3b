# Two commands matter: `make demo` (the main job) and `make test` (everything CI checks).
# Both work on a fresh machine with only python3: they build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# npm bybit-api for tests/compat/test_bybit_api.py. Only where node and npm are on
# PATH does `make test` install it; elsewhere that test skips and says why.
NODE_DIR := tests/compat/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed
HAVE_NODE := $(and $(shell command -v node),$(shell command -v npm))

.PHONY: demo test lint typecheck docs unit bench soak faults clean compat-node

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[cli]" --group dev
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/bybit-leverage demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/ruff format --check src tests benchmarks docs

typecheck: $(STAMP)
	$(BIN)/mypy

# coverage starts before pytest so that modules imported while plugins load (our own
# pytest11 simulator fixture imports the package) are measured too.
unit: $(STAMP)
	$(BIN)/python -m coverage run -m pytest
	$(BIN)/python -m coverage report

# The docs site (mkdocs.yml) into site/, git-ignored: open site/index.html. Strict:
# a broken link, a page outside the nav or an unreadable docstring fails it.
# NO_MKDOCS_2_WARNING quiets Material's banner about its end of life (May 2027).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

test: lint typecheck docs $(if $(HAVE_NODE),compat-node) unit

# `npm ci` installs exactly the lock file, and again only when it changes.
$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

compat-node: $(NODE_STAMP)

# The soak at full size: 2,000 symbols across 4 accounts, 5% of answers faulted
# (make test runs a 200-symbol version).
soak: $(STAMP)
	SOAK_SYMBOLS=2000 $(BIN)/python -m pytest -q tests/faults/test_soak.py

# The fault matrix, with its table written to fault-matrix.md (see docs/faults.md).
faults: $(STAMP)
	FAULT_TABLE=fault-matrix.md $(BIN)/python -m pytest -q tests/faults/test_matrix.py

# Every figure in one run (results in benchmarks/results/), then the simulator's
# own throughput and the other bench_*.py scripts.
bench: $(STAMP)
	$(BIN)/python benchmarks/harness.py
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

# Back to a fresh checkout: the next `make demo` or `make test` rebuilds .venv.
clean:
	rm -rf $(VENV) site .coverage .mypy_cache .ruff_cache .pytest_cache .hypothesis
	rm -rf $(NODE_DIR)/node_modules
