# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the crash and full-disk tests: those of reliability_support.py, the tokens issued, tokens compared by digest."""

from __future__ import annotations

import hashlib
import os
import sys
import time

import pytest

# What the pytest targets share (needs/target/setup_unicore_testserver).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'setup_unicore_testserver', 'files'))
# pylint: disable=unused-import,wrong-import-position
from reliability_support import Playbooks, config_path, control, figures, jwt_parts, normalised_dn, scratch, server, site, work_dir  # noqa: E402,F401

HERE = os.path.dirname(os.path.abspath(__file__))


def digest(data):
    """Tokens are compared by digest: a failing assertion shows its values, and a token is a secret."""
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode('utf-8')).hexdigest()


def token_problem(token, site_fixture):
    """Why ``token`` is not a whole, live token of the site (None when it is one)."""
    try:
        claims = jwt_parts(token)[1]
    except (ValueError, UnicodeError) as exc:
        return 'not a whole token (%d characters): %s' % (len(token), exc)
    if normalised_dn(claims.get('iss')) != normalised_dn(site_fixture['dn']):
        return 'issued by another site'
    if not isinstance(claims.get('exp'), int) or claims['exp'] <= time.time():
        return 'expired or without expiry'
    return None


class IssuedTokens:
    """The tokens the test server issued since ``mark()``, from its issued-tokens log (one token a line)."""

    def __init__(self, path):
        self.path = path
        self.offset = 0

    def mark(self):
        self.offset = os.path.getsize(self.path)

    def since_mark(self):
        with open(self.path, 'rb') as handle:
            handle.seek(self.offset)
            return [line.strip().decode('ascii') for line in handle if line.strip()]


@pytest.fixture(scope='session')
def playbooks(config_path, work_dir):  # pylint: disable=redefined-outer-name
    return Playbooks(HERE, config_path, work_dir)


@pytest.fixture(scope='session')
def issued_tokens(server):  # pylint: disable=redefined-outer-name
    return IssuedTokens(server['issued_tokens_log'])


@pytest.fixture(scope='session')
def login(server, site):  # pylint: disable=redefined-outer-name
    """The options of a password login at DEMO-SITE, as the module and the lookup take them."""
    return {'url': site['url'], 'ca_path': server['ca_cert'], 'username': 'demouser',
            'password': server['users']['demouser']['password'], 'security_sessions': False}
