#!/usr/bin/env bash
# compat_smoke: both modules, the token_info filter, the unicore_token lookup
# and both roles, once each, against the UNICORE test server (smoke.yml), in
# well under a minute. tests/scripts/compat.sh runs it on ansible-core 2.16,
# 2.17 and 2.18; the normal suite runs it on the harness's ansible-core.
#
# A script target rather than a role target for one reason: ansible-test runs
# every playbook with ANSIBLE_DEPRECATION_WARNINGS=false, and a deprecation
# warning must fail this target on every ansible-core it runs on (fixture.sh
# turns them back on; on 2.19 the harness also fails on any in the whole suite).
#
# Everything comes from integration_config.yml (the harness writes it for the
# test server it started).
set -eu
set -o pipefail
# No `set -x`: its trace would print the passwords and tokens this script's
# playbook handles (the integration suite runs with every output kept, see
# tests/scripts/leak_scan.py); a failing command names its line instead.
trap 'echo "runme.sh: line ${LINENO}: exit status $?" >&2' ERR

config=$(cd ../.. && pwd)/integration_config.yml
export ANSIBLE_ROLES_PATH=..
# shellcheck source=../setup_unicore_testserver/files/fixture.sh
. ../setup_unicore_testserver/files/fixture.sh
# The site and the credentials come from the playbook only.
unset_unicore_environment

# Token files and token caches; removed at the end (the secrets scan looks for leftovers).
work=$(mktemp -d "${OUTPUT_DIR:-${TMPDIR:-/tmp}}/compat_smoke.XXXXXX")
trap 'rm -rf "${work}"' EXIT

ansible-playbook -i inventory.ini -e @"${config}" -e work_dir="${work}" smoke.yml 2>&1 | tee "${work}/smoke.log"

# Each deprecation warning is a promise that the collection breaks on a later ansible-core.
if grep -F -A3 '[DEPRECATION WARNING]' "${work}/smoke.log" >"${work}/deprecations.log"; then
    echo 'compat_smoke: Ansible printed deprecation warnings (each fails this target):' >&2
    cat "${work}/deprecations.log" >&2
    exit 1
fi
echo 'compat_smoke: no deprecation warnings'
