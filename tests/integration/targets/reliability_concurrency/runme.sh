#!/usr/bin/env bash
# Concurrency and file safety of the token cache and the token files, against
# the UNICORE test server:
#   1. 50 hosts, 25 forks, one credential, an empty cache: one token (3 rounds);
#   2. pytest: concurrent unicore_auth_token runs on one dest under a reader that
#      never sees a torn file; modes; symbolic links; atomic renames; cache_dir
#      directories that others could write to, or that belong to someone else.
# The figures of every part are printed at the end (docs/reliability.md).
#
# Everything comes from integration_config.yml (the harness writes it for the
# test server it started).
set -eux

config=$(cd ../.. && pwd)/integration_config.yml
export ANSIBLE_ROLES_PATH=..
# shellcheck source=../setup_unicore_testserver/files/fixture.sh
. ../setup_unicore_testserver/files/fixture.sh
# Credentials only ever come from the options the tests give.
unset_unicore_environment

work=$(mktemp -d "${OUTPUT_DIR:-${TMPDIR:-/tmp}}/reliability_concurrency.XXXXXX")
trap 'keep_token_caches reliability_concurrency "${work}"/cache-round-*; rm -rf "${work}"' EXIT

figures=${work}/figures
mkdir -p "${figures}"

# --- 1. 50 hosts, 25 forks, an empty cache: one token, in every round ---------------
forks=25
for round in 1 2 3; do
    started=${SECONDS}
    ansible-playbook -i inventory_fanout.ini --forks "${forks}" fanout.yml -e @"${config}" \
        -e fanout_round="${round}" -e cache_dir="${work}/cache-round-${round}/tokens" -e figures_dir="${figures}"
    echo "{\"round\": ${round}, \"seconds\": $((SECONDS - started)), \"forks\": ${forks}}" >"${figures}/fanout-time-${round}.json"
done

# --- 2. Concurrent writers, modes, links, refused cache directories (pytest) ----------
# The playbooks pytest runs fail on purpose in places; their own JUnit output
# goes to a scratch directory, and pytest's JUnit file carries the assertions. Then the
# figures, for docs/reliability.md (also when a test failed).
run_reliability_pytest reliability_concurrency "${work}" concurrency
