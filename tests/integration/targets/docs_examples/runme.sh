#!/usr/bin/env bash
# The examples of the README and the user guide, as written, against the UNICORE test server.
#
# examples.py takes them out of the Markdown with tests/scripts/lint_examples.py (the same
# examples that ansible-lint checks), makes the swaps a reader makes (the site, the CA, the
# OIDC provider; see SUBSTITUTIONS there) and writes one playbook per example, each with a
# directory of its own that stands for the host's file system (/etc, /var, /home). Each
# example then runs with the inventory the docs ship (docs/examples/inventory.ini):
#
#   1. --check on a fresh host: succeeds and changes no file;
#   2. a real run: succeeds;
#   3. a second real run: succeeds; where the example keeps a token (dest,
#      workflow_token_dest), the test server issues no token and the files stay as they are;
#   4. where the example keeps a token, --check again: succeeds, changes no file, the server
#      issues no token and the recap shows no change. (An example that keeps nothing meets no
#      other state in check mode than in 1: it is not run a fourth time, to keep the time down.)
#
# Two examples run at once (DOCS_EXAMPLES_LANES); the runs that count the server's tokens (3 and 4
# of an example that keeps a token) run alone.
#
# An example marked <!-- example: not run, because ... --> is counted and named, never
# skipped silently. Files under ~/.cache (the lookup's token cache, security sessions, kept
# refresh tokens) are caches, not the host's state, and are left out of the comparisons.
set -eu -o pipefail
# No `set -x`: its trace would print the secrets the examples use (tests/scripts/leak_scan.py).
trap 'echo "runme.sh: line ${LINENO}: exit status $?" >&2' ERR

# The guides whose examples run. The other guides' examples are fragments that read variables
# of the reader's own (token-reuse.md), need vault-encrypted files (vault.md) or AWX (awx.md);
# ansible-lint checks them all (tests/scripts/lint_examples.py).
SOURCES=(README.md docs/user-guide.md)

config=$(cd ../.. && pwd)/integration_config.yml
# shellcheck source=../setup_unicore_testserver/files/fixture.sh
. ../setup_unicore_testserver/files/fixture.sh
unset_unicore_environment

# The collection copy the suite runs in (its tests/output/tmp is the suite's TMPDIR): its
# README.md, docs/ and tests/scripts/lint_examples.py are those of the checkout.
collection=$(cd "${TMPDIR}/../../.." && pwd)
inventory=${collection}/docs/examples/inventory.ini
here=$(pwd)

work=$(mktemp -d "${TMPDIR}/docs_examples.XXXXXX")
agents=$(mktemp -d /tmp/de.XXXXXX)  # short: a socket's path must fit in 108 bytes
mkdir -p "${agents}/ssh" "${agents}/oidc"
created_user=
cleanup() {
    keep_token_caches docs_examples "${work}" || true
    keep_session_stores docs_examples "${work}" || true
    python ../setup_unicore_testserver/files/agents.py stop "${agents}/ssh" >/dev/null || true
    python ../setup_unicore_testserver/files/agents.py stop "${agents}/oidc" >/dev/null || true
    if [[ -n ${created_user} ]]; then userdel "${created_user}" || true; fi
    rm -rf "${work}" "${agents}"
}
trap cleanup EXIT

# The OS user the role example installs its token for (workflow_token_owner: workflow), as on a workflow host.
if ! id workflow >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "docs_examples: the OS user 'workflow' of the workflow_token example is missing, and only root may add it" >&2
        exit 1
    fi
    useradd --system --no-create-home --shell /usr/sbin/nologin workflow
    created_user=workflow
fi

# The agents the ssh_agent and oidc_agent examples ask, as a reader has them running.
ssh_agent=$(python ../setup_unicore_testserver/files/agents.py ssh-start "${agents}/ssh" "$(fixture_file)")
oidc_agent=$(python ../setup_unicore_testserver/files/agents.py oidc-start "${agents}/oidc" "$(fixture_file)")
json_field() {
    python -c 'import json, sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2"
}
export SSH_AUTH_SOCK OIDC_SOCK
SSH_AUTH_SOCK=$(json_field "${ssh_agent}" socket)
OIDC_SOCK=$(json_field "${oidc_agent}" socket)

python "${here}/examples.py" prepare "${work}/examples" --root "${collection}" --config "${config}" "${SOURCES[@]}"
manifest=${work}/examples/manifest.json
secrets=${work}/examples/secrets.yml

