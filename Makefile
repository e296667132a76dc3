# Two commands do everything on a fresh machine (each sets up .venv first when needed):
#   make run    build the whole pipeline on the bundled offline sample
#   make test   run the test suite
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)
export REELREASON_DAGSTER_DIR := $(CURDIR)/.dagster

.PHONY: run test lint dev bench bench-full acceptance clean-warehouse

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: the local CPU wheel (unpinned, pip would fetch CUDA builds)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/reelreason build

# TEST_WORKERS=0 runs the tests in one process (easier to read when debugging one).
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

dev: $(STAMP)
	$(BIN)/dagster dev --host 127.0.0.1

bench: $(STAMP)
	$(BIN)/python scripts/bench_ingest.py

# The whole pipeline at real size (synthetic data, local TMDB/OpenAI servers); ~30-60 min.
bench-full: $(STAMP)
	$(BIN)/python scripts/bench_full.py

# The full profile, offline, on a folder of real upstream files, into a temporary warehouse:
#   make acceptance RAW=../shared/realdata-dev/raw
acceptance: $(STAMP)
	@test -n "$(RAW)" || { echo "usage: make acceptance RAW=<folder of real raw files>" >&2; exit 2; }
	$(BIN)/python scripts/acceptance.py $(RAW)

clean-warehouse:
	rm -rf warehouse/catalog.sqlite warehouse/data warehouse/raw
