# crmlens — the two commands: `make demo` and `make test` (each sets itself up first).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast test-spark lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@missing=""; command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	  [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	  if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing (Java for Spark, Chromium for browser tests)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) \
	  || (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing); fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[spark,postgres,dev]"
	@touch $(STAMP)

demo: install
	$(BIN)/crmlens demo

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

test: export HYPOTHESIS_PROFILE ?= ci
test: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest -n 3 --dist loadgroup -m "spark or not spark" -q

test-fast: install
	$(BIN)/pytest -n 2 -m "not spark" -q

test-spark: install
	$(BIN)/pytest -m spark -q

bench: install
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[bench]"
	@for b in benchmarks/*_bench.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) crmlens-demo crmlens-demo.duckdb bench-out
