#!/usr/bin/env bash
# `make bench`: the unicore.auth benchmark (issue 6) against the test server on loopback.
#
# 1. creates/reuses .venv (tests/scripts/venv.sh, as `make test` does)
# 2. syncs the checkout into BUILD_ROOT/bench/ansible_collections/unicore/auth (BUILD_ROOT: build/)
#    (its own copy, so that a `make test` running at the same time is not disturbed)
# 3. starts the test server there (tests/scripts/testserver.sh) and stops it on exit
# 4. runs tests/bench/bench.py, which prints the table and writes results.json
#    and details.json into BENCH_OUT (default tests/output/bench/)
#
# Environment: PYTHON, VENV, BUILD_ROOT (as for make test; the copy goes to
# BUILD_ROOT/bench/..., default build/), BENCH_OUT, and the BENCH_* settings
# described in tests/bench/bench.py (BENCH_REPS, BENCH_FORKS, BENCH_SIZES, ...).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
scripts=$root/tests/scripts
venv=${VENV:-$root/.venv}
# BUILD_ROOT as for make test: a second bench in the same checkout (another user of the
# machine) needs a copy and a test server of its own, or it re-syncs this one mid-run.
coll=${BUILD_ROOT:-$root/build}/bench/ansible_collections/unicore/auth
out=${BENCH_OUT:-$root/tests/output/bench}

# shellcheck source=tests/scripts/lib.sh
. "$scripts/lib.sh"

started=$SECONDS
VENV=$venv bash "$scripts/venv.sh"
"$venv/bin/python" "$scripts/sync_collection.py" "$root" "$coll"

mkdir -p "$out"
out=$(cd "$out" && pwd -P)

stop_server() {
    PYTHON_BIN=$venv/bin/python bash "$scripts/testserver.sh" stop "$coll" || true
}
trap stop_server EXIT
PYTHON_BIN=$venv/bin/python bash "$scripts/testserver.sh" start "$coll"

unset PYTHONPATH
"$venv/bin/python" "$root/tests/bench/bench.py" run \
    --config "$coll/tests/integration/integration_config.yml" \
    --collections "${coll%/ansible_collections/unicore/auth}" \
    --out "$out"
info "make bench took $((SECONDS - started))s"
