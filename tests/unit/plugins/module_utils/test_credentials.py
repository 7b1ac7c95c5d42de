# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credential kinds without JWTs (password, basic_token, bearer, x509, anonymous) and the auth_method factory."""

from __future__ import annotations

import base64
import os

import pytest
from pyunicore import credentials as pyunicore_credentials

from ansible_collections.unicore.auth.plugins.module_utils._argument_spec import AUTH_ARGUMENT_SPEC, AUTH_METHODS, unicore_argument_spec
from ansible_collections.unicore.auth.plugins.module_utils._connection_options import CONNECTION_ARGUMENT_SPEC
from ansible_collections.unicore.auth.plugins.module_utils._credentials import CREDENTIAL_KINDS, CREDENTIAL_OPTIONS, auto_auth_method, credential_from_options
from ansible_collections.unicore.auth.plugins.module_utils._jwt_credentials import SshKeyCredential, TrustedServiceCredential
from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter


def decoded_basic(header):
    scheme, value = header.split(' ', 1)
    assert scheme == 'Basic'
    return base64.b64decode(value).decode('utf-8')


# ---------------------------------------------------------------- password

def test_password_header_is_basic_of_utf8_user_colon_password(credential):
    header = credential(auth_method='password', username='jürgen', password='Pässwörd€-ß')
    assert header.authorization_header() == 'Basic ' + base64.b64encode('jürgen:Pässwörd€-ß'.encode('utf-8')).decode('ascii')


@pytest.mark.parametrize('username, password', [('jürgen', 'Pässwörd€-ß'), ('demouser', 'пароль\u0142'), ('demouser', 'tab\tand\nnewline')])
def test_a_password_of_any_characters_gives_a_header_of_ascii_only(credential, username, password):
    # base64 of UTF-8: nothing in it that http.client could fail to send or a line break to split.
    header = credential(auth_method='password', username=username, password=password).authorization_header()
    assert header.isascii() and header.isprintable()
    assert decoded_basic(header) == '%s:%s' % (username, password)


def test_password_header_equals_pyunicore_for_an_ascii_password(credential):
    ours = credential(auth_method='password', username='demouser', password='test123').authorization_header()
    assert ours == pyunicore_credentials.UsernamePassword('demouser', 'test123').get_auth_header()


def test_password_may_contain_a_colon_because_the_server_splits_at_the_first(credential):
    header = credential(auth_method='password', username='demouser', password='a:b:c').authorization_header()
    assert decoded_basic(header) == 'demouser:a:b:c'


def test_colon_in_username_is_refused(refusal):
    message = refusal(auth_method='password', username='demo:user', password='Secret-Pw-0815')
    assert 'username must not contain ":"' in message


@pytest.mark.parametrize('given, missing', [
    (dict(username='demouser'), 'needs password'),
    (dict(password='Secret-Pw-0815'), 'needs username'),
    (dict(username='demouser', password=''), 'needs password'),
    (dict(), 'needs username and password'),
])
def test_password_method_names_the_missing_option(refusal, given, missing):
    message = refusal(auth_method='password', **given)
    assert 'auth_method=password' in message
    assert missing in message


@pytest.mark.parametrize('given, missing', [
    (dict(username='  ', password='Secret-Pw-0815'), 'needs username'),
    (dict(username='demouser', password=' \t'), 'needs password'),
])
def test_a_username_or_password_of_only_white_space_counts_as_missing(refusal, given, missing):
    assert missing in refusal(auth_method='password', **given)


def test_credential_repr_shows_no_secret(credential):
    text = repr(credential(auth_method='password', username='demouser', password='Secret-Pw-0815'))
    assert 'Secret-Pw-0815' not in text
    assert 'password' in text


# ---------------------------------------------------------------- basic_token and bearer

def test_basic_token_is_sent_as_is(credential):
    header = credential(auth_method='basic_token', token='ZGVtb3VzZXI6dGVzdDEyMw==').authorization_header()
    assert header == 'Basic ZGVtb3VzZXI6dGVzdDEyMw=='
    assert header == pyunicore_credentials.BasicToken('ZGVtb3VzZXI6dGVzdDEyMw==').get_auth_header()


def test_bearer_token_is_sent_as_is(credential):
    header = credential(auth_method='bearer', token='eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl').authorization_header()
    assert header == 'Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl'
    assert header == pyunicore_credentials.OIDCToken('eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl').get_auth_header()


