#!/usr/bin/env bash
# The ansible-core compatibility matrix: the collection's unit tests and the
# compat_smoke integration target on an older ansible-core than the harness's
# (meta/runtime.yml admits 2.16 and later; `make test` runs 2.19).
#
#   tests/scripts/compat.sh VERSION             VERSION: 2.16, 2.17 or 2.18
#   tests/scripts/compat.sh --prepare VERSION   only create (or reuse) the venv
#
# 1. creates/reuses the venv $ROOT/.venv-compat-VERSION with the pinned
#    tests/requirements-compat/ansible-core-VERSION.txt (tests/scripts/venv.sh,
#    rebuilt when that file changes)
# 2. syncs the checkout into a collection copy of its own,
#    $BUILD_ROOT/compat-VERSION/ansible_collections/unicore/auth
# 3. runs every unit test: ansible-test units --local --python 3.11 --requirements
# 4. starts a test server of its own (port 0) from that copy and runs
#    ansible-test integration --local --python 3.11 compat_smoke, then stops it
# 5. fails the run when the output of either holds "[DEPRECATION WARNING]"
#    (one JUnit case of its own), and copies every JUnit file, each case's
#    class name prefixed with ansible-core-VERSION, into $JUNIT_DIR
#
# Exits non-zero when anything failed; runs all steps even after a failure.
#
# Environment: ROOT (the checkout, default this script's), BUILD_ROOT (default
# ROOT/build; keep it out of /tmp), OUT (this run's output: logs; default
# BUILD_ROOT/compat-VERSION/output), JUNIT_DIR (default OUT/junit), TMPDIR
# (default OUT/tmp), PYTHON (interpreter for the venv, default python3),
# ANSIBLE_TEST_OPTIONS / UNITS_OPTIONS as for the harness. VENV (the harness's
# venv) is not used: everything runs from the compat venv.
set -euo pipefail

scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=tests/scripts/lib.sh
. "$scripts/lib.sh"

usage() {
    die "usage: $0 [--prepare] VERSION (one of: $(known_versions))"
}

