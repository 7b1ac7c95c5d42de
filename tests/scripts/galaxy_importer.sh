#!/usr/bin/env bash
# The importer side suite: galaxy-importer, what Galaxy and Automation Hub run on an
# uploaded tarball, on the collection's tarball, with ansible-doc and ansible-lint
# (production profile) on and ansible-test off (tests/galaxy-importer.cfg). A
# warning fails the suite, as an error does.
#
#   tests/scripts/galaxy_importer.sh              build the tarball, import it, check
#   tests/scripts/galaxy_importer.sh --prepare    only create or reuse the venv
#
# 1. creates or reuses $ROOT/.venv-importer with the pinned
#    tests/requirements-importer.txt (galaxy-importer 0.4.44, ansible-core 2.19,
#    ansible-lint 26.10.1) through tests/scripts/venv.sh: rebuilt when that file or
#    the interpreter changes
# 2. builds the tarball from ROOT with that venv's ansible-galaxy into OUT
# 3. runs the importer on it with the venv's bin first on PATH (the importer runs the
#    ansible-doc and ansible-lint it finds there) and OUT as working directory (it
#    writes importer_result.json there); the whole log goes to OUT/importer.log and
#    its last lines to the console
# 4. four checks, each a JUnit case in JUNIT_DIR (classname importer):
#    completed     the importer exited 0 and said it completed
#    no-warnings   no WARNING, ERROR or CRITICAL line and no traceback in the log,
#                  no warnings or errors in the result
#    ansible-lint  the importer's ansible-lint ran, exited 0 and passed the profile
#                  (the importer drops its summary and exit status: a stand-in on
#                  PATH keeps them in OUT)
#    plugin-docs   every plugin of a type ansible-doc documents has its docs in the
#                  result (the importer does not warn when ansible-doc skips one)
#
# Environment: ROOT (the checkout, default this script's), BUILD_ROOT (default
# ROOT/build), OUT (an output directory of its own, default BUILD_ROOT/importer,
# which is emptied first), JUNIT_DIR (default OUT/junit), PYTHON (the interpreter for
# the venv, default python3), IMPORTER_VENV (default ROOT/.venv-importer),
# IMPORTER_TIMEOUT (seconds for the importer run, default 900). VENV (the harness's
# venv) is accepted and not needed. Exits non-zero when a check failed.
set -euo pipefail

scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=${ROOT:-$(cd "$scripts/../.." && pwd -P)}
build_root=${BUILD_ROOT:-$root/build}
python=${PYTHON:-python3}
venv=${IMPORTER_VENV:-$root/.venv-importer}
req=$root/tests/requirements-importer.txt
config=$root/tests/galaxy-importer.cfg

# shellcheck source=tests/scripts/lib.sh
. "$scripts/lib.sh"

prepare_only=false
case ${1:-} in
    --prepare) prepare_only=true ;;
    '') ;;
    *) die "usage: $0 [--prepare]" ;;
esac

# Create or reuse the venv: tests/scripts/venv.sh with this suite's requirements file.
importer_venv() {
    env PYTHON="$python" VENV="$venv" REQUIREMENTS="$req" bash "$scripts/venv.sh"
}

if $prepare_only; then
    importer_venv
    exit 0
fi

if [[ -n ${OUT:-} ]]; then
    out=$OUT
else
    out=$build_root/importer
    rm -rf "$out"