@pytest.mark.parametrize('method, scheme', [('bearer', 'Bearer'), ('basic_token', 'Basic')])
def test_token_read_from_a_file_loses_its_trailing_newline(credential, method, scheme):
    header = credential(auth_method=method, token='abc.def.ghi\n').authorization_header()
    assert header == scheme + ' abc.def.ghi'


@pytest.mark.parametrize('method', ['bearer', 'basic_token'])
@pytest.mark.parametrize('token', ['abc def', 'abc\ndef', 'abc\tdef', 'abc\r\nX-Injected: 1', 'abc\u00a0def'])
def test_token_with_white_space_inside_is_refused(refusal, method, token):
    assert refusal(auth_method=method, token=token) == 'token must not contain white space'


@pytest.mark.parametrize('method', ['bearer', 'basic_token'])
@pytest.mark.parametrize('token', ['abc\x00def', 'abc\x7fdef', 'abc\x1bdef', 'abcé', 'abc\u0142', 'eyJ\u2026'])
def test_a_token_of_control_or_non_ascii_characters_is_refused_naming_token_without_showing_it(refusal, method, token):
    # What is not ASCII failed in http.client with a UnicodeEncodeError (a traceback), or went out as another byte.
    assert refusal(auth_method=method, token=token) == (
        'token must be visible ASCII characters only (it is sent in the Authorization header), but it holds a '
        'control or non-ASCII character; check that it was copied unchanged')


@pytest.mark.parametrize('method', ['bearer', 'basic_token'])
def test_token_method_without_token_names_the_option(refusal, method):
    assert 'auth_method=%s needs token' % method in refusal(auth_method=method, token='')


# ---------------------------------------------------------------- token_file

def test_a_token_file_is_read_without_the_white_space_around_it(credential, options, tmp_path):
    (tmp_path / 'token').write_text('\n  eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl  \r\n')
    assert credential(token_file=str(tmp_path / 'token')).authorization_header() == 'Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl'
    assert auto_auth_method(options(token_file=str(tmp_path / 'token'), username='demouser', password='p')) == 'bearer'


@pytest.mark.parametrize('content, expected', [
    (b'', 'is empty; it should hold the token'),
    (b' \n\t\n', 'is empty; it should hold the token'),
    (b'first.line\nsecond.line\n', 'does not hold a token: a token file holds one line of visible ASCII characters'),
    (b'{"token": "abc"}', 'does not hold a token'),
    (b'tok\x00en', 'does not hold a token'),
    ('t\u00f6ken'.encode('utf-8'), 'does not hold a token'),
    (b'\xff\xfe', 'does not hold a token'),
    (b'a' * (64 * 1024 + 1), 'is 65537 bytes, too long for a token (at most 65536): is it the token file?'),
])
def test_a_token_file_that_holds_no_token_names_the_path_and_never_the_content(refusal, tmp_path, content, expected):
    path = tmp_path / 'token'
    path.write_bytes(content)
    message = refusal(auth_method='bearer', token_file=str(path))
    assert message.startswith('token_file: %s ' % path) and expected in message
    for line in content.splitlines():
        if line.strip():
            assert line.strip().decode('utf-8', 'replace')[:20] not in message


def test_a_missing_or_unreadable_token_file_is_named(refusal, tmp_path, monkeypatch):
    assert refusal(token_file=str(tmp_path / 'nowhere')) == 'token_file: file %s does not exist' % (tmp_path / 'nowhere')
    assert refusal(token_file=str(tmp_path)) == 'token_file: %s is not a regular file' % tmp_path
    (tmp_path / 'token').write_text('abc')
    monkeypatch.setattr(os, 'access', lambda path, mode: False)
    assert refusal(token_file=str(tmp_path / 'token')) == 'token_file: file %s is not readable' % (tmp_path / 'token')


def test_token_and_token_file_are_mutually_exclusive(refusal, tmp_path):
    (tmp_path / 'token').write_text('abc')
    assert refusal(token='abc', token_file=str(tmp_path / 'token')) == 'token and token_file are mutually exclusive; give the token once'