known_versions() {
    local file names=()
    for file in "$root"/tests/requirements-compat/ansible-core-*.txt; do
        [[ -f $file ]] || continue
        file=${file##*/ansible-core-}
        names+=("${file%.txt}")
    done
    echo "${names[*]}"
}

root=$(cd "${ROOT:-$scripts/../..}" && pwd -P)
prepare_only=false
if [[ ${1:-} == --prepare ]]; then
    prepare_only=true
    shift
fi
(($# == 1)) || usage
version=$1
requirements=$root/tests/requirements-compat/ansible-core-$version.txt
[[ $version =~ ^2\.[0-9]+$ && -f $requirements ]] || usage

python=${PYTHON:-python3}
venv=$root/.venv-compat-$version
pyver=3.11

# ---------------------------------------------------------------- the venv

prepare_venv() {
    env PYTHON="$python" VENV="$venv" REQUIREMENTS="$requirements" bash "$scripts/venv.sh"
    local have
    have=$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
    [[ $have == "$version".* ]] || die "$venv has ansible-core $have, not $version"
}

started=$SECONDS
prepare_venv
if $prepare_only; then
    info "ansible-core $version venv ready ($((SECONDS - started))s): $venv"
    exit 0
fi

build_root=${BUILD_ROOT:-$root/build}
mkdir -p "$build_root"
build_root=$(cd "$build_root" && pwd -P)
coll=$build_root/compat-$version/ansible_collections/unicore/auth
out=${OUT:-$build_root/compat-$version/output}
junit_dir=${JUNIT_DIR:-$out/junit}
export TMPDIR=${TMPDIR:-$out/tmp}
mkdir -p "$out" "$junit_dir" "$TMPDIR"
rm -f "$junit_dir/ansible-core-$version"-*.xml  # an earlier run's, when JUNIT_DIR is reused
out=$(cd "$out" && pwd -P)

export PATH="$venv/bin:$PATH"
export VIRTUAL_ENV=$venv
unset PYTHONPATH
export PIP_QUIET=${PIP_QUIET:-1}
read -r -a common <<<"${ANSIBLE_TEST_OPTIONS:-}"
label=ansible-core-$version

"$venv/bin/python" "$scripts/sync_collection.py" "$root" "$coll"
cd "$coll"
rm -rf tests/output/junit

# the test server must not outlive this script, whatever happens
trap 'PYTHON_BIN="$venv/bin/python" bash "$scripts/testserver.sh" stop "$coll" >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Copy the JUnit files ansible-test wrote for STEP into JUNIT_DIR as
# <label>-STEP-<name>.xml, each case's class name prefixed with the label, so
# that the results of the versions (and of the main suite) stay apart.
collect_junit() {
    local step=$1
    "$venv/bin/python" - "$coll/tests/output/junit" "$junit_dir" "$label" "$step" <<'PY'
import os
import sys
import xml.etree.ElementTree as ET

source, target, label, step = sys.argv[1:]
for name in sorted(os.listdir(source)) if os.path.isdir(source) else []:
    path = os.path.join(source, name)
    if not name.endswith('.xml') or not os.path.isfile(path):
        continue
    tree = ET.parse(path)
    for element in tree.getroot().iter():
        tag = element.tag.rsplit('}', 1)[-1]
        if tag == 'testcase':
            element.set('classname', '%s.%s' % (label, element.get('classname')) if element.get('classname') else label)
        elif tag == 'testsuite':
            element.set('name', '%s %s' % (label, element.get('name') or step))
    tree.write(os.path.join(target, '%s-%s-%s' % (label, step, name)), encoding='utf-8', xml_declaration=True)
    os.unlink(path)
PY
}

# Ansible's deprecation warnings in a step's output fail the run: each is a
# promise that the collection breaks on a later ansible-core.
check_deprecations() {
    local status=0 report=$out/deprecation-warnings.txt
    grep -n -F -A3 '[DEPRECATION WARNING]' "$out/units.log" "$out/integration.log" >"$report" 2>/dev/null || true
    if [[ -s $report ]]; then
        status=1
        warn "ansible-core $version: deprecation warnings (each fails the run):"
        cat "$report" >&2
    else
        echo "no [DEPRECATION WARNING] in the output of the units and integration steps" >"$report"
    fi
    "$venv/bin/python" "$scripts/junit_case.py" "$junit_dir/$label-deprecation-warnings.xml" "$label" \
        "no Ansible deprecation warnings" "$status" "$report"
    return "$status"
}

banner() {
    printf '\n==> %s\n' "$*"
}

results=()
run_step() {
    local step=$1 step_start=$SECONDS status=0
    banner "$label: $step"
    case $step in
        units) run_units || status=$? ;;
        integration) run_integration || status=$? ;;
        deprecations) check_deprecations || status=$? ;;
    esac
    info "$label: $step finished in $((SECONDS - step_start))s (exit status $status)"
    results+=("$step=$status")
}

run_units() {
    local -a extra
    local status=0
    read -r -a extra <<<"${UNITS_OPTIONS:-}"
    # --requirements installs tests/unit/requirements.txt and ansible-test's own; the pinned venv already has them
    quiet_pip ansible-test units --local --python "$pyver" --requirements "${common[@]}" "${extra[@]}" 2>&1 \
        | tee "$out/units.log" || status=$?
    collect_junit units
    return "$status"
}

run_integration() {
    local status=0
    PYTHON_BIN=$venv/bin/python bash "$scripts/testserver.sh" start "$coll" || return 1
    # ansible-test passes no environment to the playbooks, but reads this file as their ansible.cfg:
    # Ansible's own temporary files go to this run's TMPDIR. (Deprecation warnings cannot be turned on
    # here: ansible-test sets ANSIBLE_DEPRECATION_WARNINGS=false, which fixture.sh turns back on for runme.sh targets.)
    {
        echo "# written by tests/scripts/compat.sh for one run of the ansible-core $version matrix leg"
        echo '[defaults]'
        echo "local_tmp = $TMPDIR/ansible-local"
        echo "remote_tmp = $TMPDIR/ansible-remote"
    } >tests/integration/integration.cfg
    # without --requirements: tests/integration/requirements.txt serves the other targets
    # (ansible-runner, ansible-builder); compat_smoke needs only what the pinned venv has
    ansible-test integration --local --python "$pyver" "${common[@]}" compat_smoke 2>&1 \
        | tee "$out/integration.log" || status=$?
    PYTHON_BIN=$venv/bin/python bash "$scripts/testserver.sh" stop "$coll" || true
    rm -f tests/integration/integration.cfg tests/integration/integration_config.yml
    collect_junit integration
    return "$status"
}

run_step units
run_step integration
run_step deprecations

status=0
for result in "${results[@]}"; do
    [[ ${result#*=} == 0 ]] || status=1
done
info "$label: ${results[*]} (all steps ${SECONDS}s, JUnit files in $junit_dir)"
exit "$status"
