#!/usr/bin/env bash
# Crashes and full disks, against the UNICORE test server (pytest):
#   1. SIGKILL, 200 times each, while unicore_auth_token writes dest and while
#      lookups write the token cache (token entries, remembered answers): the
#      old file or the new one, whole, 0600; temporary copies private and
#      removed by the next run; no lock outlives its holder;
#   2. dest and cache_dir on a full file system (a 64 KiB tmpfs; root only,
#      skipped otherwise): a clear error and untouched files for the module, a
#      token and one warning for the lookup.
# The figures of every part are printed at the end (docs/reliability.md).
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

work=$(mktemp -d "${TMPDIR:-/tmp}/reliability_crashes.XXXXXX")

# Whatever happens: no tmpfs stays mounted under the scratch directory, which then goes.
# shellcheck disable=SC2329  # invoked by the EXIT trap
cleanup() {
    local mountpoint
    while read -r mountpoint; do
        umount "${mountpoint}" 2>/dev/null || umount -l "${mountpoint}" || true
    done < <(awk -v root="${work}/" 'index($2, root) == 1 { print $2 }' /proc/self/mounts | sort -r)
    rm -rf "${work}"
}
trap cleanup EXIT

# --- pytest, then the figures for docs/reliability.md (also when a test failed) ----------
run_reliability_pytest reliability_crashes "${work}" crashes
