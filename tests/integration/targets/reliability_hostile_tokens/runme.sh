#!/usr/bin/env bash
# Hostile or broken tokens (issue 15), against the UNICORE test server (pytest):
#   1. /token answers with a token the site issued, made hostile or broken (a
#      second line, CR LF, NUL, padding, four parts, no exp, exp a string, ...)
#      through the test server's `respond` fault: the module with dest, the
#      lookup with its cache and the workflow_token role each fail, naming the
#      URL and the cause, and leave every file byte for byte as it was;
#   2. hostile content planted in a token file, a cache entry, a remembered
#      answer and a host's installed token is replaced, never used nor echoed;
#   3. a bearer token or an OIDC provider's access token with CR LF is refused
#      before any request reaches the site.
# The table of every case is printed at the end (docs/reliability.md).
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

work=$(mktemp -d "${TMPDIR:-/tmp}/reliability_hostile_tokens.XXXXXX")
trap 'rm -rf "${work}"' EXIT

# --- pytest, then the figures for docs/reliability.md (also when a test failed) ----------
run_reliability_pytest reliability_hostile_tokens "${work}" hostile_tokens
