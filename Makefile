# zonewarden: `make demo` to see it run, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every package, with its hashes, as pip-tools resolved it (see README, "Dependencies").
LOCK := requirements/lock.txt
COMPILE := pip-compile --quiet --generate-hashes --extra dev --strip-extras --unsafe-package zonewarden \
	--no-emit-index-url --no-emit-find-links --output-file $(LOCK) pyproject.toml
export ZONEWARDEN_VAR_DIR ?= $(CURDIR)/var

.PHONY: demo run test lint typecheck pytest pytest-second-date faults bench clean messages lock upgrade

# Exactly the locked set, checked against its hashes; then zonewarden itself, adding nothing.
$(STAMP): $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check
	touch $(STAMP)

# pip-tools lives in a venv of its own: it is a tool for changing the lock, not part of the product.
.venv-tools/.installed:
	$(PYTHON) -m venv .venv-tools
	.venv-tools/bin/pip install --quiet pip-tools
	touch $@

# After editing pyproject.toml's dependencies: resolve them again, keeping every other pin.
lock: .venv-tools/.installed
	.venv-tools/bin/$(COMPILE)

# On purpose, and reviewed: move every package to its newest release the constraints allow.
upgrade: .venv-tools/.installed
	.venv-tools/bin/$(COMPILE) --upgrade
	$(MAKE) $(STAMP)

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

# The fault-injection tests alone (part of `make pytest`), printing what each counted.
faults: $(STAMP)
	$(BIN)/pytest --db postgres -m faults -rA

# CI runs the SQLite half once more as if it were a Monday in the Nauryz holidays: a test that
# depends on the day it runs fails there (see tests/today.py).
SECOND_DATE ?= 2026-03-23
pytest-second-date: $(STAMP)
	$(BIN)/pytest --db sqlite --today $(SECOND_DATE)

bench: $(STAMP)
	$(BIN)/python bench/run.py

# After changing the pages' text: refresh the Kazakh and Russian catalogues (needs Debian's gettext),
# translate the new entries in src/zonewarden/locale/*/LC_MESSAGES/django.po, then compile them.
messages: $(STAMP)
	cd src/zonewarden && ../../$(BIN)/zonewarden makemessages -l kk -l ru --no-location --no-obsolete
	cd src/zonewarden && ../../$(BIN)/zonewarden compilemessages -l kk -l ru

clean:
	rm -rf $(VENV) .venv-tools var .pytest_cache .mypy_cache .ruff_cache
