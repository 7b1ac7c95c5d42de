# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_method=ssh_key: a JWT signed with the user's own key, as PyUNICORE sends it."""

from __future__ import annotations

import os
import time

import jwt
import pytest

from ansible_collections.unicore.auth.plugins.module_utils import _key_files
from ansible_collections.unicore.auth.plugins.module_utils._argument_spec import unicore_argument_spec
from ansible_collections.unicore.auth.plugins.module_utils._credentials import credential_from_options
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._jwt_credentials import SshKeyCredential
from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter

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
    empty.chmod(0o600)
    assert refusal(username='demouser', identity=str(empty)) == 'identity: %s: the key is empty' % empty


@pytest.mark.parametrize('fmt', ['openssh', 'pkcs8'])
def test_truncated_key_is_refused_as_incomplete(refusal, key_text, tmp_path, fmt):
    text = key_text('rsa', fmt)
    truncated = tmp_path / 'truncated.key'
    truncated.write_text(text[:len(text) // 2])
    truncated.chmod(0o600)
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


@pytest.mark.parametrize('lifetime', [86401, 10 * 365 * 86400])
def test_a_jwt_lifetime_of_more_than_one_day_is_refused_naming_value_and_maximum(refusal, key_file, lifetime):
    message = refusal(username='demouser', identity=key_file('ed25519'), jwt_lifetime=lifetime)
    assert message == 'jwt_lifetime must be at most 86400 seconds (one day), got %d' % lifetime


def test_a_jwt_lifetime_of_one_day_is_accepted(credential, key_file):
    claims = jwt.decode(bearer_jwt(credential(username='demouser', identity=key_file('ed25519'), jwt_lifetime=86400)),
                        options={'verify_signature': False})
    assert claims['exp'] - claims['iat'] == 86400


# ---------------------------------------------------------------- a key file others may read is refused, as ssh refuses it

def options_with_reader(file_reader, **given):
    """Module-like options (every option, defaults filled in) that read files with ``file_reader``."""
    params = {name: spec.get('default') for name, spec in unicore_argument_spec().items()}
    params.update(given)
    return OptionAdapter.from_dict(params, file_reader=file_reader)


@pytest.mark.parametrize('mode', ['0644', '0640', '0604', '0660', '0666', '0601'])
def test_a_key_file_others_may_access_is_refused_unread_naming_path_and_mode(key_file, mode):
    path = key_file('ed25519')
    os.chmod(path, int(mode, 8))
    read = []
    with pytest.raises(UnicoreError) as error:
        credential_from_options(options_with_reader(read.append, username='demouser', identity=path))
    assert str(error.value) == ('identity: %s is accessible by other users (mode %s); make it 0600 (chmod 600 %s), '
                                'as ssh requires of a private key' % (path, mode, path))
    assert read == []


@pytest.mark.parametrize('mode', [0o600, 0o400, 0o700])
def test_a_key_file_only_its_owner_may_access_is_used(credential, key_file, private_keys, mode):
    path = key_file('ed25519')
    os.chmod(path, mode)
    verified_claims(bearer_jwt(credential(username='demouser', identity=path)), private_keys['ed25519'].public_key(), 'EdDSA')


def test_a_link_is_followed_to_the_mode_of_the_key_file(refusal, credential, key_file, tmp_path):
    # As ssh does: a link's own mode (0777) says nothing, the file's does.
    path = key_file('ed25519')
    link = tmp_path / 'id_link'
    link.symlink_to(path)
    assert credential(username='demouser', identity=str(link)).method == 'ssh_key'
    os.chmod(path, 0o644)
    assert 'identity: %s is accessible by other users (mode 0644)' % link in refusal(username='demouser', identity=str(link))


def test_a_key_file_of_another_user_is_not_refused_for_its_mode(credential, key_file, monkeypatch):
    # As ssh does: only the owner could chmod it (a mounted secret is often root's, 0644).
    path = key_file('ed25519')
    os.chmod(path, 0o644)
    monkeypatch.setattr(_key_files.os, 'getuid', lambda: os.stat(path).st_uid + 1)
    assert credential(username='demouser', identity=path).method == 'ssh_key'


def test_a_vault_encrypted_key_file_is_not_refused_for_its_mode(tmp_path, key_text):
    # It holds the key encrypted; the lookup's loader decrypts it in memory (here: a reader standing in for it).
    vaulted = tmp_path / 'id_ed25519.vault'
    vaulted.write_text('$ANSIBLE_VAULT;1.1;AES256\n3132333435\n')
    vaulted.chmod(0o644)
    decrypting = options_with_reader(lambda path: key_text('ed25519').encode('ascii'), username='demouser', identity=str(vaulted))
    assert credential_from_options(decrypting).method == 'ssh_key'


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
