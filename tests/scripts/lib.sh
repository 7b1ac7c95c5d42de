# Shared helpers of the test harness scripts (sourced, not executed).
# shellcheck shell=bash

info() {
    printf '==> %s\n' "$*"
}

warn() {
    printf '==> WARNING: %s\n' "$*" >&2
}

die() {
    printf '==> ERROR: %s\n' "$*" >&2
    exit 1
}

# Run a command (usually pip or ansible-test) and drop pip's progress lines
# (Collecting/Downloading/Installing/Successfully installed...) plus the noise
# this machine's pip configuration produces: one "Location 'file:///...' is
# ignored" warning per package for the local extra indexes that do not carry
# it.  Everything else -- warnings and errors included -- is passed through
# unchanged; the command's exit status is returned.  (ansible-test runs pip
# with a cleaned environment, so PIP_QUIET does not reach all of its pip runs.)
PIP_NOISE="^(WARNING: Location 'file://.*' is ignored|Looking in (indexes|links): "
PIP_NOISE+="|Collecting |  Downloading |  Using cached |Downloading |Processing /|Requirement already satisfied"
PIP_NOISE+="|Installing collected packages|Successfully installed |Installing build dependencies|Getting requirements to build"
PIP_NOISE+="|Preparing metadata|Building wheels? |  Building wheel |  Created wheel |  Stored in directory|Successfully built "
PIP_NOISE+="| +[^ ]+ [0-9.]+/[0-9.]+ [kMG]?B )"

quiet_pip() {
    if "$@" 2>&1 | { LC_ALL=C grep --line-buffered -v -E "$PIP_NOISE" || true; }; then
        return 0
    else
        return "${PIPESTATUS[0]}"
    fi
}
