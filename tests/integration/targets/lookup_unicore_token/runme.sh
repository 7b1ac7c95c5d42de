#!/usr/bin/env bash
# The unicore.auth.unicore_token lookup against the UNICORE test server, as a
# user sees it: tokens, the server's counters, the token cache on disk, option
# sources (direct > unicore_* vars > UNICORE_* env > [unicore] in ansible.cfg),
# and Ansible Vault. Each ansible-playbook run gets its own inventory,
# environment and, where a case needs an empty cache, a fresh cache_dir.
#
# Everything comes from integration_config.yml (the harness writes it for the
# test server it started); the environment ansible-test gives us is stripped.
set -eu
# No `set -x`: its trace would print the passwords, tokens and passphrases this
# script handles (the integration suite runs with every output kept, see
# tests/scripts/leak_scan.py); a failing command names its line instead.
trap 'echo "runme.sh: line ${LINENO}: exit status $?" >&2' ERR

config=$(cd ../.. && pwd)/integration_config.yml
export ANSIBLE_ROLES_PATH=..

# All files of this run (caches, ansible.cfg files, vault material) live here.
work=$(mktemp -d "${OUTPUT_DIR:-${TMPDIR:-/tmp}}/lookup_unicore_token.XXXXXX")
trap 'keep_token_caches lookup_unicore_token "${work}"; rm -rf "${work}"' EXIT

# shellcheck source=../setup_unicore_testserver/files/fixture.sh
. ../setup_unicore_testserver/files/fixture.sh

site_url=$(fixture sites DEMO-SITE url)
ca_path=$(fixture ca_cert)
demo_password=$(fixture users demouser password)
vault_key_source=$(fixture keys rsa_openssh path)

playbook() {
    ansible-playbook -e @"${config}" -e work_dir="${work}" "$@"
}

# ansible.cfg for a run: ansible-test's own settings, plus a [unicore] section.
write_ansible_cfg() {
    local path=$1
    shift
    {
        if [[ -n ${ANSIBLE_CONFIG:-} && -f ${ANSIBLE_CONFIG} ]]; then
            cat "${ANSIBLE_CONFIG}"
            echo
        fi
        echo '[unicore]'
        printf '%s\n' "$@"
    } >"${path}"
}

# --- 1. The headline: 40 hosts x 3 tasks, one token -------------------------
# Both runs share one cache_dir: the first starts with it empty, the second
# finds the token the first one cached.
shared_cache=${work}/cache-shared
for run in first second; do
    playbook -i inventory_workers.ini --forks 20 shared_cache.yml \
        -e shared_cache_run="${run}" -e cache_dir="${shared_cache}" \
        -e token_digest_file="${work}/shared-token.sha256"
done
# The same with a login at the OIDC provider: one password grant for the play, none on the rerun.
for run in first second; do
    playbook -i inventory_workers.ini --forks 20 shared_cache.yml -e shared_login=oidc \
        -e shared_cache_run="${run}" -e cache_dir="${work}/cache-shared-oidc" \
        -e token_digest_file="${work}/shared-token-oidc.sha256"
done
# The same with the site named in the Registry: one read of the Registry for the play, none on the rerun.
for run in first second; do
    playbook -i inventory_workers.ini --forks 20 shared_cache.yml -e shared_login=registry \
        -e shared_cache_run="${run}" -e cache_dir="${work}/cache-shared-registry" \
        -e token_digest_file="${work}/shared-token-registry.sha256"
done

# --- 2. The cache: cache=false, files on disk, refused cache_dir, min_validity
# (each case uses its own new directory under work_dir)
playbook -i inventory_localhost.ini cache_behaviour.yml

# --- 3. Option sources and their precedence ---------------------------------
# 3a. Each source on its own: url from env, username from ini, password from a
#     templated variable, ca_path from a templated path variable, cache_dir direct.
write_ansible_cfg "${work}/mixed.cfg" 'username = demouser'
ANSIBLE_CONFIG=${work}/mixed.cfg UNICORE_URL=${site_url} \
    playbook -i inventory_localhost.ini option_sources.yml -e sources_case=each_source_alone

# 3b. Everything from UNICORE_* environment variables.
UNICORE_URL=${site_url} UNICORE_CA_PATH=${ca_path} UNICORE_USERNAME=demouser \
    UNICORE_PASSWORD=${demo_password} UNICORE_LIFETIME=600 UNICORE_CACHE_DIR=${work}/cache-env-only \
    playbook -i inventory_localhost.ini option_sources.yml -e sources_case=env_only

