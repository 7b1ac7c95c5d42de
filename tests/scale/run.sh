#!/usr/bin/env bash
# The side suite `scale` (tests/scripts/harness.sh): scale under faults (issue 15).
# 1000 hosts, forks 50, one credential, the site failing 20 % of its token
# requests at random (503 or a TCP reset); see tests/scale/scale.py.
# `make test` runs it beside the main suites; `make scale` runs it alone through the
# harness (SCALE_NICE=0, SCALE_BASELINE=1); it also runs without the harness.
#
#   env ROOT=<checkout> BUILD_ROOT=<build root> VENV=<harness venv> OUT=<private empty dir> \
#       JUNIT_DIR=<dir> bash tests/scale/run.sh
#
# Every variable has a default (ROOT: this checkout, BUILD_ROOT: ROOT/build, VENV:
# ROOT/.venv, OUT: BUILD_ROOT/scale, JUNIT_DIR: OUT/junit). As a side suite (the
# harness passes COLL, the copy the main suites run in) it touches neither COLL
# nor its test server, whose counters the main suites read.
#
# 1. syncs the checkout into OUT/collections/ansible_collections/unicore/auth
# 2. starts a test server of its own there (state in that copy's tests/output)
# 3. runs tests/scale/scale.py: the rounds, their checks (JUnit in JUNIT_DIR/scale.xml)
#    and the table (OUT/scale.md, OUT/scale.json); the playbook's output and
#    Ansible's log go to the copy's tests/output/leak-scan/
# 4. runs the secrets scan (tests/scripts/leak_scan.py) over the copy's tests/output
#    and the run's HOME (JUNIT_DIR/scale-leak-scan.xml)
#
# As a side suite it runs at nice 10 unless SCALE_NICE says otherwise, so that a
# thousand lookups do not slow the integration suite's timed cases beside it; its wall
# time is then not a figure to quote: docs/reliability.md quotes `make scale`.
# Environment: SCALE_HOSTS (1000), SCALE_FORKS (50), SCALE_FAULT_RATE (0.2),
# SCALE_SEEDS (89; a comma-separated list gives one round per seed), SCALE_NICE,
# SCALE_BASELINE (1 on its own, 0 as a side suite: the same plays without the lookup, for comparison).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(cd "${ROOT:-$here/../..}" && pwd -P)
scripts=$root/tests/scripts
build_root=${BUILD_ROOT:-$root/build}
venv=${VENV:-$root/.venv}
out=${OUT:-$build_root/scale}
junit_dir=${JUNIT_DIR:-$out/junit}
side_suite=${COLL:+1}

# shellcheck source=tests/scripts/lib.sh
. "$scripts/lib.sh"

started=$SECONDS
nice_level=${SCALE_NICE:-${side_suite:+10}}
if [[ -n $nice_level && $nice_level != 0 ]]; then
    renice -n "$nice_level" -p $$ >/dev/null
    info "running at nice $nice_level beside the other suites"
fi
if [[ -z $side_suite ]]; then
    VENV=$venv bash "$scripts/venv.sh"
fi
export SCALE_BASELINE=${SCALE_BASELINE:-$([[ -n $side_suite ]] && echo 0 || echo 1)}
[[ -x $venv/bin/ansible-playbook ]] || die "no ansible-playbook in VENV=$venv (make venv creates it)"
python=$venv/bin/python

mkdir -p "$out" "$junit_dir"
out=$(cd "$out" && pwd -P)
[[ $out != "$root" && $out != / ]] || die "OUT must be a directory of its own, not $out"
collections=$out/collections
copy=$collections/ansible_collections/unicore/auth
"$python" "$scripts/sync_collection.py" "$root" "$copy"
output=$copy/tests/output
rm -rf "$output/scale" "$output/leak-scan" "$output/tmp" "${out:?}/home"
rm -f "$junit_dir/scale.xml" "$junit_dir/scale-leak-scan.xml" "$out/scale.md" "$out/scale.json"
mkdir -p "$output/leak-scan" "$output/tmp" "$out/home/.cache"

# Nothing of the caller's Ansible or UNICORE settings; HOME, caches and temporary
# files of the run under OUT and the copy's tests/output, which the secrets scan reads.
export HOME=$out/home XDG_CACHE_HOME=$out/home/.cache TMPDIR=$output/tmp
export PATH=$venv/bin:$PATH
unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS PYTHONPATH
while read -r name; do unset "$name"; done < <(compgen -e | grep '^UNICORE_' || true)

# shellcheck disable=SC2329  # run by the EXIT trap
stop_server() {
    PYTHON_BIN=$python bash "$scripts/testserver.sh" stop "$copy" || true
}
trap stop_server EXIT
PYTHON_BIN=$python bash "$scripts/testserver.sh" start "$copy"
touch "$output/leak-scan/run-started"

status=0
"$python" "$copy/tests/scale/scale.py" --config "$copy/tests/integration/integration_config.yml" --collections "$collections" \
    --work "$output/scale" --logs "$output/leak-scan" --report "$out" --junit "$junit_dir/scale.xml" || status=$?
info "the rounds' scratch directories: $output/scale; the playbook's output and Ansible's log: $output/leak-scan"

# The secrets scan: the playbook's output at -vvvv, Ansible's log, the token caches and
# everything else the run left in tests/output and in HOME.
"$python" "$scripts/leak_scan.py" --collection "$copy" --since "$output/leak-scan/run-started" \
    --junit "$junit_dir/scale-leak-scan.xml" >"$output/leak-scan/report.txt" 2>&1 || status=1
cat "$output/leak-scan/report.txt"
info "make scale took $((SECONDS - started))s (exit status $status); the table: $out/scale.md"
exit "$status"
