# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The unicore.auth.token_info filter: what a token says about itself, and errors that never show the input."""

from __future__ import annotations

import base64
import json
import os
import time

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.unicore.auth.plugins.filter import token_info as filter_plugin

SITE_DN = 'CN=DEMO-SITE,O=UNICORE,C=EU'
USER_DN = 'CN=Demo User,O=UNICORE,C=EU'


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def jwt_of(claims):
    return '%s.%s.c2lnbmF0dXJl' % (_b64url(b'{"alg":"RS256"}'), _b64url(json.dumps(claims).encode('utf-8')))


def token_info(value):
    """The filter as Ansible finds it: through FilterModule.filters()."""
    return filter_plugin.FilterModule().filters()['token_info'](value)


def test_the_filter_is_registered_under_its_documented_name():
    assert list(filter_plugin.FilterModule().filters()) == ['token_info']


def test_a_token_gives_who_where_what_and_until_when():
    now = int(time.time())
    token = jwt_of({'sub': USER_DN, 'iss': SITE_DN, 'aud': SITE_DN, 'iat': now - 600, 'exp': now + 3000,
                   'renewable': 'true', 'uid': 'demouser', 'preferences': 'uid:demouser,group:hpc', 'etd': 'true'})
    info = token_info(token + '\n')
    expires_in = info.pop('expires_in')
    assert info == {
        'sub': USER_DN, 'iss': SITE_DN, 'iat': now - 600, 'exp': now + 3000, 'renewable': True, 'limited': True,
        'uid': 'demouser', 'preferences': 'uid:demouser,group:hpc',
        'expires_at': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now + 3000)),
    }
    assert 2990 <= expires_in <= 3000


def test_an_unlimited_token_without_optional_claims():
    info = token_info(jwt_of({'sub': USER_DN, 'iss': SITE_DN, 'exp': 1700000000}))
    assert (info['limited'], info['renewable'], info['uid'], info['preferences'], info['iat']) == (False, False, None, None, None)
    assert info['expires_at'] == '2023-11-14T22:13:20Z'
    assert info['expires_in'] < 0


def test_the_returned_fields_are_exactly_the_documented_ones():
    sidecar = os.path.join(os.path.dirname(filter_plugin.__file__), 'token_info.yml')
    with open(sidecar, encoding='utf-8') as handle:
        documented = yaml.safe_load(handle)['RETURN']['_value']['contains']
    assert sorted(token_info(jwt_of({'sub': USER_DN, 'iss': SITE_DN, 'exp': 1}))) == sorted(documented)


@pytest.mark.parametrize('value', [
    'opaque-oidc-access-token-s3cret',
    'Basic ZGVtb3VzZXI6dGVzdDEyMw==',
    'header.%s.signature' % _b64url(b'secret-claims-not-json'),
    '%s.%s.c2ln' % (_b64url(b'{"alg":"RS256"}'), _b64url(b'["s3cret-list"]')),
    4711,
    {'token': 's3cret-in-a-dict'},
])
def test_anything_but_a_token_raises_a_filter_error_that_does_not_show_the_input(value):
    with pytest.raises(AnsibleFilterError) as error:
        token_info(value)
    message = str(error.value)
    assert message.startswith('unicore.auth.token_info: the value is not a UNICORE token')
    for secret in ('s3cret', 'ZGVtb3VzZXI6dGVzdDEyMw', 'secret-claims', _b64url(b'secret-claims-not-json')):
        assert secret not in message


@pytest.mark.parametrize('value, said', [(None, 'null'), ('', 'empty'), ('  \n', 'empty')])
def test_no_token_at_all_is_called_no_token_not_a_malformed_one(value, said):
    # What unicore_auth_token returns in check mode when it would issue a token: token is null.
    with pytest.raises(AnsibleFilterError) as error:
        token_info(value)
    message = str(error.value)
    assert message.startswith('unicore.auth.token_info: it was given no token (the value is %s)' % said)
    assert 'not a UNICORE token' not in message
