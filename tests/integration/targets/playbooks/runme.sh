#!/usr/bin/env bash
# The collection's playbooks (unicore.auth.access_info, issue_token,
# rotate_tokens, sites) run by their FQCN against the UNICORE test server, with the
# credentials in every place the playbooks read them: unicore_* variables,
# UNICORE_* environment variables, and Ansible Vault (password, bearer token and
# private key as vault-encrypted variables, and a vault-encrypted key file), for
# the playbooks and for the modules themselves (vault_modules.yml).
#
# Each ansible-playbook run writes its output to work/logs/; the checks after a
# run read the server's counters (the *_check plays) or grep that output.
# Everything comes from integration_config.yml (the harness writes it for the
# test server it started).
set -eu -o pipefail
# No `set -x`: its trace would print the passwords, tokens and passphrases this
# script handles (the integration suite runs with every output kept, see
# tests/scripts/leak_scan.py); a failing command names its line instead.
trap 'echo "runme.sh: line ${LINENO}: exit status $?" >&2' ERR

config=$(cd ../.. && pwd)/integration_config.yml
export ANSIBLE_ROLES_PATH=..

work=$(mktemp -d "${OUTPUT_DIR:-${TMPDIR:-/tmp}}/playbooks.XXXXXX")
trap 'rm -rf "${work}"' EXIT
mkdir -p "${work}/logs" "${work}/junit-expected-failures"

# shellcheck source=../setup_unicore_testserver/files/fixture.sh
. ../setup_unicore_testserver/files/fixture.sh
# No UNICORE_* setting from the caller's environment: each case sets its own.
unset_unicore_environment

site_url=$(fixture sites DEMO-SITE url)
registry_url=$(fixture registry_url)
ca_path=$(fixture ca_cert)
demo_password=$(fixture users demouser password)
oidc_token=$(fixture oidc_tokens demouser token)
ed25519_key=$(fixture keys ed25519_openssh_encrypted path)
ed25519_passphrase=$(fixture keys ed25519_openssh_encrypted passphrase)
rsa_key=$(fixture keys rsa_openssh path)
# Secrets reach ansible-playbook as -e @FILE: at -vvvv it prints its command line's extra vars.
demo_password_vars=${work}/demo_password.yml
ed25519_passphrase_vars=${work}/ed25519_passphrase.yml
printf -- '---\nunicore_password: "%s"\n' "${demo_password}" >"${demo_password_vars}"
printf -- '---\nunicore_identity_passphrase: "%s"\n' "${ed25519_passphrase}" >"${ed25519_passphrase_vars}"

# run LOG ARGS...: ansible-playbook with the test server's coordinates, its output kept in work/logs/LOG.log
run() {
    local log=$1
    shift
    ansible-playbook -e @"${config}" -e work_dir="${work}" "$@" 2>&1 | tee "${work}/logs/${log}.log"
}

# fails LOG ARGS...: like run, for a run that must fail (its failed task is not a test failure,
# so its JUnit report goes elsewhere)
fails() {
    local log=$1 status=0
    shift
    JUNIT_OUTPUT_DIR=${work}/junit-expected-failures run "${log}" "$@" || status=$?
    if [[ ${status} -eq 0 ]]; then
        echo "ansible-playbook $* succeeded, but must fail" >&2
        exit 1
    fi
}

# never_shown SECRET LOG...: the logs do not contain SECRET
never_shown() {
    local secret=$1 log
    shift
    for log in "$@"; do
        if grep -qF -e "${secret}" "${work}/logs/${log}.log"; then
            echo "a secret appears in the output of ${log}" >&2
            exit 1
        fi
    done
}

site=(-e unicore_url="${site_url}" -e unicore_ca_path="${ca_path}")
local_inventory=(-i inventory_localhost.ini)

# --- 1. unicore.auth.access_info --------------------------------------------
# 1a. Credentials as -e variables.
run access-vars "${local_inventory[@]}" access_info.yml "${site[@]}" \
    -e unicore_username=demouser -e @"${demo_password_vars}" -e expect_method=PASSWORD_FILE

# 1b. Everything from UNICORE_* environment variables, as an AWX credential injects them.
UNICORE_URL=${site_url} UNICORE_CA_PATH=${ca_path} UNICORE_USERNAME=demouser UNICORE_PASSWORD=${demo_password} \
    run access-env "${local_inventory[@]}" access_info.yml -e expect_method=PASSWORD_FILE

