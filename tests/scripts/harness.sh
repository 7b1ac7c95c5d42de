#!/usr/bin/env bash
# The unicore.auth test harness behind `make test|sanity|units|integration`.
#
#   tests/scripts/harness.sh SUITE...      SUITE: sanity, units, integration
#
# 1. creates/reuses .venv with the pinned tests/requirements-test.txt
# 2. puts the offline get-pip stand-in into ansible-test's cache
# 3. syncs the checkout into build/ansible_collections/unicore/auth
#    (ansible-test needs that physical path) and runs there
# 4. runs every requested suite, even when an earlier one failed
# 5. prints per-suite counts from the JUnit XML files and a final
#    "N passed, M failed[, K skipped]" line; exits non-zero when a suite or a
#    test case failed, or when no test ran at all.
#
# Environment: PYTHON (interpreter for the venv, default python3),
# ANSIBLE_TEST_PYTHON (Python version the tests run with, default 3.11),
# ANSIBLE_TEST_OPTIONS (extra options for every ansible-test call, e.g. -v),
# SANITY_OPTIONS / UNITS_OPTIONS / INTEGRATION_OPTIONS (extra options per suite,
# e.g. SANITY_OPTIONS="--test pep8" or INTEGRATION_OPTIONS="target_name").
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
scripts=$root/tests/scripts
venv=${VENV:-$root/.venv}
coll=$root/build/ansible_collections/unicore/auth
pyver=${ANSIBLE_TEST_PYTHON:-3.11}

# shellcheck source=tests/scripts/lib.sh
. "$scripts/lib.sh"

(($#)) || die "usage: $0 SUITE... (sanity, units, integration)"
for suite in "$@"; do
    case $suite in
        sanity | units | integration) ;;
        *) die "unknown suite '$suite' (sanity, units, integration)" ;;
    esac
done

started=$SECONDS
VENV=$venv bash "$scripts/venv.sh"
export PATH="$venv/bin:$PATH"
export VIRTUAL_ENV=$venv
unset PYTHONPATH

"$venv/bin/python" "$scripts/install_get_pip.py"
"$venv/bin/python" "$scripts/sync_collection.py" "$root" "$coll"
cd "$coll"

read -r -a common <<<"${ANSIBLE_TEST_OPTIONS:-}"
# keep the pip runs of ansible-test (requirements, sanity venvs) to warnings and errors
export PIP_QUIET=${PIP_QUIET:-1}
suite_dirs=(sanity units integration)

# Each suite's JUnit files end up in tests/output/junit/<suite>/ so that the
# summary can tell the suites apart and never counts stale files.
junit_reset() {
    local suite=$1 entry name
    mkdir -p tests/output/junit
    rm -rf "tests/output/junit/$suite"
    for entry in tests/output/junit/* tests/output/junit/.[!.]*; do
        [[ -e $entry || -L $entry ]] || continue
        name=${entry##*/}
        [[ " ${suite_dirs[*]} " == *" $name "* ]] && continue
        rm -rf "$entry"  # left behind by an interrupted run
    done
}

junit_collect() {
    local suite=$1 entry name
    mkdir -p "tests/output/junit/$suite"
    for entry in tests/output/junit/* tests/output/junit/.[!.]*; do
        [[ -e $entry || -L $entry ]] || continue
        name=${entry##*/}
        [[ " ${suite_dirs[*]} " == *" $name "* ]] && continue
        mv "$entry" "tests/output/junit/$suite/"
    done
}

banner() {
    printf '\n==> %s\n' "$*"
}

run_sanity() {
    local -a extra
    read -r -a extra <<<"${SANITY_OPTIONS:-}"
    # --venv: ansible-test runs from a venv it manages; each sanity test gets its own venv
    # (created under ~/.ansible/test/venv on first use, bootstrapped with the get-pip stand-in)
    local status=0
    quiet_pip ansible-test sanity --venv --python "$pyver" --junit "${common[@]}" "${extra[@]}" || status=$?
    run_docs_lint || status=$?
    run_ansible_lint || status=$?
    return "$status"
}

# ansible-lint's production profile over roles, playbooks and every EXAMPLES block.
run_ansible_lint() {
    local status=0 log=tests/output/ansible-lint.log
    mkdir -p tests/output/junit
    ANSIBLE_LINT=$venv/bin/ansible-lint bash tests/scripts/ansible_lint.sh >"$log" 2>&1 || status=$?
    cat "$log"
    "$venv/bin/python" "$scripts/junit_case.py" tests/output/junit/ansible-lint.xml sanity ansible-lint-production "$status" "$log"
    return "$status"
}

# The collection's documentation as antsibull-docs (docs.ansible.com's builder)
# reads it: every plugin's docs, the doc fragments, seealso and markup links.
run_docs_lint() {
    local status=0 log=tests/output/docs-lint.log
    mkdir -p tests/output/junit
    ANSIBLE_COLLECTIONS_PATH=$root/build antsibull-docs lint-collection-docs --plugin-docs . >"$log" 2>&1 || status=$?
    cat "$log"
    "$venv/bin/python" "$scripts/junit_case.py" tests/output/junit/docs-lint.xml sanity antsibull-docs-lint "$status" "$log"
    return "$status"
}

run_units() {
    local -a extra
    if ! find tests/unit -name 'test_*.py' -print -quit 2>/dev/null | grep -q .; then
        warn "no unit tests (no tests/unit/**/test_*.py): skipping the units suite"
        return 0
    fi
    read -r -a extra <<<"${UNITS_OPTIONS:-}"
    # --local: run in the harness venv; --requirements: install tests/unit/requirements.txt into it
    quiet_pip ansible-test units --local --python "$pyver" --requirements "${common[@]}" "${extra[@]}"
}

run_integration() {
    local -a extra
    local status=0
    if ! find tests/integration/targets -mindepth 1 -maxdepth 1 -type d -print -quit 2>/dev/null | grep -q .; then
        warn "no integration targets (tests/integration/targets/ is empty): skipping the integration suite"
        return 0
    fi
    read -r -a extra <<<"${INTEGRATION_OPTIONS:-}"
    PYTHON_BIN=$venv/bin/python bash "$scripts/testserver.sh" start "$coll" || return 1
    # --continue-on-error: a failing target does not keep the later targets from running
    quiet_pip ansible-test integration --local --python "$pyver" --requirements --continue-on-error \
        "${common[@]}" "${extra[@]}" || status=$?
    PYTHON_BIN=$venv/bin/python bash "$scripts/testserver.sh" stop "$coll" || true
    return "$status"
}

# the test server must not outlive the harness, whatever happens
trap 'bash "$scripts/testserver.sh" stop "$coll" >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

results=()
for suite in "$@"; do
    banner "$suite: ansible-test $suite (Python $pyver)"
    junit_reset "$suite"
    suite_start=$SECONDS
    status=0
    case $suite in
        sanity) run_sanity || status=$? ;;
        units) run_units || status=$? ;;
        integration) run_integration || status=$? ;;
    esac
    junit_collect "$suite"
    info "$suite finished in $((SECONDS - suite_start))s (exit status $status)"
    results+=("$suite=$status")
done

info "all suites finished in $((SECONDS - started))s"
# the summary's last line ("N passed, M failed[, K skipped]") is the last line of the run
status=0
"$venv/bin/python" "$scripts/junit_summary.py" tests/output "${results[@]}" || status=$?
exit "$status"
