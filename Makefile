# Tidemark: `make run` serves the app; `make test` runs the tests. Both create .venv first.
# `make lint` checks Python (ruff) and the PWA's JavaScript (ESLint, installed into node_modules).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export TIDEMARK_ENV ?= development

.PHONY: run test fuzz lint format bench bench-growth bench-load bench-scale clean

$(BIN)/flask: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/flask

run: $(BIN)/flask
	mkdir -p instance
	$(BIN)/flask --app server db upgrade
	$(BIN)/flask --app server first-run-hint
	$(BIN)/flask --app server run --host $(HOST) --port $(PORT)

# pytest-xdist: 3 workers on 2 cores measured fastest, since the suite waits on Chromium and
# the database as much as it computes. PYTEST_ARGS=-n0 (or -p no:xdist) runs in one process.
PYTEST_ARGS ?= -n 3 --dist worksteal
# Bytecode caches (git-ignored) spare every worker recompiling and re-rewriting its imports.
test: $(BIN)/flask
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest $(PYTEST_ARGS)

# The generated-request (schemathesis) tests with a deeper budget than `make test` gives them.
FUZZ_EXAMPLES ?= 200
fuzz: $(BIN)/flask
	TIDEMARK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest $(PYTEST_ARGS) tests/test_openapi.py

# ESLint for the PWA: a development tool only (the app itself has no build step).
node_modules/.bin/eslint: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

lint: $(BIN)/flask node_modules/.bin/eslint
	$(BIN)/ruff check server tests
	$(BIN)/ruff format --check server tests
	node_modules/.bin/eslint .

format: $(BIN)/flask
	$(BIN)/ruff format server tests
	$(BIN)/ruff check --fix server tests

clean:
	rm -rf $(VENV) node_modules instance/*.db instance/*.db-*

bench: $(BIN)/flask
	$(BIN)/python bench/run.py

# How the in-process figures grow with the clinic: 100, 1,000 and 10,000 patients.
bench-growth: $(BIN)/flask
	$(BIN)/python bench/run.py --growth

# Check-ins under load through gunicorn (Procfile's configuration) beside a bare floor (wrk).
bench-load: $(BIN)/flask
	@command -v wrk >/dev/null || { echo "bench-load needs wrk: apt-get install -y wrk"; exit 1; }
	$(BIN)/python bench/load.py

# Two such gunicorns against one PostgreSQL (DATABASE_URL, emptied) and one Redis
# (BENCH_REDIS_URL, flushed): a mixed load on both at once, every acknowledged entry once.
BENCH_SCALE_DATABASE_URL := postgresql://postgres@127.0.0.1:5432/tidemark_bench_scale
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
bench-scale: $(BIN)/flask
	@command -v wrk >/dev/null || { echo "bench-scale needs wrk: apt-get install -y wrk"; exit 1; }
	DATABASE_URL="$(or $(DATABASE_URL),$(BENCH_SCALE_DATABASE_URL))" \
		$(BIN)/python bench/load.py --scale-out --redis "$(BENCH_REDIS_URL)"