# 1c. A variable wins over its environment variable: a wrong password in the environment is not used.
UNICORE_URL=${site_url} UNICORE_CA_PATH=${ca_path} UNICORE_USERNAME=demouser UNICORE_PASSWORD=wrong-password-from-env \
    run access-var-over-env "${local_inventory[@]}" access_info.yml \
    -e @"${demo_password_vars}" -e expect_method=PASSWORD_FILE

# 1d. An empty variable counts as unset: the environment's value is used (AWX injects blanks).
UNICORE_URL=${site_url} UNICORE_CA_PATH=${ca_path} UNICORE_USERNAME=demouser UNICORE_PASSWORD=${demo_password} UNICORE_AUTH_METHOD='' \
    run access-empty-var "${local_inventory[@]}" access_info.yml \
    -e unicore_password= -e unicore_token= -e unicore_preferences= -e expect_method=PASSWORD_FILE

# 1e. An SSH key (encrypted Ed25519) named by unicore_identity, read on the controller.
run access-key "${local_inventory[@]}" access_info.yml "${site[@]}" -e unicore_username=demouser \
    -e unicore_identity="${ed25519_key}" -e @"${ed25519_passphrase_vars}" -e expect_method=SSHKEY

# 1f. A relative unicore_identity is looked up under ~/.uftp/, as UNICORE's clients do.
mkdir -p "${work}/home/.uftp"
cp "${rsa_key}" "${work}/home/.uftp/id_demo"
HOME=${work}/home run access-key-uftp "${local_inventory[@]}" access_info.yml "${site[@]}" \
    -e unicore_username=demouser -e unicore_identity=id_demo -e expect_method=SSHKEY

# 1f2. ssh_agent: unicore_identity names the agent key by its public key file on the controller, which the
# playbook hands on as identity_content. The agent's first key is demouser's RSA key: the EC key named
# logs in, and the unregistered one named is refused, so the named key signed, not the first.
agent_dir=$(mktemp -d /tmp/sa.XXXXXX)  # short: a socket's path must fit in 108 bytes
trap 'python ../setup_unicore_testserver/files/agents.py stop "${agent_dir}" >/dev/null; rm -rf "${work}" "${agent_dir}"' EXIT
agent=$(python ../setup_unicore_testserver/files/agents.py ssh-start "${agent_dir}" "$(fixture_file)")
# agent_field KEY...: a value of the started agent's JSON
agent_field() {
    python -c 'import functools, json, sys; print(functools.reduce(lambda value, key: value[key], sys.argv[2:], json.loads(sys.argv[1])))' \
        "${agent}" "$@"
}
if [[ $(agent_field installed) == True ]]; then
    agent_options=(-e unicore_auth_method=ssh_agent -e unicore_username=demouser -e unicore_ssh_agent_socket="$(agent_field socket)")
    run access-ssh-agent "${local_inventory[@]}" access_info.yml "${site[@]}" "${agent_options[@]}" \
        -e unicore_identity="$(agent_field public_keys ec)" -e expect_method=SSHKEY
    fails access-ssh-agent-unregistered "${local_inventory[@]}" access_info.yml "${site[@]}" "${agent_options[@]}" \
        -e unicore_identity="$(agent_field public_keys unregistered)"
    grep -q 'HTTP 403 Forbidden' "${work}/logs/access-ssh-agent-unregistered.log"
else
    echo "SKIPPED the ssh_agent playbook cases: $(agent_field reason)"
fi

# 1g. An OIDC access token in UNICORE_TOKEN.
UNICORE_TOKEN=${oidc_token} run access-oidc "${local_inventory[@]}" access_info.yml "${site[@]}" -e expect_method=OAUTH

# 1h. Preferences as a dict variable, and as the header string in UNICORE_PREFERENCES.
run access-preferences-dict "${local_inventory[@]}" access_info.yml "${site[@]}" \
    -e unicore_username=demouser -e @"${demo_password_vars}" \
    -e '{"unicore_preferences": {"uid": "demo2", "group": "hpc"}}' \
    -e expect_method=PASSWORD_FILE -e expect_uid=demo2 -e expect_group=hpc
UNICORE_PREFERENCES=uid:demo2,group:project1 run access-preferences-env "${local_inventory[@]}" access_info.yml "${site[@]}" \
    -e unicore_username=demouser -e @"${demo_password_vars}" \
    -e expect_method=PASSWORD_FILE -e expect_uid=demo2 -e expect_group=project1

