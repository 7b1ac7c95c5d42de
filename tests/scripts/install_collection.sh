#!/usr/bin/env bash
# Build the unicore.auth collection from this checkout, and install it.
#
#   tests/scripts/install_collection.sh build     (make build) build the tarball into
#                                                 build/dist/; its path is the last line of stdout
#   tests/scripts/install_collection.sh install   (make install) build it, install it with
#                                                 `ansible-galaxy collection install --force`, and
#                                                 pip install requirements.txt into the Python
#                                                 that runs Ansible
#
# Environment:
#   DIST_DIR           where the tarball goes (default: <checkout>/build/dist)
#   COLLECTIONS_PATH   the collections path to install into (default: ~/.ansible/collections;
#                      the collection lands in COLLECTIONS_PATH/ansible_collections/unicore/auth)
#   ANSIBLE_GALAXY     the ansible-galaxy to use (default: the one on PATH)
#   ANSIBLE_PYTHON     the Python that gets the Python requirements (default: the one that runs
#                      ANSIBLE_GALAXY, which runs ansible-playbook, the lookups and filters,
#                      and the modules on localhost too)
#   PIP_OPTIONS        extra options for that pip install, e.g. --user or --dry-run
#   SKIP_REQUIREMENTS  1: install the collection only, no pip install
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(cd "$here/../.." && pwd -P)
# shellcheck source=tests/scripts/lib.sh
. "$here/lib.sh"

action=${1:-}
[[ $action == build || $action == install ]] || die "usage: $0 build|install"
dist=${DIST_DIR:-$root/build/dist}
collections_path=${COLLECTIONS_PATH:-$HOME/.ansible/collections}

galaxy=${ANSIBLE_GALAXY:-$(command -v ansible-galaxy || true)}
if [[ -z $galaxy || ! -x $galaxy ]]; then
    die "ansible-galaxy not found${ANSIBLE_GALAXY:+ at $ANSIBLE_GALAXY}: install ansible-core 2.16 or newer" \
        "(python3 -m pip install 'ansible-core>=2.16'), or set ANSIBLE_GALAXY=/path/to/ansible-galaxy"
fi

# build: ansible-galaxy's own output goes to stderr, so that stdout is the tarball's path
build() {
    local log line tarball=''
    mkdir -p "$dist"
    log=$(mktemp "${TMPDIR:-/tmp}/unicore-auth-build.XXXXXX")
    if ! "$galaxy" collection build "$root" --output-path "$dist" --force >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "ansible-galaxy collection build $root failed"
    fi
    cat "$log" >&2
    # "Created collection for unicore.auth at /path/unicore-auth-X.Y.Z.tar.gz"
    line=$(grep -m 1 '^Created collection for ' "$log" || true)
    rm -f "$log"
    tarball=${line##* at }
    [[ -n $line && -f $tarball ]] || die "ansible-galaxy collection build did not say where the tarball is"
    echo "$tarball"
}

# The Python that runs ansible-galaxy: `ansible-galaxy --version` names it
# ("python version = 3.11.7 (...) [GCC ...] (/path/to/python)"), whatever started it
# (a virtualenv, pipx, the system's packages).
ansible_python() {
    local python
    python=$("$galaxy" --version 2>/dev/null | sed -n 's/^ *python version = .*(\(\/[^()]*\))$/\1/p' | head -n 1)
    if [[ -z $python ]]; then
        # older or unusual builds: the interpreter of its #! line
        python=$(head -n 1 "$galaxy" | sed -n 's/^#! *//p')
        if [[ $python == */env\ * ]]; then
            python=$(command -v "${python##* }" || true)
        fi
    fi
    [[ -n $python && -x $python ]] || die "cannot tell which Python runs $galaxy: set ANSIBLE_PYTHON"
    echo "$python"
}

# Where ansible-galaxy puts a collection for `-p PATH`: PATH/ansible_collections/...,
# unless PATH already ends in ansible_collections.
installed_dir() {
    local base=${collections_path%/}
    [[ ${base##*/} == ansible_collections ]] || base=$base/ansible_collections
    echo "$base/unicore/auth"
}

install_collection() {
    local tarball=$1 version used installed
    "$galaxy" collection install "$tarball" -p "$collections_path" --force
    version=$(sed -n 's/^ *"version": "\(.*\)",*$/\1/p' "$(installed_dir)/MANIFEST.json" | head -n 1)
    installed=$(cd "$(installed_dir)" && pwd -P)
    info "installed unicore.auth $version into $installed"
    # Which copy does Ansible load, with its configuration as it is (ANSIBLE_COLLECTIONS_PATH,
    # ansible.cfg)? ansible-doc says where a module of it comes from.
    used=$("$(dirname "$galaxy")/ansible-doc" --json unicore.auth.unicore_access_info 2>/dev/null |
        sed -n 's/^ *"filename": "\(.*\)\/plugins\/modules\/unicore_access_info.py",*$/\1/p' | head -n 1 || true)
    if [[ -z $used ]]; then
        warn "Ansible does not look in $collections_path with its configuration as it is:" \
            "set ANSIBLE_COLLECTIONS_PATH=$collections_path (or collections_path in ansible.cfg)"
    elif [[ $(cd "$used" 2>/dev/null && pwd -P) != "$installed" ]]; then
        warn "Ansible loads unicore.auth from $used, which hides this copy:" \
            "put $collections_path first in ANSIBLE_COLLECTIONS_PATH, or remove that copy"
    else
        info "Ansible loads this copy (ansible-doc unicore.auth.unicore_access_info finds it there)"
    fi
}

install_requirements() {
    local python=$1
    local -a options=()
    read -r -a options <<<"${PIP_OPTIONS:-}"
    "$python" -m pip --version >/dev/null 2>&1 ||
        die "$python has no pip: install pip for it, or set ANSIBLE_PYTHON to another Python that runs Ansible"
    info "pip install -r requirements.txt ${options[*]} into $python"
    if ! "$python" -m pip install -r "$root/requirements.txt" "${options[@]}"; then
        die "pip install into $python failed. A Python that its distribution manages refuses" \
            "pip installs (PEP 668): use the virtualenv or pipx environment Ansible runs in" \
            "(pipx inject ansible-core requests PyJWT cryptography bcrypt), or PIP_OPTIONS=--user"
    fi
    # say what that Python has now
    "$python" - "$root/requirements.txt" <<'PY'
import re
import sys
from importlib import metadata

found = []
with open(sys.argv[1], encoding='utf-8') as requirements:
    for line in requirements:
        name = re.match(r'\s*([A-Za-z0-9_.-]+)', line.split('#', 1)[0])
        if name:
            try:
                found.append('%s %s' % (name.group(1), metadata.version(name.group(1))))
            except metadata.PackageNotFoundError:
                found.append('%s (not installed)' % name.group(1))
print('==> %s has: %s' % (sys.executable, ', '.join(found)))
PY
}

case $action in
    build)
        build
        ;;
    install)
        tarball=$(build)
        info "built $tarball"
        install_collection "$tarball"
        if [[ ${SKIP_REQUIREMENTS:-0} == 1 ]]; then
            info "SKIP_REQUIREMENTS=1: no pip install (the plugins need the libraries of requirements.txt)"
        else
            python=${ANSIBLE_PYTHON:-$(ansible_python)}
            install_requirements "$python"
        fi
        info "modules run on the managed hosts with those hosts' Python: they need requests there too" \
            "(and PyJWT, cryptography for ssh_key and trusted_service)"
        ;;
esac
