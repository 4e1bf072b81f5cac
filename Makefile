# The two commands of the README: `make run` and `make test`. Everything else here serves them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# the exact versions the tests ran with (pyproject.toml says what is allowed; `make lock` recompiles this)
LOCK := requirements.lock
SAMPLE_LEADS ?= 5000

.PHONY: run test test-long lint lock install system-deps benchmark ui clean

run: install  ## install, generate a sample landing zone if data/landing is empty, run the nightly job once
	@if [ -z "$$(ls -A data/landing 2>/dev/null)" ]; then \
		echo "data/landing is empty: generating a sample landing zone ($(SAMPLE_LEADS) leads)"; \
		$(BIN)/closedloop generate --out data/landing --leads $(SAMPLE_LEADS); \
	fi
	$(BIN)/closedloop run

# three workers on two cores: a worker spends much of its time waiting (on fsync, a server, a browser, a Spark JVM),
# and three kept the cores busy three quarters of the time (docs/development.md#tests)
test: install system-deps lint  ## install everything the tests need, lint, and run them
	$(BIN)/python -m pytest -n 3 --dist loadfile --no-loadscope-reorder  # a file's tests share their scenario: one worker each

# the whole-night engine parity and the real-run PostgreSQL serving check: several nights each, over the budget of
# `make test`
test-long: install system-deps
	$(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder -m long

ui: install
	$(BIN)/closedloop ui

benchmark: install
	$(BIN)/python benchmarks/pipeline.py --leads 100000

install: $(INSTALLED)

$(INSTALLED): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

# Recompile requirements.lock from pyproject.toml (after changing a dependency), then reinstall: commit both files
# once `make test` passes with them. Pins that still fit stay; `make lock LOCK_ARGS=--upgrade` moves everything on.
lock: install
	$(BIN)/python -m pip install --quiet 'pip-tools>=7.6,<8'
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --strip-extras --extra test --extra lint \
		--no-emit-index-url --no-emit-find-links $(LOCK_ARGS) --output-file $(LOCK) pyproject.toml
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	@touch $(INSTALLED)

# ruff (lint and format) on the Python files, sqlfluff (dbt templater) on the dbt models. Files listed in
# .lint-pending are not yet brought to the rules: the repository-wide reformat is a change of its own, and the
# list only shrinks. A file that is not listed is linted from its first commit.
lint: install
	@py="$$(git ls-files '*.py' | grep -vxFf .lint-pending)"; \
	$(BIN)/ruff check $$py && $(BIN)/ruff format --check $$py
	@sql="$$(git ls-files 'dbt_project/models/*.sql' | grep -vxFf .lint-pending)"; \
	CLOSEDLOOP_DATA_DIR="$${CLOSEDLOOP_DATA_DIR:-$$(mktemp -d)}" $(BIN)/sqlfluff lint --processes 0 $$sql

# A real PostgreSQL server, a real browser and Java for Spark, for the tests (Debian packages; needs root or sudo).
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing="$$missing postgresql"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])' || missing="$$missing openjdk-17-jre-headless"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

clean:
	rm -rf data/warehouse.duckdb* data/serving.duckdb* data/quality data/report data/exports data/logs data/dagster target logs
