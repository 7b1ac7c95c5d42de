# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the figures of the reliability_crashes target (for docs/reliability.md)."""

from __future__ import annotations

import os
import sys

# The figures' reader, shared with reliability_concurrency (needs/target/setup_unicore_testserver), as conftest.py imports it.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'setup_unicore_testserver', 'files'))
# pylint: disable=wrong-import-position
from reliability_support import load_figures as load  # noqa: E402

STEP_ORDER = ('begun', 'listdir', 'open', 'mkstemp', 'flock', 'fchmod', 'write', 'fsync', 'replace', 'close', 'unlink')


def steps(entry):
    counts = entry['steps']
    names = sorted(counts, key=lambda name: (STEP_ORDER.index(name) if name in STEP_ORDER else len(STEP_ORDER), name))
    return ', '.join('%s %d' % (name, counts[name]) for name in names)


def main(directory):
    print('== reliability_crashes: figures ==')
    kills = load(directory, 'kills_module.json') + load(directory, 'kills_lookup_token.json') + load(directory, 'kills_lookup_answer.json')
    if kills:
        print('| series | kills | inside the write window | before it / after it | old kept / new whole | torn, partial, empty or wrong mode '
              '| temporary copies left (with data; modes) | removed by the next run / surviving one | left after the final run '
              '| locks held after a kill | window (ms) | seconds |')
        print('|---|---|---|---|---|---|---|---|---|---|---|---|')
        for entry in kills:
            print('| %s | %d | **%d** | %d / %d | %d / %d | %d | %d (%d; %s) | %d / %d | %d | %d | %s | %s |' % (
                entry['series'], entry['kills'], entry['in_window'], entry['before_window'], entry['after_window'],
                entry['outcomes']['old'], entry['outcomes']['new'], entry['torn_or_wrong'], entry['leftovers_created'],
                entry['leftovers_with_data'], ', '.join(entry['leftover_modes']) or '-', entry['stale_copies_removed_by_next_runs'],
                entry['stale_copies_surviving_a_cleaning_run'], entry['left_after_final_run'], entry['locks_blocked_after_kill'],
                entry['window_ms'], entry['seconds']))
        for entry in kills:
            holding = ', %d kills while holding the entry lock' % entry['kills_holding_a_lock'] if entry['kills_holding_a_lock'] else ''
            print('%s: kills inside the window, by the last file operation begun: %s (seed %s, pause %s ms per operation; '
                  'at most %d temporary copies at once%s)' % (
                      entry['series'], steps(entry), entry['seed'], entry['pause_ms'], entry['max_leftovers_at_once'], holding))
    for entry in load(directory, 'full_disk_module.json'):
        print('full disk, module: tmpfs %s, %d bytes of filler, %d bytes free; force: true -> "%s"; tokens issued %d; '
              'files byte for byte unchanged: %s; kept token returned without a write: %s; TokenFile.write -> "%s" (errno %s)' % (
                  entry['tmpfs_size'], entry['filler_bytes'], entry['free_bytes'], entry['message'], entry['tokens_issued'],
                  entry['files_unchanged'], entry['kept_token_returned'], entry['token_file_write_error'], entry['token_file_write_errno']))
    for entry in load(directory, 'full_disk_lookup.json'):
        for name, warning in sorted(entry['warnings'].items()):
            print('full disk, lookup (%s): token returned (one the server issued): %s; warning shown %d time(s), %d in the task result: "%s"' % (
                name, entry['returned_issued_token'].get(name), warning['in_output'], warning['in_result'], warning['expected']))
        print('full disk, lookup: tokens issued %d, files added to the existing cache: %s, files in the fresh cache_dir: %s' % (
            entry['tokens_issued'], entry['existing_cache_added'] or 'none', entry['fresh_cache_files']))


if __name__ == '__main__':
    main(sys.argv[1])
