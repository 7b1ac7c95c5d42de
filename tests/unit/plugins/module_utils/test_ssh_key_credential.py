# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_method=ssh_key: a JWT signed with the user's own key, as PyUNICORE sends it."""

from __future__ import annotations

import os
import time

import jwt
import pytest

from ansible_collections.unicore.auth.plugins.module_utils._jwt_credentials import SshKeyCredential

PASSPHRASE = 'correct horse ⚡ battery'
ALGORITHMS = {'rsa': 'RS256', 'ec-p256': 'ES256', 'ed25519': 'EdDSA'}


def bearer_jwt(credential):
    scheme, token = credential.authorization_header().split(' ', 1)
    assert scheme == 'Bearer'
    return token


def verified_claims(token, public_key, algorithm):
    """The claims, after PyJWT checked the signature with the public key (and exp against the real clock)."""
    assert jwt.get_unverified_header(token)['alg'] == algorithm
    return jwt.decode(token, public_key, algorithms=[algorithm])


# ---------------------------------------------------------------- signing

@pytest.mark.parametrize('fmt', ['openssh', 'pkcs8'])
@pytest.mark.parametrize('kind', sorted(ALGORITHMS))
def test_ssh_key_jwt_is_signed_with_the_algorithm_of_the_key_type(credential, key_file, private_keys, kind, fmt):
    ssh_key = credential(auth_method='ssh_key', username='demouser', identity=key_file(kind, fmt))
    claims = verified_claims(bearer_jwt(ssh_key), private_keys[kind].public_key(), ALGORITHMS[kind])
    assert claims['sub'] == claims['iss'] == 'demouser'


def test_ssh_key_claims_are_those_pyunicore_sends(credential, key_file, private_keys):
    before = int(time.time())
    ssh_key = credential(auth_method='ssh_key', username='demouser', identity=key_file('rsa'), jwt_lifetime=600)
    claims = verified_claims(bearer_jwt(ssh_key), private_keys['rsa'].public_key(), 'RS256')
    assert claims['sub'] == 'demouser'
    assert claims['iss'] == 'demouser'
    assert claims['etd'] == 'false'
    assert claims['exp'] - claims['iat'] == 600
    assert before <= claims['iat'] <= int(time.time())


def test_ssh_key_default_lifetime_is_300_seconds(credential, key_file):
    claims = jwt.decode(bearer_jwt(credential(username='demouser', identity=key_file('ed25519'))),
                        options={'verify_signature': False})
    assert claims['exp'] - claims['iat'] == 300


def test_traditional_pem_rsa_key_is_accepted(credential, key_file, private_keys):
    ssh_key = credential(username='demouser', identity=key_file('rsa', 'traditional'))
    verified_claims(bearer_jwt(ssh_key), private_keys['rsa'].public_key(), 'RS256')


def test_identity_content_with_surrounding_white_space_is_accepted(credential, key_text, private_keys):
    # A key pasted into a vaulted variable often ends in a newline, or is indented.
    ssh_key = credential(username='demouser', identity_content='\n  ' + key_text('ec-p256') + '\n\n')
    verified_claims(bearer_jwt(ssh_key), private_keys['ec-p256'].public_key(), 'ES256')


@pytest.mark.parametrize('fmt', ['openssh', 'pkcs8', 'traditional'])
def test_encrypted_key_is_opened_with_identity_passphrase(credential, key_file, private_keys, fmt):
    ssh_key = credential(username='demouser', identity=key_file('rsa', fmt, PASSPHRASE), identity_passphrase=PASSPHRASE)
    verified_claims(bearer_jwt(ssh_key), private_keys['rsa'].public_key(), 'RS256')


@pytest.mark.parametrize('fmt', ['openssh', 'pkcs8'])
def test_passphrase_given_for_an_unencrypted_key_is_ignored(credential, key_file, private_keys, fmt):
    # Users who keep one passphrase variable for all keys must not be told their plain key is encrypted.
    ssh_key = credential(username='demouser', identity=key_file('ed25519', fmt), identity_passphrase=PASSPHRASE)
    verified_claims(bearer_jwt(ssh_key), private_keys['ed25519'].public_key(), 'EdDSA')


# ---------------------------------------------------------------- refused keys

@pytest.mark.parametrize('fmt', ['openssh', 'pkcs8'])
def test_encrypted_key_without_passphrase_says_set_identity_passphrase(refusal, key_file, fmt):
    assert 'set identity_passphrase' in refusal(username='demouser', identity=key_file('ed25519', fmt, PASSPHRASE))


@pytest.mark.parametrize('fmt', ['openssh', 'pkcs8'])
def test_wrong_passphrase_says_wrong_identity_passphrase(refusal, key_file, fmt):
    message = refusal(username='demouser', identity=key_file('ed25519', fmt, PASSPHRASE),
                      identity_passphrase='Wrong-Passphrase-123')
    assert 'wrong identity_passphrase' in message


@pytest.mark.parametrize('kind, fmt, named', [
    ('dsa', 'pkcs8', 'DSA'),
    ('ec-p384', 'openssh', 'secp384r1'),
    ('ec-p384', 'pkcs8', 'secp384r1'),
    ('ed448', 'pkcs8', 'Ed448'),
])
def test_unsupported_key_type_is_refused_naming_the_file_and_the_type_or_curve(refusal, key_file, kind, fmt, named):
    path = key_file(kind, fmt)
    message = refusal(username='demouser', identity=path)
    assert message.startswith('identity: %s: ' % path)
    assert named in message


