#!/usr/bin/env bash
# module_utils against the UNICORE test server over real HTTPS, with PyUNICORE
# as an independent witness. The server was started by the test harness, which
# wrote its address into integration_config.yml.
set -eu

export UNICORE_INTEGRATION_CONFIG="${PWD}/../../integration_config.yml"
export PYTHONPATH="${ANSIBLE_COLLECTIONS_PATH}${PYTHONPATH:+:${PYTHONPATH}}"

python -m pytest -p no:cacheprovider -q -rA \
    --junitxml="${JUNIT_OUTPUT_DIR:-.}/module_utils_client-pytest.xml" \
    .
