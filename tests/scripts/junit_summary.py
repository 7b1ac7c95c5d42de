"""Summarise the JUnit XML results of the harness's test suites.

usage: python junit_summary.py RESULTS_DIR SUITE[=EXIT_STATUS] ...

RESULTS_DIR is the collection copy's ``tests/output``.  The test cases of SUITE
are read from every ``*.xml`` file under ``RESULTS_DIR/junit/SUITE/`` (the
harness moves each suite's JUnit files there after the suite ran); EXIT_STATUS
is the exit status of the suite's ansible-test run.

A test case counts as failed when it has a <failure> or <error> element, as
skipped when it has a <skipped> element, as passed otherwise.  A suite whose
run failed without any failed test case to show for it (e.g. ansible-test
itself errored out) counts as one failed case, and so does an unreadable XML
file.

Prints one line per suite, the failed cases, and finally a line of the exact
form ``N passed, M failed`` (with ``, K skipped`` appended when K > 0).  Exits 1
when a suite failed, a case failed, or no test ran at all, 0 otherwise.
"""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET


def local(tag: str) -> str:
    """Return an XML tag name without its namespace."""
    return tag.rsplit('}', 1)[-1]


def first_line(text: str | None, limit: int = 240) -> str:
    """Return the first non-empty line of a text, shortened to a readable length."""
    lines = [line.strip() for line in (text or '').splitlines() if line.strip()]
    line = lines[0] if lines else ''

    return line if len(line) <= limit else line[:limit - 3] + '...'


def read_cases(path: str) -> list[tuple[str, str, str]]:
    """Return (outcome, name, message) for each test case in a JUnit XML file."""
    cases = []

    for case in ET.parse(path).getroot().iter():
        if local(case.tag) != 'testcase':
            continue

        name = case.get('name') or '?'
        classname = case.get('classname')

        if classname and not name.startswith(classname):
            name = '%s::%s' % (classname, name)

        outcome, message = 'passed', ''

        for child in case:
            tag = local(child.tag)

            if tag in ('failure', 'error'):
                outcome = 'failed'
                message = first_line(child.get('message') or child.text)

                if message.endswith(':') and child.get('message') and child.text:
                    # e.g. sanity: "The test ... failed with 3 errors:" + one error per line
                    details = [line.strip() for line in child.text.splitlines() if line.strip()]
                    more = ' (+%d more)' % (len(details) - 1) if len(details) > 1 else ''
                    message = first_line('%s %s%s' % (message, details[0], more)) if details else message

                break

            if tag == 'skipped':
                outcome = 'skipped'
                message = first_line(child.get('message') or child.text)

        cases.append((outcome, name, message))

    return cases


def summarize(results_dir: str, suite: str, status: int | None) -> dict[str, list[tuple[str, str]]]:
    """Return the cases of one suite grouped by outcome."""
    grouped: dict[str, list[tuple[str, str]]] = {'passed': [], 'failed': [], 'skipped': []}
    junit_dir = os.path.join(results_dir, 'junit', suite)

    for dirpath, _dirnames, filenames in os.walk(junit_dir):
        for filename in sorted(filenames):
            if not filename.endswith('.xml'):
                continue

            path = os.path.join(dirpath, filename)

            try:
                cases = read_cases(path)
            except (ET.ParseError, OSError) as ex:
                cases = [('failed', os.path.relpath(path, results_dir), 'unreadable JUnit XML: %s' % ex)]

            for outcome, name, message in cases:
                grouped[outcome].append((name, message))

    if status and not grouped['failed']:
        grouped['failed'].append(('%s run' % suite, 'exited with status %d' % status))

    return grouped


def counts(passed: int, failed: int, skipped: int) -> str:
    """Format counts the way the final line needs them."""
    text = '%d passed, %d failed' % (passed, failed)

    if skipped:
        text += ', %d skipped' % skipped

    return text


def main(argv: list[str]) -> int:
    """Entry point."""
    if len(argv) < 2:
        sys.stderr.write(__doc__ or '')
        return 2

    results_dir, suites = argv[0], argv[1:]
    total = {'passed': 0, 'failed': 0, 'skipped': 0}
    failed_suites = []
    failures = []

    print('')
    print('==> Test summary')

    for spec in suites:
        suite, _sep, raw_status = spec.partition('=')
        status = int(raw_status) if raw_status.strip() else None
        grouped = summarize(results_dir, suite, status)

        for outcome, cases in grouped.items():
            total[outcome] += len(cases)

        if status or grouped['failed']:
            failed_suites.append(suite)

        failures.extend((suite, name, message) for name, message in grouped['failed'])
        ran = len(grouped['passed']) + len(grouped['failed'])
        note = '' if ran or grouped['skipped'] else '  (no tests)'
        state = 'not run' if status is None else ('ok' if not status else 'exit status %d' % status)
        print('  %-12s %s  [%s]%s' % (suite + ':', counts(len(grouped['passed']), len(grouped['failed']), len(grouped['skipped'])), state, note))

    if failures:
        print('')
        print('==> Failed test cases')

        for suite, name, message in failures[:200]:
            print('  [%s] %s%s' % (suite, name, (': ' + message) if message else ''))

        if len(failures) > 200:
            print('  ... and %d more' % (len(failures) - 200))

    ran = total['passed'] + total['failed']

    if not ran:
        print('')
        print('==> ERROR: no test ran at all')

    print('')
    print(counts(total['passed'], total['failed'], total['skipped']))

    return 1 if failed_suites or total['failed'] or not ran else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