# 1i. The playbook on its own, as a user runs it: the summary it prints.
run access-cli "${local_inventory[@]}" unicore.auth.access_info "${site[@]}" \
    -e unicore_username=demouser -e @"${demo_password_vars}"
grep -F 'Logged in as:   CN=Demo User,O=UNICORE,C=EU' "${work}/logs/access-cli.log"
grep -F 'Authenticated:  PASSWORD_FILE' "${work}/logs/access-cli.log"
grep -F 'UID:            demouser   (available: demouser, demo2)' "${work}/logs/access-cli.log"
grep -F 'Group:          users   (available: users, hpc, project1, project2)' "${work}/logs/access-cli.log"
grep -F 'Queues:         batch, fast' "${work}/logs/access-cli.log"
grep -E '^localhost +: ok=4 +changed=0 +unreachable=0 +failed=0' "${work}/logs/access-cli.log"

# 1j. Without a site URL, the playbook says what to set.
fails access-no-url "${local_inventory[@]}" unicore.auth.access_info -e unicore_username=demouser -e @"${demo_password_vars}"
grep -F 'No site URL: set unicore_url (or the environment variable UNICORE_URL)' "${work}/logs/access-no-url.log"

# 1k. A wrong password fails at the site, and the output does not show it.
printf -- '---\nunicore_password: wrong-password-1k\n' >"${work}/wrong_password.yml"
fails access-wrong-password "${local_inventory[@]}" unicore.auth.access_info "${site[@]}" \
    -e unicore_username=demouser -e @"${work}/wrong_password.yml"
grep -F '403' "${work}/logs/access-wrong-password.log"

# 1l. The site named in the Registry (unicore_registry_url + unicore_site) in place of unicore_url: the module reads
#     the Registry once, anonymously, and logs in at PARTNER-SITE; the summary names the site and the Registry.
registry=(-e unicore_registry_url="${registry_url}" -e unicore_ca_path="${ca_path}")
run access-registry-site "${local_inventory[@]}" access_info.yml "${registry[@]}" -e unicore_site=PARTNER-SITE \
    -e unicore_username=demouser -e @"${demo_password_vars}" \
    -e expect_method=PASSWORD_FILE -e expect_site=PARTNER-SITE -e expect_registry_reads=1
grep -F "Site:           PARTNER-SITE in the Registry ${registry_url}" "${work}/logs/access-registry-site.log"
grep -F 'Server:         UNICORE 10.2.0, CN=PARTNER-SITE,O=UNICORE,C=EU' "${work}/logs/access-registry-site.log"

# 1m. ... in UNICORE_* environment variables, as the AWX credential type injects them.
UNICORE_REGISTRY_URL=${registry_url} UNICORE_SITE=LONE-SITE UNICORE_CA_PATH=${ca_path} UNICORE_USERNAME=demouser UNICORE_PASSWORD=${demo_password} \
    run access-registry-site-env "${local_inventory[@]}" access_info.yml \
    -e expect_method=PASSWORD_FILE -e expect_site=LONE-SITE -e expect_registry_reads=1

# 1n. A Registry without a site name: the playbook says what to set.
fails access-registry-no-site "${local_inventory[@]}" unicore.auth.access_info "${registry[@]}" \
    -e unicore_username=demouser -e @"${demo_password_vars}"
grep -F 'or name the site in a UNICORE Registry with unicore_registry_url and unicore_site' "${work}/logs/access-registry-no-site.log"

# 1o. A module's error names the unicore_* variable or UNICORE_* environment variable an option is read from
#     (or can be set with), the names the playbook's user writes; a failed issue_token writes nothing.
UNICORE_AUTH_METHOD=password fails access-no-password "${local_inventory[@]}" unicore.auth.access_info "${site[@]}" -e unicore_username=demouser
grep -F '"msg": "auth_method=password needs password (read from unicore_password or the environment variable UNICORE_PASSWORD)"' \
    "${work}/logs/access-no-password.log"
UNICORE_CA_PATH=${work}/no-such-ca.pem fails issue-no-ca "${local_inventory[@]}" unicore.auth.issue_token -e unicore_url="${site_url}" \
    -e unicore_username=demouser -e @"${demo_password_vars}" -e token_dest="${work}/origins/token"
grep -F "\"msg\": \"ca_path (from the environment variable UNICORE_CA_PATH): ${work}/no-such-ca.pem does not exist\"" "${work}/logs/issue-no-ca.log"
[[ ! -e ${work}/origins/token ]]

