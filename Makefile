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
	@echo "make lookup-definitions  write the lookup's option definitions (plugins/plugin_utils/_unicore_token_options.json) anew"
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

# The JSON copy of the unicore_token lookup's option definitions, from its
# DOCUMENTATION and doc fragments; run after changing either (a unit test fails until then).
.PHONY: lookup-definitions
lookup-definitions: venv
	@root=$$(mktemp -d) && trap 'rm -rf "$$root"' EXIT && mkdir -p "$$root/ansible_collections/unicore" \
		&& ln -s "$(CURDIR)" "$$root/ansible_collections/unicore/auth" \
		&& ANSIBLE_COLLECTIONS_PATH="$$root" $(VENV)/bin/python tests/scripts/lookup_option_definitions.py

.PHONY: demo
demo:
	@env PYTHON=$(PYTHON) VENV=$(VENV) bash demo/run-demo.sh

clean:
	rm -rf $(BUILD) tests/output

distclean: clean
	rm -rf $(VENV)
