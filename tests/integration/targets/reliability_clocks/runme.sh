#!/usr/bin/env bash
# Clocks off from the site's, against the UNICORE test server (pytest): the
# module and the lookup run under faketime, 10 minutes slow and 10 minutes
# fast, while the test server keeps the real time. A kept token is judged by
# the site's clock, learnt when it was issued; the difference is warned about
# once. The figures are printed at the end (docs/reliability.md).
#
# Everything comes from integration_config.yml (the harness writes it for the
# test server it started).
set -eux

# shellcheck disable=SC2034  # read by the functions of fixture.sh (run_reliability_pytest)
config=$(cd ../.. && pwd)/integration_config.yml
export ANSIBLE_ROLES_PATH=..
# shellcheck source=../setup_unicore_testserver/files/fixture.sh
. ../setup_unicore_testserver/files/fixture.sh
# Credentials only ever come from the options the tests give.
unset_unicore_environment

work=$(mktemp -d "${TMPDIR:-/tmp}/reliability_clocks.XXXXXX")
trap 'rm -rf "${work}"' EXIT

# --- pytest, then the figures for docs/reliability.md (also when a test failed) ----------
run_reliability_pytest reliability_clocks "${work}" clocks
