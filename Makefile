# Broadcast Console: `make run` starts everything, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Tests run on PostgreSQL and the real Redis (override with env).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
PORT ?= 8000

.PHONY: run test install services lint bench clean

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip 2>&1 | { grep -v '^WARNING: Location' || true; }
	@set -o pipefail; $(PY) -m pip install -q -r requirements.txt 2>&1 | { grep -v '^WARNING: Location' || true; }
	@touch $@

install: $(VENV)/.installed

# The settings fail closed (DEBUG off, a real SECRET_KEY required): a development run turns DEBUG on
# for every command it starts (migrate, seed_demo, web, worker, beat); so do the benchmarks.
run bench: export DEBUG ?= True

run: install
	@$(PY) manage.py check_broker
	@$(PY) manage.py migrate --noinput -v0
	@$(PY) manage.py seed_demo
	@$(PY) manage.py ensure_superuser
	@echo ""
	@echo "  Broadcast Console: http://127.0.0.1:$(PORT)/admin/   (Ctrl-C stops web, worker and beat)"
	@echo ""
	@PORT=$(PORT) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho -f Procfile.dev start

services:
	@bash scripts/services.sh all

test: install services
	@bash scripts/browser.sh
	@bash scripts/gettext.sh
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

bench: install services
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) bench/import.py
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=redis://127.0.0.1:6379/13 $(PY) bench/fanout.py
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) bench/api.py

clean:
	rm -rf $(VENV) staticfiles db.sqlite3*