never_shown "${demo_password}" issue-no-ca access-vars access-env access-var-over-env access-empty-var access-key-uftp \
    access-preferences-dict access-preferences-env access-cli access-registry-site access-registry-site-env access-registry-no-site
never_shown wrong-password-1k access-wrong-password
never_shown "${oidc_token}" access-oidc
never_shown "${ed25519_passphrase}" access-key

# --- 2. unicore.auth.issue_token ---------------------------------------------
token_dest=${work}/tokens/issue/token
# 2a. The first run issues a 10-minute token into a new directory (0700), file 0600.
run issue-first "${local_inventory[@]}" issue_token.yml "${site[@]}" \
    -e unicore_username=demouser -e @"${demo_password_vars}" \
    -e token_dest="${token_dest}" -e unicore_lifetime=600 -e expect_issued=true -e expect_lifetime=600
first_token_digest=$(sha256sum "${token_dest}")

# 2b. The second run keeps it: no request, no change.
run issue-second "${local_inventory[@]}" issue_token.yml "${site[@]}" \
    -e unicore_username=demouser -e @"${demo_password_vars}" \
    -e token_dest="${token_dest}" -e unicore_lifetime=600 -e expect_issued=false -e expect_lifetime=600
[[ $(sha256sum "${token_dest}") == "${first_token_digest}" ]]

# 2c. Asking for other properties (renewable, from UNICORE_RENEWABLE) replaces it.
UNICORE_RENEWABLE=true run issue-renewable "${local_inventory[@]}" issue_token.yml "${site[@]}" \
    -e unicore_username=demouser -e @"${demo_password_vars}" \
    -e token_dest="${token_dest}" -e unicore_lifetime=600 \
    -e expect_issued=true -e expect_lifetime=600 -e expect_renewable=true
[[ $(sha256sum "${token_dest}") != "${first_token_digest}" ]]

# 2d. The default token_dest is ~/.unicore/token; the run by FQCN prints the claims, never the token.
HOME=${work}/home-issue run issue-cli "${local_inventory[@]}" unicore.auth.issue_token "${site[@]}" \
    -e unicore_username=demouser -e @"${demo_password_vars}"
[[ $(stat -c %a "${work}/home-issue/.unicore") == 700 ]]
[[ $(stat -c %a "${work}/home-issue/.unicore/token") == 600 ]]
grep -F "Token file:   ~/.unicore/token (new token issued)" "${work}/logs/issue-cli.log"
grep -F 'Subject:      CN=Demo User,O=UNICORE,C=EU' "${work}/logs/issue-cli.log"
grep -F 'Issuer:       CN=DEMO-SITE,O=UNICORE,C=EU' "${work}/logs/issue-cli.log"
grep -F 'Limited:      True   Renewable: False' "${work}/logs/issue-cli.log"

# 2e. A site named in the Registry: the token comes from PARTNER-SITE, after one read of the Registry.
run issue-registry-site "${local_inventory[@]}" issue_token.yml "${registry[@]}" -e unicore_site=PARTNER-SITE \
    -e unicore_username=demouser -e @"${demo_password_vars}" \
    -e token_dest="${work}/tokens/issue-registry/token" -e expect_issued=true -e expect_site=PARTNER-SITE -e expect_registry_reads=1

# 2f. Check mode where the token file's directory does not exist yet: it says what a real run would do,
#     creates nothing and issues nothing.
HOME=${work}/home-check run issue-check-new-dir "${local_inventory[@]}" unicore.auth.issue_token "${site[@]}" \
    -e unicore_username=demouser -e @"${demo_password_vars}" --check
grep -F "Check mode: ~/.unicore would be created (mode 0700) and a new token issued into ~/.unicore/token" \
    "${work}/logs/issue-check-new-dir.log"
grep -E '^localhost +: ok=[0-9]+ +changed=[1-9][0-9]* +unreachable=0 +failed=0' "${work}/logs/issue-check-new-dir.log"
[[ ! -e ${work}/home-check/.unicore ]]

# 2g. Check mode with token_force on a kept token: a new token would be issued, none is, the file stays.
kept_token_digest=$(sha256sum "${token_dest}")
run issue-check-force-reset "${local_inventory[@]}" reset_counters.yml
run issue-check-force "${local_inventory[@]}" unicore.auth.issue_token "${site[@]}" \
    -e unicore_username=demouser -e @"${demo_password_vars}" -e token_dest="${token_dest}" -e token_force=true --check
