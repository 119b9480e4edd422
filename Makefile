# The two commands of the README: `make run` and `make test`. Both install what they need.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-fast bench profile sysdeps browser clean-db

NODE_STAMP := node_modules/.installed

$(STAMP): pyproject.toml
	@command -v python3 >/dev/null || { echo "需要 python3"; exit 1; }
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@

# Front-end packages from npm (Bootstrap, bpmn-js; axe-core for the accessibility tests), exactly as package-lock.json pins them.
# Then the process designer's bundle (web/static/designer → web/static/build, git-ignored) is built with esbuild.
$(NODE_STAMP): package.json package-lock.json $(wildcard web/static/designer/*)
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	npm ci --no-audit --no-fund --loglevel=error
	npm run build --silent
	touch $@

# Debian packages: a CJK font for rendered pages and PDFs; poppler-utils to read PDFs back in tests.
SYSPKGS := fonts-noto-cjk poppler-utils
sysdeps:
	@missing=$$(for p in $(SYSPKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi

# Headless Chromium for the e2e tests (Debian's; Playwright drives it, it never downloads a browser).
browser: sysdeps
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

run: $(STAMP) $(NODE_STAMP) sysdeps
	$(BIN)/rectify demo
	$(BIN)/rectify serve --host $(HOST) --port $(PORT)

test: $(STAMP) $(NODE_STAMP) browser
	$(BIN)/pytest -q -n auto

# Without the browser tests, for a quick loop while editing.
test-fast: $(STAMP) $(NODE_STAMP) sysdeps
	$(BIN)/pytest -q -n auto --ignore=tests/e2e

# Benchmarks (not part of `make test`): prints a table, writes bench-results.json. BENCH_ARGS=--quick to try it.
bench: $(STAMP) $(NODE_STAMP) sysdeps
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# What dominates completion, starting items and closure records (cProfile by area, SQL per completion).
profile: $(STAMP) sysdeps
	$(BIN)/python -m benchmarks.profile $(PROFILE_ARGS)

clean-db:
	rm -f instance/rectify.db instance/rectify.db-wal instance/rectify.db-shm
