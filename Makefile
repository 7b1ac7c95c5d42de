# Test harness of the unicore.auth collection.  `make test` is the one command;
# see the "Testing" section of README.md.  The work is done by
# tests/scripts/harness.sh (suites) and tests/scripts/venv.sh (virtualenv).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BUILD := $(CURDIR)/build
DOCS_BUILD ?= $(BUILD)/docs
HARNESS := env PYTHON=$(PYTHON) VENV=$(VENV) bash tests/scripts/harness.sh

.PHONY: help test sanity units integration compat install-check importer docs-check build install docs venv clean distclean

help:
	@echo "make test         run every suite below, then a summary (the side suites run beside the first three)"
	@echo "make sanity       ansible-test sanity only (plus antsibull-docs lint and ansible-lint)"
	@echo "make units        ansible-test units only"
	@echo "make integration  ansible-test integration only (starts/stops the test server)"
	@echo "make compat       units and the compat_smoke target on ansible-core 2.16, 2.17 and 2.18"
	@echo "make install-check  build the tarball, install it into an empty path and run a play from it"
	@echo "make importer     galaxy-importer 0.4.44 (with ansible-lint) on the tarball; a warning fails"
	@echo "make docs-check   build the docs site and check it in headless Chromium"
	@echo "make build        build the collection tarball into build/dist/ (prints its path)"
	@echo "make install      build it and install it into COLLECTIONS_PATH (default ~/.ansible/collections), with requirements.txt"
	@echo "make docs         build the docs site with antsibull-docs (start page: build/docs/build/html/index.html)"
	@echo "make venv         create or refresh .venv from tests/requirements-test.txt"
	@echo "make bench        benchmark against the test server (table; results.json in BENCH_OUT, default tests/output/bench/)"
	@echo "make scale        1000 hosts, forks 50, the site failing 20% of token requests: 1 token, same for all (a side suite of make test; table in build/side/scale/out/scale.md)"
	@echo "make demo         run the collection's main job against the bundled UNICORE test server"
	@echo "make lookup-definitions  write the lookup's option definitions (plugins/plugin_utils/_unicore_token_options.json) anew"
	@echo "make clean        remove build/ (the collection copy and its test output)"
	@echo "make distclean    clean, and remove .venv and the side suites' venvs (.venv-*) too"

test:
	@$(HARNESS) sanity units integration install compat importer docs scale

sanity:
	@$(HARNESS) sanity

units:
	@$(HARNESS) units

integration:
	@$(HARNESS) integration

compat:
	@$(HARNESS) compat

install-check:
	@$(HARNESS) install

importer:
	@$(HARNESS) importer

docs-check:
	@$(HARNESS) docs

build:
	@bash tests/scripts/install_collection.sh build

install:
	@bash tests/scripts/install_collection.sh install

docs:
	@env PYTHON=$(PYTHON) DOCS_BUILD=$(DOCS_BUILD) bash tests/scripts/docs_build.sh

venv:
	@env PYTHON=$(PYTHON) VENV=$(VENV) bash tests/scripts/venv.sh

.PHONY: bench
bench:
	@env PYTHON=$(PYTHON) VENV=$(VENV) bash tests/bench/run.sh

# Scale under faults (issue 15): the side suite scale on its own, at full priority and with the
# baseline run beside it (make test runs it at nice 10 without the baseline); see tests/scale/run.sh.
.PHONY: scale
scale:
	@env SCALE_NICE=$${SCALE_NICE:-0} SCALE_BASELINE=$${SCALE_BASELINE:-1} $(HARNESS) scale

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
	rm -rf $(VENV) $(CURDIR)/.venv-*
