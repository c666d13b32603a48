# Onward: `make demo` runs the product, `make test` runs its tests (real Kafka, real PostgreSQL).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
RUN := $(CURDIR)/.run
KAFKA_PORT ?= 9092
PG_PORT ?= 5544
STACK_ENV := ONWARD_PG_URL=postgresql://postgres@127.0.0.1:$(PG_PORT)/postgres \
             KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$(KAFKA_PORT) ONWARD_RUN_DIR=$(RUN)

BENCH_LEAVERS ?= 100000
CHAOS_LEAVERS ?= 50000

.PHONY: install infra up down demo test test-unit screenshots bench chaos clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

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
	$(VENV)/bin/pip install -q -e '.[test,bench]'
	$(STACK_ENV) BENCH_LEAVERS=$(BENCH_LEAVERS) $(VENV)/bin/python -m bench.run

## chaos: kill -9 service processes, the broker and Postgres under load; check nothing is lost or duplicated
chaos: install
	$(VENV)/bin/pip install -q -e '.[test,bench]'
	CHAOS_LEAVERS=$(CHAOS_LEAVERS) $(VENV)/bin/python -m bench.chaos

clean: down
	rm -rf $(RUN)
