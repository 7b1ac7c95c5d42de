# Test harness of the unicore.auth collection.  `make test` is the one command;
# see the "Testing" section of README.md.  The work is done by
# tests/scripts/harness.sh (suites) and tests/scripts/venv.sh (virtualenv).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BUILD := $(CURDIR)/build
HARNESS := env PYTHON=$(PYTHON) VENV=$(VENV) bash tests/scripts/harness.sh

.PHONY: help test sanity units integration venv clean distclean

help:
	@echo "make test         run sanity, unit and integration tests (all three, then a summary)"
	@echo "make sanity       ansible-test sanity only"
	@echo "make units        ansible-test units only"
	@echo "make integration  ansible-test integration only (starts/stops the test server)"
	@echo "make venv         create or refresh .venv from tests/requirements-test.txt"
	@echo "make bench        benchmark against the test server (table; results.json in BENCH_OUT, default tests/output/bench/)"
	@echo "make demo         run the collection's main job against the bundled UNICORE test server"
	@echo "make clean        remove build/ (the collection copy and its test output)"
	@echo "make distclean    clean, and remove .venv too"

test:
	@$(HARNESS) sanity units integration

sanity:
	@$(HARNESS) sanity

units:
	@$(HARNESS) units

integration:
	@$(HARNESS) integration

venv:
	@env PYTHON=$(PYTHON) VENV=$(VENV) bash tests/scripts/venv.sh

.PHONY: bench
bench:
	@env PYTHON=$(PYTHON) VENV=$(VENV) bash tests/bench/run.sh

.PHONY: demo
demo:
	@env PYTHON=$(PYTHON) VENV=$(VENV) bash demo/run-demo.sh

clean:
	rm -rf $(BUILD) tests/output

distclean: clean
	rm -rf $(VENV)
