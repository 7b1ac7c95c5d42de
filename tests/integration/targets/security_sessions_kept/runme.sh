#!/usr/bin/env bash
# Security sessions kept between module runs and lookups on the machine they run
# on (security_session_dir), against the UNICORE test server's counters. Each
# scenario zeroes the counters, runs a play in which every host runs the module on
# the controller at the same time (50 forks), and checks what it cost the site:
#   1. 50 hosts x unicore_access_info on an empty store: 1 full authentication,
#      49 session reuses; run again: 50 reuses;
#   2. the server restarts (forgets every session): one run gets one 432 and
#      logs in once more; then 50 hosts reuse its session; 50 hosts at once
#      right after a restart: a 432 each, at most a few logins;
#   3. preferences changed between two runs: a second full authentication;
#      the first preferences again: their own session, with their selection;
#   4. a wrong password never rides on the kept session (403), and keeps nothing;
#   5. security_sessions: false sends and keeps nothing;
#   6. 50 hosts x unicore_auth_token issuing a token each: 50 tokens, 1 login;
#   7. the lookup: a second token request logs in no more.
# The figures are printed at the end (docs/performance.md).
set -eux

config=$(cd ../.. && pwd)/integration_config.yml
export ANSIBLE_ROLES_PATH=..
# shellcheck source=../setup_unicore_testserver/files/fixture.sh
. ../setup_unicore_testserver/files/fixture.sh
unset_unicore_environment

work=$(mktemp -d "${OUTPUT_DIR:-${TMPDIR:-/tmp}}/security_sessions_kept.XXXXXX")
trap 'keep_session_stores security_sessions_kept "${work}"; rm -rf "${work}"' EXIT
figures=${work}/figures
mkdir -p "${figures}"

# scenario NAME STORE EXTRA...: one play of run.yml with the store STORE.
scenario() {
    local name=$1 store=$2
    shift 2
    mkdir -p "${work}/${store}-tokens"
    ansible-playbook -i inventory.ini --forks 50 run.yml -e @"${config}" -e scenario="${name}" \
        -e session_dir="${work}/${store}" -e figures_dir="${figures}" "$@"
}

# entries STORE: how many sessions STORE keeps.
entries() {
    find "${work}/$1" -maxdepth 1 -name 'session-*' ! -name '*.lock' -type f 2>/dev/null | wc -l
}

# --- 1. 50 hosts on an empty store, then again ------------------------------------------
scenario access_info_50_hosts sessions -e target_hosts=fanout -e module=access_info \
    -e '{"expect": {"requests_total": 50, "full_authentications_total": 1, "session_reuses": 49, "sessions_rejected_432": 0}}'
scenario access_info_50_hosts_again sessions -e target_hosts=fanout -e module=access_info \
    -e '{"expect": {"requests_total": 50, "full_authentications_total": 0, "session_reuses": 50, "sessions_rejected_432": 0}}'
[[ $(entries sessions) -eq 1 ]]

# The store: 0700, its files 0600, names that are hashes.
[[ $(stat -c %a "${work}/sessions") == 700 ]]
[[ -z $(find "${work}/sessions" -type f ! -perm 0600) ]]
[[ -z $(find "${work}/sessions" -regextype posix-extended -type f ! -name 'sessions.key' ! -name 'sessions.key.lock' ! -regex '.*/session-[0-9a-f]{64}(\.lock)?') ]]

# --- 2. A restart: one 432, one fresh login, then reuse again ----------------------------
scenario restart_one_run sessions -e target_hosts=one -e module=access_info -e expire_first=true \
    -e '{"expect": {"requests_total": 2, "full_authentications_total": 1, "session_reuses": 0, "sessions_rejected_432": 1}}'
scenario restart_then_50_hosts sessions -e target_hosts=fanout -e module=access_info \
    -e '{"expect": {"requests_total": 50, "full_authentications_total": 0, "session_reuses": 50, "sessions_rejected_432": 0}}'
# 50 hosts at once right after a restart: each that started with the dead session gets a 432;
# the first to get one logs in, the others wait for its session and reuse it.
scenario restart_50_hosts_at_once sessions -e target_hosts=fanout -e module=access_info -e expire_first=true \
    -e '{"expect": {}, "expect_at_most": {"full_authentications_total": 3, "sessions_rejected_432": 50}}'
[[ $(entries sessions) -eq 1 ]]

# --- 3. Preferences changed between two runs: another session ---------------------------
scenario preferences_hpc sessions -e target_hosts=one -e module=access_info -e '{"preferences": {"group": "hpc"}}' \
    -e expect_group=hpc -e '{"expect": {"requests_total": 1, "full_authentications_total": 1, "session_reuses": 0}}'
scenario preferences_project1 sessions -e target_hosts=one -e module=access_info -e '{"preferences": {"group": "project1"}}' \
    -e expect_group=project1 -e '{"expect": {"requests_total": 1, "full_authentications_total": 1, "session_reuses": 0}}'
scenario preferences_hpc_again sessions -e target_hosts=one -e module=access_info -e '{"preferences": {"group": "hpc"}}' \
    -e expect_group=hpc -e '{"expect": {"requests_total": 1, "full_authentications_total": 0, "session_reuses": 1}}'
[[ $(entries sessions) -eq 3 ]]

# --- 4. A wrong password never rides on the kept session, and keeps nothing -------------
scenario wrong_password sessions -e target_hosts=one -e module=access_info -e password=not-demousers-password \
    -e expect_failure=true -e '{"expect": {"requests_total": 1, "full_authentications_total": 0, "session_reuses": 0, "forbidden_403": 1}}'
[[ $(entries sessions) -eq 3 ]]

# --- 5. security_sessions: false -----------------------------------------------------
scenario sessions_off sessions-off -e target_hosts=fanout -e module=access_info -e security_sessions=false \
    -e '{"expect": {"requests_total": 50, "full_authentications_total": 50, "session_reuses": 0}}'
[[ ! -e ${work}/sessions-off ]]

# --- 6. unicore_auth_token issuing a token on each of 50 hosts --------------------------
scenario auth_token_50_hosts sessions-tokens -e target_hosts=fanout -e module=auth_token \
    -e '{"expect": {"requests_total": 50, "tokens_issued_total": 50, "full_authentications_total": 1, "session_reuses": 49}}'

# --- 7. The lookup: a token of another lifetime logs in no more -------------------------
scenario lookup_first sessions-lookup -e target_hosts=one -e module=lookup -e lifetime=600 \
    -e '{"expect": {"requests_total": 1, "tokens_issued_total": 1, "full_authentications_total": 1, "session_reuses": 0}}'
scenario lookup_other_lifetime sessions-lookup -e target_hosts=one -e module=lookup -e lifetime=900 \
    -e '{"expect": {"requests_total": 1, "tokens_issued_total": 1, "full_authentications_total": 0, "session_reuses": 1}}'

# --- The figures, for docs/performance.md -----------------------------------------------
python summary.py "${figures}" | tee "$(reliability_report_dir)/security-sessions.md"
