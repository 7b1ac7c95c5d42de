# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test server's control API, for the pytest targets (their conftest puts this directory on sys.path)."""

from __future__ import annotations

import requests


class ControlApi:
    """The test server's counters, faults, sessions and OIDC tokens (no authentication)."""

    def __init__(self, fixtures):
        self.url = fixtures['control_url']
        self.ca = fixtures['ca_cert']

    def _call(self, method, path, body=None):
        response = requests.request(method, self.url + path, json=body, verify=self.ca, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def stats(self):
        return self._call('GET', '/stats')

    def reset(self):
        self._call('POST', '/reset')

    def expire_sessions(self):
        self._call('POST', '/sessions/expire')

    def expire_oidc_access_tokens(self):
        self._call('POST', '/oidc/expire-access-tokens')

    def expire_oidc_refresh_tokens(self):
        self._call('POST', '/oidc/expire-refresh-tokens')

    def oidc_tokens(self):
        """How many of the OIDC provider's access and refresh tokens are active."""
        return self._call('GET', '/oidc/tokens')

    def add_faults(self, *faults):
        self._call('POST', '/faults', {'faults': list(faults)})

    def requests(self, last):
        return self._call('GET', '/requests?last=%d' % last)['requests']
