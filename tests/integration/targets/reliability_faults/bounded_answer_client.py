# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper of the reliability_faults target: read one answer through the collection's client, as a module does.

    python bounded_answer_client.py token|json URL CA

``token`` asks URL/token for a token, ``json`` reads the site base URL as
JSON. Prints one JSON line: ``failed``, ``message`` (the UnicoreError's), ``seconds`` and
``peak_mib``, the process's own peak resident memory. test_bounded_answers.py
runs it and measures the peak of the whole process tree as well.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from ansible_collections.unicore.auth.plugins.module_utils._client import UnicoreClient
from ansible_collections.unicore.auth.plugins.module_utils._credentials import AnonymousCredential
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._transport import Transport


def main(kind, url, ca):
    # The answers of the test server's faults come before any authentication: anonymous will do.
    client = UnicoreClient(url, Transport(AnonymousCredential(), ca_path=ca))
    started = time.monotonic()
    try:
        if kind == 'token':
            client.issue_auth_token()
        else:
            client.site_properties()
        outcome = {'failed': False}
    except UnicoreError as error:
        outcome = {'failed': True, 'message': str(error)}
    outcome['seconds'] = round(time.monotonic() - started, 2)
    outcome['peak_mib'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    print(json.dumps(outcome))


if __name__ == '__main__':
    main(*sys.argv[1:4])