grep -F "(check mode: a new token would be issued)" "${work}/logs/issue-check-force.log"
if grep -F "nothing issued" "${work}/logs/issue-check-force.log"; then
    echo "check mode with token_force said that nothing would be issued" >&2
    exit 1
fi
[[ $(sha256sum "${token_dest}") == "${kept_token_digest}" ]]
run issue-check-force-counted "${local_inventory[@]}" counters_check.yml -e expect_tokens_issued=0 -e expect_requests=0

never_shown "$(cat "${work}/home-issue/.unicore/token")" issue-cli
never_shown "$(cat "${work}/tokens/issue-registry/token")" issue-registry-site
never_shown "$(cat "${token_dest}")" issue-renewable
never_shown "${demo_password}" issue-first issue-second issue-renewable issue-cli issue-registry-site issue-check-new-dir \
    issue-check-force
never_shown "$(cat "${token_dest}")" issue-check-force

# --- 3. unicore.auth.rotate_tokens on three workflow hosts --------------------
workflow=(-i inventory_workflow_hosts.ini -e unicore_username=demouser -e @"${demo_password_vars}"
    -e "workflow_token_dest=${work}/hosts/{{ inventory_hostname }}/unicore.token"
    -e workflow_token_cache_dir="${work}/token-cache")
mkdir -p "${work}/hosts/runner1" "${work}/hosts/runner2" "${work}/hosts/runner3"
run rotate-reset "${local_inventory[@]}" reset_counters.yml

# 3a. The first run installs one token, issued once, on every host.
run rotate-first "${workflow[@]}" unicore.auth.rotate_tokens "${site[@]}"
for host in runner1 runner2 runner3; do
    grep -E "^${host} +: ok=[0-9]+ +changed=[1-9]" "${work}/logs/rotate-first.log"
done
# The role's one line per host says what happened and until when, never the token.
[[ $(grep -c -E '"msg": ".*/unicore.token: installed a new token \(issued\), valid until [0-9T:-]+Z, [0-9]+ s left"' \
    "${work}/logs/rotate-first.log") == 3 ]]
run rotate-first-check "${workflow[@]}" rotate_tokens_check.yml "${site[@]}" -e expect_tokens_issued=1

# 3b. The second run has nothing to do: zero changes on every host, nothing issued.
run rotate-second "${workflow[@]}" unicore.auth.rotate_tokens "${site[@]}"
for host in runner1 runner2 runner3; do
    grep -E "^${host} +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0" "${work}/logs/rotate-second.log"
done
[[ $(grep -c -E '"msg": ".*/unicore.token: kept \(valid until [0-9T:-]+Z, [0-9]+ s left\)"' "${work}/logs/rotate-second.log") == 3 ]]
run rotate-second-check "${workflow[@]}" rotate_tokens_check.yml "${site[@]}" -e expect_tokens_issued=1

# 3c. unicore_hosts limits the run: runner2 lost its token and gets it back, from the controller's cache.
rm "${work}/hosts/runner2/unicore.token"
run rotate-one-host "${workflow[@]}" unicore.auth.rotate_tokens "${site[@]}" -e unicore_hosts=runner2
grep -E '^runner2 +: ok=[0-9]+ +changed=[1-9]' "${work}/logs/rotate-one-host.log"
if grep -E '^runner[13] +:' "${work}/logs/rotate-one-host.log"; then
    echo "unicore_hosts=runner2 ran on other hosts too" >&2
    exit 1
fi
run rotate-one-host-check "${workflow[@]}" rotate_tokens_check.yml "${site[@]}" -e expect_tokens_issued=1

# 3d. Blank settings count as unset, as a credential type injects them for fields left blank
#     (here UNICORE_AUTH_METHOD and unicore_preferences): runner3 lost its token and gets it back.
rm "${work}/hosts/runner3/unicore.token"
UNICORE_AUTH_METHOD='' run rotate-blank-settings "${workflow[@]}" unicore.auth.rotate_tokens "${site[@]}" -e unicore_preferences=
grep -E '^runner3 +: ok=[0-9]+ +changed=[1-9]' "${work}/logs/rotate-blank-settings.log"
for host in runner1 runner2; do
    grep -E "^${host} +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0" "${work}/logs/rotate-blank-settings.log"
done
run rotate-blank-settings-check "${workflow[@]}" rotate_tokens_check.yml "${site[@]}" -e expect_tokens_issued=1

never_shown "$(cat "${work}/hosts/runner1/unicore.token")" rotate-first rotate-second rotate-one-host
never_shown "${demo_password}" rotate-first rotate-second rotate-one-host rotate-blank-settings

