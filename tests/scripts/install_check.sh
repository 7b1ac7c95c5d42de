#!/usr/bin/env bash
# The install path (issue 14): build the collection's tarball the way users do, check
# what build_ignore leaves out and keeps, install it into an empty collections path,
# and run a play from the installed copy against the UNICORE test server.
#
#   env ROOT=<checkout> BUILD_ROOT=<build root> COLL=<synced copy> VENV=<harness venv> \
#       OUT=<private empty dir> JUNIT_DIR=<dir> TMPDIR=<OUT/tmp> bash tests/scripts/install_check.sh
#
# Every variable has a default (ROOT: this checkout, BUILD_ROOT: ROOT/build, VENV:
# ROOT/.venv, OUT: BUILD_ROOT/install-check, JUNIT_DIR: OUT/junit), so that it runs on
# its own too. Everything it writes goes under OUT (HOME and TMPDIR included); it
# reads ROOT and never writes into it, and never touches COLL, in which another suite
# may run meanwhile. One JUnit case per check, in JUNIT_DIR/install.xml; exits non-zero
# when a case failed.
#
# Two tarballs, because each proves what the other cannot:
#  * built from ROOT as it is (what `make build` and `make install` do, with the real
#    .venv/, build/ and caches): it holds only files git would commit, nothing
#    development-only, and every file users need; this one is installed;
#  * built from a copy of ROOT (OUT/src: the files git would commit) with a decoy
#    file in every place build_ignore must cover, whether or not ROOT has it now
#    (.venv-compat-2.16/, tests/output/, __pycache__/, integration_config.yml, ...):
#    one case per decoy, and one per part of the collection users need.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(cd "${ROOT:-$here/../..}" && pwd -P)
build_root=${BUILD_ROOT:-$root/build}
venv=${VENV:-$root/.venv}
out=${OUT:-$build_root/install-check}
junit_dir=${JUNIT_DIR:-$out/junit}
coll=${COLL:-}

# shellcheck source=tests/scripts/lib.sh
. "$here/lib.sh"

