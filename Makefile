# Pathwise: two commands. `make run` serves the platform; `make test` runs every gate and the tests.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test venv venv-dev services browser media-tools lint check-migrations check-deploy imports types pytest \
        bench-import bench-kt clean help

help:
	@echo "make run    set up and serve Pathwise at http://127.0.0.1:8000 (demo course included)"
	@echo "make test   set up PostgreSQL and Redis if needed, run every gate and the test suite"

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.stamp-ml: requirements.txt requirements-ml.txt | $(PY)
	$(PY) -m pip install -q -r requirements-ml.txt
	touch $@

$(VENV)/.stamp-dev: requirements-dev.txt $(VENV)/.stamp-ml
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.stamp-ml
venv-dev: $(VENV)/.stamp-dev

run: venv
	@bash platform/run.sh

services:
	@bash platform/ensure_services.sh

browser: venv-dev
	@bash platform/ensure_browser.sh

media-tools:
	@bash platform/ensure_media_tools.sh

lint: venv-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

check-migrations: venv-dev
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run

check-deploy: venv-dev
	DJANGO_SETTINGS_MODULE=config.settings.production \
	DJANGO_SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	DJANGO_ALLOWED_HOSTS=pathwise.example.org \
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/pathwise REDIS_URL=redis://127.0.0.1:6379/0 \
	$(PY) manage.py check --deploy --fail-level WARNING

imports: venv-dev
	$(VENV)/bin/lint-imports

types: venv-dev
	$(PY) -m mypy courses/services.py courses/selectors.py courses/grading.py courses/graph.py \
	    courses/permissions.py learners/services.py learners/selectors.py \
	    learners/teaching_services.py learners/importers.py config/validation.py config/errors.py config/security.py \
	    config/storage.py config/parsers.py config/api.py config/schema.py config/hashers.py \
	    adaptive/services adaptive/selectors.py adaptive/serving.py adaptive/tasks.py \
	    adaptive/ml_tasks.py adaptive/planning.py adaptive/display.py adaptive/display_store.py \
	    adaptive/class_selectors.py \
	    adaptive/ml

# A fresh test database each run: one kept from an older schema (a renamed migration) would
# otherwise be reused as it is (pyproject's --reuse-db serves the quick loop of plain pytest).
pytest: venv-dev
	$(PY) -m pytest --create-db $(PYTEST_ARGS)

test: venv-dev services browser media-tools lint check-migrations check-deploy imports types pytest

bench-import: venv-dev
	$(PY) bench/import_interactions.py

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache .mypy_cache