# 3e. A hosts pattern that matches no host fails, naming it, instead of "skipping: no hosts matched" with exit 0;
#     so does the default group workflow_hosts in an inventory without it.
fails rotate-no-hosts "${workflow[@]}" unicore.auth.rotate_tokens "${site[@]}" -e unicore_hosts=workflow_hostz
grep -F 'No host of the inventory matches unicore_hosts=workflow_hostz. The inventory has 3 host(s) in the groups workflow_hosts;' \
    "${work}/logs/rotate-no-hosts.log"
fails rotate-no-default-group "${local_inventory[@]}" unicore.auth.rotate_tokens "${site[@]}" \
    -e unicore_username=demouser -e @"${demo_password_vars}" -e workflow_token_dest="${work}/never/unicore.token"
grep -F 'No host of the inventory matches the hosts pattern workflow_hosts (the default; set unicore_hosts to choose others)' \
    "${work}/logs/rotate-no-default-group.log"
fails access-no-hosts "${local_inventory[@]}" unicore.auth.access_info "${site[@]}" -e unicore_hosts=nowhere \
    -e unicore_username=demouser -e @"${demo_password_vars}"
grep -F 'No host of the inventory matches unicore_hosts=nowhere.' "${work}/logs/access-no-hosts.log"

# 3f. A missing workflow_token_dest is named in one line, before the role prints its argument spec.
fails rotate-no-dest -i inventory_workflow_hosts.ini -e unicore_username=demouser -e @"${demo_password_vars}" \
    unicore.auth.rotate_tokens "${site[@]}"
grep -F 'workflow_token_dest is not set: give the path of the token file on the hosts' "${work}/logs/rotate-no-dest.log"
if grep -F 'argument_spec' "${work}/logs/rotate-no-dest.log"; then
    echo "a missing workflow_token_dest printed the role's argument spec" >&2
    exit 1
fi
never_shown "${demo_password}" rotate-no-hosts rotate-no-default-group access-no-hosts rotate-no-dest

# --- 4. Ansible Vault ---------------------------------------------------------
vault_password_file=${work}/vault-password
printf 'vault password of this test run %s\n' "${RANDOM}${RANDOM}" >"${vault_password_file}"
vault=(--vault-password-file "${vault_password_file}")

# encrypt NAME: a !vault value of stdin for the variable NAME
encrypt() {
    ansible-vault encrypt_string "${vault[@]}" --stdin-name "$1"
}
{
    echo '---'
    echo 'unicore_username: demouser'
    printf '%s' "${demo_password}" | encrypt unicore_password
} >"${work}/vault_password.yml"
{
    echo '---'
    printf '%s' "${oidc_token}" | encrypt unicore_token
} >"${work}/vault_token.yml"
{
    echo '---'
    echo 'unicore_username: demouser'
    encrypt unicore_identity_content <"${ed25519_key}"
    printf '%s' "${ed25519_passphrase}" | encrypt unicore_identity_passphrase
} >"${work}/vault_key.yml"
{
    echo '---'
    printf '%s' "${demo_password}" | encrypt vault_password
    printf '%s' "${oidc_token}" | encrypt vault_oidc_token
    encrypt vault_key <"${ed25519_key}"
    printf '%s' "${ed25519_passphrase}" | encrypt vault_key_passphrase
} >"${work}/vault_secrets.yml"
# A vault-encrypted copy of a key registered for demouser; --output leaves no clear copy.
ansible-vault encrypt "${vault[@]}" --output "${work}/key.vault" "${rsa_key}"
for file in vault_password.yml vault_token.yml vault_key.yml vault_secrets.yml; do
    grep -qF '!vault' "${work}/${file}"
    if grep -qF -e "${demo_password}" -e "${oidc_token}" -e 'PRIVATE KEY' "${work}/${file}"; then
        echo "${file} holds a secret in clear" >&2
        exit 1
    fi
done

# 4a-c. The playbooks with the password, the bearer token, and the private key and its passphrase as vault-encrypted variables.
run vault-password "${local_inventory[@]}" "${vault[@]}" access_info.yml "${site[@]}" \
    -e @"${work}/vault_password.yml" -e expect_method=PASSWORD_FILE
run vault-token "${local_inventory[@]}" "${vault[@]}" access_info.yml "${site[@]}" \
    -e @"${work}/vault_token.yml" -e expect_method=OAUTH