# 3c. Everything from the [unicore] section of ansible.cfg.
write_ansible_cfg "${work}/ini-only.cfg" "url = ${site_url}" "ca_path = ${ca_path}" 'username = demouser' \
    "password = ${demo_password}" 'lifetime = 900' 'preferences = group:users' "cache_dir = ${work}/cache-ini-only"
ANSIBLE_CONFIG=${work}/ini-only.cfg \
    playbook -i inventory_localhost.ini option_sources.yml -e sources_case=ini_only

# 3d. A wrong password in ansible.cfg fails on its own (so that 3e proves something).
write_ansible_cfg "${work}/ini-wrong-password.cfg" "url = ${site_url}" "ca_path = ${ca_path}" 'username = demouser' \
    'password = wrong-password-from-ini' "cache_dir = ${work}/cache-ini-wrong"
ANSIBLE_CONFIG=${work}/ini-wrong-password.cfg \
    playbook -i inventory_localhost.ini option_sources.yml -e sources_case=ini_wrong_password

# 3e. Every layer set: ini < env < vars < direct, for preferences and for the password.
write_ansible_cfg "${work}/layers.cfg" "url = ${site_url}" "ca_path = ${ca_path}" 'username = demouser' \
    'password = wrong-password-from-ini' 'preferences = group:users' "cache_dir = ${work}/cache-layers"
ANSIBLE_CONFIG=${work}/layers.cfg UNICORE_PASSWORD=${demo_password} UNICORE_PREFERENCES=group:project1 \
    playbook -i inventory_localhost.ini option_sources.yml -e sources_case=layers

# 3f. A wrong password in the environment fails alone, and a variable overrides it.
UNICORE_URL=${site_url} UNICORE_CA_PATH=${ca_path} UNICORE_USERNAME=demouser \
    UNICORE_PASSWORD=wrong-password-from-env UNICORE_CACHE_DIR=${work}/cache-env-wrong \
    playbook -i inventory_localhost.ini option_sources.yml -e sources_case=var_over_wrong_env

# --- 4. Ansible Vault ---------------------------------------------------------
vault_password_file=${work}/vault-password
printf 'vault password of this test run %s\n' "${RANDOM}${RANDOM}" >"${vault_password_file}"
{
    echo '---'
    printf '%s' "${demo_password}" |
        ansible-vault encrypt_string --vault-password-file "${vault_password_file}" --stdin-name vault_demo_password
} >"${work}/vault_password_vars.yml"
{
    echo '---'
    echo 'unicore_username: demouser'
    printf '%s' "${demo_password}" |
        ansible-vault encrypt_string --vault-password-file "${vault_password_file}" --stdin-name unicore_password
} >"${work}/vault_unicore_password.yml"
# A vault-encrypted copy of a key registered for demouser; --output leaves no clear copy.
ansible-vault encrypt --vault-password-file "${vault_password_file}" --output "${work}/key.vault" "${vault_key_source}"

mkdir -p "${work}/tmp/local" "${work}/tmp/remote"
scan_since=${work}/tmp/scan-since
touch "${scan_since}"
sleep 1  # so that the files written next are newer even where mtimes are in whole seconds
# The scan finds a clear copy when there is one ...
cp "${vault_key_source}" "${work}/tmp/probe-clear-key"
[[ $(decrypted_key_copies "${vault_key_source}" "${work}/key.vault" "${scan_since}") == "${work}/tmp/probe-clear-key" ]]
rm "${work}/tmp/probe-clear-key"

TMPDIR=${work}/tmp ANSIBLE_LOCAL_TEMP=${work}/tmp/local ANSIBLE_REMOTE_TEMP=${work}/tmp/remote \
    playbook -i inventory_localhost.ini vault.yml --vault-password-file "${vault_password_file}" \
    -e @"${work}/vault_password_vars.yml" -e vault_key_path="${work}/key.vault"

# ... and after the vault run there is none.
leftovers=$(decrypted_key_copies "${vault_key_source}" "${work}/key.vault" "${scan_since}")
if [[ -n ${leftovers} ]]; then
    echo "decrypted key left on disk: ${leftovers}" >&2
    exit 1
fi

# --- 5. Anonymous and wrong use; every auth method -----------------------------
playbook -i inventory_localhost.ini lookup_errors.yml
playbook -i inventory_localhost.ini auth_methods.yml

