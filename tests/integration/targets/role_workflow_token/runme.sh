#!/usr/bin/env bash
# The unicore.auth.workflow_token role on six workflow hosts, against the
# UNICORE test server, as a user sees it: the files on the hosts, each host's
# `changed` count in the PLAY RECAP, and the server's counters of tokens,
# requests and authentications.
#
# Each step is one ansible-playbook run of provision.yml (reset the counters,
# run the role, check files and counters); expect_changed then reads the
# step's PLAY RECAP. Scenarios A-F each have their own directory of host files.
#
# Everything comes from integration_config.yml (the harness writes it for the
# test server it started).
set -eu
set -o pipefail
# No `set -x`: its trace would print the passwords, tokens and passphrases this
# script handles (the integration suite runs with every output kept, see
# tests/scripts/leak_scan.py); a failing command names its line instead.
trap 'echo "runme.sh: line ${LINENO}: exit status $?" >&2' ERR

config=$(cd ../.. && pwd)/integration_config.yml
export ANSIBLE_ROLES_PATH=..
# The PLAY RECAP is read from the plain output of the default callback.
export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
# shellcheck source=../setup_unicore_testserver/files/fixture.sh
. ../setup_unicore_testserver/files/fixture.sh
# Only the steps that say so get credentials from the environment.
unset_unicore_environment

work=$(mktemp -d "${OUTPUT_DIR:-${TMPDIR:-/tmp}}/role_workflow_token.XXXXXX")
trap 'rm -rf "${work}"' EXIT

demo_site_url=$(fixture sites DEMO-SITE url)
ca_path=$(fixture ca_cert)
demo_password=$(fixture users demouser password)

# What the credential files refer to, kept out of the command lines.
cat >"${work}/test_vars.yml" <<EOF
---
demo_site_url: ${demo_site_url}
partner_site_url: $(fixture sites PARTNER-SITE url)
test_registry_url: $(fixture registry_url)
ca_path: ${ca_path}
demo_password: ${demo_password}
other_password: $(fixture users otheruser password)
test_user: $(id -un)
test_group: $(id -gn)
EOF

all_hosts=wf01,wf02,wf03,wf04,wf05,wf06

# provision STEP SCENARIO CREDENTIALS CACHE_DIR [ansible-playbook options...]
# runs the role on the six hosts with files under SCENARIO, logins from
# credentials/CREDENTIALS.yml and the lookup cache CACHE_DIR (empty: UNICORE_CACHE_DIR).
provision() {
    local step=$1 scenario=$2 credentials=$3 cache=$4
    shift 4
    mkdir -p "${work}/${scenario}"/wf0{1..6}
    local started=${SECONDS}
    ansible-playbook -i inventory.ini provision.yml --forks 10 \
        -e @"${config}" -e @"${work}/test_vars.yml" -e step="${step}" -e scenario_dir="${work}/${scenario}" \
        -e credentials="${credentials}" -e cache_dir="${cache}" "$@" | tee "${work}/${step}.log"
    echo "${step}: $((SECONDS - started)) s" >>"${work}/timings"
}

