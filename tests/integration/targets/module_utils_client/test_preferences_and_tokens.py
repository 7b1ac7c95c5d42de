# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preferences, token issue and login with issued tokens (ETD), against the test server."""

from __future__ import annotations

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._token_claims import token_info


@pytest.fixture
def password_options(demouser):
    return dict(username='demouser', password=demouser['password'])


def test_available_group_and_uid_are_selected(make_client, password_options):
    info = make_client(preferences={'uid': 'demo2', 'group': 'hpc'}, **password_options).access_info()
    assert info['client']['xlogin']['UID'] == 'demo2'
    assert info['client']['xlogin']['group'] == 'hpc'


def test_supplementary_groups_are_joined_with_plus(make_client, password_options):
    info = make_client(preferences={'supplementary_groups': ['project1', 'project2']}, **password_options).access_info()
    assert info['client']['xlogin']['selectedSupplementaryGroups'] == ['project1', 'project2']


def test_unavailable_group_is_refused_naming_the_preference(make_client, password_options):
    with pytest.raises(UnicoreError) as failure:
        make_client(preferences={'group': 'not-my-group'}, **password_options).access_info()
    assert failure.value.status == 403
    assert 'a requested preference (group:not-my-group) is not available' in str(failure.value)


def test_changing_preferences_starts_a_new_security_session(make_client, password_options, control):
    client = make_client(**password_options)
    assert client.access_info()['client']['xlogin']['group'] == 'users'
    client.transport.preferences = 'group:hpc'
    assert client.access_info()['client']['xlogin']['group'] == 'hpc'
    assert control.stats()['full_authentications']['PASSWORD_FILE'] == 2


def test_issued_token_has_the_requested_properties(make_client, server, password_options, control, same_dn):
    token = make_client(**password_options).issue_auth_token(lifetime=600, renewable=True, limited=True)
    info = token_info(token)
    assert same_dn(info['iss'], server['sites']['DEMO-SITE']['dn'])
    assert info['renewable'] is True
    assert info['limited'] is True
    assert info['uid'] == 'demouser'
    assert info['exp'] - info['iat'] == 600
    assert control.stats()['tokens_issued']['total'] == 1


def test_tokens_are_limited_by_default(make_client, password_options):
    assert token_info(make_client(**password_options).issue_auth_token(lifetime=300))['limited'] is True


def test_login_with_an_issued_token_is_etd(make_client, password_options):
    token = make_client(**password_options).issue_auth_token(lifetime=300)
    info = make_client(token=token).access_info()
    assert info['client']['authenticationMethod'] == 'ETD'
    assert info['client']['xlogin']['UID'] == 'demouser'


def test_non_renewable_token_cannot_get_a_new_token(make_client, password_options):
    token = make_client(**password_options).issue_auth_token(lifetime=300, renewable=False)
    with pytest.raises(UnicoreError) as failure:
        make_client(token=token).issue_auth_token(lifetime=300)
    message = str(failure.value)
    assert failure.value.status == 403
    assert 'Cannot create token when authenticating with a non-renewable token' in message
    assert token not in message


def test_renewable_token_renews_itself_without_password(make_client, password_options, control):
    first = make_client(**password_options).issue_auth_token(lifetime=300, renewable=True)
    second = make_client(token=first).issue_auth_token(lifetime=300, renewable=True)
    assert token_info(second)['renewable'] is True
    stats = control.stats()
    assert stats['tokens_issued']['total'] == 2
    assert stats['full_authentications']['ETD'] == 1
    assert stats['full_authentications']['PASSWORD_FILE'] == 1


def test_limited_token_is_refused_by_the_partner_site(make_client, server, password_options):
    token = make_client(**password_options).issue_auth_token(lifetime=300, limited=True)
    with pytest.raises(UnicoreError) as failure:
        make_client(url=server['sites']['PARTNER-SITE']['url'], token=token).access_info()
    assert failure.value.status == 403


def test_unlimited_token_is_accepted_by_the_partner_site(make_client, server, password_options):
    token = make_client(**password_options).issue_auth_token(lifetime=300, limited=False)
    info = make_client(url=server['sites']['PARTNER-SITE']['url'], token=token).access_info()
    assert info['client']['authenticationMethod'] == 'ETD'


def test_unlimited_token_is_refused_by_a_listed_site_that_does_not_trust_the_issuer(make_client, server, password_options):
    token = make_client(**password_options).issue_auth_token(lifetime=300, limited=False)
    with pytest.raises(UnicoreError) as failure:
        make_client(url=server['sites']['LONE-SITE']['url'], token=token).access_info()
    assert failure.value.status == 403


def test_lifetime_beyond_the_server_certificate_is_a_clear_400(make_client, password_options):
    with pytest.raises(UnicoreError) as failure:
        make_client(**password_options).issue_auth_token(lifetime=100 * 365 * 24 * 3600)
    assert failure.value.status == 400
    assert '/token' in str(failure.value)


def test_token_request_accepts_text_plain(make_client, password_options, control):
    make_client(**password_options).issue_auth_token(lifetime=300)
    assert control.requests(1)[-1]['accept'] == 'text/plain'