run vault-key "${local_inventory[@]}" "${vault[@]}" access_info.yml "${site[@]}" \
    -e @"${work}/vault_key.yml" -e expect_method=SSHKEY
run vault-issue "${local_inventory[@]}" "${vault[@]}" issue_token.yml "${site[@]}" \
    -e @"${work}/vault_password.yml" -e token_dest="${work}/tokens/vault/token" -e expect_issued=true

# 4d. unicore_identity naming a vault-encrypted key file: decrypted in memory, no clear copy left on disk.
rm -rf "${work:?}/home"  # holds a clear copy of the key from 1f
mkdir -p "${work}/tmp/local" "${work}/tmp/remote"
scan_since=${work}/tmp/scan-since
touch "${scan_since}"
sleep 1  # so that the files written next are newer even where mtimes are in whole seconds
# The scan finds a clear copy when there is one ...
cp "${rsa_key}" "${work}/tmp/probe-clear-key"
[[ $(decrypted_key_copies "${rsa_key}" "${work}/key.vault" "${scan_since}") == "${work}/tmp/probe-clear-key" ]]
rm "${work}/tmp/probe-clear-key"

TMPDIR=${work}/tmp ANSIBLE_LOCAL_TEMP=${work}/tmp/local ANSIBLE_REMOTE_TEMP=${work}/tmp/remote \
    run vault-key-file "${local_inventory[@]}" "${vault[@]}" access_info.yml "${site[@]}" \
    -e unicore_username=demouser -e unicore_identity="${work}/key.vault" -e expect_method=SSHKEY
TMPDIR=${work}/tmp ANSIBLE_LOCAL_TEMP=${work}/tmp/local ANSIBLE_REMOTE_TEMP=${work}/tmp/remote \
    run vault-key-file-issue "${local_inventory[@]}" "${vault[@]}" issue_token.yml "${site[@]}" \
    -e unicore_username=demouser -e unicore_identity="${work}/key.vault" \
    -e token_dest="${work}/tokens/vault-key-file/token" -e expect_issued=true

# ... and after the vault runs there is none.
leftovers=$(decrypted_key_copies "${rsa_key}" "${work}/key.vault" "${scan_since}")
if [[ -n ${leftovers} ]]; then
    echo "decrypted key left on disk: ${leftovers}" >&2
    exit 1
fi

# 4e. The modules themselves with vault-encrypted variables and a vault-encrypted key file.
mkdir -p "${work}/vault-modules"
run vault-modules "${local_inventory[@]}" "${vault[@]}" vault_modules.yml -e vault_key_path="${work}/key.vault"

never_shown "${demo_password}" vault-password vault-issue vault-modules
never_shown "${oidc_token}" vault-token vault-modules
never_shown "${ed25519_passphrase}" vault-key vault-modules
never_shown "$(sed -n '5p' "${ed25519_key}")" vault-key vault-modules
never_shown "$(sed -n '5p' "${rsa_key}")" vault-key-file vault-key-file-issue vault-modules
never_shown "$(cat "${work}/tokens/vault/token")" vault-issue

# --- 5. unicore.auth.sites ---------------------------------------------------
# shown_at_site LOG NAME LINE...: the summary in LOG shows site NAME (at the URL the test server's Registry
# lists) followed by LINE..., the last of which may go on. The summary is a list of strings, one per line,
# or all on one line at -vvvv.
shown_at_site() {
    local log=$1 name=$2
    shift 2
    python - "${work}/logs/${log}.log" "${name}" "$(fixture sites "${name}" url)" "$@" <<'PY'
import re
import sys

log, name, url = sys.argv[1:4]
with open(log, encoding='utf-8') as log_file:
    text = log_file.read()
items = ['%s: %s' % (name, url)] + sys.argv[4:]
if not re.search(r',\s*'.join('"%s' % re.escape(item) if number == len(items) - 1 else '"%s"' % re.escape(item)
                               for number, item in enumerate(items)), text):
    sys.exit('%s does not show %s as expected: %s' % (log, name, items))
PY
}

# 5a. The Registry's three sites, each with what demouser's login maps to there: one read of the
#     Registry, one login per site (sites.yml checks the registered results and the counters).
run sites-vars "${local_inventory[@]}" sites.yml "${registry[@]}" -e unicore_username=demouser -e @"${demo_password_vars}"

# 5b. By its FQCN, as a user runs it, with the login in UNICORE_* environment variables: the summary it prints.
UNICORE_REGISTRY_URL=${registry_url} UNICORE_CA_PATH=${ca_path} UNICORE_USERNAME=demouser UNICORE_PASSWORD=${demo_password} \
    run sites-cli "${local_inventory[@]}" unicore.auth.sites
