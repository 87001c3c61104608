# Partner Matcher: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= ./var
HOST ?= 127.0.0.1
PORT ?= 8000
# the base of the links the service e-mails (confirmation, introductions): the address it serves
# on, unless MATCHER_API_PUBLIC_URL says otherwise (`make run PORT=8765` e-mailed links to :8000)
PUBLIC_URL ?= $(or $(MATCHER_API_PUBLIC_URL),http://$(if $(filter 0.0.0.0,$(HOST)),localhost,$(HOST)):$(PORT))
SHARED_DATA ?= ../shared/data
# Proxies whose X-Forwarded-For is believed (rate limits key on the client IP): none by default.
# Behind a reverse proxy, set e.g. FORWARDED_ALLOW_IPS=10.0.0.5
FORWARDED_ALLOW_IPS ?=
# Serving processes (uvicorn --workers) for run, serve and demo-real: 1 by default. On N cores
# WORKERS=N answers more requests a second (one process runs its rankings' Python one thread at
# a time); each loads its own engine (N times the memory), the processes follow each other's
# writes through the change log, rate-limit buckets are shared through the database, and
# training jobs are queued there and run by a `matcher worker` started beside them.
WORKERS ?= 1
MANY := $(filter-out 0 1,$(WORKERS))
SERVE_ENV := $(if $(MANY),MATCHER_API_RATE_LIMIT_STORE=database MATCHER_API_TRAIN_JOBS=database)
SERVE_FLAGS := $(if $(MANY),--workers $(WORKERS)) \
  $(if $(FORWARDED_ALLOW_IPS),--forwarded-allow-ips '$(FORWARDED_ALLOW_IPS)',--no-proxy-headers)
# with WORKERS > 1: the training-job runner, stopped when the server stops
JOB_RUNNER = $(if $(MANY),MATCHER_DATA_DIR=$(1) $(SERVE_ENV) $(BIN)/matcher worker & trap "kill $$!" EXIT;)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.DEFAULT_GOAL := help
.PHONY: help setup browser run serve build-sample demo-real test test-fast lint format bench bench-open bench-quality bench-api bench-middleware bench-scale profile train drill clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,scale]'
	@touch $@

setup: $(BIN)/.installed ## Create the virtual environment and install everything (idempotent)

build-sample: setup ## Load the bundled sample corpus into DATA_DIR (first time) and build the indexes
	$(BIN)/matcher --data-dir $(DATA_DIR) bootstrap

run: build-sample ## Set up, index the bundled sample, serve API and web page on 127.0.0.1:8000
	$(call JOB_RUNNER,$(DATA_DIR)) MATCHER_DATA_DIR=$(DATA_DIR) $(SERVE_ENV) \
	  MATCHER_API_PUBLIC_URL=$(PUBLIC_URL) \
	  $(BIN)/uvicorn api.main:app --host $(HOST) --port $(PORT) $(SERVE_FLAGS)

DEMO_DIR ?= ./var/demo-real
DEMO_STATES ?= RI,DE,VT
demo-real: setup ## Load real nonprofits of DEMO_STATES, S&P 500, federal agencies and programmes from SHARED_DATA, then serve
	$(BIN)/python -m training.demo_real --shared-data $(SHARED_DATA) --data-dir $(DEMO_DIR) --states $(DEMO_STATES)
	export MATCHER_CAUSE_SECTORS='["nonprofit","community","government"]'; \
	  $(call JOB_RUNNER,$(DEMO_DIR)) MATCHER_DATA_DIR=$(DEMO_DIR) $(SERVE_ENV) \
	  MATCHER_API_PUBLIC_URL=$(PUBLIC_URL) \
	  $(BIN)/uvicorn api.main:app --host $(HOST) --port $(PORT) $(SERVE_FLAGS)

browser: ## Install Debian's Chromium for the browser tests (needs root; skipped if present)
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "chromium could not be installed: browser tests will be skipped"; \
	  else echo "no /usr/bin/chromium and not root: browser tests will be skipped"; fi; \
	fi

test: setup browser ## Set up and run the whole test suite
	$(BIN)/pytest -q

