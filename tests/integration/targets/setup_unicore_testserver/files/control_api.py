# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test server's control API, for the pytest targets (their conftest puts this directory on sys.path)."""

from __future__ import annotations

import os
import shutil

import requests

# Where the modules and the lookup keep security sessions by default (security_session_dir).
KEPT_SESSIONS = os.path.expanduser('~/.cache/unicore.auth/security-sessions')


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
        """Zero the counters, clear faults and the request log, and forget the security sessions kept on this machine.

        The last so that the counts from here on start, as on a fresh machine,
        with a full authentication (security_session_dir's default place).
        """
        self._call('POST', '/reset')
        shutil.rmtree(KEPT_SESSIONS, ignore_errors=True)

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

    def faults(self):
        """The pending faults (each with ``matched`` and ``applied`` by action) and ``seed``."""
        return self._call('GET', '/faults')

    def seed_faults(self, seed):
        """Start the random numbers of the faults that apply at random (``probability``, ``actions``) afresh from ``seed``."""
        self._call('POST', '/faults/seed', {'seed': seed})

    def requests(self, last):
        return self._call('GET', '/requests?last=%d' % last)['requests']
