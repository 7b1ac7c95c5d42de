#!/usr/bin/env bash
# `make demo`: the collection's main job against the bundled UNICORE test server.
#
#   1. sets up .venv (tests/scripts/venv.sh: pinned ansible-core, requests, PyJWT, ...)
#   2. starts the test server (tests/scripts/testserver.sh)
#   3. unicore.auth.access_info, logging in with a password
#   4. unicore.auth.access_info, logging in with an SSH key
#   5. unicore.auth.issue_token: a limited token into a file (its claims are shown, never the token)
#   6. demo/demo.yml: the token's claims through token_info, a second call with the token, the server's counters
#   7. demo/oidc.yml, twice: a login at the site's OIDC provider (auth_method: oidc_server), first with the
#      password grant, then with the refresh token kept by the first run; the provider's counters after each
#   8. stops the server (also when a step fails)
#
# Environment: PYTHON (interpreter for the venv, default python3), VENV (default .venv).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
venv=${VENV:-$root/.venv}
started=$SECONDS

# shellcheck source=tests/scripts/lib.sh
. "$root/tests/scripts/lib.sh"

step() {
    if [[ -t 1 ]]; then
        printf '\n\033[1m==> %s\033[0m\n' "$*"
    else
        printf '\n==> %s\n' "$*"
    fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/unicore-auth-demo.XXXXXX")
cleanup() {
    bash "$root/tests/scripts/testserver.sh" stop "$root" || true
    # what the server and testserver.sh wrote (the server's logs stay in tests/output/harness/)
    rm -rf "$work" "$root/tests/output/testserver" "$root/tests/integration/integration_config.yml"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "Setting up the virtualenv $venv"
VENV=$venv bash "$root/tests/scripts/venv.sh"
export PATH="$venv/bin:$PATH"

step "Starting the UNICORE test server"
PYTHON_BIN=$venv/bin/python bash "$root/tests/scripts/testserver.sh" start "$root"

# The collection, as Ansible finds collections: <path>/ansible_collections/unicore/auth
mkdir -p "$work/collections/ansible_collections/unicore"
ln -s "$root" "$work/collections/ansible_collections/unicore/auth"

# Site, CA, demo user and key from what the server wrote; secrets go into 0600 files, not onto command lines.
umask 077
"$venv/bin/python" - "$root/tests/integration/integration_config.yml" "$work" <<'PY'
import json
import os
import sys

import yaml

config_path, work = sys.argv[1:]
with open(config_path, encoding='utf-8') as config_file:
    config = yaml.safe_load(config_file)
with open(config['unicore_testserver_fixtures'], encoding='utf-8') as fixtures_file:
    fixtures = json.load(fixtures_file)


def write(name, values):
    with open(os.path.join(work, name), 'w', encoding='utf-8') as out:
        out.write('---\n')
        for key, value in values.items():
            out.write('%s: %s\n' % (key, json.dumps(value)))


write('site.yml', {
    'unicore_url': fixtures['sites']['DEMO-SITE']['url'],
    'unicore_ca_path': fixtures['ca_cert'],
    'demo_control_url': config['unicore_testserver_control_url'],
    'demo_ca_path': fixtures['ca_cert'],
})
write('password.yml', {'unicore_username': 'demouser', 'unicore_password': fixtures['users']['demouser']['password']})
write('ssh_key.yml', {'unicore_username': 'demouser', 'unicore_identity': fixtures['keys']['ec_openssh']['path']})
oidc = fixtures['oidc']
write('oidc.yml', {
    'demo_oidc_token_endpoint': oidc['token_endpoint'],
    'demo_oidc_client_id': oidc['clients']['confidential']['id'],
    'demo_oidc_client_secret': oidc['clients']['confidential']['secret'],
    'demo_oidc_password': oidc['users']['demouser']['password'],
    'demo_oidc_refresh_token_file': os.path.join(work, 'oidc-refresh-tokens'),
})
PY

cat >"$work/ansible.cfg" <<CFG
[defaults]
collections_path = $work/collections
inventory = $work/inventory.ini
callback_result_format = yaml
display_skipped_hosts = false
retry_files_enabled = false
[inventory]
unparsed_is_failed = true
CFG
echo 'localhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"' >"$work/inventory.ini"
export ANSIBLE_CONFIG=$work/ansible.cfg
# only what the demo passes counts: no UNICORE_* settings from the caller's environment
while read -r name; do unset "$name"; done < <(compgen -e | grep '^UNICORE_' || true)

step "access_info, logging in with a password (ansible-playbook unicore.auth.access_info)"
ansible-playbook unicore.auth.access_info -e @"$work/site.yml" -e @"$work/password.yml"

step "access_info, logging in with an SSH key (the same playbook, unicore_identity instead of the password)"
ansible-playbook unicore.auth.access_info -e @"$work/site.yml" -e @"$work/ssh_key.yml"

step "issue_token: a limited 10-minute token into a file (ansible-playbook unicore.auth.issue_token)"
ansible-playbook unicore.auth.issue_token -e @"$work/site.yml" -e @"$work/password.yml" \
    -e token_dest="$work/token" -e unicore_lifetime=600 -e unicore_limited=true

step "A second call with the token instead of the password (demo/demo.yml)"
ansible-playbook "$root/demo/demo.yml" -e @"$work/site.yml" -e demo_token_file="$work/token"

step "An OIDC login (demo/oidc.yml): the password grant at the site's OIDC provider; the refresh token is kept"
ansible-playbook "$root/demo/oidc.yml" -e @"$work/site.yml" -e @"$work/oidc.yml"

step "The same play again: the kept refresh token logs in (refresh grant), the password is not sent"
ansible-playbook "$root/demo/oidc.yml" -e @"$work/site.yml" -e @"$work/oidc.yml"

step "Stopping the test server"
trap - EXIT
cleanup
info "demo finished in $((SECONDS - started))s"