started=$SECONDS
mkdir -p "$out" "$junit_dir"
out=$(cd "$out" && pwd -P)
[[ $out != "$root" && $out != / ]] || die "OUT must be a directory of its own, not $out"
if [[ -n $coll && -d $coll ]]; then
    coll=$(cd "$coll" && pwd -P)
    [[ $out != "$coll" && $out != "$coll"/* ]] || die "OUT ($out) must not be inside COLL ($coll)"
fi
[[ -x $venv/bin/ansible-galaxy ]] || die "no ansible-galaxy in VENV=$venv (make venv creates it)"

# What this script made in OUT before (a standalone rerun); a harness OUT is empty.
rm -rf "${out:?}/src" "${out:?}/dist-checkout" "${out:?}/dist-copy" "${out:?}/collections" "${out:?}/home" \
    "${out:?}/logs" "${out:?}/play" "${out:?}/results.tsv"
mkdir -p "$out/logs" "$out/play" "$out/home/.ansible/tmp" "$out/home/.cache"
[[ ${TMPDIR:-} == "$out"/* ]] || TMPDIR=$out/tmp
mkdir -p "$TMPDIR"

# Nothing of the caller's Ansible or UNICORE settings, and a HOME under OUT: the
# checks see only what they set up. pip still reads its configuration (the
# machine's package indexes) from the user's real ~/.config (the harness passes a
# HOME under OUT already).
user_home=$(getent passwd "$(id -u)" | cut -d: -f6 || true)
export XDG_CONFIG_HOME=${XDG_CONFIG_HOME:-${user_home:-$HOME}/.config}
export HOME=$out/home XDG_CACHE_HOME=$out/home/.cache TMPDIR
# the local connection puts modules into ~USER/.ansible/tmp (the passwd home, not $HOME) otherwise
export ANSIBLE_LOCAL_TEMP=$out/home/.ansible/tmp ANSIBLE_REMOTE_TEMP=$out/home/.ansible/remote-tmp
export PATH=$venv/bin:$PATH ANSIBLE_NOCOLOR=1 ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS PYTHONPATH
while read -r name; do unset "$name"; done < <(compgen -e | grep '^UNICORE_' || true)

python=$venv/bin/python
results=$out/results.tsv
logs=$out/logs
collections=$out/collections
installed=$collections/ansible_collections/unicore/auth
server_dir=$out/src
server_started=0
version=$("$python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$root/galaxy.yml")

# record NAME OUTCOME MESSAGE [LOG [SECONDS]]: one case (passed, failed or skipped)
record() {
    local message=${3//$'\t'/ }
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "${message//$'\n'/ }" "${4:-}" "${5:-}" >>"$results"
    printf '%-7s %s: %s%s\n' "${2^^}" "$1" "${message//$'\n'/ }" "${5:+ (${5}s)}"
}

# check NAME LOG COMMAND...: a case that passes when COMMAND succeeds; its output goes
# to logs/LOG.log, and its last line is the case's message
check() {
    local name=$1 log=$logs/$2.log status=0 last begin=$SECONDS
    shift 2
    "$@" >"$log" 2>&1 || status=$?
    last=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1 || true)
    if ((status == 0)); then
        record "$name" passed "$last" "$log" "$((SECONDS - begin))"
    else
        record "$name" failed "exit status $status: $last" "$log" "$((SECONDS - begin))"
    fi
    return "$status"
}

# helper LOG SUBCOMMAND ARGS...: install_check.py, which records its own cases; a crash is a case too
helper() {
    local log=$logs/$1.log
    shift
    if ! "$python" "$here/install_check.py" "$@" "$results" >"$log" 2>&1; then
        record "install_check.py $1" failed "it crashed: $(tail -n 1 "$log")" "$log"
    fi
    grep -E '^(PASSED|FAILED|SKIPPED) ' "$log" || true
}

finish() {
    local status=$? failed skipped passed
    trap - EXIT
    if ((server_started)); then
        PYTHON_BIN=$python bash "$root/tests/scripts/testserver.sh" stop "$server_dir" >>"$logs/testserver.log" 2>&1 || true
    fi
    rm -f "$out/play/secrets.yml"
    failed=$(grep -c $'\tfailed\t' "$results" 2>/dev/null || true)
    if ((status != 0 && ${failed:-0} == 0)); then
        record "install_check.sh ran to the end" failed "it stopped with exit status $status"
    fi
    "$python" "$here/install_check.py" junit "$results" "$junit_dir/install.xml" || status=1
    passed=$(grep -c $'\tpassed\t' "$results" 2>/dev/null || true)
    failed=$(grep -c $'\tfailed\t' "$results" 2>/dev/null || true)
    skipped=$(grep -c $'\tskipped\t' "$results" 2>/dev/null || true)
    info "install check: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped in $((SECONDS - started))s" \
        "(logs: $logs)"
    ((${failed:-0} == 0)) || status=1
    exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. the tarball from the checkout, as `make build` makes it ---------------------
build_checkout() {
    local tarball
    tarball=$(DIST_DIR=$out/dist-checkout ANSIBLE_GALAXY=$venv/bin/ansible-galaxy \
        bash "$root/tests/scripts/install_collection.sh" build | tail -n 1)
    if [[ $tarball != "$out/dist-checkout/unicore-auth-$version.tar.gz" || ! -f $tarball ]]; then
        echo "make build printed '$tarball', not $out/dist-checkout/unicore-auth-$version.tar.gz"
        return 1
    fi
    echo "built $tarball from $root"
}
checkout_tarball=$out/dist-checkout/unicore-auth-$version.tar.gz
if check "make build builds the tarball from the checkout" build-checkout build_checkout; then
    helper checkout-tarball checkout "$checkout_tarball" "$root"
else
    record "checkout tarball checks" skipped "no tarball from the checkout"
fi

# --- 2. the tarball from a copy with decoys -----------------------------------------
build_copy() {
    local tarball
    "$python" "$root/tests/scripts/sync_collection.py" "$root" "$out/src"
    "$python" "$here/install_check.py" decoys "$out/src"
    tarball=$(DIST_DIR=$out/dist-copy ANSIBLE_GALAXY=$venv/bin/ansible-galaxy \
        bash "$out/src/tests/scripts/install_collection.sh" build | tail -n 1)
    [[ -f $tarball ]] || { echo "no tarball from the copy: '$tarball'"; return 1; }
    echo "built $tarball from a copy of the checkout with decoys ($out/src)"
}
if check "make build builds the tarball from a copy with decoys" build-copy build_copy; then
    helper copy-tarball copy "$out/dist-copy/unicore-auth-$version.tar.gz" "$out/src"
else
    record "tarball checks with decoys" skipped "no tarball from the copy"
fi

# --- 3. make install into an empty collections path ---------------------------------
# PIP_OPTIONS=--dry-run: pip resolves requirements.txt against the Python that runs
# Ansible (the harness venv) without changing that venv, which other suites use meanwhile.
install_collection() {
    [[ ! -e $collections ]] || { echo "$collections is not empty"; return 1; }
    ANSIBLE_COLLECTIONS_PATH=$collections COLLECTIONS_PATH=$collections DIST_DIR=$out/dist-checkout \
        ANSIBLE_GALAXY=$venv/bin/ansible-galaxy ANSIBLE_PYTHON=$python PIP_OPTIONS=--dry-run \
        bash "$root/tests/scripts/install_collection.sh" install >"$logs/make-install.out" 2>&1 ||
        { cat "$logs/make-install.out"; return 1; }
    cat "$logs/make-install.out"
    grep -q "^==> installed unicore.auth $version into $installed\$" "$logs/make-install.out" ||
        { echo "make install did not say it installed unicore.auth $version into $installed"; return 1; }
    grep -q '^==> Ansible loads this copy' "$logs/make-install.out" ||
        { echo "make install did not find that Ansible loads the installed copy"; return 1; }
    grep -q "^==> pip install -r requirements.txt --dry-run into $python\$" "$logs/make-install.out" ||
        { echo "make install did not run pip with the Python that runs Ansible ($python)"; return 1; }
    [[ -f $installed/MANIFEST.json && -f $installed/plugins/modules/unicore_access_info.py ]] ||
        { echo "nothing installed in $installed"; return 1; }
    echo "installed unicore.auth into $installed; pip used $python"
}
installed_ok=0
check "make install installs into an empty collections path" make-install install_collection && installed_ok=1

# Everything below looks only in the collections path the install went to.
export ANSIBLE_COLLECTIONS_PATH=$collections

collection_list() {
    ansible-galaxy collection list --format json >"$logs/collection-list.json"
    "$python" - "$logs/collection-list.json" "$collections/ansible_collections" "$version" <<'PY'
import json
import sys

listing, path, version = sys.argv[1:]
with open(listing, encoding='utf-8') as handle:
    found = {where: entries['unicore.auth']['version'] for where, entries in json.load(handle).items()
             if 'unicore.auth' in entries}
if found != {path: version}:
    sys.exit('ansible-galaxy collection list shows unicore.auth at %s, not %s at %s only' % (found, version, path))
print('ansible-galaxy collection list: unicore.auth %s in %s' % (version, path))
PY
}

# plugin_doc TYPE NAME FILE: ansible-doc renders the plugin's documentation, from the
# installed copy (its first line names the file: "> MODULE unicore.auth.x (/path/x.py)")
plugin_doc() {
    local type=$1 name=$2 file=$3 first
    ansible-doc -t "$type" "$name" >"$logs/doc-$type.txt"
    first=$(head -n 1 "$logs/doc-$type.txt")
    [[ $first == "> ${type^^} $name ($installed/$file)" ]] ||
        { echo "ansible-doc -t $type $name begins '$first', not with $installed/$file"; return 1; }
    if ! grep -q '^OPTIONS' "$logs/doc-$type.txt" || ! grep -q '^EXAMPLES:' "$logs/doc-$type.txt"; then
        echo "ansible-doc -t $type $name shows no OPTIONS or no EXAMPLES"
        return 1
    fi
    echo "ansible-doc -t $type $name: $(wc -l <"$logs/doc-$type.txt") lines, from $installed/$file"
}

if ((installed_ok)); then
    check "ansible-galaxy collection list shows unicore.auth $version in the collections path" collection-list \
        collection_list || true
    check "ansible-doc renders the module unicore_access_info from the installed copy" doc-module \
        plugin_doc module unicore.auth.unicore_access_info plugins/modules/unicore_access_info.py || true
    check "ansible-doc renders the lookup unicore_token from the installed copy" doc-lookup \
        plugin_doc lookup unicore.auth.unicore_token plugins/lookup/unicore_token.py || true
    check "ansible-doc renders the filter token_info from the installed copy" doc-filter \
        plugin_doc filter unicore.auth.token_info plugins/filter/token_info.yml || true
else
    record "installed copy checks" skipped "make install failed"
fi

# --- 4. a play from the installed copy against the test server ----------------------
# The server runs from OUT/src (it keeps its state in OUT/src/tests/output), never from COLL,
# and not from the installed copy, which the play must find as it was installed.
start_server() {
    [[ -x $server_dir/tests/unicore-testserver ]] || { echo "no test server in $server_dir"; return 1; }
    server_started=1
    PYTHON_BIN=$python bash "$root/tests/scripts/testserver.sh" start "$server_dir"
    echo "test server running from $server_dir (state in its tests/output/)"
}

# The site, its CA and demouser's password, from the server's fixtures (as the
# integration targets read them); the password only into a 0600 file for -e @file.
write_play() {
    (umask 077 && "$python" - "$server_dir/tests/integration/integration_config.yml" "$out/play" <<'PY'
import json
import os
import sys

import yaml

config_path, play_dir = sys.argv[1:]
with open(config_path, encoding='utf-8') as handle:
    config = yaml.safe_load(handle)
with open(config['unicore_testserver_fixtures'], encoding='utf-8') as handle:
    fixtures = json.load(handle)
with open(os.path.join(play_dir, 'site.yml'), 'w', encoding='utf-8') as handle:
    yaml.safe_dump({'site_url': fixtures['sites']['DEMO-SITE']['url'], 'site_ca': fixtures['ca_cert']}, handle)
with open(os.path.join(play_dir, 'secrets.yml'), 'w', encoding='utf-8') as handle:
    yaml.safe_dump({'demo_password': fixtures['users']['demouser']['password']}, handle)
print('site %s' % fixtures['sites']['DEMO-SITE']['url'])
PY
    )
    cat >"$out/play/install_check.yml" <<'YAML'
---
- name: Use unicore.auth as installed from its tarball
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    token_cache: "{{ lookup('ansible.builtin.env', 'HOME') }}/token-cache"
  tasks:
    - name: Show what demouser's password login maps to
      unicore.auth.unicore_access_info:
        url: "{{ site_url }}"
        ca_path: "{{ site_ca }}"
        username: demouser
        password: "{{ demo_password }}"
      register: access

    - name: Get a token on the controller with the lookup
      ansible.builtin.set_fact:
        demo_token: >-
          {{ lookup('unicore.auth.unicore_token', url=site_url, ca_path=site_ca, username='demouser',
                    password=demo_password, cache_dir=token_cache) }}
      no_log: true

    - name: Log in with that token
      unicore.auth.unicore_access_info:
        url: "{{ site_url }}"
        ca_path: "{{ site_ca }}"
        token: "{{ demo_token }}"
      register: access_by_token

    - name: Check the login, the token's claims and the login with the token
      ansible.builtin.assert:
        that:
          - access.access_info.dn == 'CN=Demo User,O=UNICORE,C=EU'
          - access.access_info.uid == 'demouser'
          - access.access_info.authentication_method == 'PASSWORD_FILE'
          - claims.sub == access.access_info.dn
          - claims.limited
          - claims.expires_in > 0
          - access_by_token.access_info.dn == access.access_info.dn
        quiet: true
      vars:
        claims: "{{ demo_token | unicore.auth.token_info }}"

    - name: Say what was checked
      ansible.builtin.debug:
        msg: "{{ access.access_info.dn }} logged in with a password and with a limited token
              ({{ (demo_token | unicore.auth.token_info).expires_in }} s left)"
YAML
}

run_play() {
    (cd "$out/play" && ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
        ansible-playbook -vvv install_check.yml -e @site.yml -e @secrets.yml)
}

# The module that ran is the installed one: -vvv names the file of every module it runs.
used_installed_copy() {
    local used
    used=$(sed -n 's/^Using module file \(.*\)$/\1/p' "$logs/play.log" | sort -u)
    [[ -n $used ]] || { echo "the play's -vvv output names no module file"; return 1; }
    [[ $used == "$installed/plugins/modules/unicore_access_info.py" ]] ||
        { echo "modules ran from: $(tr '\n' ' ' <<<"$used")(not only $installed)"; return 1; }
    grep -qE '^localhost +: ok=5 +changed=0 +unreachable=0 +failed=0' "$logs/play.log" ||
        { echo "the play did not run its 5 tasks"; return 1; }
    echo "every module ran from $used; the lookup and filter resolve there too (ansible-doc)"
}

# No password and no token in what the play printed (-vvv included).
no_secret_shown() {
    local password
    password=$("$python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["demo_password"])' \
        "$out/play/secrets.yml")
    if grep -rqF -e "$password" "$logs"; then
        echo "demouser's password appears in $(grep -rlF -e "$password" "$logs" | tr '\n' ' ')"
        return 1
    fi
    if grep -qE 'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.' "$logs/play.log"; then
        echo "a JWT (token) appears in the play's output"
        return 1
    fi
    echo "neither the password nor a token appears in the logs"
}

verify_installed() {
    ansible-galaxy collection verify --offline unicore.auth
}

if ((installed_ok)) && check "the test server starts (from a copy under OUT)" testserver start_server; then
    if check "the play's variables come from the server's fixtures" write-play write_play; then
        check "a play from the installed copy calls unicore_access_info, the unicore_token lookup and token_info" play \
            run_play || true
        check "the play ran the installed copy's module" play-used-installed used_installed_copy || true
        check "the play's output shows no password and no token" play-no-secret no_secret_shown || true
    fi
    check "the installed copy still matches its manifest (ansible-galaxy collection verify --offline)" verify \
        verify_installed || true
else
    record "play from the installed copy" skipped "no installed copy or no test server"
fi