# --- 6. What the lookup says at -v: once per run and token, never the token ---
# 40 hosts x 2 tasks with 10 forks and two distinct tokens, in one cache_dir:
# run 1 (-v) issues both, run 2 (-vvvv) reuses both (remembered answers), run 3
# (-v), at least 40 s after run 1 began, renews the 600 s one (min_validity 570 s
# is more than it has left, and less than a new one keeps for 30 s) and reuses
# the other, run 4 at verbosity 0 says nothing. The harness's ansible.cfg
# says verbosity 4 (and verbose_to_stderr), so each run sets its own; the
# output of each is counted line by line. The forks' markers go to the
# temporary directory, here one of this case's own.
feedback_cache=${work}/cache-feedback
feedback_tmp=${work}/feedback-tmp
mkdir -p "${feedback_tmp}"
feedback_prefix='unicore.auth.unicore_token: '
# feedback_run OUT VERBOSITY [ARGS...]: a run of verbose_feedback.yml, its stdout and stderr in OUT
feedback_run() {
    local out=$1 verbosity=$2
    shift 2
    TMPDIR=${feedback_tmp} ANSIBLE_VERBOSITY=${verbosity} \
        playbook -i inventory_workers.ini --forks 10 verbose_feedback.yml -e cache_dir="${feedback_cache}" "$@" >"${out}" 2>&1 || {
        echo "verbose feedback: ansible-playbook failed, see the lines above" >&2
        grep -E 'FAILED|ERROR|fatal' "${out}" >&2 || true
        exit 1
    }
}
# expect_feedback FILE TEXT COUNT: COUNT lines of FILE hold TEXT; else show the lookup's lines and fail
expect_feedback() {
    local count
    count=$(grep -c -F -- "$2" "$1" || true)
    if [[ ${count} != "$3" ]]; then
        echo "verbose feedback in $(basename "$1"): ${count} line(s), expected $3, with: $2" >&2
        grep -F -- "${feedback_prefix}" "$1" >&2 || true
        exit 1
    fi
}
feedback_started=${SECONDS}
feedback_run "${work}/feedback-1.out" 0 -v
expect_feedback "${work}/feedback-1.out" "${feedback_prefix}issued a token for ${site_url} (" 2
expect_feedback "${work}/feedback-1.out" "${feedback_prefix}" 2
[[ $(grep -c -E "${feedback_prefix}issued a token for .*, valid until [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\$" \
    "${work}/feedback-1.out") == 2 ]]

feedback_run "${work}/feedback-2.out" 4
expect_feedback "${work}/feedback-2.out" "${feedback_prefix}reused the token of a remembered answer for ${site_url} (" 2
expect_feedback "${work}/feedback-2.out" "${feedback_prefix}" 2

feedback_wait=$((40 - (SECONDS - feedback_started)))
if ((feedback_wait > 0)); then
    sleep "${feedback_wait}"
fi
feedback_run "${work}/feedback-3.out" 0 -v -e feedback_min_validity=570
expect_feedback "${work}/feedback-3.out" "${feedback_prefix}reused the token of a remembered answer for ${site_url} (" 1
expect_feedback "${work}/feedback-3.out" "${feedback_prefix}renewed the cached token for ${site_url} (" 1
expect_feedback "${work}/feedback-3.out" "as it is valid for less than min_validity (570 s): the new one is valid until " 1
expect_feedback "${work}/feedback-3.out" "${feedback_prefix}" 2

feedback_run "${work}/feedback-4.out" 0
expect_feedback "${work}/feedback-4.out" "${feedback_prefix}" 0

# One marker per run and token, none at verbosity 0; the cache directory holds none.
[[ $(find "${feedback_tmp}/unicore.auth-$(id -u)-reported" -type f | wc -l) == 6 ]]
[[ -z $(find "${feedback_cache}" -mindepth 1 -type d) ]]
# No output holds a token: the signatures of every token the cache kept.
feedback_signatures=$(python - "${feedback_cache}" <<'PY'
import json, os, sys
for name in sorted(os.listdir(sys.argv[1])):
    if name.startswith(('token-', 'answer-')) and not name.endswith('.lock'):
        with open(os.path.join(sys.argv[1], name), encoding='utf-8') as entry:
            print(json.load(entry)['token'].rsplit('.', 1)[1])
PY
)
[[ $(sort -u <<<"${feedback_signatures}" | wc -l) -ge 3 ]]
while IFS= read -r signature; do
    if grep -q -F -- "${signature}" "${work}"/feedback-*.out; then
        echo "verbose feedback: a token is in the output of ansible-playbook" >&2
        exit 1
    fi
done <<<"${feedback_signatures}"
