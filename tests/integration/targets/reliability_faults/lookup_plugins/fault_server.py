# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper of the reliability_faults target (not part of the collection).

Talks to the test server's control API from the controller, without a module
run per call, so that the fault matrix stays fast. The module runs and the
lookup runs use different sites at the same time, so nothing here resets the
server: each call looks at one site's counters and requests only.

    lookup('fault_server', 'prepare', control_url=..., ca=..., site=..., faults=[...])
        the site's request counter and the time before the case, and the
        faults still pending for the site (a previous case left them: its
        client gave up earlier than expected); then scripts the new faults
    lookup('fault_server', 'observe', control_url=..., ca=..., site=..., since=<prepare result>,
           witness_log=..., settle=3)
        the site's requests since prepare (counted, and as logged) and what
        reached the redirect witness for the site's paths

``observe`` waits (up to ``settle`` seconds) until the request log holds as
many of the site's requests as the counter saw, since a request is logged
only once it has been answered.

``python fault_server.py reset CONTROL_URL CA`` resets the whole server (once,
before and after the matrix).
"""

from __future__ import annotations

import json
import ssl
import sys
import time
import urllib.request

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

DOCUMENTATION = r"""
name: fault_server
short_description: Control API of the UNICORE test server, for the reliability_faults target
description: Scripts faults, and reads one site's counters and requests.
options:
  _terms:
    description: C(prepare) or C(observe).
    required: true
"""


def _call(control_url, ca, method, path, body=None):
    data = None if body is None else json.dumps(body).encode('utf-8')
    request = urllib.request.Request(control_url + path, data=data, method=method,
                                     headers={'Content-Type': 'application/json'} if data else {})
    context = ssl.create_default_context(cafile=ca)
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        return json.loads(response.read().decode('utf-8') or 'null')


def _of_site(path, site):
    return path.startswith('/%s/' % site) or path == '/' + site


def _site_count(control_url, ca, site):
    return _call(control_url, ca, 'GET', '/stats')['requests']['per_site'].get(site, 0)


def prepare(control_url, ca, site, faults=None):
    pending = [fault for fault in _call(control_url, ca, 'GET', '/faults')['pending'] if _of_site(fault['path_prefix'], site)]
    before = {'count': _site_count(control_url, ca, site), 'time': time.time(), 'leftover_faults': pending}
    if faults:
        _call(control_url, ca, 'POST', '/faults', {'faults': faults})
    return before


def observe(control_url, ca, site, since, witness_log=None, settle=3.0):
    deadline = time.monotonic() + float(settle)
    while True:
        counted = _site_count(control_url, ca, site) - since['count']
        logged = [entry for entry in _call(control_url, ca, 'GET', '/requests')['requests']
                  if _of_site(entry['path'], site) and entry['time'] >= since['time']]
        if len(logged) >= counted or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    witness = []
    if witness_log:
        with open(witness_log, encoding='utf-8') as log:
            witness = [entry for entry in (json.loads(line) for line in log if line.strip())
                       if _of_site(entry['path'], site) and entry['time'] >= since['time']]
    return {'finished': time.time(), 'site_requests': counted, 'requests': logged, 'witness': witness}


def reset(control_url, ca):
    _call(control_url, ca, 'POST', '/reset')


class LookupModule(LookupBase):
    """prepare / observe, see the module docstring."""

    def run(self, terms, variables=None, **kwargs):
        if len(terms) != 1 or terms[0] not in ('prepare', 'observe'):
            raise AnsibleLookupError("fault_server takes one term: 'prepare' or 'observe'")
        try:
            if terms[0] == 'prepare':
                return [prepare(kwargs['control_url'], kwargs['ca'], kwargs['site'], kwargs.get('faults'))]
            return [observe(kwargs['control_url'], kwargs['ca'], kwargs['site'], kwargs['since'],
                            kwargs.get('witness_log'), kwargs.get('settle', 3.0))]
        except (OSError, ValueError, KeyError) as error:
            raise AnsibleLookupError('fault_server %s failed: %s' % (terms[0], error))


if __name__ == '__main__':
    if len(sys.argv) != 4 or sys.argv[1] != 'reset':
        sys.exit('usage: fault_server.py reset CONTROL_URL CA')
    reset(sys.argv[2], sys.argv[3])
