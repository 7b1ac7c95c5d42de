#!/usr/bin/env bash
# A managed host never steers the controller's options (issue 17): evil01
# reports facts named like the unicore_* options (with a module of this
# target's library, as any module on a host it owns may), and the
# unicore_token lookup, the workflow_token role and the access_check role run
# for it and for honest01, with the site in UNICORE_URL (as AWX injects it).
#
# "The other host" (other_host.py, plain HTTP on 127.0.0.1) is where evil01's
# facts point: nothing may reach it. host_facts.yml checks each scenario's
# outcome on both hosts and the server's counters; this script checks the
# other host's log after every scenario.
#
# Everything comes from integration_config.yml (the harness writes it for the
# test server it started).
set -eu
set -o pipefail
# No `set -x`: its trace would print the password this script handles.
trap 'echo "runme.sh: line ${LINENO}: exit status $?" >&2' ERR

config=$(cd ../.. && pwd)/integration_config.yml
export ANSIBLE_ROLES_PATH=..
export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
# shellcheck source=../setup_unicore_testserver/files/fixture.sh
. ../setup_unicore_testserver/files/fixture.sh
unset_unicore_environment

work=$(mktemp -d "${OUTPUT_DIR:-${TMPDIR:-/tmp}}/security_host_facts.XXXXXX")
cleanup() {
    stop_other_host "${other_host_log:-}"
    rm -rf "${work}"
}
trap cleanup EXIT
mkdir -p "${work}/honest01" "${work}/evil01"

other_host_log=${work}/other_host.log
other_host_url=$(start_other_host "${other_host_log}")
attacker_url=${other_host_url}/DEMO-SITE/rest/core

demo_site_url=$(fixture sites DEMO-SITE url)
# The site and its CA as AWX's credential type injects them.
export UNICORE_URL=${demo_site_url} UNICORE_CA_PATH
UNICORE_CA_PATH=$(fixture ca_cert)

cat >"${work}/test_vars.yml" <<EOF
---
work_dir: ${work}
demo_site_url: ${demo_site_url}
demo_user_dn: "$(fixture users demouser dn)"
other_host_url: ${other_host_url}
EOF

# Each scenario fails on evil01 on purpose: its JUnit file stays apart, and
# host_facts.yml checks the outcome of both hosts.
expected_failures_junit=${work}/junit-expected-failures

# Facts are kept in memory only (one run), except where a step sets fact_cache.
fact_cache=()

# scenario NAME ATTACK EXPECTED [ansible-playbook options...]: one run of host_facts.yml, then nothing at the other host.
scenario() {
    local name=$1 attack=$2 expected=$3
    shift 3
    env "${fact_cache[@]}" JUNIT_OUTPUT_DIR="${expected_failures_junit}" ansible-playbook -i inventory.ini host_facts.yml \
        -e @"${config}" -e @"${work}/test_vars.yml" -e scenario="${name}" \
        -e "{\"attack\": ${attack}}" -e "{\"expect_refusal\": \"${expected}\"}" "$@" | tee "${work}/${name}.log"
    if [[ -s ${other_host_log} ]]; then
        echo "${name}: requests reached the other host:" >&2
        cat "${other_host_log}" >&2
        exit 1
    fi
    echo "${name}: evil01 refused, honest01 served, 0 requests at the other host"
}

# 1. The site, plain HTTP and unchecked certificates, as facts: the lookup refuses all three for evil01.
#    A fact cache (jsonfile) keeps evil01's facts for step 6; the other steps keep facts in memory only.
fact_cache=(ANSIBLE_CACHE_PLUGIN=jsonfile ANSIBLE_CACHE_PLUGIN_CONNECTION="${work}/fact_cache")
scenario lookup "{\"unicore_url\": \"${attacker_url}\", \"unicore_allow_http\": true, \"unicore_validate_certs\": false}" \
    'unicore_allow_http, unicore_url and unicore_validate_certs are facts that host evil01 reported'
fact_cache=()

# 2. A fact shadows the inventory variable that the play's unicore_url is templated from.
scenario template "{\"site_url\": \"${attacker_url}\"}" \
    'unicore_url cannot be templated without the facts that host evil01 reported'

# 3. Another user for a trusted service to log in as: the token would be someone else's.
scenario trusted_service "{\"unicore_subject\": \"$(fixture users otheruser dn)\"}" \
    'unicore_subject is a fact that host evil01 reported'

# 4. The workflow_token role, with the site and plain HTTP as facts: its first step, which finds the site, refuses.
scenario workflow_token "{\"unicore_url\": \"${attacker_url}\", \"unicore_allow_http\": true}" \
    'unicore_url is a fact that host evil01 reported'

# 5. The access_check role, with certificate checks switched off by a fact.
scenario access_check '{"unicore_validate_certs": false}' \
    'unicore_validate_certs is a fact that host evil01 reported'

# 6. A later run in which evil01 reports nothing: the fact cache brings step 1's facts back.
fact_cache=(ANSIBLE_CACHE_PLUGIN=jsonfile ANSIBLE_CACHE_PLUGIN_CONNECTION="${work}/fact_cache")
scenario fact_cache null \
    'unicore_allow_http, unicore_url and unicore_validate_certs are facts that host evil01 reported'
