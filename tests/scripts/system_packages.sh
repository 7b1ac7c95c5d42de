#!/usr/bin/env bash
# Install the real programs some integration tests drive, when they are missing:
# oidc-agent (Debian's oidc-agent-cli, without the desktop part its recommends
# pull in) and libfaketime (Debian's faketime), which moves oidc-agent's clock.
# Only as root with apt-get; elsewhere the tests that need them are reported as
# skipped, with the reason, and this script only says so.
set -euo pipefail

# shellcheck source=tests/scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

missing=()
command -v oidc-agent >/dev/null && command -v oidc-gen >/dev/null || missing+=(oidc-agent-cli)
compgen -G '/usr/lib/*/faketime/libfaketime.so.1' >/dev/null || missing+=(faketime)
((${#missing[@]})) || exit 0

if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
    warn "not installed: ${missing[*]} (root and apt-get are needed to install them); the tests that need them are skipped"
    exit 0
fi
info "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >/dev/null 2>&1; then
    warn "apt-get could not install ${missing[*]}; the tests that need them are skipped"
fi
