# Two commands do all set-up on a fresh machine (Python 3.11+, pip and apt registries reachable):
#   make run   start the decision service on 127.0.0.1:8000 (SQLite) with the examples and their bindings
#              published, a worker, and the example receiver on 127.0.0.1:8001; Ctrl-C stops all three
#   make test  lint, type-check and run the whole test suite (PostgreSQL included, started by the tests)
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_STAMP := $(VENV)/.pg-deps
BROWSER_STAMP := $(VENV)/.browser-deps
STUDIO_STAMP := studio/dist/.built
NODE_STAMP := $(VENV)/.node-deps
STUDIO_SOURCES := $(wildcard studio/src/*) studio/build.mjs studio/package.json studio/package-lock.json

.PHONY: run test lint typecheck pytest tck bench bench-service pg-deps eval clean studio studio-screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# System packages the tests use: Debian's PostgreSQL server (the test run starts and stops its
# own instance on 127.0.0.1) and wrk (the service load benchmark's load generator).
$(PG_STAMP):
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { command -v pg_ctl && command -v initdb; } >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@mkdir -p $(VENV) && touch $(PG_STAMP)

pg-deps: $(PG_STAMP)

# Debian's Chromium, which the report tests drive headless through Playwright (tests/audit/browser.py).
$(BROWSER_STAMP):
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian package: chromium"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	fi
	@mkdir -p $(VENV) && touch $(BROWSER_STAMP)

# Node and npm (Debian's), which build the studio (studio/: dmn-js bundled by esbuild).
$(NODE_STAMP):
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		echo "installing Debian packages: nodejs npm"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; \
	fi
	@mkdir -p $(VENV) && touch $(NODE_STAMP)

# The studio's bundle (studio/dist, not committed), rebuilt when the lockfile or a source is newer.
$(STUDIO_STAMP): $(NODE_STAMP) $(STUDIO_SOURCES)
	cd studio && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent
	touch $(STUDIO_STAMP)

studio: $(STUDIO_STAMP)

# The small screenshots the README shows (docs/studio/), taken by the studio's browser tests
# (every screen lands in build/studio-screenshots, which is not committed).
studio-screenshots: $(STAMP) $(BROWSER_STAMP) $(STUDIO_STAMP)
	rm -rf build/studio-screenshots
	DECISIONARY_SCREENSHOTS=build/studio-screenshots $(BIN)/pytest -q tests/studio/test_studio_browser.py
	$(BIN)/python tests/studio/readme_images.py build/studio-screenshots

run: $(STAMP) $(STUDIO_STAMP)
	$(BIN)/decisionary dev --host 127.0.0.1 --port 8000 --receiver-port 8001 --data-dir data

eval: $(STAMP)
	$(BIN)/decisionary eval examples/loan-approval.dmn --input @examples/loan-approval-input.json

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(PG_STAMP) $(BROWSER_STAMP) $(STUDIO_STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

tck: $(STAMP)
	$(BIN)/decisionary tck --results tck-results.csv

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

bench-service: $(STAMP) $(PG_STAMP)
	$(BIN)/python benchmarks/bench_service.py

clean:
	rm -rf $(VENV) build studio/dist studio/node_modules *.egg-info .mypy_cache .pytest_cache .ruff_cache
