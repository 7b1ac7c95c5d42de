#!/usr/bin/env bash
# ansible-lint, production profile (.ansible-lint), over the content users copy:
# roles/, playbooks/, and demo/, extensions/ and meta/execution-environment.yml when present,
# and the examples of the plugins (EXAMPLES) and of the documentation
# (docs/*.md and README.md), which tests/scripts/lint_examples.py extracts
# first, because ansible-lint reads neither. Findings in an extracted example
# are reported at their source file and line.
#
#   tests/scripts/ansible_lint.sh [EXTRA ANSIBLE-LINT ARGS...]
#
# ANSIBLE_LINT names the ansible-lint to run (default: ansible-lint on PATH);
# the Python next to it runs lint_examples.py (it needs PyYAML, which ansible-lint has).
# Exits non-zero on any finding (warnings included), on an unreadable example,
# and when roles/ or playbooks/ is missing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "${root}"

lint=${ANSIBLE_LINT:-ansible-lint}
lint_path=$(command -v "${lint}") || {
    echo "ansible_lint.sh: ${lint} not found; install ansible-lint or set ANSIBLE_LINT" >&2
    exit 2
}
lint_bin=$(dirname "${lint_path}")
# ansible-lint runs the ansible-playbook beside it (for --syntax-check); put it first on PATH.
export PATH=${lint_bin}:${PATH}
python=${lint_bin}/python
[[ -x ${python} ]] || python=python3

for directory in roles playbooks; do
    if [[ ! -d ${directory} ]]; then
        echo "ansible_lint.sh: ${directory}/ is missing" >&2
        exit 2
    fi
done

# The examples go into the checkout (ansible-lint skips files outside its
# project directory), in a directory of their own that is removed afterwards.
work=$(mktemp -d "${TMPDIR:-/tmp}/unicore-auth-lint.XXXXXX")
examples=.lint-examples.$$
trap 'rm -rf "${work}" "${root:?}/${examples}"' EXIT

# ansible-lint (offline, see .ansible-lint) and the ansible-playbook --syntax-check
# it runs find unicore.auth through this path wherever the checkout is; with it
# set, ansible-lint also keeps its cache in ANSIBLE_HOME rather than in the checkout.
mkdir -p "${work}/collections/ansible_collections/unicore"
ln -s "${root}" "${work}/collections/ansible_collections/unicore/auth"
export ANSIBLE_COLLECTIONS_PATH=${work}/collections
export ANSIBLE_HOME=${work}/ansible-home

echo "==> Extracting the examples"
status=0
"${python}" tests/scripts/lint_examples.py extract "${examples}" || status=$?

# The playbooks one by one: given the directory, ansible-lint would take playbooks/
# for a role because of playbooks/vars/.
targets=(roles)
while IFS= read -r -d '' playbook; do
    targets+=("${playbook}")
done < <(find playbooks -name '*.yml' -print0 | sort -z)
for optional in demo extensions meta/execution-environment.yml; do
    if [[ -e ${optional} ]]; then
        targets+=("${optional}")
    fi
done
echo "==> ${lint} --profile production --strict ${targets[*]} ${examples}/*/*.yml"
# Each example file on its own: given their directory, ansible-lint would take it for a role.
while IFS= read -r -d '' example; do
    targets+=("${example}")
done < <(find "${examples}" -name '*.yml' -print0 | sort -z)

lint_status=0
"${lint_path}" --profile production --strict --nocolor "$@" "${targets[@]}" 2>&1 |
    "${python}" tests/scripts/lint_examples.py map "${examples}" || lint_status=$?
# pipefail: the pipeline fails when ansible-lint does.
if [[ ${lint_status} -ne 0 ]]; then
    status=${lint_status}
fi
exit "${status}"
