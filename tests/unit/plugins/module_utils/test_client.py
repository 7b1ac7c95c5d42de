# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client operations: the site URL check, access_info and issue_auth_token (against a scripted site)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from ansible_collections.unicore.auth.plugins.module_utils._client import UnicoreClient
from ansible_collections.unicore.auth.plugins.module_utils._credentials import PasswordCredential
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._urls import checked_site_url

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
SITE_DN = 'CN=DEMO-SITE, O=UNICORE, C=EU'
# As a site issues it: sub, iat, exp.
ISSUED_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJDTj1EZW1vIFVzZXIiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.c2lnbmF0dXJl'
CLIENT = {
    'dn': 'CN=Demo User, O=UNICORE, C=EU',
    'xlogin': {'UID': 'demouser', 'availableUIDs': ['demouser'], 'group': 'demo', 'availableGroups': ['demo', 'hpc']},
    'role': {'selected': 'user', 'availableRoles': ['user']},
    'authenticationMethod': 'PASSWORD_FILE',
}


LOGIN = PasswordCredential('demouser', 'Pässw0rd-never-shown')


@pytest.fixture
def site_client(scripted_transport):
    """``site_client(script)``: (client, adapter) for a password login to the scripted site."""
    def build(script):
        transport, site = scripted_transport(LOGIN, script)
        return UnicoreClient(SITE, transport), site
    return build


def failure(operation, *args, **kwargs):
    """The message of the UnicoreError that ``operation`` raises; checks it holds neither the password nor its Basic value."""
    with pytest.raises(UnicoreError) as error:
        operation(*args, **kwargs)
    message = str(error.value)
    assert LOGIN.password not in message
    assert LOGIN.authorization_header().split(' ', 1)[1] not in message
    return message


@pytest.fixture
def token_reply(reply):
    def build(body=ISSUED_TOKEN + '\n', content_type='text/plain'):
        return reply(200, body, headers={'Content-Type': content_type})
    return build


def query_of(request):
    return parse_qs(urlsplit(request.url).query)


# ---------------------------------------------------------------- the site URL

@pytest.mark.parametrize('url, named', [
    (None, 'url is required'),
    ('', 'url is required'),
    ('   ', 'url is required'),
    ('ftp://site.example/DEMO-SITE/rest/core', 'is not an https:// URL'),
    ('site.example:8080/DEMO-SITE/rest/core', 'is not an https:// URL'),
    ('https://', 'is not an https:// URL'),
    ('https:///DEMO-SITE/rest/core', 'is not an https:// URL'),
    ('https://site.example:0/DEMO-SITE/rest/core', 'invalid port'),
    ('https://site.example/DEMO-SITE/rest/core?lifetime=60', 'must not have a query'),
    ('https://site.example/DEMO-SITE/rest/core#core', 'must not have a query or fragment'),
])
def test_unusable_site_url_is_refused_naming_url(url, named):
    message = failure(checked_site_url, url)
    assert message.startswith('url')
    assert named in message


@pytest.mark.parametrize('url_password', ['s3cret-in-url', 'pa/ss-in-url'])
def test_site_url_with_credentials_is_refused_without_showing_them(url_password):
    message = failure(checked_site_url, 'https://demouser:%s@site.example/DEMO-SITE/rest/core' % url_password)
    assert url_password not in message
    assert url_password.split('/')[-1] not in message


@pytest.mark.parametrize('url', [SITE, SITE + '/', '  %s/\n' % SITE])
def test_site_url_loses_a_trailing_slash_and_white_space(url):
    assert checked_site_url(url) == SITE


def test_plain_http_site_url_is_accepted():
    assert checked_site_url('http://localhost:8080/DEMO-SITE/rest/core') == 'http://localhost:8080/DEMO-SITE/rest/core'


# ---------------------------------------------------------------- issue_auth_token

def test_issue_auth_token_asks_for_text_plain_and_returns_the_token(site_client, token_reply):
    client, site = site_client([token_reply()])
    assert client.issue_auth_token() == ISSUED_TOKEN
    request = site.requests[0]
    assert request.headers['Accept'] == 'text/plain'
    assert urlsplit(request.url).path == '/DEMO-SITE/rest/core/token'


