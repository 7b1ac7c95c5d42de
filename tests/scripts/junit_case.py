"""Write a one-case JUnit XML file for a check that is not itself a test runner.

usage: python junit_case.py OUTFILE CLASSNAME NAME EXIT_STATUS [OUTPUT_FILE]

The case fails when EXIT_STATUS is not 0; the check's output, when given,
becomes the failure text, so the summary shows its first line.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def main() -> None:
    outfile, classname, name, status = sys.argv[1:5]
    output = ''
    if len(sys.argv) > 5:
        with open(sys.argv[5], encoding='utf-8', errors='replace') as handle:
            output = handle.read()
    suite = ET.Element('testsuite', name=classname, tests='1', failures='0' if status == '0' else '1')
    case = ET.SubElement(suite, 'testcase', classname=classname, name=name)
    if status != '0':
        failure = ET.SubElement(case, 'failure', message='%s exited with status %s' % (name, status))
        failure.text = output
    ET.ElementTree(suite).write(outfile, encoding='utf-8', xml_declaration=True)


if __name__ == '__main__':
    main()
