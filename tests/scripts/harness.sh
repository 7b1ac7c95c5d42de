#!/usr/bin/env bash
# The unicore.auth test harness behind `make test|sanity|units|integration`.
#
#   tests/scripts/harness.sh SUITE...
#
# SUITE: sanity, units, integration (ansible-test on ansible-core 2.19, in .venv),
# and the side suites: install (the tarball built, installed and used),
# compat-2.16, compat-2.17, compat-2.18 (units and the compat_smoke target on
# that ansible-core, each in its own venv), compat (all three), importer
# (galaxy-importer on the tarball), docs (the docs site in headless Chromium),
# scale (1000 hosts under faults, tests/scale/run.sh, with a test server of its own).
#
# 1. creates/reuses .venv with the pinned tests/requirements-test.txt
# 2. puts the offline get-pip stand-in into ansible-test's cache
# 3. syncs the checkout into build/ansible_collections/unicore/auth
#    (ansible-test needs that physical path) and runs there
# 4. runs every requested suite, even when an earlier one failed: the main
#    suites one after another in the foreground, the side suites meanwhile in
#    one background lane (their venvs are built first), each with its own
#    output directory, HOME and TMPDIR under BUILD_ROOT/side/SUITE, so that
#    nothing they write reaches the main suites or the secrets scan
# 5. prints per-suite counts from the JUnit XML files and a final
#    "N passed, M failed[, K skipped]" line; exits non-zero when a suite or a
#    test case failed, or when no test ran at all.
#
# Environment: PYTHON (interpreter for the venv, default python3),
# BUILD_ROOT (where the collection copy goes, default build/; a second run at
# the same time needs its own),
# ANSIBLE_TEST_PYTHON (Python version the tests run with, default 3.11),
# ANSIBLE_TEST_OPTIONS (extra options for every ansible-test call, e.g. -v),
# SANITY_OPTIONS / UNITS_OPTIONS / INTEGRATION_OPTIONS (extra options per suite,
# e.g. SANITY_OPTIONS="--test pep8" or INTEGRATION_OPTIONS="target_name").
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
scripts=$root/tests/scripts
venv=${VENV:-$root/.venv}
build_root=${BUILD_ROOT:-$root/build}
coll=$build_root/ansible_collections/unicore/auth
pyver=${ANSIBLE_TEST_PYTHON:-3.11}

# shellcheck source=tests/scripts/lib.sh
. "$scripts/lib.sh"

compat_versions=(2.16 2.17 2.18)
side_known=(install "${compat_versions[@]/#/compat-}" importer docs scale)
main_known=(sanity units integration)
usage="SUITE... (${main_known[*]} ${side_known[*]} compat)"
(($#)) || die "usage: $0 $usage"
main_suites=()
side_suites=()
for suite in "$@"; do
    case $suite in
        sanity | units | integration) main_suites+=("$suite") ;;
        compat) side_suites+=("${compat_versions[@]/#/compat-}") ;;
        install | importer | docs | scale | compat-2.1[678]) side_suites+=("$suite") ;;
        *) die "unknown suite '$suite': $usage" ;;
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
# The suite's own temporary directory, for every process it starts (ansible-test does
# not pass TMPDIR on to integration targets: their runme.sh scripts source
# suite_tmpdir.sh, and Ansible's own temporary files go there by integration.cfg).
# The secrets scan reads it with the rest of tests/output, and no other temporary
# directory, where other programs' files are none of its business.
# Each main suite starts with it empty: the secrets scan after the integration suite
# reads what that suite left there, not the unit tests' fixtures.
suite_tmp=$coll/tests/output/tmp
export TMPDIR=$suite_tmp

read -r -a common <<<"${ANSIBLE_TEST_OPTIONS:-}"
# keep the pip runs of ansible-test (requirements, sanity venvs) to warnings and errors
export PIP_QUIET=${PIP_QUIET:-1}
suite_dirs=("${main_known[@]}" "${side_known[@]}")

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
    ANSIBLE_COLLECTIONS_PATH=$build_root antsibull-docs lint-collection-docs --plugin-docs . >"$log" 2>&1 || status=$?
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
    leak_scan_prepare
    rm -rf "$reliability_dir"
    PYTHON_BIN=$venv/bin/python bash "$scripts/testserver.sh" start "$coll" || return 1
    # --continue-on-error: a failing target does not keep the later targets from running.
    # The whole output (every playbook at -vvvv) goes to console.log only; the console
    # shows ansible-test's own lines, the recaps and the failures (integration_digest).
    quiet_pip ansible-test integration --local --python "$pyver" --requirements --continue-on-error \
        "${common[@]}" "${extra[@]}" 2>&1 | tee "$leak_dir/console.log" | integration_digest || status=$?
    check_deprecations || status=$?
    PYTHON_BIN=$venv/bin/python bash "$scripts/testserver.sh" stop "$coll" || true
    rm -f "$integration_cfg"
    info "whole output of the integration suite (playbooks at -vvvv): ${leak_dir#"$coll"/}/console.log;" \
        "Ansible's log: ${leak_dir#"$coll"/}/ansible.log"
    run_leak_scan || status=$?
    show_reliability_report
    return "$status"
}