def test_issued_token_is_limited_by_default_and_lifetime_is_left_to_the_server(site_client, token_reply):
    client, site = site_client([token_reply()])
    client.issue_auth_token()
    assert query_of(site.requests[0]) == {'limited': ['true']}


def test_lifetime_and_renewable_are_sent_only_when_asked_for(site_client, token_reply):
    client, site = site_client([token_reply()])
    client.issue_auth_token(lifetime=3600, renewable=True, limited=False)
    assert query_of(site.requests[0]) == {'lifetime': ['3600'], 'renewable': ['true']}


@pytest.mark.parametrize('lifetime', [0, -60, True, '3600', 3600.5])
def test_unusable_lifetime_is_refused_before_any_request(site_client, lifetime):
    client, site = site_client([])
    assert 'lifetime must be a positive whole number of seconds' in failure(client.issue_auth_token, lifetime=lifetime)
    assert site.requests == []


def test_empty_token_body_fails_clearly(site_client, token_reply):
    client = site_client([token_reply(body='\n')])[0]
    assert failure(client.issue_auth_token) == 'GET %s/token returned an empty body instead of a token' % SITE


def test_body_that_is_not_a_token_fails_naming_the_content_type(site_client, token_reply):
    client = site_client([token_reply(body='<html>Maintenance</html>', content_type='text/html')])[0]
    message = failure(client.issue_auth_token)
    assert 'is not a token' in message
    assert 'Content-Type: text/html' in message
    assert '%s/token' % SITE in message


# ---------------------------------------------------------------- access_info

def test_access_info_returns_the_client_object_as_sent_and_the_server_version_and_dn(site_client, reply):
    server = {'version': '10.2.0', 'siteName': 'DEMO-SITE',
              'credential': {'dn': SITE_DN, 'issuer': 'CN=Demo CA, O=UNICORE, C=EU', 'expires': '2030-01-01T00:00:00Z'}}
    client, site = site_client([reply(200, json_body={'client': CLIENT, 'server': server, '_links': {'self': {'href': SITE}}})])
    assert client.access_info() == {'client': CLIENT, 'server': {'version': '10.2.0', 'dn': SITE_DN}}
    assert site.requests[0].headers['Accept'] == 'application/json'


def test_access_info_without_server_details_reports_them_as_none(site_client, reply):
    client = site_client([reply(200, json_body={'client': CLIENT})])[0]
    assert client.access_info()['server'] == {'version': None, 'dn': None}


@pytest.mark.parametrize('body', [{'server': {'version': '10.2.0'}}, {'client': 'CN=Demo User'}, ['client']])
def test_access_info_fails_clearly_on_json_without_a_client_object(site_client, reply, body):
    client = site_client([reply(200, json_body=body)])[0]
    message = failure(client.access_info)
    assert 'without a "client" object' in message
    assert SITE in message


# ---------------------------------------------------------------- from options

def test_building_a_client_from_options_sends_no_request(options, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError('a request was sent while building the client')
    monkeypatch.setattr(requests.adapters.HTTPAdapter, 'send', no_network)
    client = UnicoreClient.from_options(options(url=SITE + '/', username='demouser', password='test123'))
    assert client.url == SITE


def test_client_from_options_sends_credential_preferences_tls_and_timeout_settings(options, mount_site, reply):
    client = UnicoreClient.from_options(options(url=SITE, username='demouser', password='test123',
                                                validate_certs=False, timeout=5,
                                                preferences={'uid': 'demouser', 'group': 'hpc'}))
    site = mount_site(client.transport, [reply(200, json_body={'client': CLIENT})])
    client.access_info()
    headers, settings = site.headers[0], site.send_kwargs[0]
    assert headers['Authorization'] == PasswordCredential('demouser', 'test123').authorization_header()
    assert headers['X-UNICORE-User-Preferences'] == 'uid:demouser,group:hpc'
    assert (settings['verify'], settings['timeout']) == (False, 5)


def test_client_from_options_refuses_a_bad_url_before_the_credential(options):
    message = failure(UnicoreClient.from_options, options(url='ftp://site.example/rest/core'))
    assert message.startswith('url: ftp://site.example/rest/core')
