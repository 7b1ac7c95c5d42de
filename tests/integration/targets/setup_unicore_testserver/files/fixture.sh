# shellcheck shell=bash
# Shell helpers for runme.sh targets that use the test server; source this file
# after setting `config` to the path of integration_config.yml (and `work` to the
# target's scratch directory, for decrypted_key_copies).

# shellcheck source=suite_tmpdir.sh
. "$(dirname "${BASH_SOURCE[0]}")/suite_tmpdir.sh"

# ansible-test runs every playbook with ANSIBLE_DEPRECATION_WARNINGS=false; the
# playbooks of these targets show them, and the harness fails the suite on any
# (each is a promise that the collection breaks on a later ansible-core).
export ANSIBLE_DEPRECATION_WARNINGS=true

# A value from the test server's fixtures, e.g. `fixture users demouser password`.
fixture() {
    python - "${config:?set config to the path of integration_config.yml first}" "$@" <<'PY'
import json
import sys

import yaml

with open(sys.argv[1], encoding='utf-8') as config_file:
    config = yaml.safe_load(config_file)
with open(config['unicore_testserver_fixtures'], encoding='utf-8') as fixtures_file:
    value = json.load(fixtures_file)
for key in sys.argv[2:]:
    value = value[key]
print(value)
PY
}

# The path of the test server's fixtures.json.
fixture_file() {
    python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["unicore_testserver_fixtures"])' "${config:?}"
}

# decrypted_key_copies KEY VAULT_COPY SINCE: files written since the file SINCE,
# under ${work}, the system temp dir and ~/.ansible/tmp, that hold the private
# key KEY in clear. A line from the middle of the key is searched for, because
# the PEM header appears in every key file; it must not appear in VAULT_COPY
# (the vault-encrypted copy). The line is never traced (set +x): the trace would
# itself be a file holding it.
decrypted_key_copies() {
    local xtrace=${-//[^x]/}
    { set +x; } 2>/dev/null
    local key=$1 vault_copy=$2 since=$3 key_line
    key_line=$(sed -n '5p' "${key}")
    if [[ ${#key_line} -lt 40 ]] || grep -qF -e "${key_line}" "${vault_copy}"; then
        echo "cannot scan for copies of ${key}: no distinctive line" >&2
        exit 1
    fi
    local roots=("${work:?}" "${TMPDIR:-/tmp}")
    [[ -d ${HOME}/.ansible/tmp ]] && roots+=("${HOME}/.ansible/tmp")
    find "${roots[@]}" -xdev -type f -newer "${since}" -readable -print0 2>/dev/null |
        xargs -0 -r grep -lF -e "${key_line}" 2>/dev/null | sort -u || true
    if [[ -n ${xtrace} ]]; then set -x; fi
}

# Where the reliability_* targets leave their tables for docs/reliability.md:
# beside the test server's workdir, which outlives ansible-test's copy of the
# target (under make test: <collection>/tests/output/reliability). REPORT_DIR
# overrides it.
reliability_report_dir() {
    local dir
    dir=${REPORT_DIR:-$(dirname "$(dirname "$(fixture_file)")")/reliability}
    mkdir -p "${dir}"
    echo "${dir}"
}

# run_reliability_pytest NAME WORK REPORT: the pytest tests beside the target's runme.sh against the test server
# (integration_config.yml at ${config}), their figures in WORK/figures and their JUnit file NAME-pytest.xml; then
# the figures' table (the target's summary.py) as REPORT.md in the reliability report, also when a test failed.
# Returns pytest's exit status.
run_reliability_pytest() {
    local name=$1 work=$2 report=$3 status=0
    mkdir -p "${work}/figures"
    export UNICORE_INTEGRATION_CONFIG=${config:?} RELIABILITY_WORK_DIR=${work} RELIABILITY_FIGURES_DIR=${work}/figures
    export PYTHONPATH="${ANSIBLE_COLLECTIONS_PATH:?}${PYTHONPATH:+:${PYTHONPATH}}"
    # --tb=short: a failure shows no fixture values; assertions compare tokens by digest.
    python -m pytest -p no:cacheprovider -q -rA --tb=short --junitxml="${JUNIT_OUTPUT_DIR:-.}/${name}-pytest.xml" . || status=$?
    python summary.py "${work}/figures" | tee "$(reliability_report_dir)/${report}.md"
    return "${status}"
}

# keep_token_caches NAME DIR...: copies of the token caches found under each DIR
# (directories holding a cache.key) in <collection>/tests/output/token-caches/NAME,
# for the secrets scan, which checks that every entry is a token the server
# issued and holds no credential. The targets delete their scratch directories.
keep_token_caches() {
    local name=$1 root key cache dest
    shift
    dest=$(dirname "$(reliability_report_dir)")/token-caches/${name}
    for root in "$@"; do
        while IFS= read -r -d '' key; do
            cache=$(dirname "${key}")
            mkdir -p "${dest}"
            cp -a "${cache}" "${dest}/$(basename "$(dirname "${cache}")")-$(basename "${cache}")"
        done < <(find "${root}" -name cache.key -type f -print0 2>/dev/null)
    done
}

# keep_session_stores NAME DIR...: copies of the security-session stores found
# under each DIR (directories holding a sessions.key) in
# <collection>/tests/output/session-stores/NAME, for the secrets scan, which checks
# that every entry is a session id the server handed out, and nothing else.
keep_session_stores() {
    local name=$1 root key store dest
    shift
    dest=$(dirname "$(reliability_report_dir)")/session-stores/${name}
    for root in "$@"; do
        while IFS= read -r -d '' key; do
            store=$(dirname "${key}")
            mkdir -p "${dest}"
            cp -a "${store}" "${dest}/$(basename "$(dirname "${store}")")-$(basename "${store}")"
        done < <(find "${root}" -name sessions.key -type f -print0 2>/dev/null)
    done
}

# Unset every UNICORE_* variable of the caller's environment: a run gets
# credentials from the environment only where a test says so.
unset_unicore_environment() {
    local name
    while read -r name; do unset "${name}"; done < <(compgen -e | grep '^UNICORE_' || true)
}

# start_other_host LOG: start other_host.py (a plain HTTP listener on
# 127.0.0.1 that records every request in LOG, and whether it carried
# credentials) and print its URL; stop_other_host LOG stops it.
start_other_host() {
    local log=$1
    python "$(dirname "${BASH_SOURCE[0]}")/other_host.py" "${log}" >"${log}.ready" &
    echo $! >"${log}.pid"
    for _ in $(seq 50); do
        [[ -s ${log}.ready ]] && break
        sleep 0.1
    done
    python -c 'import json, sys; print(json.load(open(sys.argv[1]))["url"])' "${log}.ready"
}

stop_other_host() {
    local log=$1 pid
    [[ -n ${log} && -s ${log}.pid ]] || return 0
    pid=$(cat "${log}.pid")
    kill "${pid}" 2>/dev/null || true
    # Not a child of this shell (it was started in a command substitution): wait for it to go.
    for _ in $(seq 50); do
        kill -0 "${pid}" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "${log}.pid"
}