# expect_changed STEP HOST=N...: the PLAY RECAP of STEP shows each HOST with `changed=N`.
expect_changed() {
    local step=$1 pair host expected actual
    shift
    for pair in "$@"; do
        host=${pair%=*}
        expected=${pair#*=}
        actual=$(awk -v host="${host}" '
            /^PLAY RECAP/ { recap = 1; next }
            recap && $1 == host { for (i = 2; i <= NF; i++) if ($i ~ /^changed=/) { sub(/^changed=/, "", $i); print $i } }
        ' "${work}/${step}.log")
        if [[ ${actual} != "${expected}" ]]; then
            echo "${step}: ${host} reported changed=${actual:-<not in the recap>}, expected changed=${expected}" >&2
            exit 1
        fi
    done
    echo "${step}: changed $(printf '%s ' "$@")" >>"${work}/changed_counts"
}

# expect_summary STEP SCENARIO SUMMARY HOST...: the role's closing line for each HOST, once, is
# "<the host's token file>: SUMMARY", where SUMMARY is an extended regular expression in which
# VALIDITY stands for "valid until <ISO 8601 UTC>, <seconds> s left".
expect_summary() {
    local step=$1 scenario=$2 summary=$3 host dest count
    local validity='valid until [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z, [0-9]+ s left'
    shift 3
    summary=${summary//VALIDITY/${validity}}
    for host in "$@"; do
        dest=$(printf '%s' "${work}/${scenario}/${host}/unicore.token" | sed 's/[][\.*^$+?(){}|]/\\&/g')
        count=$(grep -E -c "\"msg\": \"${dest}: ${summary}\"" "${work}/${step}.log" || true)
        if [[ ${count} != 1 ]]; then
            echo "${step}: ${host}: ${count} summary lines matching \"${dest}: ${summary}\", expected 1; the role's lines for it:" >&2
            grep -F "\"msg\": \"${work}/${scenario}/${host}/unicore.token: " "${work}/${step}.log" >&2 || true
            exit 1
        fi
    done
}

# --- A. Six hosts, one login: first run, second run, repairs, new properties --------
# A1. Nothing installed yet: the token file and its site record on every host,
#     the environment file on wf01-wf03, all from ONE token.
provision A1-first-run A one_site "${work}/cache-A" \
    -e '{"expect_tokens": {"DEMO-SITE": 1}}' -e expect_issued_hosts="${all_hosts}"
expect_changed A1-first-run wf01=3 wf02=3 wf03=3 wf04=2 wf05=2 wf06=2
expect_summary A1-first-run A 'installed a new token \(issued\), VALIDITY' wf01 wf02 wf03 wf04 wf05 wf06

# A2. Nothing to do: zero changes on every host, and not a single request, even
#     with an empty lookup cache (the installed files alone decide).
provision A2-second-run A one_site "${work}/cache-A2-empty" \
    -e '{"expect_tokens": {}}' -e expect_issued_hosts= -e expect_requests=0
expect_changed A2-second-run wf01=0 wf02=0 wf03=0 wf04=0 wf05=0 wf06=0
expect_summary A2-second-run A 'kept \(VALIDITY\)' wf01 wf02 wf03 wf04 wf05 wf06

# A3. wf05's token file was opened up to 0644 and wf06's overwritten: the mode
#     is put back without a new token, and wf06 gets the token the cache holds.
chmod 0644 "${work}/A/wf05/unicore.token"
printf 'not a token\n' >"${work}/A/wf06/unicore.token"
provision A3-repair A one_site "${work}/cache-A" \
    -e '{"expect_tokens": {}}' -e expect_issued_hosts=wf06 -e expect_requests=0
expect_changed A3-repair wf01=0 wf02=0 wf03=0 wf04=0 wf05=1 wf06=1
expect_summary A3-repair A 'kept \(VALIDITY\)' wf01 wf02 wf03 wf04 wf05
expect_summary A3-repair A 'installed a new token \(issued\), VALIDITY' wf06

# A4. Unlimited tokens asked for: every host's limited token is replaced, again by one token.
provision A4-unlimited A one_site "${work}/cache-A" -e workflow_token_limited=false -e expect_limited=false \
    -e '{"expect_tokens": {"DEMO-SITE": 1}}' -e expect_issued_hosts="${all_hosts}"
expect_changed A4-unlimited wf01=2 wf02=2 wf03=2 wf04=1 wf05=1 wf06=1

# A5. And those are kept.
provision A5-unlimited-again A one_site "${work}/cache-A" -e workflow_token_limited=false -e expect_limited=false \
    -e '{"expect_tokens": {}}' -e expect_issued_hosts= -e expect_requests=0
expect_changed A5-unlimited-again wf01=0 wf02=0 wf03=0 wf04=0 wf05=0 wf06=0

# --- B. A token near expiry is renewed, the others are kept ---------------------
# B1. wf01-wf03 get tokens that live 60 s, wf04-wf06 tokens that live 3600 s (two tokens).
provision B1-short-lived B one_site "${work}/cache-B" -e short_lived_hosts=wf01,wf02,wf03 \
    -e '{"expect_tokens": {"DEMO-SITE": 2}}' -e expect_issued_hosts="${all_hosts}" -e expect_distinct_tokens=2
expect_changed B1-short-lived wf01=3 wf02=3 wf03=3 wf04=2 wf05=2 wf06=2
sleep 2
# B2. With min_validity 61 s, only the 60-second tokens are near expiry: one new token for wf01-wf03,
#     which lives 120 s so that it still fits min_validity while the other forks ask the cache.
provision B2-near-expiry B one_site "${work}/cache-B" -e short_lived_hosts=wf01,wf02,wf03 \
    -e short_lifetime=120 -e workflow_token_min_validity=61 \
    -e '{"expect_tokens": {"DEMO-SITE": 1}}' -e expect_issued_hosts=wf01,wf02,wf03 -e expect_distinct_tokens=2
expect_changed B2-near-expiry wf01=2 wf02=2 wf03=2 wf04=0 wf05=0 wf06=0
expect_summary B2-near-expiry B 'installed a new token \(issued\), VALIDITY' wf01 wf02 wf03
expect_summary B2-near-expiry B 'kept \(VALIDITY\)' wf04 wf05 wf06

# --- C. Renewable tokens renew themselves, without the password -----------------
provision C1-renewable C one_site "${work}/cache-C" -e workflow_token_renewable=true -e expect_renewable=true \
    -e '{"expect_tokens": {"DEMO-SITE": 1}}' -e expect_issued_hosts="${all_hosts}" -e '{"expect_authentications": {"PASSWORD_FILE": 1}}'
expect_changed C1-renewable wf01=3 wf02=3 wf03=3 wf04=2 wf05=2 wf06=2
sleep 2
# C2. No password, token or key anywhere (credentials/no_password.yml, empty
#     environment, a fresh cache): a 2-hour lifetime with min_validity 3700 s
#     makes every installed 1-hour token due, while the new token fits for an
#     hour (a min_validity just under the lifetime would expire the cached
#     successor within a second, and a slow fork would rightly issue another),
#     and the installed token gets its successor by ETD authentication alone.
provision C2-renew-without-password C no_password "${work}/cache-C2-empty" \
    -e workflow_token_renewable=true -e expect_renewable=true \
    -e workflow_token_lifetime=7200 -e workflow_token_min_validity=3700 \
    -e '{"expect_tokens": {"DEMO-SITE": 1}}' -e expect_issued_hosts="${all_hosts}" \
    -e '{"expect_authentications": {"ETD": 1}}' -e expect_requests=1
expect_changed C2-renew-without-password wf01=2 wf02=2 wf03=2 wf04=1 wf05=1 wf06=1
expect_summary C2-renew-without-password C 'installed a new token \(renewed\), VALIDITY' wf01 wf02 wf03 wf04 wf05 wf06
sleep 2
# C3. When the site refuses the renewal, the role falls back to the configured password.
provision C3-renewal-refused C one_site "${work}/cache-C3-empty" --limit wf01,localhost \
    -e workflow_token_renewable=true -e expect_renewable=true \
    -e workflow_token_lifetime=7200 -e workflow_token_min_validity=7199 \
    -e '{"expect_tokens": {"DEMO-SITE": 1}}' -e expect_issued_hosts=wf01 \
    -e '{"faults": [{"path_prefix": "/DEMO-SITE/rest/core/token", "method": "GET", "count": 1, "action": "respond", "status": 403,
         "body": "{\"errorMessage\": \"Token refused\", \"status\": 403}"}]}'