# The site's CA for the lookup and the roles, as a reader whose site has a CA of its own sets it.
export UNICORE_CA_PATH
UNICORE_CA_PATH=$(fixture ca_cert)
# What an example marked <!-- example: needs UNICORE_... --> finds in the environment, as an AWX
# credential injects it; the others get none of it (a play that gathers facts would record it).
declare -A environment=([UNICORE_URL]=$(fixture sites DEMO-SITE url) [UNICORE_USERNAME]=demouser
    [UNICORE_PASSWORD]=$(fixture users demouser password))

# The examples run in DOCS_EXAMPLES_LANES lanes (default 2) at once. The test server's token
# counter is shared: the runs that count tokens hold LOCK exclusively, every other run holds it shared.
lanes=${DOCS_EXAMPLES_LANES:-2}
lock=${work}/counters.lock
: >"${lock}"

# play LOG HOME ARGS...: ansible-playbook as the reader runs it, with HOME the example's user's,
# holding the counters' lock shared (unless the caller holds it exclusively: PLAY_LOCKED=1)
play() {
    local log=$1 home=$2
    shift 2
    local -a command=(ansible-playbook -i "${inventory}" -e @"${secrets}" "$@")
    if [[ -z ${PLAY_LOCKED:-} ]]; then command=(flock --shared "${lock}" "${command[@]}"); fi
    HOME=${home} "${command[@]}" >"${log}" 2>&1 </dev/null
}

# counted LOG HOME ARGS...: play, holding the counters' lock exclusively; sets `new` to the number of
# tokens the test server issued meanwhile
counted() {
    local status=0 before fd
    exec {fd}>>"${lock}"
    flock --exclusive "${fd}"
    before=$(tokens_issued)
    PLAY_LOCKED=1 play "$@" || status=$?
    new=$(($(tokens_issued) - before))
    flock --unlock "${fd}"
    exec {fd}>&-
    return "${status}"
}

# snap FS HOME: each file and directory under FS with its mode, owner and content digest, but
# for HOME's caches and Ansible's temporary files
snap() {
    local fs=$1 home=$2
    find "${fs}" \( -path "${home}/.cache" -o -path "${home}/.ansible" \) -prune -o -printf '%P %m %U:%G\n' | sort
    find "${fs}" \( -path "${home}/.cache" -o -path "${home}/.ansible" \) -prune -o -type f -exec sha256sum {} + | sort
}

tokens_issued() {
    python "${here}/examples.py" tokens-issued --config "${config}"
}

# fail WHAT LOG: note a failed expectation of the example being run, and show the log's end
fail() {
    ok=0
    echo "${name}: $1" >>"${logs}/failures"
    echo "FAILED   ${name}: $1" >&2
    if [[ -n ${2:-} ]]; then tail -n 40 "$2" >&2; fi
}

