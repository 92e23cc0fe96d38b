# Two commands do everything: `make run` (the app with demo data and background jobs, on SQLite)
# and `make test` (lint, migrations check, the suite on SQLite with browser tests, then on real
# PostgreSQL + Redis started on loopback).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: run test install system-deps lint test-sqlite test-services test-browser bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*; touch $(STAMP)

install: system-deps $(STAMP)

system-deps:
	@scripts/system-deps.sh

run: install
	mkdir -p var
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo
	DEBUG=1 scripts/run-dev.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

test-sqlite: $(STAMP)
	DEBUG=1 $(VENV)/bin/pytest -m "not services" -q

test-services: $(STAMP)
	scripts/with-services.sh $(VENV)/bin/pytest -m "not browser" -q

test: install lint test-sqlite test-services

clean:
	rm -rf var staticfiles