expect_changed C3-renewal-refused wf01=2
expect_summary C3-renewal-refused C 'installed a new token \(issued\), VALIDITY' wf01
grep -q 'The installed token could not renew itself (unicore.auth.unicore_token: .*403' "${work}/C3-renewal-refused.log"

# --- D. Credentials only in UNICORE_* environment variables, as AWX injects them ---
UNICORE_URL=${demo_site_url} UNICORE_CA_PATH=${ca_path} UNICORE_USERNAME=demouser UNICORE_PASSWORD=${demo_password} \
    UNICORE_CACHE_DIR=${work}/cache-D \
    provision D1-env-first-run D env_only '' \
    -e '{"expect_tokens": {"DEMO-SITE": 1}}' -e expect_issued_hosts="${all_hosts}"
expect_changed D1-env-first-run wf01=3 wf02=3 wf03=3 wf04=2 wf05=2 wf06=2
UNICORE_URL=${demo_site_url} UNICORE_CA_PATH=${ca_path} UNICORE_USERNAME=demouser UNICORE_PASSWORD=${demo_password} \
    UNICORE_CACHE_DIR=${work}/cache-D \
    provision D2-env-second-run D env_only '' \
    -e '{"expect_tokens": {}}' -e expect_issued_hosts= -e expect_requests=0
