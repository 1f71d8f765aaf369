# Ensemble — the two commands are `make run` and `make test`; the rest are their parts.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

# `make test` talks to real PostgreSQL and Redis; these are their local defaults.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/ensemble
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: help install run serve migrate demo test services lint typecheck format bench clean

help:
	@echo "make run    set up everything and serve Ensemble at http://127.0.0.1:$(PORT) (web + Celery worker + beat)"
	@echo "make test   the whole suite against real PostgreSQL and Redis (starts them when it can)"
	@echo "make lint   ruff, ruff format --check, djlint, mypy"
	@echo "make bench  run the benchmarks in benchmarks/ (they print their figures)"

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Ensemble needs Python 3.11 ($(PYTHON) not found)."; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

# The embedded default: SQLite and a filesystem broker under var/, no external service.
# With DATABASE_URL / CELERY_BROKER_URL set, the same command uses PostgreSQL and Redis or RabbitMQ.
run: export DEBUG ?= true
run: demo
	PORT=$(PORT) $(BIN)/honcho start -f Procfile.dev

test: export DATABASE_URL = $(TEST_DATABASE_URL)
test: export CELERY_BROKER_URL = $(TEST_BROKER_URL)
test: export CACHE_URL = locmemcache://
test: export DJANGO_ALLOW_ASYNC_UNSAFE = true
test: install services
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint --check --lint templates
	$(BIN)/mypy apps config
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

services:
	@bash .ci/services.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint --check --lint templates
	$(BIN)/mypy apps config

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/djlint --reformat templates

bench: install
	@shopt -s nullglob; scripts=(benchmarks/*.py); \
	  [ $${#scripts[@]} -gt 0 ] || { echo "No benchmarks yet: benchmarks/ is empty."; exit 0; }; \
	  for script in "$${scripts[@]}"; do echo "== $$script"; $(BIN)/python "$$script" || exit 1; done

clean:
	rm -rf var/ .mypy_cache .ruff_cache
