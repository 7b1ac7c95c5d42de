# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The figures of security_sessions_kept as a Markdown table, in the order the scenarios ran."""

from __future__ import annotations

import json
import os
import sys

COLUMNS = ('requests_total', 'full_authentications_total', 'session_reuses', 'sessions_rejected_432', 'forbidden_403', 'tokens_issued_total')


def main(directory):
    rows = []
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        with open(path, encoding='utf-8') as handle:
            rows.append((os.stat(path).st_mtime, json.load(handle)))
    print('### Security sessions kept between runs (test server counters)\n')
    print('| scenario | hosts | module | requests | full authentications | session reuses | 432 | 403 | tokens issued |')
    print('|---|---|---|---|---|---|---|---|---|')
    for _mtime, row in sorted(rows, key=lambda item: item[0]):
        seen = row['seen']
        print('| %s | %s | %s | %s |' % (row['scenario'], row['hosts'], row['module'], ' | '.join(str(seen.get(name, '')) for name in COLUMNS)))


if __name__ == '__main__':
    main(sys.argv[1])