fi
junit_dir=${JUNIT_DIR:-$out/junit}
mkdir -p "$out" "$junit_dir"
out=$(cd "$out" && pwd -P)
log=$out/importer.log
checks=$out/checks
rm -rf "$checks" "$out"/*.tar.gz "$out/importer_result.json" "$out/shim" "$out"/ansible-lint.*
mkdir -p "$checks"
cases=(completed no-warnings ansible-lint plugin-docs)

# One JUnit file per check; a check's text file becomes its failure text.
junit() {
    local name=$1 status=$2 py=python3
    command -v "$python" >/dev/null 2>&1 && py=$python
    "$py" "$scripts/junit_case.py" "$junit_dir/importer-$name.xml" importer "galaxy-importer-$name" \
        "$status" "$checks/$name.txt"
}

# A step before the import failed: every check fails with MESSAGE (and DETAIL_FILE).
fail_all() {
    local message=$1 detail=${2:-/dev/null} name
    for name in "${cases[@]}"; do
        { printf '%s\n' "$message"; cat "$detail"; } >"$checks/$name.txt"
        junit "$name" 1 2>/dev/null || true
    done
    die "$message"
}

started=$SECONDS
importer_venv || fail_all "the importer's virtualenv $venv could not be built (see above)"
bin=$venv/bin

# The importer and everything it runs see only the settings of tests/galaxy-importer.cfg,
# none of the caller's GALAXY_IMPORTER_* overrides or Ansible settings.
while IFS= read -r name; do
    if [[ $name == GALAXY_IMPORTER_* || $name == ANSIBLE_* ]]; then
        unset "$name"
    fi
done < <(compgen -e)
export GALAXY_IMPORTER_CONFIG=$config
export GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP=$out/ansible-tmp
export GALAXY_IMPORTER_TMP_ROOT_DIR=$out/importer-tmp
export ANSIBLE_HOME=$out/ansible-home
mkdir -p "$GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP" "$GALAXY_IMPORTER_TMP_ROOT_DIR" "$ANSIBLE_HOME"

info "building the tarball from $root"
build_log=$out/build.log
(cd "$root" && "$bin/ansible-galaxy" collection build --force --output-path "$out") >"$build_log" 2>&1 || {
    cat "$build_log"
    fail_all "ansible-galaxy collection build failed: $(grep -m 1 . "$build_log")" "$build_log"
}
tarballs=("$out"/*.tar.gz)
[[ ${#tarballs[@]} -eq 1 && -f ${tarballs[0]} ]] || fail_all "expected one tarball in $out, found: ${tarballs[*]}"
tarball=${tarballs[0]}
info "built ${tarball#"$out"/} ($(du -k "$tarball" | cut -f1) KiB)"

# ansible-lint as the importer runs it, through a stand-in that keeps its stderr
# (the summary) and exit status: the importer logs only its findings (stdout) and
# stderr lines that start with ERROR or CRITICAL.
mkdir -p "$out/shim"
cat >"$out/shim/ansible-lint" <<EOF
#!/usr/bin/env bash
# written by tests/scripts/galaxy_importer.sh: the venv's ansible-lint, unchanged for
# the importer; keeps its command line, stderr and exit status in $out
printf '%q ' ansible-lint "\$@" >"$out/ansible-lint.command"
status=0
"$bin/ansible-lint" "\$@" 2>"$out/ansible-lint.stderr" || status=\$?
cat "$out/ansible-lint.stderr" >&2
echo "\$status" >"$out/ansible-lint.status"
exit "\$status"
EOF
chmod +x "$out/shim/ansible-lint"

info "galaxy-importer $("$bin/python" -c 'import galaxy_importer; print(galaxy_importer.__version__)')" \
    "on ${tarball#"$out"/} ($("$bin/ansible-doc" --version | sed -n 1p)," \
    "ansible-lint $("$bin/python" -c 'from importlib.metadata import version; print(version("ansible-lint"))');" \
    "settings: tests/galaxy-importer.cfg)"
import_start=$SECONDS
importer_status=0
# main() of galaxy_importer.main, as `python -m galaxy_importer.main FILE` runs it, with
# the messages of the importer's other loggers (those it does not hand its logger to)
# shown with their level: without a handler they would reach stderr without one.
(
    cd "$out"
    PATH=$out/shim:$bin:$PATH timeout "${IMPORTER_TIMEOUT:-900}" "$bin/python" -c '
import logging
import sys

from galaxy_importer import main

logging.basicConfig(format="%(levelname)s: %(name)s: %(message)s", level=logging.WARNING)
logging.getLogger("galaxy_importer.main").propagate = False
sys.exit(main.main())
' "$tarball"
) >"$log" 2>&1 || importer_status=$?
import_seconds=$((SECONDS - import_start))
info "importer finished in ${import_seconds}s (exit status $importer_status); its last lines" \
    "(whole log: $log):"
tail -n 12 "$log" | sed 's/^/    /'

# --- the checks ---
# completed
status=0
{
    ((importer_status == 0)) || { echo "the importer exited with status $importer_status"; status=1; }
    grep -q '^Importer processing completed successfully$' "$log" \
        || { echo "the log does not say 'Importer processing completed successfully'"; status=1; }
    [[ -f $out/importer_result.json ]] || { echo "no importer_result.json"; status=1; }
    echo "--- the importer's last lines:"
    tail -n 40 "$log"
} >"$checks/completed.txt"
results=("completed=$status")

# no-warnings (the result file is checked by the Python below)
status=0
{
    if grep -n -E '^(WARNING|ERROR|CRITICAL)\b|Traceback \(most recent call last\)' "$log"; then
        status=1
    fi
} >"$checks/no-warnings.txt"

# no-warnings (result), plugin-docs: from importer_result.json
"$bin/python" - "$out/importer_result.json" "$checks" <<'EOF' || true
import json
import os
import sys

# the plugin types galaxy-importer asks ansible-doc about
from galaxy_importer.constants import ANSIBLE_DOC_SUPPORTED_TYPES

result_file, checks = sys.argv[1:3]

try:
    with open(result_file, encoding="utf-8") as handle:
        result = json.load(handle)
except (OSError, ValueError) as error:
    result = None
    message = "no usable importer result: %s\n" % error
    for name in ("result-warnings", "plugin-docs"):
        with open(os.path.join(checks, name + ".txt"), "w", encoding="utf-8") as out:
            out.write(message)
    sys.exit(0)

problems = []
for key in ("warnings", "errors"):
    if result.get(key):
        problems.append("importer_result.json: %s: %s" % (key, json.dumps(result[key])[:2000]))
with open(os.path.join(checks, "result-warnings.txt"), "w", encoding="utf-8") as out:
    out.write("".join(line + "\n" for line in problems))

lines, missing = [], 0
contents = [item for item in result["docs_blob"]["contents"] if item["content_type"] in ANSIBLE_DOC_SUPPORTED_TYPES]
for item in contents:
    doc = ((item.get("doc_strings") or {}).get("doc") or {})
    loaded = bool(doc.get("short_description"))
    missing += not loaded
    lines.append("%s %s %s" % (item["content_type"], item["content_name"], "docs loaded" if loaded else "NO DOCS"))
if not contents:
    missing += 1
    lines.append("no plugins in the result")
with open(os.path.join(checks, "plugin-docs.txt"), "w", encoding="utf-8") as out:
    if missing:
        out.write("%d plugin(s) without docs in importer_result.json\n" % missing)
    out.write("".join(line + "\n" for line in lines))
    out.write("ok\n" if not missing else "")
EOF
if [[ -s $checks/result-warnings.txt ]]; then
    cat "$checks/result-warnings.txt" >>"$checks/no-warnings.txt"
    status=1
fi
results+=("no-warnings=$status")

# ansible-lint
status=0
{
    lint_status=$(cat "$out/ansible-lint.status" 2>/dev/null || echo 'did not run')
    echo "ansible-lint exit status: $lint_status"
    cat "$out/ansible-lint.command" 2>/dev/null && echo
    cat "$out/ansible-lint.stderr" 2>/dev/null || true
    [[ $lint_status == 0 ]] || status=1
    grep -q -E '^Passed: 0 failure\(s\), 0 warning\(s\) in [1-9][0-9]* files processed' "$out/ansible-lint.stderr" 2>/dev/null \
        || { echo "no 'Passed: 0 failure(s), 0 warning(s) in N files processed' summary"; status=1; }
} >"$checks/ansible-lint.txt"
results+=("ansible-lint=$status")

# plugin-docs
status=0
grep -q '^ok$' "$checks/plugin-docs.txt" 2>/dev/null || status=1
results+=("plugin-docs=$status")

failed=0
for entry in "${results[@]}"; do
    name=${entry%=*}
    status=${entry#*=}
    junit "$name" "$status"
    if ((status == 0)); then
        info "galaxy-importer-$name: passed"
    else
        failed=$((failed + 1))
        info "galaxy-importer-$name: FAILED"
        sed 's/^/    /' "$checks/$name.txt" | head -n 40
    fi
done
info "importer suite finished in $((SECONDS - started))s (import ${import_seconds}s):" \
    "$(( ${#results[@]} - failed )) passed, $failed failed; JUnit in $junit_dir"
((failed == 0))
