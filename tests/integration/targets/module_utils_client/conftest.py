# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures that connect module_utils to the running UNICORE test server."""

from __future__ import annotations

import json
import os
import sys

import pytest
import yaml

from ansible_collections.unicore.auth.plugins.module_utils._argument_spec import unicore_argument_spec
from ansible_collections.unicore.auth.plugins.module_utils._client import UnicoreClient
from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter

# The control API client that the pytest targets share (needs/target/setup_unicore_testserver).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, 'setup_unicore_testserver', 'files'))
from control_api import ControlApi


def load_server_fixtures():
    """The test server's fixtures.json, as written by the server the harness started."""
    with open(os.environ['UNICORE_INTEGRATION_CONFIG']) as config_file:
        config = yaml.safe_load(config_file)
    with open(config['unicore_testserver_fixtures']) as fixtures_file:
        return json.load(fixtures_file)


def pytest_generate_tests(metafunc):
    # One test per key registered for demouser, named after the key.
    if 'registered_key' in metafunc.fixturenames:
        keys = load_server_fixtures()['keys']
        names = sorted(name for name, key in keys.items() if key.get('registered_for') == 'demouser')
        metafunc.parametrize('registered_key', [keys[name] for name in names], ids=names)


@pytest.fixture(scope='session')
def server():
    return load_server_fixtures()


@pytest.fixture
def control(server):
    api = ControlApi(server)
    api.reset()
    yield api
    api.reset()


@pytest.fixture
def site_url(server):
    return server['sites']['DEMO-SITE']['url']


@pytest.fixture
def make_client(server, site_url):
    """Build a client from option values the way a module or the lookup would."""
    clients = []

    def build(**options):
        values = {name: spec.get('default') for name, spec in unicore_argument_spec().items()}
        values.update(url=site_url, ca_path=server['ca_cert'])
        values.update(options)
        client = UnicoreClient.from_options(OptionAdapter.from_dict(values))
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.transport.close()


@pytest.fixture
def demouser(server):
    return server['users']['demouser']


@pytest.fixture
def same_dn():
    """DNs compare as X.500 names: the server writes them without spaces after commas."""
    def normalised(dn):
        return ','.join(part.strip() for part in dn.split(','))
    return lambda first, second: normalised(first) == normalised(second)
