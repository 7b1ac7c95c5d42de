# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTPS transport: TLS settings, retries, security sessions and error messages.

The site is scripted with a fake requests adapter: these are the cases no real
server shows on demand (dropped connections, 503s, a forgotten session, redirects).
"""

from __future__ import annotations

import datetime
import email.utils
import errno

import pytest
import requests

from ansible_collections.unicore.auth.plugins.module_utils._credentials import (
    AnonymousCredential,
    BearerCredential,
    PasswordCredential,
)
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._transport import Transport

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
PASSWORD = 'Pässw0rd-never-shown'
SESSION = 'X-UNICORE-SecuritySession'
LIFETIME = 'X-UNICORE-SecuritySession-Lifetime'
PREFERENCES = 'X-UNICORE-User-Preferences'


def password_login():
    return PasswordCredential('demouser', PASSWORD)


def failure(transport, url=SITE, **get_options):
    """The UnicoreError of a failing GET; checks that neither the password nor its Basic value is in it."""
    with pytest.raises(UnicoreError) as error:
        transport.get(url, **get_options)
    message = str(error.value)
    assert PASSWORD not in message
    authorization = transport.credential.authorization_header()
    if authorization:
        assert authorization.split(' ', 1)[1] not in message
    return error.value


@pytest.fixture
def ok(reply):
    """``ok(session=None, lifetime_ms=None)``: a 200 JSON answer, carrying a security session when given."""
    def build(session=None, lifetime_ms=None):
        headers = {}
        if session:
            headers[SESSION] = session
        if lifetime_ms is not None:
            headers[LIFETIME] = str(lifetime_ms)
        return reply(200, json_body={'client': {'dn': 'CN=Demo User, O=UNICORE, C=EU'}}, headers=headers)
    return build


def connection_refused():
    return requests.exceptions.ConnectionError(ConnectionRefusedError(errno.ECONNREFUSED, 'Connection refused'))


# ---------------------------------------------------------------- TLS settings

@pytest.fixture
def ca_bundle_in_environment(monkeypatch, tmp_path):
    bundle = tmp_path / 'environment-bundle.pem'
    bundle.write_text('')
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', str(bundle))
    monkeypatch.setenv('CURL_CA_BUNDLE', str(bundle))
    return str(bundle)


@pytest.mark.parametrize('settings, expected', [
    # Without ca_path, the trust store is requests' default, which a CA bundle
    # named in the environment replaces; verification stays on either way.
    pytest.param({}, 'ENV_BUNDLE', id='default-is-the-environment-bundle'),
    pytest.param({'ca_path': 'CA_PATH'}, 'CA_PATH', id='ca-path'),
    pytest.param({'validate_certs': False}, False, id='validate-certs-false'),
    pytest.param({'validate_certs': False, 'ca_path': 'CA_PATH'}, False, id='validate-certs-false-with-ca-path'),
])
def test_verify_is_passed_on_every_request_whatever_the_ca_bundle_environment(
        scripted_transport, reply, ok, tmp_path, ca_bundle_in_environment, settings, expected):
    ca_path = tmp_path / 'site-ca.pem'
    ca_path.write_text('')
    settings = {name: str(ca_path) if value == 'CA_PATH' else value for name, value in settings.items()}
    expected = {'CA_PATH': str(ca_path), 'ENV_BUNDLE': ca_bundle_in_environment}.get(expected, expected)
    transport, site = scripted_transport(password_login(), [reply(503), ok(), ok()], **settings)
    transport.get(SITE)
    transport.get(SITE)
    assert [kwargs['verify'] for kwargs in site.send_kwargs] == [expected] * 3


@pytest.mark.parametrize('no_proxy, expected', [('', 'http://proxy.example:3128'), ('site.example', None)])
def test_proxy_environment_applies_and_is_read_once_per_site(scripted_transport, ok, monkeypatch, no_proxy, expected):
    monkeypatch.setenv('HTTPS_PROXY', 'http://proxy.example:3128')
    monkeypatch.setenv('NO_PROXY', no_proxy)
    reads = []
    real_reader = requests.utils.get_environ_proxies
    monkeypatch.setattr(requests.utils, 'get_environ_proxies', lambda *args, **kwargs: reads.append(args[0]) or real_reader(*args, **kwargs))
    transport, site = scripted_transport(password_login(), [ok(), ok(), ok()])
    for path in ('', '/token', ''):
        transport.get(SITE + path)
    assert [kwargs['proxies'].get('https') for kwargs in site.send_kwargs] == [expected] * 3
    assert reads == [SITE]


def test_client_certificate_and_timeout_are_passed_on_every_request(scripted_transport, ok, self_signed_cert):
    cert_path, key_path = self_signed_cert[:2]
    transport, site = scripted_transport(AnonymousCredential(), [ok(), ok()], client_cert=cert_path,
                                         client_key=key_path, timeout=7)
    transport.get(SITE)
    transport.get(SITE)
    assert [(kwargs['cert'], kwargs['timeout']) for kwargs in site.send_kwargs] == [((cert_path, key_path), 7)] * 2


@pytest.mark.parametrize('settings, named', [
    (dict(timeout=0), 'timeout must be greater than 0'),
    (dict(timeout='soon'), 'timeout must be a number'),
    (dict(retries=-1), 'retries must not be negative'),
    (dict(ca_path='/nonexistent/site-ca.pem'), 'ca_path: /nonexistent/site-ca.pem does not exist'),
    (dict(client_cert='/nonexistent/cert.pem'), 'client_cert: file /nonexistent/cert.pem does not exist'),
    (dict(client_key='/nonexistent/key.pem'), 'client_key is set but client_cert is not'),
])
def test_unusable_connection_settings_are_refused_naming_the_option(settings, named):
    with pytest.raises(UnicoreError) as error:
        Transport(password_login(), **settings)
    assert named in str(error.value)


# ---------------------------------------------------------------- retries

def test_connection_errors_are_retried_with_growing_backoff(scripted_transport, ok, sleeps):
    transport, site = scripted_transport(password_login(), [connection_refused(), connection_refused(), ok()])
    assert transport.get(SITE).status_code == 200
    assert len(site.requests) == 3
    assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize('status', [429, 502, 503, 504])
def test_overload_and_gateway_statuses_are_retried(scripted_transport, reply, ok, status):
    transport, site = scripted_transport(password_login(), [reply(status), ok()])
    assert transport.get(SITE).status_code == 200
    assert len(site.requests) == 2


def test_gives_up_on_a_status_after_retries_naming_url_status_and_retries(scripted_transport, reply, sleeps):
    transport, site = scripted_transport(password_login(), [reply(503)] * 3, retries=2)
    error = failure(transport)
    assert SITE in str(error)
    assert '503' in str(error)
    assert 'gave up after 2 retries' in str(error)
    assert error.status == 503
    assert len(site.requests) == 3
    assert sleeps == [0.5, 1.0]


def test_gives_up_on_connection_errors_after_retries_naming_url_cause_and_retries(scripted_transport, sleeps):
    transport, site = scripted_transport(password_login(), [connection_refused()] * 4, retries=3)
    message = str(failure(transport))
    assert SITE in message
    assert 'connection refused' in message
    assert 'gave up after 3 retries' in message
    assert len(site.requests) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_no_retry_when_retries_is_zero(scripted_transport, reply, sleeps):
    transport, site = scripted_transport(password_login(), [reply(503)], retries=0)
    failure(transport)
    assert len(site.requests) == 1
    assert sleeps == []


def test_retry_after_in_seconds_is_honoured(scripted_transport, reply, ok, sleeps):
    transport, site = scripted_transport(password_login(), [reply(429, headers={'Retry-After': '7'}), ok()])
    transport.get(SITE)
    assert sleeps == [7]


def test_retry_after_as_http_date_is_honoured(scripted_transport, reply, ok, sleeps):
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=30)
    retry_after = email.utils.format_datetime(when, usegmt=True)
    transport, site = scripted_transport(password_login(), [reply(503, headers={'Retry-After': retry_after}), ok()])
    transport.get(SITE)
    assert len(sleeps) == 1 and 27 <= sleeps[0] <= 30


def test_retry_after_over_60_seconds_is_not_waited_for(scripted_transport, reply, sleeps):
    transport, site = scripted_transport(password_login(), [reply(503, headers={'Retry-After': '120'})])
    message = str(failure(transport))
    assert 'retry after 120 seconds' in message
    assert len(site.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize('outcome, cause', [
    pytest.param(500, 'HTTP 500', id='500'),
    pytest.param(403, 'HTTP 403', id='403'),
    pytest.param(requests.exceptions.SSLError('certificate verify failed'), 'TLS error', id='ssl-error'),
    pytest.param(requests.exceptions.ReadTimeout('read timed out'), 'no response within', id='read-timeout'),
])
def test_server_errors_refusals_tls_errors_and_slow_answers_are_not_retried(scripted_transport, reply, sleeps, outcome, cause):
    transport, site = scripted_transport(password_login(), [reply(outcome) if isinstance(outcome, int) else outcome])
    assert cause in str(failure(transport))
    assert len(site.requests) == 1
    assert sleeps == []


# ---------------------------------------------------------------- security sessions

def test_first_request_sends_credentials_then_the_security_session_replaces_them(scripted_transport, ok):
    transport, site = scripted_transport(password_login(), [ok(session='s-1'), ok(session='s-1')])
    transport.get(SITE)
    transport.get(SITE)
    first, second = site.headers
    assert first['Authorization'] == password_login().authorization_header()
    assert SESSION not in first
    assert second[SESSION] == 's-1'
    assert 'Authorization' not in second


def test_rejected_session_is_retried_once_with_credentials_and_without_the_session(scripted_transport, reply, ok):
    transport, site = scripted_transport(password_login(), [ok(session='s-1'), reply(432), ok(session='s-2')])
    transport.get(SITE)
    assert transport.get(SITE).status_code == 200
    rejected, retried = site.headers[1:]
    assert rejected[SESSION] == 's-1'
    assert 'Authorization' in retried
    assert SESSION not in retried


def test_session_rejected_again_after_a_fresh_login_fails_without_looping(scripted_transport, reply, ok):
    transport, site = scripted_transport(password_login(), [ok(session='s-1'), reply(432), reply(432)])
    transport.get(SITE)
    error = failure(transport)
    assert error.status == 432
    assert len(site.requests) == 3


def test_no_session_id_is_sent_when_security_sessions_are_off(scripted_transport, ok):
    transport, site = scripted_transport(password_login(), [ok(session='s-%d' % n) for n in range(3)],
                                         security_sessions=False)
    transport.get(SITE)
    transport.get(SITE)
    transport.get(SITE)
    assert [SESSION in headers for headers in site.headers] == [False] * 3
    assert ['Authorization' in headers for headers in site.headers] == [True] * 3


def test_changing_preferences_starts_a_new_session(scripted_transport, ok):
    transport, site = scripted_transport(password_login(), [ok(session='s-1'), ok(session='s-2')],
                                         preferences='uid:demouser')
    transport.get(SITE)
    transport.preferences = 'uid:demouser,group:hpc'
    transport.get(SITE)
    after_change = site.headers[1]
    assert SESSION not in after_change
    assert 'Authorization' in after_change
    assert after_change[PREFERENCES] == 'uid:demouser,group:hpc'


def test_setting_the_same_preferences_keeps_the_session(scripted_transport, ok):
    transport, site = scripted_transport(password_login(), [ok(session='s-1'), ok(session='s-1')],
                                         preferences='uid:demouser')
    transport.get(SITE)
    transport.preferences = 'uid:demouser'
    transport.get(SITE)
    assert site.headers[1][SESSION] == 's-1'


def test_session_is_offered_only_while_its_lifetime_lasts(scripted_transport, ok, clock):
    transport, site = scripted_transport(password_login(), [ok(session='s-1', lifetime_ms=60000)] + [ok()] * 2)
    transport.get(SITE)
    clock.advance(50)
    transport.get(SITE)
    clock.advance(10)
    transport.get(SITE)
    assert site.headers[1][SESSION] == 's-1'
    assert SESSION not in site.headers[2]
    assert 'Authorization' in site.headers[2]


# ---------------------------------------------------------------- error messages

def test_forbidden_shows_the_servers_error_message(scripted_transport, reply):
    refusal = reply(403, json_body={'errorMessage': 'Access denied: wrong credentials', 'status': 403})
    transport, site = scripted_transport(password_login(), [refusal])
    error = failure(transport)
    assert str(error).startswith('GET %s failed: HTTP 403' % SITE)
    assert 'Access denied: wrong credentials' in str(error)
    assert 'auth_method=password' in str(error)
    assert error.status == 403


@pytest.mark.parametrize('password, cause', [('s3cret-Pass\n', 'a newline'), ('s3cret-Pass\r\n', 'a newline'),
                                             ('s3cret-Pass ', 'a space or tab'), ('s3cret-Pass\t', 'a space or tab')])
@pytest.mark.parametrize('status', [401, 403])
def test_a_refused_password_that_ends_with_white_space_says_that_this_may_be_why(scripted_transport, reply, password, cause, status):
    transport = scripted_transport(PasswordCredential('demouser', password), [reply(status)])[0]
    message = str(failure(transport))
    assert 'The password ends with white space (%s)' % cause in message
    assert 'ansible-vault encrypt_string' in message
    assert 's3cret-Pass' not in message


@pytest.mark.parametrize('password', ['s3cret-Pass', ' s3cret Pass'])
def test_a_refused_password_without_white_space_at_its_end_gets_no_such_hint(scripted_transport, reply, password):
    message = str(failure(scripted_transport(PasswordCredential('demouser', password), [reply(403)])[0]))
    assert 'white space' not in message and 's3cret' not in message


def test_a_password_with_white_space_at_its_end_gets_no_hint_for_other_failures(scripted_transport, reply):
    message = str(failure(scripted_transport(PasswordCredential('demouser', 'pw\n'), [reply(404)])[0]))
    assert 'white space' not in message


def test_forbidden_hint_blames_preferences_only_when_they_are_set(scripted_transport, reply):
    with_preferences = scripted_transport(password_login(), [reply(403)], preferences='uid:root')[0]
    without_preferences = scripted_transport(password_login(), [reply(403)])[0]
    assert 'preference (uid:root) is not available' in str(failure(with_preferences))
    assert 'preference' not in str(failure(without_preferences))


def test_forbidden_token_request_with_a_bearer_token_hints_at_a_non_renewable_token(scripted_transport, reply):
    server_says = 'Error creating token: Cannot create token when authenticating with a non-renewable token!'
    transport = scripted_transport(BearerCredential('abc.def.ghi'), [reply(403, json_body={'errorMessage': server_says, 'status': 403})])[0]
    message = str(failure(transport, SITE + '/token', accept='text/plain'))
    assert server_says in message
    assert message.endswith('Only a renewable token can get a new one: log in with the original credential, '
                            'or issue the token with renewable: true')
    assert 'Most likely' not in message


def test_forbidden_token_request_for_an_unmapped_login_names_only_that_cause(scripted_transport, reply):
    server_says = 'Access denied: anonymous users cannot obtain tokens.'
    transport = scripted_transport(password_login(), [reply(403, json_body={'errorMessage': server_says, 'status': 403})])[0]
    message = str(failure(transport, SITE + '/token', accept='text/plain'))
    assert message.endswith('%s The login maps to no user at this site (unicore.auth.unicore_access_info shows what it maps to)' % server_says)
    assert 'refused the credentials' not in message


def test_forbidden_without_a_named_cause_lists_the_likely_causes(scripted_transport, reply):
    transport = scripted_transport(password_login(), [reply(403)])[0]
    message = str(failure(transport, SITE + '/token', accept='text/plain'))
    assert 'Most likely the site refused the credentials (auth_method=password)' in message
    assert 'maps to no user' in message


def test_redirect_is_not_followed_and_the_message_names_the_location(scripted_transport, reply):
    transport, site = scripted_transport(password_login(), [reply(302, headers={'Location': 'https://login.example/oidc/auth'})])
    message = str(failure(transport))
    assert 'https://login.example/oidc/auth' in message
    assert 'redirect' in message
    assert len(site.requests) == 1


def test_body_that_is_not_json_names_the_content_type(scripted_transport, reply):
    login_page = reply(200, '<html>Please log in</html>', headers={'Content-Type': 'text/html; charset=utf-8'})
    transport = scripted_transport(password_login(), [login_page])[0]
    with pytest.raises(UnicoreError) as error:
        transport.get_json(SITE)
    assert 'not JSON' in str(error.value)
    assert 'Content-Type: text/html' in str(error.value)
    assert PASSWORD not in str(error.value)


@pytest.mark.parametrize('url_password', ['s3cret-in-url', 'pa/ss-in-url'])
def test_url_with_user_and_password_never_shows_the_password(scripted_transport, reply, url_password):
    transport = scripted_transport(password_login(), [reply(403)])[0]
    message = str(failure(transport, 'https://demouser:%s@site.example/DEMO-SITE/rest/core' % url_password))
    assert url_password not in message
    assert url_password.split('/')[-1] not in message


@pytest.mark.parametrize('login, expected_authorization', [
    pytest.param(AnonymousCredential(), None, id='anonymous'),
    pytest.param(password_login(), password_login().authorization_header(), id='password'),
])
def test_netrc_credentials_are_never_added(scripted_transport, ok, tmp_path, monkeypatch, login, expected_authorization):
    netrc = tmp_path / '.netrc'
    netrc.write_text('machine site.example login netrcuser password netrc-secret\n')
    netrc.chmod(0o600)
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.delenv('NETRC', raising=False)
    assert requests.utils.get_netrc_auth(SITE) == ('netrcuser', 'netrc-secret')  # plain requests would send these
    transport, site = scripted_transport(login, [ok()])
    transport.get(SITE)
    assert site.headers[0].get('Authorization') == expected_authorization
