# The two commands of the README: `make run` and `make test`. Everything else here serves them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SAMPLE_LEADS ?= 5000

.PHONY: run test install system-deps benchmark ui clean

run: install  ## install, generate a sample landing zone if data/landing is empty, run the nightly job once
	@if [ -z "$$(ls -A data/landing 2>/dev/null)" ]; then \
		echo "data/landing is empty: generating a sample landing zone ($(SAMPLE_LEADS) leads)"; \
		$(BIN)/closedloop generate --out data/landing --leads $(SAMPLE_LEADS); \
	fi
	$(BIN)/closedloop run

test: install system-deps  ## install everything the tests need and run them
	$(BIN)/python -m pytest

ui: install
	$(BIN)/closedloop ui

benchmark: install
	$(BIN)/python benchmarks/pipeline.py --leads 100000

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

# A real PostgreSQL server and a real browser for the tests (Debian packages; needs root or sudo).
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing="$$missing postgresql"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

clean:
	rm -rf data/warehouse.duckdb* data/serving.duckdb* data/quality data/report data/exports data/logs data/dagster target logs
