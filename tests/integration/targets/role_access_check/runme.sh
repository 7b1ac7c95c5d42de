#!/usr/bin/env bash
# The unicore.auth.access_check role against the UNICORE test server: broken
# sites reported in one failure, fine sites passing, report-only mode, per-host
# checks, credentials from UNICORE_* environment variables only, and the sites
# of a UNICORE Registry (access_check_registry_url, and sites by name).
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
# The failure of once.yml is read from the plain output of the default callback.
export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
# shellcheck source=../setup_unicore_testserver/files/fixture.sh
. ../setup_unicore_testserver/files/fixture.sh
# Only the run that says so gets credentials from the environment.
unset_unicore_environment

work=$(mktemp -d "${OUTPUT_DIR:-${TMPDIR:-/tmp}}/role_access_check.XXXXXX")
trap 'rm -rf "${work}"' EXIT

playbook() {
    ansible-playbook -i inventory.ini -e @"${config}" "$@"
}

# Runs that fail on purpose (in a rescue, or the whole run) keep their JUnit
# files apart: ansible-test's junit callback would count each deliberate
# failure as a failed test. Their outcome is checked here and in their plays.
expected_failures_junit=${work}/junit-expected-failures

# 1. Broken sites, fine sites, report-only, own credentials, per host.
JUNIT_OUTPUT_DIR=${expected_failures_junit} playbook access_check.yml

# 2. Two hosts and broken sites, no rescue: the run fails once, with one
#    message that lists every site, after one check of each site.
if JUNIT_OUTPUT_DIR=${expected_failures_junit} playbook once.yml >"${work}/once.log" 2>&1; then
    cat "${work}/once.log"
    echo 'once.yml passed, but the access check should have failed' >&2
    exit 1
fi
cat "${work}/once.log"
[[ $(grep -c '^fatal: ' "${work}/once.log") == 1 ]]
grep -q '^fatal: \[wf01\]: FAILED! => .*UNICORE access check failed at 3 of 4 sites:\\n- DEMO-SITE (.*): OK\\n- PARTNER-SITE' "${work}/once.log"
if grep -q 'not-the-password-of-demouser' "${work}/once.log"; then
    echo 'the wrong password appears in the output' >&2
    exit 1
fi
playbook counters.yml -e '{"expect_requests_per_site": {"DEMO-SITE": 1, "PARTNER-SITE": 1, "LONE-SITE": 3}}'

# 3. The shared login only in UNICORE_* environment variables, as AWX injects it.
# Twice on five hosts: no host reports a change, and each run logs in once per site.
for run in first second; do
    ansible-playbook -i inventory_five.ini -e @"${config}" five_hosts.yml | tee "${work}/five-${run}.log"
    [[ $(grep -cE '^wf0[1-5] +: ok=[0-9]+ +changed=0 ' "${work}/five-${run}.log") == 5 ]]
    playbook counters.yml -e '{"expect_requests_per_site": {"DEMO-SITE": 1, "PARTNER-SITE": 1, "LONE-SITE": 1}}'
done

UNICORE_USERNAME=demouser UNICORE_PASSWORD=$(fixture users demouser password) UNICORE_CA_PATH=$(fixture ca_cert) \
    UNICORE_PREFERENCES=group:hpc \
    playbook shared_login.yml

# 4. ... or only in the [unicore] section of ansible.cfg (with ansible-test's own settings).
{
    if [[ -n ${ANSIBLE_CONFIG:-} && -f ${ANSIBLE_CONFIG} ]]; then
        cat "${ANSIBLE_CONFIG}"
        echo
    fi
    echo '[unicore]'
    echo 'username = demouser'
    echo "password = $(fixture users demouser password)"
    echo "ca_path = $(fixture ca_cert)"
    echo 'preferences = group:hpc'
} >"${work}/shared-login.cfg"
ANSIBLE_CONFIG=${work}/shared-login.cfg playbook shared_login.yml

# 5. A UNICORE Registry: every site it lists checked after one read (access_check_registry_url), entries
#    merged into the listed sites by name, sites named by site with unicore_registry_url, unknown names reported.
playbook registry.yml
# ... and the failures: one message naming the unknown site, an unreadable Registry, nothing to check.
JUNIT_OUTPUT_DIR=${expected_failures_junit} playbook registry_failures.yml