def test_unsupported_key_type_in_identity_content_names_the_option(refusal, key_text):
    message = refusal(username='demouser', identity_content=key_text('ec-p384', 'pkcs8'))
    assert message.startswith('identity_content: EC keys must use curve P-256')


@pytest.mark.parametrize('content', [
    '   \n',
    'this is not a key at all',
    '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
])
def test_empty_or_garbage_identity_content_is_refused_naming_the_option(refusal, content):
    message = refusal(username='demouser', identity_content=content)
    assert message.startswith('identity_content: ')


def test_empty_key_file_is_refused(refusal, tmp_path):
    empty = tmp_path / 'empty.key'
    empty.write_text('')
    assert refusal(username='demouser', identity=str(empty)) == 'identity: %s: the key is empty' % empty


@pytest.mark.parametrize('fmt', ['openssh', 'pkcs8'])
def test_truncated_key_is_refused_as_incomplete(refusal, key_text, tmp_path, fmt):
    text = key_text('rsa', fmt)
    truncated = tmp_path / 'truncated.key'
    truncated.write_text(text[:len(text) // 2])
    message = refusal(username='demouser', identity=str(truncated))
    assert str(truncated) in message
    assert 'is it complete' in message


def test_missing_key_file_names_identity_and_the_path(refusal, tmp_path):
    missing = str(tmp_path / 'no-such-key')
    message = refusal(username='demouser', identity=missing)
    assert message == 'identity: file %s does not exist' % missing


def test_directory_as_key_file_names_identity_and_the_path(refusal, tmp_path):
    message = refusal(username='demouser', identity=str(tmp_path))
    assert 'identity' in message and str(tmp_path) in message


def test_unreadable_key_file_names_identity_and_the_path(refusal, key_file, monkeypatch):
    path = key_file('ed25519')
    real_access = os.access
    # Tests may run as root, who can read any file: make this one unreadable for the check.
    monkeypatch.setattr(os, 'access', lambda target, mode, **kw: False if str(target) == path else real_access(target, mode, **kw))
    message = refusal(username='demouser', identity=path)
    assert message == 'identity: file %s is not readable' % path


def test_identity_and_identity_content_together_are_refused(refusal, key_file, key_text):
    message = refusal(username='demouser', identity=key_file('rsa'), identity_content=key_text('rsa'))
    assert 'identity and identity_content are mutually exclusive' in message


def test_ssh_key_without_username_names_username(refusal, key_file):
    assert 'auth_method=ssh_key needs username' in refusal(auth_method='ssh_key', identity=key_file('ed25519'))


def test_ssh_key_without_any_key_names_identity_and_identity_content(refusal):
    message = refusal(auth_method='ssh_key', username='demouser')
    assert 'identity' in message and 'identity_content' in message


@pytest.mark.parametrize('lifetime', [0, -300])
def test_non_positive_jwt_lifetime_is_refused(refusal, key_file, lifetime):
    message = refusal(username='demouser', identity=key_file('ed25519'), jwt_lifetime=lifetime)
    assert 'jwt_lifetime must be a positive number' in message


# ---------------------------------------------------------------- where the key file is looked up

@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / 'home'
    home.mkdir()
    monkeypatch.setenv('HOME', str(home))
    return home


def test_relative_identity_resolves_under_dot_uftp_in_home(credential, key_file, home, private_keys):
    key_file('ed25519', path=home / '.uftp' / 'id_ed25519')
    ssh_key = credential(username='demouser', identity='id_ed25519')
    verified_claims(bearer_jwt(ssh_key), private_keys['ed25519'].public_key(), 'EdDSA')


def test_missing_relative_identity_names_the_resolved_path(refusal, home):
    message = refusal(username='demouser', identity='keys/id_rsa')
    assert str(home / '.uftp' / 'keys' / 'id_rsa') in message


def test_tilde_identity_resolves_under_home(credential, key_file, home, private_keys):
    key_file('rsa', path=home / 'keys' / 'id_rsa')
    ssh_key = credential(username='demouser', identity='~/keys/id_rsa')
    verified_claims(bearer_jwt(ssh_key), private_keys['rsa'].public_key(), 'RS256')


def test_absolute_identity_is_used_as_is(credential, key_file, home, tmp_path, private_keys):
    path = key_file('ec-p256', path=tmp_path / 'elsewhere' / 'id_ecdsa')
    ssh_key = credential(username='demouser', identity=path)
    verified_claims(bearer_jwt(ssh_key), private_keys['ec-p256'].public_key(), 'ES256')


# ---------------------------------------------------------------- reuse of the signed JWT

@pytest.fixture
def clocked_ssh_key(private_keys, clock):
    ssh_key = SshKeyCredential('demouser', private_keys['ed25519'], 300, clock=clock)
    ssh_key.validate()
    return ssh_key


def test_jwt_is_reused_while_it_is_far_from_expiry(clocked_ssh_key, clock):
    first = bearer_jwt(clocked_ssh_key)
    clock.advance(200)
    assert bearer_jwt(clocked_ssh_key) == first


def test_jwt_is_signed_anew_when_close_to_expiry(clocked_ssh_key, clock):
    first = bearer_jwt(clocked_ssh_key)
    clock.advance(290)
    second = bearer_jwt(clocked_ssh_key)
    assert second != first
    claims = jwt.decode(second, options={'verify_signature': False})
    assert claims['iat'] == int(clock())
    assert claims['exp'] == int(clock()) + 300
