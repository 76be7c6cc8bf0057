# make run  — a fresh machine to a served demo on http://127.0.0.1:$(PORT)
# make test — the whole suite (SQLite); make test-pg runs it on PostgreSQL too
PORT ?= 8000
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed

.PHONY: run test test-pg bench install

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) rules sync
	$(FLASK) demo
	$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

test: $(STAMP)
	$(BIN)/python -m pytest

test-pg: $(STAMP)
	POINTS_TEST_DATABASE_URL=$${POINTS_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/redeem.py