# run_example NAME PLAYBOOK FS HOME KEEPS NEEDS ENVIRONMENT: the runs of one example (a line of
# run.tsv); its outcome goes to result, each failed expectation to failures, beside its playbook
run_example() {
    local name=$1 playbook=$2 fs=$3 home=$4 keeps=$5 needs=$6 needs_environment=$7
    local logs started=${SECONDS} ok=1 before after_first new variable
    local -a variables
    logs=$(dirname "${playbook}")
    for variable in "${!environment[@]}"; do unset "${variable}"; done
    if [[ ${needs_environment} != - ]]; then
        IFS=, read -r -a variables <<<"${needs_environment}"
        for variable in "${variables[@]}"; do
            if [[ -z ${environment[${variable}]:-} ]]; then
                fail "needs ${variable}, which the test does not know"
                echo "FAILED   ${name}" >"${logs}/result"
                return
            fi
            export "${variable}=${environment[${variable}]}"
        done
    fi

    if [[ ${needs} != - ]] && ! play "${logs}/setup.log" "${home}" "${here}/renewable_token.yml" -e @"${config}" -e token_dest="${needs}"; then
        # What the example takes as given: a renewable token that the workflow_token role or an earlier run installed.
        fail "could not install the renewable token it needs" "${logs}/setup.log"
        echo "FAILED   ${name} ($((SECONDS - started)) s)" >"${logs}/result"
        return
    fi

    # 1. --check on a fresh host.
    before=$(snap "${fs}" "${home}")
    if ! play "${logs}/check-fresh.log" "${home}" "${playbook}" --check; then
        fail "--check on a fresh host failed" "${logs}/check-fresh.log"
    elif [[ $(snap "${fs}" "${home}") != "${before}" ]]; then
        fail "--check on a fresh host changed files" "${logs}/check-fresh.log"
    fi

    # 2. The first run.
    if ! play "${logs}/first.log" "${home}" "${playbook}"; then
        fail "the first run failed" "${logs}/first.log"
        echo "FAILED   ${name} ($((SECONDS - started)) s)" >"${logs}/result"
        return
    fi
    after_first=$(snap "${fs}" "${home}")

    # 3. The second run.
    if [[ ${keeps} != true ]]; then
        play "${logs}/second.log" "${home}" "${playbook}" || fail "the second run failed" "${logs}/second.log"
    elif ! counted "${logs}/second.log" "${home}" "${playbook}"; then
        fail "the second run failed" "${logs}/second.log"
    else
        if [[ ${new} -ne 0 ]]; then fail "the second run issued ${new} token(s) instead of keeping the one it has" "${logs}/second.log"; fi
        if [[ $(snap "${fs}" "${home}") != "${after_first}" ]]; then
            fail "the second run changed the files the first one wrote" "${logs}/second.log"
        fi
    fi

    # 4. --check on the host the runs left, where they left a token.
    if [[ ${keeps} == true ]]; then
        before=$(snap "${fs}" "${home}")
        if ! counted "${logs}/check-again.log" "${home}" "${playbook}" --check; then
            fail "--check after the runs failed" "${logs}/check-again.log"
        else
            if [[ $(snap "${fs}" "${home}") != "${before}" ]]; then fail "--check after the runs changed files" "${logs}/check-again.log"; fi
            if [[ ${new} -ne 0 ]]; then fail "--check after the runs issued ${new} token(s)" "${logs}/check-again.log"; fi
            if grep -E '^[^ ]+ +: ok=[0-9]+ +changed=[1-9]' "${logs}/check-again.log" >/dev/null; then
                fail "--check after the runs reports changes" "${logs}/check-again.log"
            fi
        fi
    fi
    if [[ ${ok} == 1 ]]; then
        echo "passed   ${name} ($((SECONDS - started)) s)" >"${logs}/result"
    else
        echo "FAILED   ${name} ($((SECONDS - started)) s)" >"${logs}/result"
    fi
}

# DOCS_EXAMPLES_ONLY=REGEX runs only the examples whose name (SOURCE:LINE) matches, when trying one out.
selected=${work}/examples/selected.tsv
while IFS=$'\t' read -r name rest; do
    if [[ -z ${DOCS_EXAMPLES_ONLY:-} || ${name} =~ ${DOCS_EXAMPLES_ONLY} ]]; then printf '%s\t%s\n' "${name}" "${rest}"; fi
done <"${work}/examples/run.tsv" >"${selected}"
ran=$(wc -l <"${selected}")

lane_pids=()
for ((lane = 0; lane < lanes; lane++)); do
    (
        while IFS=$'\t' read -r -a fields; do
            run_example "${fields[@]}"
        done < <(awk -v lanes="${lanes}" -v lane="${lane}" '(NR - 1) % lanes == lane' "${selected}")
    ) &
    lane_pids+=($!)
done
for pid in "${lane_pids[@]}"; do wait "${pid}" || true; done

results=()
failures=()
while IFS=$'\t' read -r name playbook _; do
    logs=$(dirname "${playbook}")
    results+=("$(cat "${logs}/result" 2>/dev/null || echo "FAILED   ${name} (no result)")")
    if [[ -s ${logs}/failures ]]; then mapfile -t -O "${#failures[@]}" failures <"${logs}/failures"; fi
    if [[ ! -s ${logs}/result ]]; then failures+=("${name}: no result"); fi
done <"${selected}"

echo
echo "Examples of ${SOURCES[*]}:"
printf '  %s\n' "${results[@]}"
not_run=$(python -c '
import json, sys
entries = json.load(open(sys.argv[1]))["not_run"]
for entry in entries:
    print("  not run  %s (%s): %s" % (entry["name"], entry["title"], entry["reason"]))
print(len(entries))' "${manifest}")
echo "${not_run}" | sed '$d'
passed=$(printf '%s\n' "${results[@]}" | grep -c '^passed' || true)
echo "docs_examples: ${ran} examples run: ${passed} passed, $((ran - passed)) failed; $(echo "${not_run}" | tail -n 1) not run (marked in the Markdown)"
if [[ ${#failures[@]} -ne 0 || ${ran} -eq 0 ]]; then
    printf '  %s\n' "${failures[@]}" >&2
    exit 1
fi