def test_a_token_file_is_read_through_the_adapter_which_decrypts_vault_files_in_the_lookup(tmp_path):
    (tmp_path / 'token').write_text('$ANSIBLE_VAULT;1.1;AES256\n3132\n')
    reader_calls = []

    def decrypting_reader(path):
        reader_calls.append(path)
        return b'decrypted.token.value\n'
    params = dict((name, spec.get('default')) for name, spec in unicore_argument_spec().items())
    params.update(auth_method='auto', token_file=str(tmp_path / 'token'))
    header = credential_from_options(OptionAdapter.from_dict(params, decrypting_reader)).authorization_header()
    assert header == 'Bearer decrypted.token.value' and reader_calls == [str(tmp_path / 'token')]


# ---------------------------------------------------------------- x509 and anonymous

def test_x509_sends_no_authorization_header(credential, self_signed_cert):
    cert_path, key_path = self_signed_cert[:2]
    assert credential(auth_method='x509', client_cert=cert_path, client_key=key_path).authorization_header() is None


def test_x509_without_client_cert_names_client_cert(refusal):
    assert 'auth_method=x509 needs client_cert' in refusal(auth_method='x509')


def test_x509_with_missing_certificate_file_names_option_and_path(refusal, tmp_path):
    missing = str(tmp_path / 'missing-cert.pem')
    message = refusal(auth_method='x509', client_cert=missing)
    assert 'client_cert' in message and missing in message


def test_explicit_anonymous_sends_no_authorization_header(credential):
    assert credential(auth_method='anonymous').authorization_header() is None


def test_explicit_anonymous_ignores_given_credentials(credential):
    assert credential(auth_method='anonymous', username='demouser', password='test123').authorization_header() is None


# ---------------------------------------------------------------- auth_method: auto

def test_auto_prefers_token_over_identity_and_password(credential, key_file):
    chosen = credential(token='abc.def.ghi', identity=key_file('ed25519'), username='demouser', password='test123')
    assert chosen.method == 'bearer'
    assert chosen.authorization_header() == 'Bearer abc.def.ghi'


@pytest.mark.parametrize('key_option', ['identity', 'identity_content'])
def test_auto_prefers_a_key_over_password(credential, key_file, key_text, key_option):
    key = key_file('ed25519') if key_option == 'identity' else key_text('ed25519')
    chosen = credential(username='demouser', password='test123', **{key_option: key})
    assert chosen.method == 'ssh_key'
    assert chosen.authorization_header().startswith('Bearer ')


def test_auto_uses_password_when_only_username_and_password_are_given(credential):
    chosen = credential(username='demouser', password='test123')
    assert chosen.method == 'password'
    assert decoded_basic(chosen.authorization_header()) == 'demouser:test123'


def test_auto_treats_empty_strings_as_unset(credential):
    chosen = credential(token='', identity='', identity_content='', username='demouser', password='test123')
    assert chosen.method == 'password'


def test_auto_with_username_alone_asks_for_password_token_or_identity(refusal):
    message = refusal(username='demouser', password='')
    assert 'username is set' in message
    assert 'password' in message and 'token' in message and 'identity' in message


@pytest.mark.parametrize('given', [{}, dict(username='', password='', token='', identity='', identity_content='')])
def test_auto_without_any_credential_suggests_auth_method_anonymous(refusal, given):
    assert 'auth_method: anonymous' in refusal(**given)


def test_unknown_auth_method_lists_the_choices(refusal):
    message = refusal(auth_method='kerberos', username='demouser', password='Secret-Pw-0815')
    assert '"kerberos"' in message
    for method in ('password', 'bearer', 'basic_token', 'ssh_key', 'trusted_service', 'x509', 'anonymous'):
        assert method in message


# ---------------------------------------------------------------- lazy imports

def test_password_credential_and_transport_import_neither_jwt_nor_cryptography(fresh_python):
    imported = fresh_python([
        'import json, sys',
        'from ansible_collections.unicore.auth.plugins.module_utils import _client, _transport',
        'from ansible_collections.unicore.auth.plugins.module_utils._credentials import credential_from_options',
        'from ansible_collections.unicore.auth.plugins.module_utils._options import OptionAdapter',
        'options = OptionAdapter.from_dict({"auth_method": "auto", "username": "demouser", "password": "test123"})',
        'credential = credential_from_options(options)',
        'transport = _transport.Transport(credential)',
        'assert credential.authorization_header().startswith("Basic ")',
        'print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in ("jwt", "cryptography"))))',
    ])
    assert imported == []


# ---------------------------------------------------------------- the kinds and the options they read

