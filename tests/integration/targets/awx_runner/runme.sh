#!/usr/bin/env bash
# The collection's playbooks and roles run through ansible-runner the way AWX
# runs a job: the credentials reach the job only as the environment variables,
# extra vars and files that the UNICORE credential type
# (extensions/awx/unicore_credential_type.yml) injects, rendered from that file
# as AWX renders them, and a vault password answers the run's vault prompt.
# See test_awx_runner.py. The test server's address comes from
# integration_config.yml (the harness writes it for the server it started).
set -eux

# shellcheck source=../setup_unicore_testserver/files/suite_tmpdir.sh
. ../setup_unicore_testserver/files/suite_tmpdir.sh

export UNICORE_INTEGRATION_CONFIG="${PWD}/../../integration_config.yml"

# The jobs' directories (credential files, keys) in a base directory of this run's own, removed
# afterwards: pytest's shared /tmp/pytest-of-USER/pytest-N directories are not locked under
# tmp_path_retention_policy=none, so a pytest session of another run that ends meanwhile would
# delete them under the running jobs.
basetemp="$(mktemp -d "${TMPDIR:-/tmp}/awx_runner-pytest.XXXXXX")"
trap 'rm -rf "${basetemp}"' EXIT

# --tb=short: a failure shows no fixture values (they hold the passwords)
python -m pytest -p no:cacheprovider -q -rA --tb=short --basetemp="${basetemp}/t" \
    --junitxml="${JUNIT_OUTPUT_DIR:-.}/awx_runner-pytest.xml" \
    test_awx_runner.py
