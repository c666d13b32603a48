# Onward: `make demo` runs the product, `make test` runs its tests (real Kafka, real PostgreSQL).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
RUN := $(CURDIR)/.run
KAFKA_PORT ?= 9092
PG_PORT ?= 5544
# The superuser's password is made by deploy/local/postgres.sh (SCRAM authentication); the services
# connect as their own roles, which `onward prepare` creates.
STACK_ENV := ONWARD_PG_URL=postgresql://postgres:$$(cat $(RUN)/postgres/password 2>/dev/null)@127.0.0.1:$(PG_PORT)/postgres \
             KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$(KAFKA_PORT) ONWARD_RUN_DIR=$(RUN)

BENCH_LEAVERS ?= 100000
CHAOS_LEAVERS ?= 50000

.PHONY: install lock infra up down demo test test-unit screenshots bench chaos clean

# Every Python dependency comes from a lock file with hashes (requirements/, written by `make lock`),
# installed with hash checking; then the project itself, without dependencies or an unpinned build env.
# PYTHON may name any of Python 3.11-3.13 (make test PYTHON=python3.13); a pyenv shim of a version that is not
# the active one resolves to pyenv's own install of it.
PYTHON_EXE = $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null || \
               ls $$(pyenv root 2>/dev/null)/versions/*/bin/$(PYTHON) 2>/dev/null | tail -1)
$(VENV)/.installed: pyproject.toml requirements/build.txt requirements/test.txt
	$(if $(PYTHON_EXE),,$(error $(PYTHON) not found: make test PYTHON=python3.13, or a path to a Python 3.11-3.13))
	$(PYTHON_EXE) -m venv $(VENV)
	$(VENV)/bin/pip install -q --require-hashes -r requirements/build.txt -r requirements/test.txt
	$(VENV)/bin/pip install -q --no-deps --no-build-isolation -e .
	touch $@

UV_COMPILE = $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
             --custom-compile-command "make lock" -q
## lock: re-resolve the hashed lock files (requirements/*.txt) for Python 3.11 to 3.13 after editing pyproject.toml
lock:
	$(VENV)/bin/pip install -q uv
	$(UV_COMPILE) --extra test -o requirements/test.txt
	$(UV_COMPILE) --extra otel -o requirements/runtime.txt
	$(UV_COMPILE) --extra test --extra bench -o requirements/bench.txt
	$(VENV)/bin/uv pip compile requirements/build.in --universal --python-version 3.11 --generate-hashes \
	  --custom-compile-command "make lock" -q -o requirements/build.txt

## install: Python venv, Kafka jars (Maven Central), PostgreSQL (Debian), page assets (npm), chromium (Debian)
install: $(VENV)/.installed
	deploy/local/kafka.sh install
	deploy/local/postgres.sh install
	deploy/local/web.sh assets
	deploy/local/web.sh browser

infra: install
	deploy/local/postgres.sh start $(RUN)/postgres $(PG_PORT)
	deploy/local/kafka.sh start $(RUN)/kafka $(KAFKA_PORT)

## up: Kafka, Postgres and the three services in the background, on 8001/8002/8003
up: infra
	$(STACK_ENV) $(VENV)/bin/onward stack up

## down: stop everything `make up` started
down:
	-@[ -x $(VENV)/bin/onward ] && $(STACK_ENV) $(VENV)/bin/onward stack down
	deploy/local/kafka.sh stop $(RUN)/kafka
	deploy/local/postgres.sh stop $(RUN)/postgres

## demo: set-up, make up, submit a synthetic Year 13 cohort and print where each leaver went
demo: up
	$(STACK_ENV) $(VENV)/bin/onward demo

## test: the whole suite (unit, integration, end to end) against real Kafka and PostgreSQL
test: install
	$(VENV)/bin/pytest -q -ra

## screenshots: re-take the README's screenshots of the pages (docs/screenshots) with the browser tests
screenshots: install
	ONWARD_SCREENSHOTS=docs/screenshots $(VENV)/bin/pytest -q tests/e2e/test_pages.py tests/e2e/test_school_pages.py

test-unit: install
	$(VENV)/bin/pytest -q tests/unit

## bench: Onward end to end beside a raw-Kafka baseline on the same broker (BENCH_LEAVERS, default 100000)
bench: infra
	$(VENV)/bin/pip install -q --require-hashes -r requirements/bench.txt
	$(STACK_ENV) BENCH_LEAVERS=$(BENCH_LEAVERS) $(VENV)/bin/python -m bench.run

## chaos: kill -9 service processes, the broker and Postgres under load; check nothing is lost or duplicated
chaos: install
	$(VENV)/bin/pip install -q --require-hashes -r requirements/bench.txt
	CHAOS_LEAVERS=$(CHAOS_LEAVERS) $(VENV)/bin/python -m bench.chaos

clean: down
	rm -rf $(RUN)
