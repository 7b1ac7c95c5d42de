#!/usr/bin/env bash
# The fault matrix (issue 5, reliability): each scripted fault of the UNICORE
# test server -- 5xx and 429 with and without Retry-After, refused, reset and
# cut-off connections, a slow server, a rejected security session, HTML,
# broken JSON and empty bodies, bad server certificates, redirects to another
# host -- met once by a module and once by the unicore_token lookup.
#
# 1. faults.yml runs every case (vars/cases.yml) and records the outcome, the
#    message, the server's counters and request log, and what reached the
#    redirect target (setup_unicore_testserver/files/other_host.py). Failures are
#    expected there, so its JUnit output goes to a scratch directory.
# 2. fault_matrix.py prints the matrix as a markdown table and writes it to
#    tests/output/reliability/faults.md of the collection (REPORT_DIR overrides).
# 3. test_fault_matrix.py judges every case (one JUnit test per case and
#    plugin): the expected outcome after a bounded number of attempts, or a
#    failure whose message names the URL and the cause; no traceback and no
#    secret anywhere in the run's output.
# 4. test_bounded_answers.py meets a 300 MiB answer with a Python process and
#    with ansible-playbook (module and lookup) and checks their peak memory
#    (issue 15); its figures go to bounded_answers.md beside faults.md.
#
# Everything comes from integration_config.yml (the harness writes it for the
# test server it started).
set -eu
set -o pipefail

config=$(cd ../.. && pwd)/integration_config.yml
export ANSIBLE_ROLES_PATH=..
export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
# shellcheck source=../setup_unicore_testserver/files/fixture.sh
. ../setup_unicore_testserver/files/fixture.sh
# Nothing from the environment may change what the plugins are given.
unset_unicore_environment

work=$(mktemp -d "${OUTPUT_DIR:-${TMPDIR:-/tmp}}/reliability_faults.XXXXXX")
cleanup() {
    stop_other_host "${witness_log:-}"
    rm -rf "${work}"
}
trap cleanup EXIT

fixtures=$(fixture_file)
report_dir=$(reliability_report_dir)

# A port nothing listens on: bound, then closed again.
refused_port=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
refused_url="https://localhost:${refused_port}/DEMO-SITE/rest/core"

# "Another host" for the redirects: 127.0.0.1 on its own port, plain HTTP so
# that any header sent to it could be seen.
witness_log=${work}/witness.log
witness_url=$(start_other_host "${witness_log}")

python lookup_plugins/fault_server.py reset "$(fixture control_url)" "$(fixture ca_cert)"

# matrix PLUGIN SITE: faults.yml through PLUGIN at SITE. Its rescued failures
# would count as failed JUnit cases: its JUnit file stays apart.
matrix() {
    local plugin=$1 site=$2
    JUNIT_OUTPUT_DIR=${work}/junit-expected-failures-${plugin} \
        ansible-playbook -i localhost, -c local -e ansible_python_interpreter="$(command -v python)" faults.yml \
        -e @"${config}" -e fault_plugin="${plugin}" -e fault_site="${site}" \
        -e refused_url="${refused_url}" -e witness_url="${witness_url}" -e witness_log="${witness_log}" \
        -e results_file="${work}/results-${plugin}.json" -e secrets_file="${work}/secrets-${plugin}.json" \
        -e fault_sessions_dir="${work}/sessions-${plugin}" \
        >"${work}/playbook-${plugin}.log" 2>&1
}

# The module and the lookup meet the faults at the same time, each at its own
# site (the server counts and logs requests per site): most of the time is
# spent waiting for retries, timeouts and Retry-After.
started=${SECONDS}
matrix module DEMO-SITE &
module_pid=$!
matrix lookup PARTNER-SITE &
lookup_pid=$!
status=0
wait "${module_pid}" || status=1
wait "${lookup_pid}" || status=1
playbook_seconds=$((SECONDS - started))
python lookup_plugins/fault_server.py reset "$(fixture control_url)" "$(fixture ca_cert)"
if [[ ${status} -ne 0 ]]; then
    # (at the harness's -vvvv the logs are long: their ends show what broke)
    tail -n 150 "${work}"/playbook-*.log
    echo "faults.yml failed: the matrix is incomplete" >&2
    exit 1
fi
echo "faults.yml (module and lookup at once): ${playbook_seconds} s"

export FAULT_WORK=${work} FAULT_CONFIG=${config} REPORT_DIR=${report_dir}
export FAULT_CASES=${PWD}/vars/cases.yml FAULT_FIXTURES=${fixtures}
export PYTHONPATH="${ANSIBLE_COLLECTIONS_PATH:-}${PYTHONPATH:+:${PYTHONPATH}}"

python fault_matrix.py --report-dir "${report_dir}" --seconds "${playbook_seconds}"

python -m pytest -p no:cacheprovider -q -rfE \
    --junitxml="${JUNIT_OUTPUT_DIR:-.}/reliability_faults-pytest.xml" \
    test_fault_matrix.py test_bounded_answers.py
