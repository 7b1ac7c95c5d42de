# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the figures of the reliability_clocks target (for docs/reliability.md)."""

from __future__ import annotations

import os
import sys

# The figures' reader, shared with the other reliability targets (needs/target/setup_unicore_testserver).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'setup_unicore_testserver', 'files'))
# pylint: disable=wrong-import-position
from reliability_support import load_figures  # noqa: E402

CASES = (('clocks-module-agree', 'module, dest'), ('clocks-module-slow', 'module, dest'), ('clocks-module-fast', 'module, dest'),
         ('clocks-lookup-slow', 'lookup, 5 hosts x 2 tasks'), ('clocks-lookup-fast', 'lookup, 5 hosts x 2 tasks'))


def main(directory):
    print('== reliability_clocks: figures ==')
    print('| this machine\'s clock | who | runs | tokens issued | issued, by run | kept clock_offset | clock warnings |')
    print('|---|---|---|---|---|---|---|')
    for name, who in CASES:
        found = load_figures(directory, name + '.json')
        if not found:
            print('| %s | %s | (no figures: the test failed before it recorded them) | | | | |' % (name, who))
            continue
        entry = found[0]
        clock = 'agrees' if not entry['offset'] else '%d s %s' % (abs(entry['offset']), 'behind' if entry['offset'] < 0 else 'ahead')
        print('| %s | %s | %s | %d | %s | %s | %d |' % (
            clock, who, entry.get('runs', entry.get('plays')), entry['tokens'], ', '.join(str(issued) for issued in entry.get('issued', [])) or '-',
            entry.get('kept_offset', '-'), entry['warnings']))


if __name__ == '__main__':
    main(sys.argv[1])
