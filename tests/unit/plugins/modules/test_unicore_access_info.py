# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""unicore_access_info as Ansible runs it: main() with module args, its JSON result on stdout.

No network: ``requests``' HTTPAdapter.send answers from a script, so everything
above it (module, client, transport, credentials) is the real code.
"""

from __future__ import annotations

import pytest
import yaml

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


from ansible_collections.unicore.auth.plugins.module_utils import _jwt_credentials, _private_keys
from ansible_collections.unicore.auth.plugins.modules import unicore_access_info

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
SITE_DN = 'CN=DEMO-SITE,O=UNICORE,C=EU'
USER_DN = 'CN=Demo User,O=UNICORE,C=EU'
PASSWORD = 'Pässw0rd-never-shown'
LOGIN = {'url': SITE, 'username': 'demouser', 'password': PASSWORD}
CLIENT = {
    'dn': USER_DN,
    'xlogin': {'UID': 'demouser', 'availableUIDs': ['demouser'], 'group': 'demo', 'availableGroups': ['demo', 'hpc']},
    'role': {'selected': 'user', 'availableRoles': ['user']},
    'authenticationMethod': 'PASSWORD_FILE',
}


@pytest.fixture(scope='module')
def key_text():
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                             serialization.NoEncryption()).decode('ascii')


@pytest.fixture
def run_module(module_runner):
    """``run_module(**args)``: run the module as Ansible would; returns (result, stdout)."""
    return lambda **args: module_runner(unicore_access_info.main, **args)


def warnings_of(result):
    return [warning['event']['msg'] if isinstance(warning, dict) else warning for warning in result.get('warnings', [])]


def site_properties(client):
    return {'client': client, 'server': {'version': '10.2.0', 'credential': {'dn': SITE_DN}}}


# ---------------------------------------------------------------- success

@pytest.mark.parametrize('check_mode', [False, True])
def test_the_module_returns_what_the_login_maps_to_and_never_changes_anything(site, run_module, check_mode):
    site.answers(200, site_properties(CLIENT))
    result, out = run_module(_ansible_check_mode=check_mode, **LOGIN)
    assert result['changed'] is False
    assert 'failed' not in result
    assert result['access_info'] == {
        'dn': USER_DN, 'role': 'user', 'available_roles': ['user'], 'uid': 'demouser', 'available_uids': ['demouser'],
        'group': 'demo', 'available_groups': ['demo', 'hpc'], 'supplementary_groups': [], 'queues': [],
        'authentication_method': 'PASSWORD_FILE', 'raw': CLIENT,
    }
    assert result['server'] == {'version': '10.2.0', 'dn': SITE_DN}
    assert warnings_of(result) == []
    assert PASSWORD not in out
    assert len(site.requests) == 1


def test_the_documented_return_values_are_the_returned_ones(site, run_module):
    site.answers(200, site_properties(CLIENT))
    result, dummy = run_module(**LOGIN)
    documented = yaml.safe_load(unicore_access_info.RETURN)
    assert sorted(documented['access_info']['contains']) == sorted(result['access_info'])
    assert sorted(documented['server']['contains']) == sorted(result['server'])


def test_an_unmapped_login_is_reported_when_require_authenticated_is_false(site, run_module):
    site.answers(200, site_properties({'dn': 'CN=Nobody', 'role': {'selected': 'anonymous'}}))
    result, dummy = run_module(require_authenticated=False, **LOGIN)
    assert (result['access_info']['role'], result['changed']) == ('anonymous', False)


# ---------------------------------------------------------------- failures: msg, url, status, no traceback

def test_a_refused_login_fails_with_message_url_and_status_and_no_traceback(site, run_module):
    site.answers(403, {'errorMessage': 'Access denied'})
    result, out = run_module(**LOGIN)
    assert result['failed'] is True
    assert result['msg'].startswith('GET %s failed: HTTP 403 Forbidden: Access denied' % SITE)
    assert (result['url'], result['status']) == (SITE, 403)
    assert 'exception' not in result
    assert 'Traceback' not in out
    assert PASSWORD not in out


def test_an_unmapped_login_fails_naming_the_url_without_a_status(site, run_module):
    site.answers(200, site_properties({'dn': 'CN=Nobody', 'role': {'selected': 'anonymous'}}))
    result, dummy = run_module(**LOGIN)
    assert result['failed'] is True
    assert 'maps to no user at this site' in result['msg']
    assert result['url'] == SITE
    assert 'status' not in result


def test_a_refused_preference_lists_the_choices(site, run_module):
    site.answers(403)
    site.answers(200, site_properties(CLIENT))
    result, dummy = run_module(preferences={'uid': 'root'}, **LOGIN)
    assert result['msg'] == ('%s refused the requested preferences (uid:root). Available to this user: '
                             'uids: demouser; groups: demo, hpc; roles: user' % SITE)
    assert (result['url'], result['status']) == (SITE, 403)


def test_options_refused_offline_fail_without_a_request(site, run_module):
    result, dummy = run_module(url=SITE, username='demouser')
    assert result['failed'] is True
    assert result['msg'].startswith('username is set but no password')
    assert site.requests == []


def test_a_missing_url_is_refused_naming_url_and_the_registry_alternative(site, run_module):
    result, dummy = run_module(username='demouser', password=PASSWORD)
    assert result['failed'] is True
    assert result['msg'].startswith('url is required: give url, the site REST base')
    assert 'or registry_url and site' in result['msg']
    assert site.requests == []


@pytest.mark.parametrize('library', ['PyJWT', 'cryptography'])
def test_a_missing_library_is_reported_with_ansibles_missing_required_lib_text(site, run_module, monkeypatch, key_text, library):
    if library == 'PyJWT':
        monkeypatch.setattr(_jwt_credentials, 'HAS_JWT', False)
    else:
        monkeypatch.setattr(_private_keys, 'HAS_CRYPTOGRAPHY', False)
    result, out = run_module(url=SITE, username='demouser', identity_content=key_text)
    assert result['failed'] is True
    assert result['msg'].startswith('auth_method=ssh_key needs the Python library %s: ' % library)
    assert 'Failed to import the required Python library (%s)' % library in result['msg']
    assert 'exception' not in result
    for line in key_text.splitlines()[1:-1]:
        assert line not in out
    assert site.requests == []


# ---------------------------------------------------------------- a site named by a plain-HTTP Registry (the test server has no plain-HTTP listener)

def test_an_allowed_http_registry_and_the_http_site_it_names_are_each_warned_about(site, run_module):
    registry_url = 'http://registry.example:8080/REGISTRY/rest/registries/default_registry'
    site.answers(200, {'entries': [{'href': 'http://site.example:8080/DEMO-SITE/rest/core', 'type': 'CoreServices'}]})
    site.answers(200, site_properties(CLIENT))
    result, dummy = run_module(registry_url=registry_url, site='DEMO-SITE', allow_http=True, username='demouser', password=PASSWORD)
    assert result.get('failed') is not True, result
    assert [request.url for request in site.requests] == [registry_url, 'http://site.example:8080/DEMO-SITE/rest/core']
    assert 'Authorization' not in site.requests[0].headers
    assert warnings_of(result) == [
        'registry_url: %s is plain HTTP (allow_http is true): credentials and tokens cross the network unencrypted' % registry_url,
        'site DEMO-SITE: http://site.example:8080/DEMO-SITE/rest/core is plain HTTP (allow_http is true): '
        'credentials and tokens cross the network unencrypted']


def test_an_http_site_named_by_the_registry_is_refused_without_allow_http(site, run_module):
    site.answers(200, {'entries': [{'href': 'http://site.example:8080/DEMO-SITE/rest/core', 'type': 'CoreServices'}]})
    result, dummy = run_module(registry_url='https://registry.example/REGISTRY/rest/registries/default_registry', site='DEMO-SITE',
                               username='demouser', password=PASSWORD)
    assert result['failed'] is True
    assert result['msg'].startswith('site DEMO-SITE: http://site.example:8080/DEMO-SITE/rest/core is not HTTPS')
    assert len(site.requests) == 1  # the Registry only; the password went nowhere


def test_the_allowed_http_registry_is_warned_about_when_the_run_fails_too(site, run_module):
    registry_url = 'http://registry.example:8080/REGISTRY/rest/registries/default_registry'
    site.answers(404)
    result, dummy = run_module(registry_url=registry_url, site='DEMO-SITE', allow_http=True, username='demouser', password=PASSWORD)
    assert result['failed'] is True
    assert result['msg'] == ('GET %s failed: HTTP 404: no Registry there; check registry_url '
                             '(a UNICORE Registry is at https://host:8080/REGISTRY/rest/registries/default_registry)' % registry_url)
    assert warnings_of(result) == [
        'registry_url: %s is plain HTTP (allow_http is true): credentials and tokens cross the network unencrypted' % registry_url]
