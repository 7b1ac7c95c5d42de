# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a UNICORE token's claims without its signature, and what token_info makes of them."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._token_claims import decode_token_claims, token_info

ISSUED = 1700000000  # 2023-11-14T22:13:20Z
SITE_DN = 'CN=DEMO-SITE, O=UNICORE, C=EU'
USER_DN = 'CN=Demo User, O=UNICORE, C=EU'


@pytest.fixture
def server_token(private_keys):
    """``server_token(**extra_claims)``: a token as a UNICORE site issues it, signed with a key we never give out."""
    def issue(lifetime=3600, **extra_claims):
        claims = dict(sub=USER_DN, iss=SITE_DN, iat=ISSUED, exp=ISSUED + lifetime, etd='true', **extra_claims)
        return jwt.encode(claims, private_keys['rsa'], algorithm='RS256')
    return issue


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


HEADER = b64url(b'{"alg":"RS256"}')


def test_claims_are_decoded_without_checking_the_signature(server_token):
    claims = decode_token_claims(server_token(uid='demouser'))
    assert claims == {'sub': USER_DN, 'iss': SITE_DN, 'iat': ISSUED, 'exp': ISSUED + 3600, 'etd': 'true', 'uid': 'demouser'}


def test_a_token_read_from_a_file_with_a_newline_decodes(server_token):
    assert decode_token_claims(server_token() + '\n')['sub'] == USER_DN


def test_token_info_reports_who_where_until_when_and_what_rights(server_token):
    token = server_token(renewable='true', aud=SITE_DN, uid='demouser', preferences='uid:demouser,group:hpc')
    assert token_info(token, now=ISSUED + 600) == {
        'sub': USER_DN,
        'iss': SITE_DN,
        'iat': ISSUED,
        'exp': ISSUED + 3600,
        'renewable': True,
        'limited': True,
        'uid': 'demouser',
        'preferences': 'uid:demouser,group:hpc',
        'expires_at': '2023-11-14T23:13:20Z',
        'expires_in': 3000,
    }


@pytest.mark.parametrize('claim, renewable', [('true', True), ('TRUE', True), ('false', False), (None, False)])
def test_renewable_comes_from_unicores_string_claim(server_token, claim, renewable):
    token = server_token() if claim is None else server_token(renewable=claim)
    assert token_info(token, now=ISSUED)['renewable'] is renewable


def test_limited_means_the_token_has_an_audience(server_token):
    assert token_info(server_token(aud=SITE_DN), now=ISSUED)['limited'] is True
    assert token_info(server_token(), now=ISSUED)['limited'] is False


def test_unset_optional_claims_are_none(server_token):
    info = token_info(server_token(), now=ISSUED)
    assert (info['uid'], info['preferences']) == (None, None)


def test_expired_token_has_negative_expires_in(server_token):
    assert token_info(server_token(lifetime=300), now=ISSUED + 400)['expires_in'] == -100


@pytest.mark.parametrize('value', [
    'opaque-oidc-access-token-4711',
    'only.two-parts-secret',
    'Basic ZGVtb3VzZXI6dGVzdDEyMw==',
    '%s.%s.c2ln' % (HEADER, b64url(b'secret-payload-not-json')),
    '%s.%s.c2ln' % (HEADER, b64url(json.dumps(['secret-list']).encode())),
    '%s.%s.c2ln' % (HEADER, 'secret$payload'),
    # Letters of another alphabet pass str.isalnum(), but no header can carry them.
    '%s.%s.c2lné' % (HEADER, b64url(b'{"sub": "secret-demouser"}')),
])
def test_non_jwt_is_refused_without_echoing_the_value(value):
    with pytest.raises(UnicoreError) as error:
        token_info(value)
    message = str(error.value)
    assert message.startswith('the value is not a UNICORE token')
    for part in [value] + value.split('.'):
        if len(part) > 4:
            assert part not in message
