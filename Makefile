# make run  — a fresh machine to a served demo on http://127.0.0.1:$(PORT)
# make test — the whole suite (SQLite); make test-pg runs it on PostgreSQL too
PORT ?= 8000
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed
CATALOGS := points/translations/en/LC_MESSAGES/messages.mo

.PHONY: run test test-pg bench install browser translations fuzz

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP) $(CATALOGS)
	$(FLASK) db upgrade
	$(FLASK) rules sync
	$(FLASK) demo
	$(FLASK) secret-key
	$(BIN)/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

# The layer contracts (setup.cfg, [importlinter]) and the linter (pyproject.toml, [tool.ruff])
# first; then the suite on $(WORKERS) processes (pytest-xdist; each its own database), then the
# browser stories on their own.
WORKERS ?= 2

test: $(STAMP) $(CATALOGS) browser
	$(BIN)/lint-imports
	$(BIN)/ruff check
	$(BIN)/ruff format --check
	$(BIN)/python -m pytest -n $(WORKERS) --ignore=tests/e2e
	$(BIN)/python -m pytest tests/e2e

test-pg: $(STAMP) $(CATALOGS) browser
	export POINTS_TEST_DATABASE_URL=$${POINTS_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}; \
	$(BIN)/python -m pytest -n $(WORKERS) --ignore=tests/e2e && $(BIN)/python -m pytest tests/e2e

# The browser tests drive Debian's chromium (Playwright's own browser download is not used).
browser:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# The pages' words: extract, merge into the catalogs, compile. The .mo files are committed
# too, and recompiled whenever a .po is newer.
points/translations/%/LC_MESSAGES/messages.mo: points/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d points/translations -l $*

translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l --no-location --sort-output --project points -o points/translations/messages.pot .
	$(BIN)/pybabel update -i points/translations/messages.pot -d points/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d points/translations

# schemathesis (the `dev` extra) against the live OpenAPI document, in process, on a database
# with real objects; not part of `make test`. Cases per operation: tests/schemathesis.toml.
fuzz: $(STAMP) $(CATALOGS)
	$(BIN)/python -m pip install -q -e '.[test,dev]'
	$(BIN)/python -m pytest -p no:cacheprovider tests/fuzz_api.py

# wrk (a Debian package) against gunicorn: SQLite, then PostgreSQL when reachable (bench/redeem.py).
bench: $(STAMP) $(CATALOGS)
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python bench/redeem.py