expect_changed D2-env-second-run wf01=0 wf02=0 wf03=0 wf04=0 wf05=0 wf06=0
# D3. The site URL only in the [unicore] section of ansible.cfg (where the lookup
#     looks too): the role finds it and keeps the installed tokens.
{
    if [[ -n ${ANSIBLE_CONFIG:-} && -f ${ANSIBLE_CONFIG} ]]; then
        cat "${ANSIBLE_CONFIG}"
        echo
    fi
    echo '[unicore]'
    echo "url = ${demo_site_url}"
} >"${work}/url-in-ini.cfg"
ANSIBLE_CONFIG=${work}/url-in-ini.cfg UNICORE_CA_PATH=${ca_path} UNICORE_USERNAME=demouser UNICORE_PASSWORD=${demo_password} \
    UNICORE_CACHE_DIR=${work}/cache-D3-empty \
    provision D3-url-from-ansible-cfg D env_only '' \
    -e '{"expect_tokens": {}}' -e expect_issued_hosts= -e expect_requests=0
expect_changed D3-url-from-ansible-cfg wf01=0 wf02=0 wf03=0 wf04=0 wf05=0 wf06=0
# D4. The same site named in the Registry (UNICORE_REGISTRY_URL + UNICORE_SITE, no URL anywhere): the role
#     finds its URL there, one read for the six hosts, and keeps the tokens installed by URL.
UNICORE_REGISTRY_URL=$(fixture registry_url) UNICORE_SITE=DEMO-SITE \
    UNICORE_CA_PATH=${ca_path} UNICORE_USERNAME=demouser UNICORE_PASSWORD=${demo_password} \
    UNICORE_CACHE_DIR=${work}/cache-D4-empty \
    provision D4-site-by-name D env_only '' \
    -e '{"expect_tokens": {}}' -e expect_issued_hosts= -e expect_requests=1 -e expect_registry_reads=1
expect_changed D4-site-by-name wf01=0 wf02=0 wf03=0 wf04=0 wf05=0 wf06=0

# --- E. Two logins at two sites: one token each -----------------------------------
provision E1-two-sites E two_sites "${work}/cache-E" \
    -e '{"expect_tokens": {"DEMO-SITE": 1, "PARTNER-SITE": 1}}' -e expect_issued_hosts="${all_hosts}"
expect_changed E1-two-sites wf01=3 wf02=3 wf03=3 wf04=2 wf05=2 wf06=2

# --- R. The site named in the Registry (unicore_registry_url + unicore_site) ---------
# R1. Six hosts, PARTNER-SITE by name: one read of the Registry and one token for all of them; the site
#     record names the URL the Registry lists.
provision R1-registry-first-run R registry_site "${work}/cache-R" \
    -e '{"expect_tokens": {"PARTNER-SITE": 1}}' -e expect_issued_hosts="${all_hosts}" -e expect_registry_reads=1 \
    -e '{"expect_authentications": {"ANONYMOUS": 1, "PASSWORD_FILE": 1}}'
expect_changed R1-registry-first-run wf01=3 wf02=3 wf03=3 wf04=2 wf05=2 wf06=2
# R2. Nothing to do: the listing kept in the cache, no request at all.
provision R2-registry-second-run R registry_site "${work}/cache-R" \
    -e '{"expect_tokens": {}}' -e expect_issued_hosts= -e expect_requests=0 -e expect_registry_reads=0
expect_changed R2-registry-second-run wf01=0 wf02=0 wf03=0 wf04=0 wf05=0 wf06=0
# R3. With an empty cache: the Registry read once, to know the site's URL, and every token kept.
provision R3-registry-empty-cache R registry_site "${work}/cache-R3-empty" \
    -e '{"expect_tokens": {}}' -e expect_issued_hosts= -e expect_requests=1 -e expect_registry_reads=1
expect_changed R3-registry-empty-cache wf01=0 wf02=0 wf03=0 wf04=0 wf05=0 wf06=0
# R4. Another site by name (DEMO-SITE): every PARTNER-SITE token is replaced, by one token, and the site
#     record with it; the Registry's listing is still in the cache.
provision R4-registry-other-site R registry_site "${work}/cache-R" -e unicore_site=DEMO-SITE -e expected_site=DEMO-SITE \
    -e '{"expect_tokens": {"DEMO-SITE": 1}}' -e expect_issued_hosts="${all_hosts}" -e expect_registry_reads=0
