# shellcheck shell=bash
# Source this first in a runme.sh target: every process the target starts then
# writes its temporary files into the suite's own temporary directory,
# tests/output/tmp of the collection copy the suite runs in (not of the copy
# ansible-test makes for each target, which it deletes afterwards). The harness
# gives that directory to the processes it starts, but ansible-test passes no
# TMPDIR on to a target, so testserver.sh names it in integration_config.yml.
# The secrets scan reads tests/output, and no other temporary directory
# (tests/scripts/leak_scan.py).
suite_config=$(dirname "${BASH_SOURCE[0]}")/../../../integration_config.yml
TMPDIR=$(sed -n 's/^unicore_suite_tmpdir: "\(.*\)"$/\1/p' "${suite_config}" 2>/dev/null)
if [[ -z ${TMPDIR} ]]; then
    echo "suite_tmpdir.sh: no unicore_suite_tmpdir in ${suite_config} (tests/scripts/testserver.sh writes it)" >&2
    exit 1
fi
mkdir -p "${TMPDIR}"
export TMPDIR
