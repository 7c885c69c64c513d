# zonewarden: `make demo` to see it run, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ZONEWARDEN_VAR_DIR ?= $(CURDIR)/var

.PHONY: demo run test lint typecheck pytest bench clean messages

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

var:
	mkdir -p var

# The demo serves its invented sites and their DNS itself, on 127.77.0.1 (ports 80 and 53 as root,
# free ports otherwise): `zonewarden demo` and `serve --demo` point the checker there themselves.
demo: $(STAMP) var
	$(BIN)/zonewarden migrate --verbosity 0
	$(BIN)/zonewarden demo
	$(BIN)/zonewarden serve --demo

run: $(STAMP) var
	$(BIN)/zonewarden migrate --verbosity 0
	$(BIN)/zonewarden serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The suite runs twice: on SQLite, the embedded default, and on a PostgreSQL 15 cluster it starts itself.
pytest: $(STAMP)
	$(BIN)/pytest --db sqlite
	$(BIN)/pytest --db postgres

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py

# After changing the pages' text: refresh the Kazakh and Russian catalogues (needs Debian's gettext),
# translate the new entries in src/zonewarden/locale/*/LC_MESSAGES/django.po, then compile them.
messages: $(STAMP)
	cd src/zonewarden && ../../$(BIN)/zonewarden makemessages -l kk -l ru --no-location --no-obsolete
	cd src/zonewarden && ../../$(BIN)/zonewarden compilemessages -l kk -l ru

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
