#!/usr/bin/env bash
# The documentation site, checked in a browser: builds the site as `make docs` does
# (tests/scripts/docs_build.sh, warnings are errors), then serves it on loopback and
# opens every page in headless Chromium (tests/scripts/docs_check.py has the checks and
# writes the JUnit XML).  Chromium comes from Debian (tests/scripts/system_packages.sh);
# without it the browser checks are reported as skipped, with the reason.
#
# Environment (the harness sets them): ROOT (the checkout, default this script's),
# OUT (this check's own output directory, default BUILD_ROOT/docs-check, BUILD_ROOT
# defaulting to build/), JUNIT_DIR (where docs.xml goes, default OUT/junit), TMPDIR
# (default OUT/tmp), VENV (the harness venv: its Python runs the check when the docs
# venv could not be made), DOCS_VENV (default ROOT/.venv-docs).
# The site is built into OUT/docs (HTML in OUT/docs/build/html), the screenshot of one
# module's page goes beside it: OUT/docs/screenshot-unicore_auth_token.png.
set -euo pipefail

root=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}
out=${OUT:-${BUILD_ROOT:-$root/build}/docs-check}
junit_dir=${JUNIT_DIR:-$out/junit}
docs_venv=${DOCS_VENV:-$root/.venv-docs}
scripts=$root/tests/scripts

# shellcheck source=tests/scripts/lib.sh
. "$scripts/lib.sh"

mkdir -p "$out" "$junit_dir"
out=$(cd "$out" && pwd -P)
export TMPDIR=${TMPDIR:-$out/tmp}
mkdir -p "$TMPDIR"
site=$out/docs
started=$SECONDS

build_status=0
build_log=$out/docs-build.log
DOCS_VENV=$docs_venv DOCS_BUILD=$site bash "$scripts/docs_build.sh" >"$build_log" 2>&1 || build_status=$?
cat "$build_log"
info "docs build finished in $((SECONDS - started))s (exit status $build_status)"

bash "$scripts/system_packages.sh" chromium || true
browser=()
if chromium=$(command -v chromium); then
    browser=(--chromium "$chromium")
else
    browser=(--skip "Chromium is not installed (Debian's chromium; tests/scripts/system_packages.sh installs it as root with apt-get)")
fi

python=python3
for candidate in "$docs_venv/bin/python" "${VENV:+$VENV/bin/python}"; do
    if [[ -n $candidate && -x $candidate ]] && "$candidate" -c 'import yaml' 2>/dev/null; then
        python=$candidate
        break
    fi
done

status=0
"$python" "$scripts/docs_check.py" --root "$root" --site "$site" --junit "$junit_dir/docs.xml" --tmp "$TMPDIR" \
    --build-status "$build_status" --build-log "$build_log" "${browser[@]}" || status=$?
info "docs check finished in $((SECONDS - started))s; site: $site/build/html/index.html"
exit "$status"
