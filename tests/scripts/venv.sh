#!/usr/bin/env bash
# Create (or reuse) the harness virtualenv and install the pinned test
# dependencies from tests/requirements-test.txt into it.
#
# The venv is reused as long as a stamp file inside it holds the hash of
# the requirements file (plus the interpreter version); otherwise it is
# rebuilt from scratch.  The stamp is written only after a successful install,
# so an interrupted install is retried on the next run.  One install at a time
# per venv (a lock file inside it): the harness builds the side suites' venvs in
# the background while a suite of the same venv may start.
#
# Environment: PYTHON (default python3), VENV (default <repo>/.venv),
# REQUIREMENTS (the pinned requirements file, default
# <repo>/tests/requirements-test.txt; tests/scripts/compat.sh passes one of
# tests/requirements-compat/*.txt for the venv of an older ansible-core).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python=${PYTHON:-python3}
venv=${VENV:-$root/.venv}
req=${REQUIREMENTS:-$root/tests/requirements-test.txt}
req_name=${req#"$root"/}
stamp=$venv/.requirements-test.sha256

# shellcheck source=tests/scripts/lib.sh
. "$root/tests/scripts/lib.sh"

command -v "$python" >/dev/null 2>&1 || die "Python interpreter '$python' not found (set PYTHON=...)"
[[ -f $req ]] || die "missing $req"

want=$( { sha256sum <"$req"; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)

mkdir -p "$venv"
exec 9>"$venv/.lock"
flock 9
if [[ -x $venv/bin/python && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
    info "virtualenv $venv is up to date"
    exit 0
fi

start=$SECONDS
info "creating virtualenv $venv ($("$python" --version 2>&1))"
find "$venv" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
"$python" -m venv "$venv"

info "installing pinned test requirements from $req_name"
quiet_pip "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" \
    || die "pip install of $req_name failed (see the errors above)"
check=$("$venv/bin/python" -m pip check --disable-pip-version-check 2>&1) \
    || die "pip check found broken requirements in $venv:"$'\n'"$check"

echo "$want" >"$stamp"
info "virtualenv ready in $((SECONDS - start))s: $("$venv/bin/ansible-test" --version 2>&1)"
