#!/usr/bin/env bash
# ansible-builder accepts the collection's execution environment definition:
# `introspect` finds the collection's Python requirements, and `create` writes a
# build context (no container engine needed) that installs them. See
# test_execution_environment.py.
set -eux

# shellcheck source=../setup_unicore_testserver/files/suite_tmpdir.sh
. ../setup_unicore_testserver/files/suite_tmpdir.sh

python -m pytest -p no:cacheprovider -q -rA \
    --junitxml="${JUNIT_OUTPUT_DIR:-.}/execution_environment-pytest.xml" \
    test_execution_environment.py
