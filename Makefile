# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SPEC   ?= openapi.yaml
ARGS   ?=
# browser tests drive Debian's chromium through Playwright, which never downloads a browser
CHROMIUM := /usr/bin/chromium
# the Redis backend's tests start real redis-servers (Debian's package) on free ports
REDIS_SERVER := /usr/bin/redis-server
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run bytecode test lint bench bench-redis clean chromium redis-server corpus

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,redis]'
	touch $@

# An editable install leaves our own modules without bytecode, and where PYTHONDONTWRITEBYTECODE
# is set (most Docker images) Python never writes it: every start then compiles ~150 modules,
# 0.3 s of a 0.55 s start (and of each of the servers and CLIs the tests start). compileall
# writes it whatever the environment says; ~40 ms when nothing changed.
bytecode: $(VENV)/.installed
	$(BIN)/python -m compileall -q sandbox contracts

run: bytecode
	$(BIN)/sandbox serve $(SPEC) $(ARGS)

test: lint bytecode $(CHROMIUM) $(REDIS_SERVER)
	$(BIN)/python -m pytest -n 2 $(ARGS)

# the static checks `make test` starts with: style, the layers of ARCHITECTURE.md, types
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

chromium: $(CHROMIUM)

# a file target: nothing to do once the package is installed
$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

redis-server: $(REDIS_SERVER)

# a file target too; the tests start their own servers, the package's service is not needed
$(REDIS_SERVER):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server

bench: bytecode
	$(BIN)/python bench/serve_bench.py

bench-redis: $(VENV)/.installed $(REDIS_SERVER)
	$(BIN)/python bench/redis_bench.py

# rebuild tests/data/corpus.tar.xz from ../shared/corpus (or CORPUS_SOURCE=DIR); standard library only
corpus:
	$(PYTHON) scripts/refresh_corpus.py

clean:
	rm -rf $(VENV) .sandbox .pytest_cache .ruff_cache