# A deprecation warning fails the suite. ansible-test turns them off for every playbook;
# the runme.sh targets turn them back on (fixture.sh), and Ansible's log has them all.
check_deprecations() {
    local found=$leak_dir/deprecation-warnings.txt
    if grep -h -F -A3 '[DEPRECATION WARNING]' "$leak_dir/console.log" "$leak_dir/ansible.log" >"$found" 2>/dev/null; then
        warn "Ansible printed deprecation warnings in the integration suite (each fails it):"
        cat "$found"
        return 1
    fi
}

# The tables the reliability_* targets leave for docs/reliability.md: faults, bad
# input, concurrency (in console.log too, but the digest on the console hides them).
reliability_dir=$coll/tests/output/reliability

show_reliability_report() {
    local table
    for table in "$reliability_dir"/*.md; do
        [[ -f $table ]] || continue
        banner "reliability: ${table#"$coll"/}"
        cat "$table"
    done
}

# Secrets never leak (tests/scripts/leak_scan.py). Every ansible-playbook run of the
# integration suite runs at -vvvv and writes Ansible's log (log_path). ansible-test
# passes none of our environment variables to the tests, but every playbook reads the
# ansible.cfg that ansible-test makes of tests/integration/integration.cfg (runme.sh
# targets build their own ansible.cfg files from it too); the harness writes that
# file for this run only.
leak_dir=$coll/tests/output/leak-scan
integration_cfg=$coll/tests/integration/integration.cfg

leak_scan_prepare() {
    rm -rf "$leak_dir"
    mkdir -p "$leak_dir"
    touch "$leak_dir/run-started"  # the scan looks at state in HOME newer than this
    # verbosity 4 is -vvvv; its extra messages go to stderr, so that the stdout of
    # ansible-vault encrypt_string or ansible-doc --json stays what the tests parse;
    # a result stays on one line (as without -vvv), for the tests that grep it.
    {
        echo '# written by tests/scripts/harness.sh for one run of the integration suite'
        echo '[defaults]'
        echo 'verbosity = 4'
        echo 'verbose_to_stderr = true'
        echo 'callback_format_pretty = false'
        echo "log_path = $leak_dir/ansible.log"
        echo "local_tmp = $suite_tmp/ansible-local"
        echo "remote_tmp = $suite_tmp/ansible-remote"
    } >"$integration_cfg"
}

# What the console shows of the integration suite's output: ansible-test's own lines,
# each PLAY RECAP, failures with their message, pytest's failures and summaries.
integration_digest() {
    "$venv/bin/python" -u -c '
import re
import sys

SHOWN = re.compile(r"(Running .* integration test|WARNING: |ERROR: |FATAL: |PLAY RECAP|\.\.\.ignoring"
                   r"|[^ ]+ +: ok=[0-9]+ +changed=|(FAILED|ERROR) [^ ]+::|=+ .*[0-9]+ (passed|failed|error).* =+$)")
MESSAGE = re.compile(r"\"msg\": \"([^\"\\]|\\.)*\"")
for line in sys.stdin:
    if re.match(r"(fatal|failed): \[", line):
        # a result is one line of JSON: show where it failed and its message
        message = MESSAGE.search(line)
        line = line[:line.find("=> ") + 3] + (message.group(0) if message else "") + "\n"
    elif not SHOWN.match(line):
        continue
    sys.stdout.write(line[:3000])
    sys.stdout.flush()
'
}

run_leak_scan() {
    local status=0 report=$leak_dir/report.txt
    "$venv/bin/python" "$scripts/leak_scan.py" --collection "$coll" --since "$leak_dir/run-started" \
        --junit tests/output/junit/leak-scan.xml >"$report" 2>&1 || status=$?
    cat "$report"
    return "$status"
}

# --- side suites -------------------------------------------------------------
# Each is one script run from the checkout with ROOT, BUILD_ROOT, COLL (the copy the
# main suites run in: read only), VENV, OUT (its own empty directory), JUNIT_DIR
# (where its JUnit XML goes) and a HOME and TMPDIR of its own under OUT: the lookup's
# token cache, ~/.ansible/tmp and temporary files stay apart from the main suites',
# whose secrets scan and server counters they would otherwise disturb.
side_root=$build_root/side

side_command() {
    case $1 in
        install) echo "$scripts/install_check.sh" ;;
        importer) echo "$scripts/galaxy_importer.sh" ;;
        docs) echo "$scripts/docs_check.sh" ;;
        scale) echo "$root/tests/scale/run.sh" ;;
        compat-*) echo "$scripts/compat.sh ${1#compat-}" ;;
    esac
}

# What builds a side suite's venv ahead of the suite (none for install).
side_prepare_command() {
    case $1 in
        importer) echo "$scripts/galaxy_importer.sh --prepare" ;;
        docs) echo "$scripts/docs_build.sh --prepare" ;;
        compat-*) echo "$scripts/compat.sh --prepare ${1#compat-}" ;;
    esac
}

# Builds the venvs the side suites need (pip downloads, mostly waiting), then runs
# the suites one after another; each suite's status goes to side/SUITE/status.
run_side_lane() {
    local suite out status
    local -a command
    for suite in "${side_suites[@]}"; do
        read -r -a command <<<"$(side_prepare_command "$suite")"
        ((${#command[@]})) || continue
        # a venv that could not be built fails its suite, which then says why
        (cd "$root" && env ROOT="$root" BUILD_ROOT="$build_root" VENV="$venv" bash "${command[@]}") \
            >"$side_root/$suite.prepare.log" 2>&1 </dev/null || true
    done
    for suite in "${side_suites[@]}"; do
        read -r -a command <<<"$(side_command "$suite")"
        out=$side_root/$suite/out
        rm -rf "$out" "$coll/tests/output/junit/$suite"
        mkdir -p "$out/home" "$out/tmp" "$coll/tests/output/junit/$suite"
        local begin=$SECONDS
        status=0
        (cd "$root" && env ROOT="$root" BUILD_ROOT="$build_root" COLL="$coll" VENV="$venv" OUT="$out" \
            JUNIT_DIR="$coll/tests/output/junit/$suite" HOME="$out/home" TMPDIR="$out/tmp" \
            bash "${command[@]}") >"$side_root/$suite/console.log" 2>&1 </dev/null || status=$?
        echo "$status $((SECONDS - begin))" >"$side_root/$suite/status"
    done
}

start_side_lane() {
    ((${#side_suites[@]})) || return 0
    rm -rf "$side_root"
    mkdir -p "$side_root"
    # job control for this one job: the lane gets a process group of its own, which
    # the EXIT trap ends with everything in it when the harness stops early
    set -m
    run_side_lane &
    side_lane_pid=$!
    set +m
}

# Waits for the lane and shows each side suite's output after the main suites' own.
finish_side_lane() {
    local suite status seconds
    ((${#side_suites[@]})) || return 0
    wait "$side_lane_pid" || true
    side_lane_pid=
    for suite in "${side_suites[@]}"; do
        status=1 seconds=0
        [[ -f $side_root/$suite/status ]] && read -r status seconds <"$side_root/$suite/status"
        banner "$suite: $(side_command "$suite" | sed -e "s#$scripts/#tests/scripts/#" -e "s#$root/##")"
        [[ -f $side_root/$suite.prepare.log ]] && cat "$side_root/$suite.prepare.log"
        cat "$side_root/$suite/console.log" 2>/dev/null || true
        info "$suite finished in ${seconds}s (exit status $status)"
        results+=("$suite=$status")
    done
}

# the test server must not outlive the harness, whatever happens; nor the side lane
side_lane_pid=
trap 'bash "$scripts/testserver.sh" stop "$coll" >/dev/null 2>&1 || true; [[ -z $side_lane_pid ]] || kill -TERM -- "-$side_lane_pid" 2>/dev/null' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Real programs some suites drive (oidc-agent, faketime, chromium): installed once,
# before anything runs, as apt-get must not run twice at once.
if [[ " $* " == *" integration "* || " ${side_suites[*]} " == *" docs "* ]]; then
    bash "$scripts/system_packages.sh"
fi

ansible_core=$(ansible --version 2>/dev/null | sed -n '1s/.*\[core \(.*\)\]/ansible-core \1/p')
results=()
start_side_lane
if ((${#side_suites[@]})); then
    info "side suites (${side_suites[*]}) run meanwhile in the background; their output follows the main suites'"
fi
for suite in "${main_suites[@]}"; do
    banner "$suite: ansible-test $suite (Python $pyver, $ansible_core)"
    junit_reset "$suite"
    rm -rf "$suite_tmp"
    mkdir -p "$suite_tmp"
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
finish_side_lane

info "all suites finished in $((SECONDS - started))s"
# the summary's last line ("N passed, M failed[, K skipped]") is the last line of the run
status=0
"$venv/bin/python" "$scripts/junit_summary.py" tests/output "${results[@]}" || status=$?
exit "$status"