test-fast: setup ## Run the tests that do not load the embedding model
	$(BIN)/pytest -q -m "not slow"

lint: setup ## ruff (lint and format check) and mypy
	$(BIN)/ruff check matcher api training tests
	$(BIN)/ruff format --check matcher api training tests
	$(BIN)/mypy

format: setup ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix matcher api training tests
	$(BIN)/ruff format matcher api training tests

bench: setup ## Speed at 10k and 100k profiles (embedding, build, memory, recommend latency); alert latency with 10,000 saved needs
	$(BIN)/python -m training.bench_speed --shared-data $(SHARED_DATA)
	$(BIN)/python -m training.bench_alerts

bench-open: setup ## Seconds a CLI command waits for the engine (imports, open, 1st query) on DATA_DIR; BEFORE=<checkout> compares
	$(BIN)/python scripts/bench_open.py --data-dir $(DATA_DIR) $(if $(BEFORE),--before $(BEFORE))

bench-quality: setup ## Benchmarks T1-T4 (../shared/benchmarks) through the engine, beside the baselines (MATCHER_BENCH_DIR: shared caches; FINETUNED=<model dir>: also with it)
	$(BIN)/python -m training.bench_quality --shared-data $(SHARED_DATA) $(if $(FINETUNED),--finetuned $(FINETUNED))

train: setup ## Learn ranking weights from the stored history, compare with the published model, write the report
	nice $(BIN)/matcher --data-dir $(DATA_DIR) train fit
	$(BIN)/matcher --data-dir $(DATA_DIR) models list

bench-api: setup ## Load check of POST /v1/recommendations: 16 clients on 127.0.0.1, req/s and p50/p95/p99; COMPARE=1: beside the afternoon baseline and txtai at 1, 4, 16 clients (BENCH_API_ARGS: more options, e.g. --embed-backend torch)
ifeq ($(COMPARE),1)
	$(BIN)/python scripts/bench_side_by_side.py --data-dir $(DATA_DIR) $(BENCH_API_ARGS)
else
	$(BIN)/python scripts/bench_api.py --data-dir $(DATA_DIR) $(BENCH_API_ARGS)
endif

PROFILE_SECONDS ?= 30
profile: setup ## py-spy flame graph of the server under bench-api's load (var/profile/*.svg) and its top functions by own time (GIL=1: only the thread holding the GIL)
	$(BIN)/python scripts/profile_api.py --data-dir $(DATA_DIR) --seconds $(PROFILE_SECONDS) $(if $(filter 1,$(GIL)),--gil)

bench-middleware: setup ## CPU of the HTTP layer per request: each middleware, auth, rate limit, all but ranking
	$(BIN)/python scripts/bench_middleware.py --data-dir $(DATA_DIR)

SCALE_PARTS ?= replicas,pgvector,embed,switch
SCALE_N ?= 100000
SCALE_PG_PORT ?= 55434
bench-scale: setup ## Issue 11 measured: replicas (1,000 writes, SQLite 2 / PostgreSQL 2 and 4 processes), pgvector at 100k (SCALE_ARGS=--pgvector-1m), embed local vs Ray and the served switch-over at SCALE_N profiles; SCALE_PARTS picks parts
	bash scripts/install-pgvector.sh
	MATCHER_PG_PORT=$(SCALE_PG_PORT) bash scripts/with-postgres.sh $(BIN)/python -m training.bench_scale --parts $(SCALE_PARTS) --n $(SCALE_N) --shared-data $(SHARED_DATA) $(SCALE_ARGS)

DRILL_ROUNDS ?= 3
DRILL_RACE_ROUNDS ?= 50
drill: setup ## kill -9 drills (ingest, API writes, build, publish/rollback, train fit) and If-Match races, fixed seeds; PostgreSQL too under scripts/with-postgres.sh
	PYTHONPATH=$(CURDIR) $(BIN)/python -m tests.drills.run --rounds $(DRILL_ROUNDS) --race-rounds $(DRILL_RACE_ROUNDS)

clean: ## Remove the virtual environment and the local data directory
	rm -rf $(VENV) $(DATA_DIR)
