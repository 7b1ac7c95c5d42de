# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the figures of the reliability_concurrency target (for docs/reliability.md)."""

from __future__ import annotations

import os
import sys

# The figures' reader, shared with reliability_crashes (needs/target/setup_unicore_testserver), as conftest.py imports it.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'setup_unicore_testserver', 'files'))
# pylint: disable=wrong-import-position
from reliability_support import load_figures as load  # noqa: E402


def main(directory):
    print('== reliability_concurrency: figures ==')
    times = dict((int(entry['round']), entry) for entry in load(directory, 'fanout-time-*.json'))
    rounds = load(directory, 'fanout-round-*.json')
    print('| round | hosts | forks | tokens issued | full authentications | requests | distinct tokens | cache files | seconds |')
    print('|---|---|---|---|---|---|---|---|---|')
    for entry in sorted(rounds, key=lambda entry: int(entry['round'])):
        timing = times.get(int(entry['round']), {})
        print('| %s | %s | %s | %s | %s | %s | %s | %s (dir %s) | %s |' % (
            entry['round'], entry['hosts'], timing.get('forks', '?'), entry['tokens_issued'], entry['full_authentications'],
            entry['requests'], entry['distinct_tokens'], ', '.join(entry['cache_files']), entry['cache_dir_mode'],
            timing.get('seconds', '?')))
    for entry in load(directory, 'concurrent_writers.json'):
        print('concurrent writers: %(writers)s ansible-playbook runs x %(iterations_each)s forced issues on one dest, '
              '%(tokens_issued)s tokens issued in %(seconds)s s; reader: %(reads)s reads, each of dest and of .site, '
              '%(torn_reads)s torn/partial/empty, %(distinct_tokens_read)s distinct tokens and at least '
              '%(distinct_inodes_read)s inodes seen; final mode %(final_mode)s, '
              '%(leftover_temporary_files)s temporary files left' % entry)
    for entry in load(directory, 'cache_dir_refusals.json'):
        print('cache_dir refusals: %d of %d unsafe cache_dir cases refused (%s); requests %s, tokens issued %s; other owner: %s'
              % (len(entry['refused']), len(entry['cases']), ', '.join(entry['refused']), entry['requests'],
                 entry['tokens_issued'], entry['other_owner_variant']))


if __name__ == '__main__':
    main(sys.argv[1])
