#!/usr/bin/env bash
# module_utils against the UNICORE test server over real HTTPS, with PyUNICORE
# as an independent witness. The server was started by the test harness, which
# wrote its address into integration_config.yml.
set -eu

# shellcheck source=../setup_unicore_testserver/files/suite_tmpdir.sh
. ../setup_unicore_testserver/files/suite_tmpdir.sh

export UNICORE_INTEGRATION_CONFIG="${PWD}/../../integration_config.yml"
export PYTHONPATH="${ANSIBLE_COLLECTIONS_PATH}${PYTHONPATH:+:${PYTHONPATH}}"

# --tb=short: a failure shows no fixture values (they hold the passwords);
# no tmp_path is kept after its test (they hold keys and credential files)
python -m pytest -p no:cacheprovider -q -rA --tb=short -o tmp_path_retention_policy=none \
    --junitxml="${JUNIT_OUTPUT_DIR:-.}/module_utils_client-pytest.xml" \
    .
