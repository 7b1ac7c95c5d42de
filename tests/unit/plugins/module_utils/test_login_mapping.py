# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a login maps to: the normalised access_info, unmapped logins and refused preferences.

The site is scripted (``scripted_transport`` from conftest): the real client and
transport run, only the answers are canned.
"""

from __future__ import annotations

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._client import UnicoreClient
from ansible_collections.unicore.auth.plugins.module_utils._credentials import AnonymousCredential, PasswordCredential
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._login_mapping import fetch_access_info, normalised_access_info
from ansible_collections.unicore.auth.plugins.module_utils._token_request import TokenRequest

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
SITE_DN = 'CN=DEMO-SITE, O=UNICORE, C=EU'
USER_DN = 'CN=Demo User, O=UNICORE, C=EU'
PASSWORD = 'Pässw0rd-never-shown'
PREFERENCES = 'X-UNICORE-User-Preferences'

MAPPED = {
    'dn': USER_DN,
    'xlogin': {'UID': 'demouser', 'availableUIDs': ['demouser', 'demo2'], 'group': 'demo',
               'availableGroups': ['demo', 'hpc'], 'selectedSupplementaryGroups': ['hpc']},
    'role': {'selected': 'user', 'availableRoles': ['user', 'admin']},
    'queues': {'selected': 'batch', 'availableQueues': ['batch', 'fast']},
    'authenticationMethod': 'PASSWORD_FILE',
}
SERVER = {'version': '10.2.0', 'credential': {'dn': SITE_DN}}


@pytest.fixture
def site(scripted_transport, reply):
    """``site(clients, credential=password, preferences=None)``: (client, adapter) answering each GET with the next client object.

    An int in ``clients`` is answered with that HTTP status instead.
    """
    def build(clients, credential=None, preferences=None):
        script = [reply(answer) if isinstance(answer, int) else reply(200, json_body={'client': answer, 'server': SERVER})
                  for answer in clients]
        transport, adapter = scripted_transport(credential or PasswordCredential('demouser', PASSWORD), script,
                                                preferences=preferences)
        return UnicoreClient(SITE, transport), adapter
    return build


def failure(client, **options):
    with pytest.raises(UnicoreError) as error:
        fetch_access_info(client, **options)
    assert PASSWORD not in str(error.value)
    return error.value


# ---------------------------------------------------------------- normalisation

def test_a_mapped_login_is_returned_field_by_field_with_the_raw_object_and_the_server(site):
    client, adapter = site([MAPPED])
    info, server = fetch_access_info(client)
    assert info == {
        'dn': USER_DN,
        'role': 'user',
        'available_roles': ['user', 'admin'],
        'uid': 'demouser',
        'available_uids': ['demouser', 'demo2'],
        'group': 'demo',
        'available_groups': ['demo', 'hpc'],
        'supplementary_groups': ['hpc'],
        'queues': ['batch', 'fast'],
        'authentication_method': 'PASSWORD_FILE',
        'raw': MAPPED,
    }
    assert server == {'version': '10.2.0', 'dn': SITE_DN}
    assert len(adapter.requests) == 1


def test_keys_that_unicore_omits_for_null_values_come_back_as_none_or_empty_lists():
    # UNICORE leaves out keys whose value is null; a site without queues sends no "queues" at all.
    client = {'dn': USER_DN, 'role': {'selected': 'user'}, 'xlogin': {'UID': 'demouser'}}
    assert normalised_access_info(client) == {
        'dn': USER_DN, 'role': 'user', 'available_roles': [], 'uid': 'demouser', 'available_uids': [],
        'group': None, 'available_groups': [], 'supplementary_groups': [], 'queues': [],
        'authentication_method': None, 'raw': client,
    }


@pytest.mark.parametrize('client', [{}, {'xlogin': None, 'role': 'user', 'queues': ['batch']}, {'xlogin': {'availableUIDs': None}}])
def test_missing_or_oddly_typed_sections_never_break_the_normalisation(client):
    info = normalised_access_info(client)
    assert (info['dn'], info['role'], info['uid'], info['available_uids'], info['queues']) == (None, None, None, [], [])
    assert info['raw'] is client


# ---------------------------------------------------------------- unmapped logins

UNMAPPED = {'dn': 'CN=Nobody, O=Elsewhere, C=EU', 'role': {'selected': 'anonymous', 'availableRoles': ['anonymous']},
            'authenticationMethod': 'PASSWORD_FILE'}


def test_credentials_that_map_to_nobody_fail_saying_what_to_do(site):
    error = failure(site([UNMAPPED])[0])
    assert str(error) == ('The login at %s worked (as CN=Nobody, O=Elsewhere, C=EU) but maps to no user at this site: '
                          'the role is "anonymous". Ask the site to map this identity, or set require_authenticated: false '
                          'to accept it' % SITE)
    assert (error.url, error.status) == (SITE, None)


def test_an_unmapped_login_is_reported_when_require_authenticated_is_false(site):
    info, dummy = fetch_access_info(site([UNMAPPED])[0], require_authenticated=False)
    assert (info['role'], info['dn']) == ('anonymous', 'CN=Nobody, O=Elsewhere, C=EU')


def test_an_anonymous_call_is_never_an_unmapped_login(site):
    anonymous = {'role': {'selected': 'anonymous'}}
    info, dummy = fetch_access_info(site([anonymous], credential=AnonymousCredential())[0])
    assert info['role'] == 'anonymous'


# ---------------------------------------------------------------- refused preferences

def test_a_refused_preference_is_retried_without_preferences_to_list_what_the_user_may_choose(site):
    client, adapter = site([403, MAPPED], preferences='uid:root,group:wheel')
    error = failure(client)
    assert str(error) == ('%s refused the requested preferences (uid:root,group:wheel). Available to this user: '
                          'uids: demouser, demo2; groups: demo, hpc; roles: user, admin' % SITE)
    assert (error.url, error.status) == (SITE, 403)
    assert [request.headers.get(PREFERENCES) for request in adapter.requests] == ['uid:root,group:wheel', None]


def test_a_user_with_nothing_to_choose_is_told_so(site):
    client = site([403, {'dn': USER_DN, 'role': {'selected': 'user'}}], preferences='role:admin')[0]
    assert str(failure(client)).endswith('Available to this user: uids: none; groups: none; roles: none')


def test_a_403_without_preferences_is_the_sites_answer_as_it_is(site):
    client, adapter = site([403])
    error = failure(client)
    assert str(error).startswith('GET %s failed: HTTP 403 Forbidden' % SITE)
    assert 'refused the requested preferences' not in str(error)
    assert (error.url, error.status) == (SITE, 403)
    assert len(adapter.requests) == 1


def test_other_failures_with_preferences_are_not_retried(site):
    client, adapter = site([404], preferences='uid:demouser')
    error = failure(client)
    assert error.status == 404
    assert len(adapter.requests) == 1


def test_when_the_call_without_preferences_fails_too_the_first_403_is_reported(site):
    client, adapter = site([403, 403], preferences='uid:root')
    error = failure(client)
    assert str(error).startswith('GET %s failed: HTTP 403 Forbidden' % SITE)
    assert 'a requested preference (uid:root) is not available to this user' in str(error)
    assert len(adapter.requests) == 2


def test_a_403_for_preferences_the_user_may_select_is_the_sites_answer_as_it_is(site):
    client, adapter = site([403, MAPPED], preferences='uid:demo2,group:hpc,supgids:demo+hpc,role:admin')
    error = failure(client)
    assert str(error).startswith('GET %s failed: HTTP 403 Forbidden' % SITE)
    assert 'refused the requested preferences' not in str(error)
    assert len(adapter.requests) == 2


def test_a_refused_preference_when_issuing_a_token_lists_what_the_user_may_choose(site):
    client, adapter = site([403, MAPPED], preferences='group:wheel')
    with pytest.raises(UnicoreError) as error:
        TokenRequest().issue(client)
    assert str(error.value) == ('%s refused the requested preferences (group:wheel). Available to this user: '
                                'uids: demouser, demo2; groups: demo, hpc; roles: user, admin' % SITE)
    assert [request.url.split('?')[0] for request in adapter.requests] == [SITE + '/token', SITE]
    assert [request.headers.get(PREFERENCES) for request in adapter.requests] == ['group:wheel', None]
