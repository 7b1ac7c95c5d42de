#!/usr/bin/env bash
# Build the collection's documentation site (`make docs`) with antsibull-docs, the
# builder of docs.ansible.com: a page per module, plugin and role (roles from their
# meta/argument_specs.yml), the plugin indexes, and the README, the guides of docs/ and
# the roles' READMEs (Markdown, read by MyST; see tests/scripts/docs_site.py); the start
# page is docs/docsite/site-index.rst.  Warnings are errors: Sphinx runs with
# -W --keep-going, antsibull-docs with --fail-on-error, and any warning in the log fails.
#
#   tests/scripts/docs_build.sh [--prepare]
#
# --prepare only creates (or reuses) the docs virtualenv.
#
# The virtualenv, DOCS_VENV (default .venv-docs), holds the pinned
# tests/requirements-docs.txt (made and reused by tests/scripts/venv.sh).  The site goes to DOCS_BUILD (default
# build/docs): `antsibull-docs sphinx-init`'s conf.py, build.sh and rst/ sources, the
# log build.log, and the HTML in DOCS_BUILD/build/html/ (start page index.html).
#
# Environment: PYTHON (default python3), DOCS_VENV, DOCS_BUILD.
set -euo pipefail
umask 022

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
python=${PYTHON:-python3}
venv=${DOCS_VENV:-$root/.venv-docs}
site=${DOCS_BUILD:-$root/build/docs}
req=$root/tests/requirements-docs.txt

# shellcheck source=tests/scripts/lib.sh
. "$root/tests/scripts/lib.sh"

prepare_only=false
case ${1:-} in
    --prepare) prepare_only=true ;;
    '') ;;
    *) die "usage: $0 [--prepare]" ;;
esac

# --- the virtualenv: tests/scripts/venv.sh with the docs requirements ---
env PYTHON="$python" VENV="$venv" REQUIREMENTS="$req" bash "$root/tests/scripts/venv.sh"
$prepare_only && exit 0

# --- the site ---
start=$SECONDS
collection=$("$venv/bin/python" -c 'import sys, yaml; g = yaml.safe_load(open(sys.argv[1])); print(g["namespace"] + "." + g["name"])' \
    "$root/galaxy.yml")
mkdir -p "$site"
site=$(cd "$site" && pwd -P)
case $site in
    / | "$root" | "$root/docs" | "$(cd ~ && pwd -P)") die "DOCS_BUILD=$site: not a build directory" ;;
esac
# what an earlier build left (only what this script writes: DOCS_BUILD may hold other files)
rm -rf "$site/rst" "$site/build" "$site/collections" "$site/conf.py" "$site/build.sh" "$site/antsibull-docs.cfg" \
    "$site/requirements.txt" "$site/.gitignore" "$site/ansible_devel.inv" "$site/build.log"
chmod 755 "$site"  # antsibull-docs wants a directory only its owner may write to

# antsibull-docs reads the collection with ansible-doc, from an ansible_collections/ tree
mkdir -p "$site/collections/ansible_collections/${collection%%.*}"
ln -s "$root" "$site/collections/ansible_collections/${collection%%.*}/${collection#*.}"
export ANSIBLE_COLLECTIONS_PATH=$site/collections
export PATH="$venv/bin:$PATH"
unset PYTHONPATH

log=$site/build.log
info "building the docs site of $collection in $site"
status=0
{
    antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$site" \
        --index-rst-source "$root/docs/docsite/site-index.rst" \
        --project "$collection" --copyright "$collection maintainers" \
        --title "$collection documentation" --html-short-title "$collection" \
        "$collection" \
        && python "$root/tests/scripts/docs_site.py" "$root" "$site" \
        && bash "$site/build.sh"
} >"$log" 2>&1 || status=$?

# Sphinx stops on its own warnings (-W); antsibull-docs (and the ansible-doc it runs) only
# print theirs, as do Python's warnings (e.g. a DeprecationWarning of a library)
warnings=$(grep -E '(^|[^A-Za-z])(WARNING|ERROR|CRITICAL)([^A-Za-z]|$)|[A-Za-z]Warning:' "$log" || true)
if ((status)) || [[ -n $warnings ]]; then
    cat "$log"
    [[ -z $warnings ]] || printf '\n==> warnings and errors of the build:\n%s\n' "$warnings"
    die "the docs site did not build cleanly (exit status $status; whole log: $log)"
fi
pages=$(find "$site/build/html" -name "*.html" ! -path "*/_*" ! -name search.html | wc -l)
info "docs site built in $((SECONDS - start))s: $pages pages; start page $site/build/html/index.html"