for name in DEMO-SITE LONE-SITE PARTNER-SITE; do
    shown_at_site sites-cli "${name}" '    Logged in as:   CN=Demo User,O=UNICORE,C=EU' '    Authenticated:  PASSWORD_FILE' \
        '    Role:           user   (available: user, admin)' '    UID:            demouser   (available: demouser, demo2)' \
        '    Group:          users   (available: users, hpc, project1, project2)'
done
grep -E '^localhost +: ok=6 +changed=0 +unreachable=0 +failed=0 +skipped=1' "${work}/logs/sites-cli.log"

# 5c. unicore_url and unicore_site are not used, and the logins run on three hosts: the Registry is still read
#     once, on the controller, and each host logs in at each site.
run sites-hosts-prepare "${local_inventory[@]}" sites_prepare.yml
run sites-hosts -i inventory_workflow_hosts.ini unicore.auth.sites "${registry[@]}" -e unicore_hosts=workflow_hosts \
    -e unicore_url=https://localhost:1/NOT-USED/rest/core -e unicore_site=NOT-USED \
    -e unicore_username=demouser -e @"${demo_password_vars}"
for host in runner1 runner2 runner3; do
    grep -E "^${host} +: ok=[45] +changed=0 +unreachable=0 +failed=0 +skipped=1" "${work}/logs/sites-hosts.log"
done
run sites-hosts-check "${local_inventory[@]}" sites_check.yml \
    -e '{"expect_registry_reads": {"total": 1, "anonymous": 1, "authenticated": 0}}' \
    -e '{"expect_requests_per_site": {"REGISTRY": 1, "DEMO-SITE": 3, "LONE-SITE": 3, "PARTNER-SITE": 3}}'

# 5d. LONE-SITE refuses the login once (a scripted 403): the other sites are still tried and shown, then the
#     play fails once, naming LONE-SITE and why.
run sites-fault-prepare "${local_inventory[@]}" sites_prepare.yml \
    -e '{"sites_faults": [{"path_prefix": "/LONE-SITE/", "action": "respond", "status": 403, "count": 1}]}'
fails sites-fault "${local_inventory[@]}" unicore.auth.sites "${registry[@]}" -e unicore_username=demouser -e @"${demo_password_vars}"
for name in DEMO-SITE PARTNER-SITE; do
    shown_at_site sites-fault "${name}" '    Logged in as:   CN=Demo User,O=UNICORE,C=EU'
done
shown_at_site sites-fault LONE-SITE "    FAILED:         GET $(fixture sites LONE-SITE url) failed: HTTP 403 Forbidden"
[[ $(grep -c '^fatal: ' "${work}/logs/sites-fault.log") == 1 ]]
grep -F "The login failed at 1 of 3 sites of the Registry ${registry_url}:\\n- LONE-SITE ($(fixture sites LONE-SITE url)): GET" \
    "${work}/logs/sites-fault.log"
run sites-fault-check "${local_inventory[@]}" sites_check.yml \
    -e '{"expect_registry_reads": {"total": 1, "anonymous": 1, "authenticated": 0}}' \
    -e '{"expect_requests_per_site": {"REGISTRY": 1, "DEMO-SITE": 1, "LONE-SITE": 1, "PARTNER-SITE": 1}}'

# 5d2. A login that fails for want of an option says at each site which variable the option is read from.
fails sites-no-token "${local_inventory[@]}" unicore.auth.sites "${registry[@]}" -e unicore_auth_method=bearer
shown_at_site sites-no-token DEMO-SITE \
    '    FAILED:         auth_method=bearer needs token (read from unicore_token or the environment variable UNICORE_TOKEN) or token_file'
# auth_method=bearer is the option with its value: it is not followed by where it came from
if grep -F "(from unicore_auth_method)" "${work}/logs/sites-no-token.log"; then exit 1; fi

# 5e. Without a Registry, the playbook says what to set.
fails sites-no-registry "${local_inventory[@]}" unicore.auth.sites -e unicore_username=demouser -e @"${demo_password_vars}"
grep -F 'No Registry: set unicore_registry_url (or the environment variable UNICORE_REGISTRY_URL)' "${work}/logs/sites-no-registry.log"

never_shown "${demo_password}" sites-vars sites-cli sites-hosts sites-fault sites-no-registry
