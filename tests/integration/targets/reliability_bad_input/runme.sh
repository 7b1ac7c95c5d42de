#!/usr/bin/env bash
# The bad input catalogue (catalogue.yml) through unicore.auth.unicore_auth_token
# and the unicore.auth.unicore_token lookup, against the UNICORE test server:
# every case must fail with a message that names the option and the cause and
# shows no secret, leave the kept token file byte for byte as it was, and cost
# the server no token. Then the cases where dest holds something that is not
# this site's token, which the module replaces (dest_replacements.yml).
#
# bad_input.yml only runs the cases and writes what they gave; its tasks fail on
# purpose, so its JUnit output goes to a scratch directory. The verdicts are
# test_bad_input.py's, one pytest case per plugin and case, in the JUnit
# directory that ansible-test counts.
set -eux
set -o pipefail

config=$(cd ../.. && pwd)/integration_config.yml
export ANSIBLE_ROLES_PATH=..
export PYTHONPATH="${ANSIBLE_COLLECTIONS_PATH:-}${PYTHONPATH:+:${PYTHONPATH}}"
# shellcheck source=../setup_unicore_testserver/files/fixture.sh
. ../setup_unicore_testserver/files/fixture.sh
# Only what a case sets may reach the plugins.
unset_unicore_environment

work=$(mktemp -d "${OUTPUT_DIR:-${TMPDIR:-/tmp}}/reliability_bad_input.XXXXXX")
unwritable=${work}/unwritable
# An immutable directory (see below) cannot be removed until it is mutable again.
trap 'chattr -i "${unwritable}" 2>/dev/null || true; chmod -R u+rwX "${work}" 2>/dev/null || true; rm -rf "${work}"' EXIT

started=${SECONDS}

# --- What the cases point at ---------------------------------------------------
mkdir -p "${work}/tokens" "${work}/a-directory" "${work}/elsewhere" "${work}/site-record-link" "${unwritable}"
python make_bad_keys.py "${work}/keys" "$(fixture keys rsa_pkcs8 path)"
printf 'a file that is no token file and must stay as it is\n' >"${work}/elsewhere/precious.token"
ln -s "${work}/elsewhere/precious.token" "${work}/link.token"
ln -s "${work}/elsewhere/precious.token" "${work}/site-record-link/unicore.token.site"

# Root reads a file of mode 0000 and writes into a directory of mode 0555, so
# for root the unreadable key is a write-only kernel attribute (open() refuses
# it even to root) and the unwritable directory is an immutable one.
if [[ $(id -u) != 0 ]]; then
    unreadable_key=${work}/keys/unreadable.pem
    unreadable_cause='is not readable'
    chmod 0555 "${unwritable}"
    unwritable_how='mode 0555'
else
    unreadable_key=$(find /sys/bus -maxdepth 2 -type f -perm 0200 -name drivers_probe 2>/dev/null | head -n 1)
    [[ -n ${unreadable_key} ]] || unreadable_key=$(find /sys -maxdepth 4 -type f -perm 0200 2>/dev/null | head -n 1)
    if [[ -z ${unreadable_key} ]]; then
        echo 'running as root, and no file that root cannot read was found for the unreadable key case' >&2
        exit 1
    fi
    unreadable_cause='permission denied'
    if ! chattr +i "${unwritable}"; then
        echo 'running as root without CAP_LINUX_IMMUTABLE: no directory root cannot write to for the unwritable dest case' >&2
        exit 1
    fi
    unwritable_how='immutable (chattr +i), as root'
fi

# --- 1. The catalogue ------------------------------------------------------------
results=${work}/results.json
cat >"${work}/target_vars.yml" <<EOF
---
work_dir: "${work}"
results_file: "${results}"
unreadable_key: "${unreadable_key}"
unreadable_cause: "${unreadable_cause}"
unwritable_how: "${unwritable_how}"
EOF
JUNIT_OUTPUT_DIR=${work}/junit-expected-failures \
    ansible-playbook -i localhost, -c local -e ansible_python_interpreter="$(command -v python)" bad_input.yml \
    -e @"${config}" -e @"${work}/target_vars.yml"
catalogue_seconds=$((SECONDS - started))

# --- 2. dest holding something that is not this site's token ----------------------
status=0
ansible-playbook -i localhost, -c local -e ansible_python_interpreter="$(command -v python)" dest_replacements.yml \
    -e @"${config}" -e work_dir="${work}" || status=$?

# --- 3. The verdicts on the catalogue, and its table -------------------------------
BAD_INPUT_RESULTS=${results} BAD_INPUT_WORK_DIR=${work} BAD_INPUT_CONFIG=${config} BAD_INPUT_TABLE=${work}/table.md \
    python -m pytest -p no:cacheprovider -q -rA \
    --junitxml="${JUNIT_OUTPUT_DIR:-.}/reliability_bad_input-pytest.xml" \
    test_bad_input.py || status=$?
cat "${work}/table.md" || true
cp "${work}/table.md" "$(reliability_report_dir)/bad_input.md" || true
echo "reliability_bad_input: catalogue ${catalogue_seconds} s, all $((SECONDS - started)) s"
exit "${status}"
