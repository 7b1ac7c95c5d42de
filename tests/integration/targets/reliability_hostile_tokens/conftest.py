# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the hostile-token tests: those of reliability_support.py, a token the site issued, and the hostile values made of it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys

import pytest
import requests

# What the pytest targets share (needs/target/setup_unicore_testserver).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'setup_unicore_testserver', 'files'))
# pylint: disable=unused-import,wrong-import-position
from reliability_support import Playbooks, config_path, control, figures, jwt_parts, scratch, server, site, work_dir  # noqa: E402,F401

HERE = os.path.dirname(os.path.abspath(__file__))


def digest(data):
    """Tokens are compared by digest: a failing assertion shows its values, and a token is a secret."""
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode('utf-8')).hexdigest()


def b64url(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode('utf-8')).rstrip(b'=').decode('ascii')


def with_claims(token, **changes):
    """``token`` with its claims changed (None: left out), its header and signature kept: what a forged or broken answer looks like."""
    header, claims, signature = token.split('.')
    claims = dict(jwt_parts(token)[1], **changes)
    claims = dict((name, value) for name, value in claims.items() if value is not None)
    return '%s.%s.%s' % (header, b64url(claims), signature)


@pytest.fixture(scope='session')
def playbooks(config_path, work_dir):  # pylint: disable=redefined-outer-name
    return Playbooks(HERE, config_path, work_dir)


@pytest.fixture(scope='session')
def password(server):  # pylint: disable=redefined-outer-name
    return server['users']['demouser']['password']


@pytest.fixture(scope='session')
def base_vars(server, site, password):  # pylint: disable=redefined-outer-name
    """The variables every case playbook gets."""
    return {'site_url': site['url'], 'ca_path': server['ca_cert'], 'demo_password': password}


@pytest.fixture(scope='session')
def issued_token(server, site, password):  # pylint: disable=redefined-outer-name
    """A limited token that DEMO-SITE issued (valid for an hour): the stuff the hostile answers are made of."""
    response = requests.get(site['url'] + '/token', params={'lifetime': '3600', 'limited': 'true'}, auth=('demouser', password),
                            headers={'Accept': 'text/plain'}, verify=server['ca_cert'], timeout=30)
    response.raise_for_status()
    return response.text.strip()
