# Aman — set-up, demo and tests. `make demo` and `make test` are all a new user needs.
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
VENDOR := src/aman/static/vendor
PYTEST_ARGS ?=

.PHONY: setup demo test lint typecheck unit assets translations clean

setup: $(STAMP) assets translations

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Aman needs Python 3.11 or newer; none found on PATH (or set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

# Bootstrap, and jsQR (the gate's camera decoder where the browser cannot read QR codes).
ASSETS := $(VENDOR)/bootstrap/bootstrap.min.css $(VENDOR)/jsqr/jsQR.js

assets: $(ASSETS)

$(ASSETS) &: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/bootstrap $(VENDOR)/jsqr
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map $(VENDOR)/bootstrap/
	cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map $(VENDOR)/bootstrap/
	cp node_modules/jsqr/dist/jsQR.js node_modules/jsqr/LICENSE $(VENDOR)/jsqr/
	touch $(ASSETS)

translations: $(STAMP)
	$(BIN)/aman compiletranslations

demo: setup
	$(BIN)/aman demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest $(PYTEST_ARGS)

test: setup lint typecheck unit

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var