expect_changed R4-registry-other-site wf01=3 wf02=3 wf03=3 wf04=2 wf05=2 wf06=2
grep -q 'A new token is needed for .*' "${work}/R4-registry-other-site.log"

# --- F. Check mode issues nothing and writes nothing, but reports the change ----
provision F1-check-mode F one_site "${work}/cache-F" --check \
    -e '{"expect_tokens": {}}' -e expect_issued_hosts= -e expect_requests=0 -e expect_files=false
expect_changed F1-check-mode wf01=1 wf02=1 wf03=1 wf04=1 wf05=1 wf06=1
expect_summary F1-check-mode F 'check mode: a new token would be installed' wf01 wf02 wf03 wf04 wf05 wf06
# F2. Check mode where the installed tokens fit (scenario A's unlimited ones): they are kept, nothing is
#     asked of the site.
provision F2-check-mode-kept A one_site "${work}/cache-F2-empty" --check \
    -e workflow_token_limited=false -e expect_limited=false -e '{"expect_tokens": {}}' -e expect_issued_hosts= -e expect_requests=0
expect_changed F2-check-mode-kept wf01=0 wf02=0 wf03=0 wf04=0 wf05=0 wf06=0
expect_summary F2-check-mode-kept A 'kept \(VALIDITY\)' wf01 wf02 wf03 wf04 wf05 wf06

# --- H. The selection and the site record count as unicore_auth_token counts them --
# H1. Tokens for group users on every host.
provision H1-group-users H one_site "${work}/cache-H" -e '{"unicore_preferences": {"group": "users"}}' \
    -e '{"expect_tokens": {"DEMO-SITE": 1}}' -e expect_issued_hosts="${all_hosts}"
expect_changed H1-group-users wf01=3 wf02=3 wf03=3 wf04=2 wf05=2 wf06=2
# H2. Now for group hpc: every installed token for group users is replaced, by one token.
provision H2-group-hpc H one_site "${work}/cache-H" -e '{"unicore_preferences": {"group": "hpc"}}' \
    -e '{"expect_tokens": {"DEMO-SITE": 1}}' -e expect_issued_hosts="${all_hosts}"
expect_changed H2-group-hpc wf01=2 wf02=2 wf03=2 wf04=1 wf05=1 wf06=1
grep -q 'A new token is needed for .*: it was issued for group:users, not group:hpc' "${work}/H2-group-hpc.log"
# H3. Again for group hpc: nothing to do, not a single request.
provision H3-group-hpc-again H one_site "${work}/cache-H3-empty" -e '{"unicore_preferences": {"group": "hpc"}}' \
    -e '{"expect_tokens": {}}' -e expect_issued_hosts= -e expect_requests=0
expect_changed H3-group-hpc-again wf01=0 wf02=0 wf03=0 wf04=0 wf05=0 wf06=0
# H4. wf01's site record names the site's DN with other spacing and lower-case attribute
#     types: the same site as X.500 compares DNs, so its token stays (no request); the
#     record is written back in the site's own spelling, its one change.
sed 's/"CN=DEMO-SITE, *O=UNICORE, *C=EU"/"cn=DEMO-SITE,o=UNICORE,  c=EU"/' "${work}/H/wf01/unicore.token.site" >"${work}/H/wf01/record"
grep -q '"cn=DEMO-SITE,o=UNICORE,  c=EU"' "${work}/H/wf01/record"
mv "${work}/H/wf01/record" "${work}/H/wf01/unicore.token.site"
provision H4-dn-spelling H one_site "${work}/cache-H3-empty" -e '{"unicore_preferences": {"group": "hpc"}}' \
    -e '{"expect_tokens": {}}' -e expect_issued_hosts= -e expect_requests=0
expect_changed H4-dn-spelling wf01=1 wf02=0 wf03=0 wf04=0 wf05=0 wf06=0

# --- G. Unusable settings and a refused login: one clear message each ------------
mkdir -p "${work}/G/localhost"
# The deliberate failures are rescued and checked in errors.yml; their JUnit files
# stay apart, since ansible-test's junit callback counts a rescued task as failed.
JUNIT_OUTPUT_DIR=${work}/junit-expected-failures \
    ansible-playbook -i localhost, -c local -e ansible_python_interpreter="$(command -v python)" errors.yml \
    -e @"${config}" -e scenario_dir="${work}/G"

cat "${work}/changed_counts" "${work}/timings"
