# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PyUNICORE 2.0.2, the official client, as an independent witness of the test server and of our client."""

from __future__ import annotations

import ssl

import httpx
import pytest
from pyunicore import client as pyunicore_client
from pyunicore import credentials as pyunicore_credentials

from ansible_collections.unicore.auth.plugins.module_utils._credentials import BasicTokenCredential, PasswordCredential


@pytest.fixture
def pyunicore_site(server, site_url):
    def connect(credential, url=site_url):
        transport = pyunicore_client.Transport(credential, verify=ssl.create_default_context(cafile=server['ca_cert']))
        return pyunicore_client.Client(transport, url)
    return connect


def test_password_login_gives_the_same_client_object_as_ours(pyunicore_site, make_client, demouser):
    theirs = pyunicore_site(pyunicore_credentials.UsernamePassword('demouser', demouser['password'])).access_info()
    ours = make_client(username='demouser', password=demouser['password']).access_info()['client']
    assert theirs == ours


def test_group_switch(pyunicore_site, demouser):
    site = pyunicore_site(pyunicore_credentials.UsernamePassword('demouser', demouser['password']))
    site.transport.preferences = 'group:hpc'
    site.cache_time = 0
    assert site.access_info()['xlogin']['group'] == 'hpc'


def test_token_issue_and_etd_login(pyunicore_site, demouser):
    site = pyunicore_site(pyunicore_credentials.UsernamePassword('demouser', demouser['password']))
    token = site.issue_auth_token(lifetime=300, renewable=True)
    etd_site = pyunicore_site(pyunicore_credentials.OIDCToken(token))
    assert etd_site.access_info()['authenticationMethod'] == 'ETD'


def test_non_renewable_refusal(pyunicore_site, demouser):
    site = pyunicore_site(pyunicore_credentials.UsernamePassword('demouser', demouser['password']))
    token = site.issue_auth_token(lifetime=300, renewable=False)
    etd_site = pyunicore_site(pyunicore_credentials.OIDCToken(token))
    with pytest.raises(httpx.HTTPError) as failure:
        etd_site.issue_auth_token(lifetime=300)
    assert '403' in str(failure.value)
    assert 'non-renewable' in str(failure.value)


def test_our_password_header_equals_pyunicore(demouser):
    theirs = pyunicore_credentials.UsernamePassword('demouser', demouser['password']).get_auth_header()
    assert PasswordCredential('demouser', demouser['password']).authorization_header() == theirs


def test_our_basic_token_header_equals_pyunicore():
    value = 'ZGVtb3VzZXI6dGVzdDEyMw=='
    assert BasicTokenCredential(value).authorization_header() == pyunicore_credentials.BasicToken(value).get_auth_header()