def test_auth_method_offers_auto_and_every_credential_kind():
    assert AUTH_METHODS == ('auto',) + tuple(CREDENTIAL_KINDS)
    assert AUTH_ARGUMENT_SPEC['auth_method']['choices'] == list(AUTH_METHODS)


@pytest.mark.parametrize('method, kind', [('ssh_key', SshKeyCredential), ('trusted_service', TrustedServiceCredential)])
def test_the_lazily_imported_kinds_are_listed_with_their_own_options(method, kind):
    assert CREDENTIAL_KINDS[method].OPTIONS == kind.OPTIONS


def test_credential_options_are_auth_method_and_every_option_a_kind_reads():
    assert CREDENTIAL_OPTIONS == ('auth_method', 'client_cert', 'client_key', 'hmac_secret', 'identity', 'identity_content',
                                  'identity_passphrase', 'issuer', 'jwt_lifetime', 'oidc_agent_account', 'oidc_agent_socket',
                                  'oidc_client_auth', 'oidc_client_id',
                                  'oidc_client_secret', 'oidc_issuer', 'oidc_otp', 'oidc_refresh_token', 'oidc_refresh_token_file',
                                  'oidc_scope', 'oidc_store_refresh_token', 'oidc_token_endpoint', 'password', 'ssh_agent_socket', 'subject',
                                  'token', 'token_file', 'username')


class ReadRecorder(dict):
    """Option values that remember which options were read."""

    def __init__(self, values):
        super().__init__(values)
        self.read = set()

    def __getitem__(self, name):
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name, default=None):
        self.read.add(name)
        return super().get(name, default)


def read_by(method, given):
    values = ReadRecorder(given)
    CREDENTIAL_KINDS[method].from_options(OptionAdapter.from_dict(values))
    return values.read


def test_each_kind_reads_exactly_the_options_it_declares(key_file, key_text, self_signed_cert, tmp_path):
    (tmp_path / 'token').write_text('abc.def.ghi\n')
    cert_path, key_path, dummy = self_signed_cert
    cases = [
        ('password', dict(username='demouser', password='Secret-Pw-0815')),
        ('bearer', dict(token='abc.def.ghi')),
        ('bearer', dict(token_file=str(tmp_path / 'token'))),
        ('basic_token', dict(token='ZGVtbzp0ZXN0')),
        ('x509', dict(client_cert=cert_path, client_key=key_path)),
        ('anonymous', dict()),
        ('ssh_key', dict(username='demouser', identity=key_file('rsa'))),
        ('ssh_key', dict(username='demouser', identity_content=key_text('ed25519'), identity_passphrase='unused')),
        ('trusted_service', dict(subject='CN=Demo User', issuer='CN=Service', hmac_secret='s' * 32)),
        ('trusted_service', dict(subject='CN=Demo User', issuer='CN=Service', identity=key_file('ec-p256', 'pkcs8'))),
        ('trusted_service', dict(subject='CN=Demo User', client_cert=cert_path, client_key=key_path)),
        ('oidc_server', dict(username='demouser', password='Secret-Pw-0815', oidc_token_endpoint='https://idp.example/token',
                             oidc_issuer=None, oidc_client_id='client', oidc_client_secret='s3cret', oidc_client_auth='basic',
                             oidc_scope='openid', oidc_otp='123456', oidc_refresh_token='r', oidc_refresh_token_file='/nonexistent',
                             oidc_store_refresh_token=False)),
        ('oidc_agent', dict(oidc_agent_account='demo', oidc_agent_socket='/run/agent.sock', oidc_scope='openid')),
        ('ssh_agent', dict(username='demouser', identity='/keys/id_rsa.pub', ssh_agent_socket='/run/agent.sock', jwt_lifetime=60)),
        ('ssh_agent', dict(username='demouser', identity_content='ssh-ed25519 AAAA', ssh_agent_socket='/run/agent.sock')),
    ]
    read_by_method = dict((method, set()) for method in CREDENTIAL_KINDS)
    for method, given in cases:
        # How to reach the site is not part of a login (but x509's client certificate is); oidc_server reaches its provider so.
        read = read_by(method, given) - (set(CONNECTION_ARGUMENT_SPEC) - set(CREDENTIAL_KINDS[method].OPTIONS))
        assert set(given) <= read, (method, given)
        read_by_method[method] |= read
    assert read_by_method == dict((method, set(kind.OPTIONS)) for method, kind in CREDENTIAL_KINDS.items())
