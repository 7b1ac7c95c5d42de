# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the table of the reliability_hostile_tokens target (for docs/reliability.md)."""

from __future__ import annotations

import os
import sys

# The figures' reader, shared with the other reliability targets (needs/target/setup_unicore_testserver), as conftest.py imports it.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'setup_unicore_testserver', 'files'))
# pylint: disable=wrong-import-position
from reliability_support import load_figures as load  # noqa: E402


def cell(text):
    return str(text).replace('|', '\\|').replace('\n', ' ')


def main(directory):
    print('== reliability_hostile_tokens: figures ==')
    answers = load(directory, 'answers_*.json')
    if answers:
        print('| hostile answer of /token | plugin | outcome | files byte for byte unchanged | message excerpt |')
        print('|---|---|---|---|---|')
        for entry in answers:
            for row in entry['rows']:
                outcome = 'fails' if row['failed'] else '**succeeds**'
                unchanged = 'yes' if row['unchanged'] else '**no**'
                print('| %s | %s | %s | %s | %s |' % (cell(row['case']), row['plugin'], outcome, unchanged, cell(row['message'])))
        for entry in answers:
            rows = entry['rows']
            print('%s: %d cases, %d failed clearly, %d left every file unchanged; the site counted %d requests and issued %d tokens' % (
                rows[0]['plugin'], len(rows), sum(row['failed'] for row in rows), sum(bool(row['unchanged']) for row in rows),
                entry['requests'], entry['tokens_issued']))
    planted = load(directory, 'planted_*.json')
    if planted:
        print()
        print('| planted | plugin | outcome | replaced by a token of the site, once per file | requests to the site | what the user reads |')
        print('|---|---|---|---|---|---|')
        for entry in planted:
            for row in entry['rows']:
                outcome = '**fails**' if row['failed'] else 'succeeds'
                replaced = 'yes' if row['replaced'] else '**no**'
                cells = (cell(row['case']), row['plugin'], outcome, replaced, row.get('requests', '-'), cell(row['message']) or '-')
                print('| %s | %s | %s | %s | %s | %s |' % cells)
        for entry in planted:
            if 'tokens_issued' in entry:
                print('%s: the site counted %d requests and issued %d tokens' % (entry['rows'][0]['plugin'], entry['requests'], entry['tokens_issued']))
    headers = load(directory, 'headers_*.json')
    if headers:
        print()
        print('| secret with CR LF | plugin | outcome | requests to the site | requests to the OIDC provider | message excerpt |')
        print('|---|---|---|---|---|---|')
        for entry in headers:
            for row in entry['rows']:
                outcome = 'fails' if row['failed'] else '**succeeds**'
                cells = (cell(row['case']), row['plugin'], outcome, row['site_requests'], row['oidc_requests'], cell(row['message']))
                print('| %s | %s | %s | %d | %d | %s |' % cells)


if __name__ == '__main__':
    main(sys.argv[1])
