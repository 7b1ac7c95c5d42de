# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options checked offline: TLS and timing settings, and plain HTTP, refused unless allowed."""

from __future__ import annotations

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._connection_options import (
    check_connection_options,
    check_plain_http,
    connection_settings,
)
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'


# ---------------------------------------------------------------- settings

def test_the_defaults_verify_with_the_system_trust_and_present_no_certificate(monkeypatch):
    monkeypatch.delenv('REQUESTS_CA_BUNDLE', raising=False)
    monkeypatch.delenv('CURL_CA_BUNDLE', raising=False)
    assert connection_settings() == (30.0, 3, True, None)


@pytest.mark.parametrize('blank', ['', '  '])
def test_a_blank_ca_path_or_client_certificate_counts_as_not_given(monkeypatch, blank):
    monkeypatch.delenv('REQUESTS_CA_BUNDLE', raising=False)
    monkeypatch.delenv('CURL_CA_BUNDLE', raising=False)
    assert connection_settings(ca_path=blank, client_cert=blank, client_key=blank) == (30.0, 3, True, None)


def test_a_ca_bundle_named_in_the_environment_is_trusted_when_ca_path_is_not_given(monkeypatch, tmp_path):
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', str(tmp_path / 'bundle.pem'))
    assert connection_settings()[2] == str(tmp_path / 'bundle.pem')


def test_validate_certs_false_turns_verification_off_whatever_ca_path_says():
    assert connection_settings(validate_certs=False, ca_path='/nonexistent/site-ca.pem')[2] is False


def test_a_client_key_goes_with_its_certificate(tmp_path):
    cert, key = tmp_path / 'cert.pem', tmp_path / 'key.pem'
    cert.write_text('')
    key.write_text('')
    key.chmod(0o600)
    assert connection_settings(client_cert=str(cert), client_key=str(key))[3] == (str(cert), str(key))
    cert.chmod(0o600)  # without client_key, it holds the key too
    assert connection_settings(client_cert=str(cert))[3] == str(cert)


@pytest.mark.parametrize('with_key', [True, False])
@pytest.mark.parametrize('mode', [0o644, 0o640, 0o604, 0o660])
def test_a_client_key_others_may_read_is_refused_with_its_path_and_mode(tmp_path, with_key, mode):
    cert, key = tmp_path / 'cert.pem', tmp_path / 'key.pem'
    for path in (cert, key):
        path.write_text('')
        path.chmod(mode)
    option, path = ('client_key', key) if with_key else ('client_cert', cert)
    with pytest.raises(UnicoreError) as error:
        connection_settings(client_cert=str(cert), client_key=str(key) if with_key else None)
    assert str(error.value) == ('%s: %s is accessible by other users (mode %04o); make it 0600 (chmod 600 %s), as ssh requires of a '
                                'private key' % (option, path, mode, path))


@pytest.mark.parametrize('given, named', [
    ({'timeout': 0}, 'timeout must be greater than 0, got 0'),
    ({'retries': 'twice'}, "retries must be a whole number, got 'twice'"),
    ({'ca_path': '/nonexistent/site-ca.pem'}, 'ca_path: /nonexistent/site-ca.pem does not exist'),
    ({'client_key': '/nonexistent/key.pem'}, 'client_key is set but client_cert is not; give the certificate too'),
])
def test_unusable_connection_options_are_refused_offline_naming_the_option(options, given, named):
    with pytest.raises(UnicoreError) as error:
        check_connection_options(options(url=SITE, **given))
    assert str(error.value) == named


# ---------------------------------------------------------------- plain HTTP

@pytest.mark.parametrize('url', ['http://localhost:8080/DEMO-SITE/rest/core', ' HTTP://gateway/DEMO-SITE/rest/core'])
@pytest.mark.parametrize('allow_http', [False, None])
def test_a_plain_http_url_is_refused_naming_url_and_allow_http(options, url, allow_http):
    with pytest.raises(UnicoreError) as error:
        check_plain_http(options(url=url, allow_http=allow_http))
    assert str(error.value).startswith('url: %s is not HTTPS' % url.strip())
    assert 'allow_http: true' in str(error.value)


def test_an_allowed_plain_http_url_still_gets_a_warning(options):
    warning = check_plain_http(options(url='http://localhost:8080/DEMO-SITE/rest/core', allow_http=True))
    assert warning == ('url: http://localhost:8080/DEMO-SITE/rest/core is plain HTTP (allow_http is true): '
                       'credentials and tokens cross the network unencrypted')


@pytest.mark.parametrize('url, allow_http', [(SITE, False), (SITE, None), (SITE, True), (None, False)])
def test_https_gets_neither_refusal_nor_warning(options, url, allow_http):
    assert check_plain_http(options(url=url, allow_http=allow_http)) is None


@pytest.mark.parametrize('allow_http', [False, True])
def test_neither_message_shows_a_password_in_the_url(options, allow_http):
    url = 'http://demouser:s3cret@localhost:8080/DEMO-SITE/rest/core'
    try:
        message = check_plain_http(options(url=url, allow_http=allow_http))
    except UnicoreError as error:
        message = str(error)
    assert 'localhost:8080' in message and 's3cret' not in message
