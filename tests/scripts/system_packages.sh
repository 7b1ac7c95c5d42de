#!/usr/bin/env bash
# Install the real programs some tests drive, when they are missing:
# oidc-agent (Debian's oidc-agent-cli, without the desktop part its recommends
# pull in) and libfaketime (Debian's faketime), which moves oidc-agent's clock,
# for the integration suite; Chromium (Debian's chromium), which the docs check
# (tests/scripts/docs_check.sh) opens the built docs site in.
# Only as root with apt-get; elsewhere the tests that need them are reported as
# skipped, with the reason, and this script only says so.
#
#   tests/scripts/system_packages.sh [oidc-agent] [faketime] [chromium]
#
# Without arguments it looks after all three.  Safe to call while another call
# runs (the harness calls it early, the docs check may call it again): the
# installs are serialised with a lock, and what a first call installed is not
# installed again.
set -euo pipefail

# shellcheck source=tests/scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

wanted=("$@")
((${#wanted[@]})) || wanted=(oidc-agent faketime chromium)

# the Debian packages of the wanted programs that are not there
find_missing() {
    local what
    missing=()
    for what in "${wanted[@]}"; do
        case $what in
            oidc-agent) command -v oidc-agent >/dev/null && command -v oidc-gen >/dev/null || missing+=(oidc-agent-cli) ;;
            faketime) compgen -G '/usr/lib/*/faketime/libfaketime.so.1' >/dev/null || missing+=(faketime) ;;
            chromium) command -v chromium >/dev/null || missing+=(chromium) ;;
            *) die "unknown program '$what' (oidc-agent, faketime, chromium)" ;;
        esac
    done
}

find_missing
((${#missing[@]})) || exit 0

if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
    warn "not installed: ${missing[*]} (root and apt-get are needed to install them); the tests that need them are skipped"
    exit 0
fi

# One apt-get at a time: a second call waits for the first, then finds what it installed.
# (apt-get's own lock would make the second call fail instead of wait; the timeout below
# covers other programs that hold it.)
lock_dir=/var/lock
[[ -d $lock_dir ]] || lock_dir=/tmp
exec 9>"$lock_dir/unicore-auth-system-packages.lock"
if command -v flock >/dev/null; then
    flock 9
fi
find_missing
((${#missing[@]})) || exit 0

info "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt_options=(-o DPkg::Lock::Timeout=600)
if ! { apt-get "${apt_options[@]}" update -qq \
    && apt-get "${apt_options[@]}" install -y -qq --no-install-recommends "${missing[@]}"; } >/dev/null 2>&1; then
    warn "apt-get could not install ${missing[*]}; the tests that need them are skipped"
fi
