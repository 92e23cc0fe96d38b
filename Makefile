# Two commands do everything: `make run` (the app with demo data and background jobs, on SQLite)
# and `make test` (lint, migrations check, the suite on SQLite with browser tests, then on real
# PostgreSQL + Redis started on loopback).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: run test install system-deps lint test-sqlite test-services test-browser bench clean messages

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*; touch $(STAMP)

# Translation catalogues: French is the source language (locale/fr), English is translated
# (locale/en). `make messages` refreshes both .po files from the code and templates; the .mo files
# are compiled at install time, never committed.
PO := $(wildcard locale/*/LC_MESSAGES/django.po)
MO := $(PO:.po=.mo)

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po
	msgfmt --check -o $@ $<

install: system-deps $(STAMP) $(MO)

messages: $(STAMP)
	DEBUG=1 $(PY) manage.py makemessages -l fr -l en --no-obsolete --ignore=.venv --ignore=static \
	  --ignore=var --ignore=tests --ignore=bench
	$(MAKE) $(MO)

system-deps:
	@scripts/system-deps.sh

run: install
	mkdir -p var
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo
	DEBUG=1 scripts/run-dev.sh

lint: $(STAMP) $(MO)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

test-sqlite: $(STAMP) $(MO)
	DEBUG=1 $(VENV)/bin/pytest -m "not services" -q

test-services: $(STAMP) $(MO)
	scripts/with-services.sh $(VENV)/bin/pytest -m "not browser" -q

test: install lint test-sqlite test-services

clean:
	rm -rf var staticfiles
