# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the unit tests of the plugins."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests
import yaml
from requests.adapters import BaseAdapter

from ansible import constants as C
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible.parsing.yaml.loader import AnsibleLoader
from ansible.template import Templar
from ansible.utils.plugin_docs import add_fragments

from ansible_collections.unicore.auth.plugins.doc_fragments import connection, credentials, token
from ansible_collections.unicore.auth.plugins.lookup import unicore_options, unicore_token
from ansible_collections.unicore.auth.plugins.module_utils import _client
from ansible_collections.unicore.auth.tests.unit.plugins.ansible_core_compat import trust_as_template

LOOKUP_NAME = 'unicore.auth.unicore_token'
SITE_DN = 'CN=DEMO-SITE,O=UNICORE,C=EU'
# The site and the login of the tests that run the whole lookup against the scripted site (the ``site`` fixture).
SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
PASSWORD = 'Pässw0rd-never-shown'
LOGIN = {'url': SITE, 'username': 'demouser', 'password': PASSWORD, 'retries': 0}
VAULT_PASSWORD = b'vault-password-for-tests'

FRAGMENTS = {
    'unicore.auth.connection': connection.ModuleDocFragment,
    'unicore.auth.credentials': credentials.ModuleDocFragment,
    'unicore.auth.token': token.ModuleDocFragment,
}


class FragmentLoader:
    """Finds this collection's doc fragments by FQCN, as the real fragment loader does (and nothing else).

    Finding ``unicore.auth.*`` fragments by name needs the collection finder,
    which a unit test run does not always have.
    """

    def get(self, name, *args, **kwargs):
        fragment = FRAGMENTS.get(name)
        return None if fragment is None else type('ModuleDocFragment', (fragment,), {'ansible_name': name})


@pytest.fixture
def documented_lookup_options():
    """The unicore_token lookup's options as Ansible's plugin loader reads them: DOCUMENTATION with its fragments merged in."""
    documentation = yaml.load(trust_as_template(unicore_token.DOCUMENTATION), Loader=AnsibleLoader)
    add_fragments(documentation, unicore_token.__file__, fragment_loader=FragmentLoader())
    return documentation['options']


@pytest.fixture
def options_lookup(loader):
    """``options_lookup(variables)``: a unicore_options LookupModule, its options registered as the plugin loader registers them."""
    documentation = yaml.load(trust_as_template(unicore_options.DOCUMENTATION), Loader=AnsibleLoader)
    add_fragments(documentation, unicore_options.__file__, fragment_loader=FragmentLoader())
    C.config.initialize_plugin_configuration_definitions('lookup', 'unicore.auth.unicore_options', documentation['options'])

    def build(variables):
        lookup = unicore_options.LookupModule(loader=loader, templar=Templar(loader=loader, variables=variables))
        lookup._load_name = 'unicore.auth.unicore_options'
        return lookup
    return build


def register_lookup_options(options):
    """Give Ansible's config manager the lookup's option definitions, as the plugin loader does when loading it."""
    C.config.initialize_plugin_configuration_definitions('lookup', LOOKUP_NAME, options)


@pytest.fixture
def loader():
    data_loader = DataLoader()
    data_loader.set_vault_secrets([('default', VaultSecret(VAULT_PASSWORD))])
    return data_loader


@pytest.fixture
def vault_encrypt():
    """``vault_encrypt(text)``: the text as ansible-vault encrypts it with the password the ``loader`` knows."""
    return VaultLib([('default', VaultSecret(VAULT_PASSWORD))]).encrypt


@pytest.fixture
def make_lookup(loader, documented_lookup_options):
    """``make_lookup(variables)``: a LookupModule as Ansible hands it a task's variables."""
    register_lookup_options(documented_lookup_options)

    def build(variables):
        lookup = unicore_token.LookupModule(loader=loader, templar=Templar(loader=loader, variables=variables))
        lookup._load_name = LOOKUP_NAME
        return lookup
    return build


class TokenSite(BaseAdapter):
    """Answers every GET with the next issued token and records the request."""

    def __init__(self, site):
        super().__init__()
        self.site = site

    def send(self, request, **kwargs):
        self.site.requests.append(request)
        response = requests.Response()
        response.status_code = 200
        response.headers['Content-Type'] = 'text/plain'
        response._content = (self.site.tokens.pop(0) + '\n').encode('ascii')
        response.request, response.url, response.encoding = request, request.url, 'utf-8'
        return response

    def close(self):
        pass


class Site:
    """The tokens the site issues, in turn, and the requests it got."""

    def __init__(self):
        self.tokens = []
        self.requests = []

    def will_issue(self, serial=0, valid_for=3600):
        """Queue a new limited token as a UNICORE site issues it (nobody here checks the signature); return it."""
        expires = int(time.time()) + valid_for
        claims = {'sub': 'CN=Demo User,O=UNICORE,C=EU', 'iss': SITE_DN, 'aud': SITE_DN, 'iat': expires - 3600, 'exp': expires,
                  'jti': 'token-%d' % serial}
        token = '%s.%s.c2lnbmF0dXJl' % (_b64url({'alg': 'RS256'}), _b64url(claims))
        self.tokens.append(token)
        return token


def _b64url(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode('utf-8')).rstrip(b'=').decode('ascii')


@pytest.fixture
def site(monkeypatch):
    site = Site()
    real_transport_from_options = _client.transport_from_options

    def transport_from_options(options, credential=None):
        transport = real_transport_from_options(options, credential)
        for scheme in ('https://', 'http://'):
            transport._http.mount(scheme, TokenSite(site))
        return transport

    monkeypatch.setattr(_client, 'transport_from_options', transport_from_options)
    return site


@pytest.fixture
def cache_dir(tmp_path):
    """The lookup's cache_dir in the tests that run it whole."""
    return tmp_path / 'cache'


@pytest.fixture
def lookup(make_lookup, cache_dir):
    """``lookup(**given)``: the token from a run of the lookup with these options beside LOGIN and cache_dir."""
    def run_lookup(**given):
        options = dict(LOGIN, cache_dir=str(cache_dir))
        options.update(given)
        return make_lookup({}).run([], variables={}, **options)[0]
    return run_lookup
