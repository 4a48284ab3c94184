# Two entry points for a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/offerlab demo --out demo-output

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	@# axe-core for the accessibility checks of the browser tests (skipped without npm)
	@if command -v npm >/dev/null; then npm ci --prefix tests/browser-tools --silent --no-audit --no-fund; fi
	@# one work unit per module (or per shared session fixture), the longest first: see
	@# tests/conftest.py
	$(BIN)/pytest -n 2 --dist loadscope --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests

clean:
	rm -rf $(VENV) demo-output .pytest_cache
