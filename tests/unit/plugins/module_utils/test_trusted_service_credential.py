# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_method=trusted_service: a delegation JWT (etd "true") a service signs on a user's behalf."""

from __future__ import annotations

import os

import jwt
import pytest

USER_DN = 'CN=Demo User, O=UNICORE, C=EU'
SERVICE_DN = 'CN=Workflow Service, O=UNICORE, C=EU'
HMAC_SECRET = 'shared-secret-of-exactly-32-char'


def delegation(credential, **given):
    return credential(auth_method='trusted_service', subject=USER_DN, **given)


def bearer_claims(delegation_credential, key, algorithm):
    scheme, token = delegation_credential.authorization_header().split(' ', 1)
    assert scheme == 'Bearer'
    assert jwt.get_unverified_header(token)['alg'] == algorithm
    return jwt.decode(token, key, algorithms=[algorithm])


@pytest.mark.parametrize('kind, algorithm', [('rsa', 'RS256'), ('ec-p256', 'ES256')])
def test_service_key_signs_a_delegation_jwt_for_the_subject(credential, key_file, private_keys, kind, algorithm):
    service = delegation(credential, issuer=SERVICE_DN, identity=key_file(kind, 'pkcs8'), jwt_lifetime=120)
    claims = bearer_claims(service, private_keys[kind].public_key(), algorithm)
    assert claims['etd'] == 'true'
    assert claims['sub'] == USER_DN
    assert claims['iss'] == SERVICE_DN
    assert claims['exp'] - claims['iat'] == 120


def test_identity_content_can_hold_the_service_key(credential, key_text, private_keys):
    service = delegation(credential, issuer=SERVICE_DN, identity_content=key_text('rsa'))
    assert bearer_claims(service, private_keys['rsa'].public_key(), 'RS256')['iss'] == SERVICE_DN


def test_hmac_secret_signs_hs256_that_verifies_with_the_shared_secret(credential):
    assert len(HMAC_SECRET) == 32
    service = delegation(credential, issuer=SERVICE_DN, hmac_secret=HMAC_SECRET)
    claims = bearer_claims(service, HMAC_SECRET, 'HS256')
    assert (claims['sub'], claims['iss'], claims['etd']) == (USER_DN, SERVICE_DN, 'true')


def test_hmac_secret_shorter_than_32_characters_is_refused(refusal):
    message = refusal(auth_method='trusted_service', subject=USER_DN, issuer=SERVICE_DN, hmac_secret=HMAC_SECRET[:31])
    assert 'hmac_secret must have at least 32 characters' in message


def test_hmac_secret_and_identity_together_are_refused(refusal, key_file):
    message = refusal(auth_method='trusted_service', subject=USER_DN, issuer=SERVICE_DN,
                      hmac_secret=HMAC_SECRET, identity=key_file('rsa'))
    assert 'hmac_secret' in message and 'not both' in message


@pytest.mark.parametrize('key_option', ['identity', 'hmac_secret'])
def test_issuer_is_required_when_signing_with_identity_or_hmac_secret(refusal, key_file, key_option):
    key = key_file('rsa') if key_option == 'identity' else HMAC_SECRET
    message = refusal(auth_method='trusted_service', subject=USER_DN, **{key_option: key})
    assert message.startswith('auth_method=trusted_service needs issuer: the DN of the service that signs for the user')
    assert 'defaults to the subject of client_cert only when the service signs with client_key' in message


def test_subject_is_required(refusal):
    message = refusal(auth_method='trusted_service', issuer=SERVICE_DN, hmac_secret=HMAC_SECRET)
    assert 'auth_method=trusted_service needs subject' in message


def test_without_any_service_key_the_message_lists_the_ways_to_give_one(refusal):
    message = refusal(auth_method='trusted_service', subject=USER_DN, issuer=SERVICE_DN)
    for option in ('client_key', 'identity', 'identity_content', 'hmac_secret'):
        assert option in message


def test_issuer_defaults_to_the_subject_dn_of_client_cert_when_signing_with_client_key(credential, self_signed_cert, private_keys):
    cert_path, key_path, cert_dn = self_signed_cert
    service = delegation(credential, client_cert=cert_path, client_key=key_path)
    claims = bearer_claims(service, private_keys['rsa'].public_key(), 'RS256')
    assert claims['iss'] == cert_dn == 'CN=Workflow Service,O=UNICORE,C=EU'


def test_explicit_issuer_wins_over_client_cert_subject(credential, self_signed_cert, private_keys):
    cert_path, key_path = self_signed_cert[:2]
    service = delegation(credential, issuer='CN=Other Service', client_cert=cert_path, client_key=key_path)
    assert bearer_claims(service, private_keys['rsa'].public_key(), 'RS256')['iss'] == 'CN=Other Service'


@pytest.mark.parametrize('key_option', ['client_key', 'identity'])
def test_a_service_key_file_others_may_access_is_refused_naming_option_path_and_mode(refusal, self_signed_cert, key_option):
    cert_path, key_path = self_signed_cert[:2]
    os.chmod(key_path, 0o640)
    given = dict(client_cert=cert_path, client_key=key_path) if key_option == 'client_key' else dict(issuer=SERVICE_DN, identity=key_path)
    assert refusal(auth_method='trusted_service', subject=USER_DN, **given) == (
        '%s: %s is accessible by other users (mode 0640); make it 0600 (chmod 600 %s), as ssh requires of a private key'
        % (key_option, key_path, key_path))


def test_a_delegation_jwt_lifetime_of_more_than_one_day_is_refused(refusal):
    message = refusal(auth_method='trusted_service', subject=USER_DN, issuer=SERVICE_DN, hmac_secret=HMAC_SECRET, jwt_lifetime=86401)
    assert message == 'jwt_lifetime must be at most 86400 seconds (one day), got 86401'


def test_unsupported_service_key_is_refused_naming_the_type(refusal, key_file):
    path = key_file('ed448', 'pkcs8')
    message = refusal(auth_method='trusted_service', subject=USER_DN, issuer=SERVICE_DN, identity=path)
    assert message.startswith('identity: %s: ' % path)
    assert 'Ed448' in message
