# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTPS transport to a UNICORE site (internal to the collection).

A ``requests.Session`` that keeps the connection alive, reuses the server's
security session instead of authenticating every request, retries idempotent
requests with backoff, and turns every failure into one ``UnicoreError`` whose
message names the URL and the cause and never a secret.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import socket
import ssl
import time
import warnings

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._urls import display_url

try:
    import requests
    from requests.auth import AuthBase
except ImportError:
    HAS_REQUESTS = False
    AuthBase = object
else:
    HAS_REQUESTS = True

SESSION_HEADER = 'X-UNICORE-SecuritySession'
SESSION_LIFETIME_HEADER = 'X-UNICORE-SecuritySession-Lifetime'
PREFERENCES_HEADER = 'X-UNICORE-User-Preferences'
# UNICORE's answer to an unknown or expired security session.
SESSION_REJECTED = 432
RETRY_STATUSES = (429, 502, 503, 504)
# A Retry-After longer than this is not waited for: the run fails and says so.
MAX_RETRY_AFTER = 60
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 8.0
# Stop offering a security session this many seconds before the server forgets it.
SESSION_EXPIRY_MARGIN = 5.0


class _NoNetrcAuth(AuthBase):
    """Leaves requests as they are.

    With no auth set, requests fills in credentials from ~/.netrc; an
    anonymous request must stay anonymous and a header we built must win.
    """

    def __call__(self, request):
        return request


class Transport:
    """Authenticated GET requests to one UNICORE site."""

    def __init__(self, credential, validate_certs=True, ca_path=None, client_cert=None, client_key=None,
                 timeout=30, retries=3, security_sessions=True, preferences=None,
                 sleep=time.sleep, clock=time.monotonic):
        if not HAS_REQUESTS:
            raise UnicoreError('talking to UNICORE needs the Python library requests', missing_library='requests')
        self.credential = credential
        self.timeout, self.retries, self._verify, self._cert = connection_settings(
            validate_certs, ca_path, client_cert, client_key, timeout, retries)
        self.security_sessions = bool(security_sessions)
        self._preferences = None if preferences is None else str(preferences)
        self._sleep = sleep
        self._clock = clock
        self._session_id = None
        self._session_expires = None
        self._http = requests.Session()
        self._http.auth = _NoNetrcAuth()
        # requests would read the proxy and CA bundle variables from the
        # environment on every request, a large part of a request's cost on a
        # kept-alive connection; they are read once per site instead.
        self._http.trust_env = False
        self._proxies_by_origin = {}

    @property
    def preferences(self):
        return self._preferences

    @preferences.setter
    def preferences(self, header):
        header = None if header is None else str(header)
        if header != self._preferences:
            # The server stores the selection in the security session and keeps
            # it when the header changes, so a new selection needs a new session.
            self.drop_security_session()
        self._preferences = header

    def drop_security_session(self):
        self._session_id = None
        self._session_expires = None

    def close(self):
        self._http.close()

    def get_json(self, url):
        """GET ``url`` as JSON and return the decoded object."""
        response = self.get(url, accept='application/json')
        try:
            return json.loads(response.text)
        except ValueError:
            raise UnicoreError('GET %s returned a body that is not JSON (Content-Type: %s, %d bytes)'
                               % (display_url(url), response.headers.get('Content-Type', 'none'), len(response.content)),
                               url=url, status=response.status_code)

    def get(self, url, accept='application/json', params=None):
        """GET ``url``; return the response, or raise UnicoreError for any failure."""
        url = str(url)
        attempt = 0
        session_retried = False
        while True:
            headers, sent_session = self._headers(accept)
            try:
                response = self._send(url, headers, params)
            except requests.exceptions.RequestException as exc:
                if attempt < self.retries and _is_retryable(exc):
                    self._sleep(_backoff(attempt))
                    attempt += 1
                    continue
                message = 'GET %s failed: %s' % (display_url(url), describe_exception(exc, self.timeout))
                if attempt:
                    message += ' (gave up after %d retries)' % attempt
                raise UnicoreError(message, url=url)
            if response.status_code == SESSION_REJECTED and sent_session and not session_retried:
                # The server forgot the session (restart, expiry, eviction): authenticate once more.
                self.drop_security_session()
                session_retried = True
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.retries:
                delay = _retry_after(response)
                if delay is None or delay <= MAX_RETRY_AFTER:
                    self._sleep(_backoff(attempt) if delay is None else delay)
                    attempt += 1
                    continue
            self._remember_security_session(response)
            if response.status_code >= 300:
                raise UnicoreError(self._describe_status(url, response, attempt), url=url, status=response.status_code)
            return response

    def _send(self, url, headers, params):
        if self._verify is False:
            # The user turned verification off on purpose; urllib3 would warn on every request.
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                return self._request(url, headers, params)
        return self._request(url, headers, params)

    def _request(self, url, headers, params):
        # verify= on every request: requests lets REQUESTS_CA_BUNDLE and
        # CURL_CA_BUNDLE override a Session's own setting, so ca_path and
        # validate_certs would not always win. Redirects are not followed, so
        # no credential or session id ever goes to another address.
        return self._http.get(url, headers=headers, params=params, verify=self._verify, cert=self._cert,
                              timeout=self.timeout, allow_redirects=False, proxies=self._proxies(url))

    def _proxies(self, url):
        """The proxies the environment names for ``url`` (HTTPS_PROXY, NO_PROXY, ...), read once per scheme and host."""
        origin = url.split('/', 3)[:3]
        key = '/'.join(origin)
        if key not in self._proxies_by_origin:
            self._proxies_by_origin[key] = requests.utils.get_environ_proxies(url)
        return self._proxies_by_origin[key]

    def _headers(self, accept):
        headers = {'Accept': accept}
        if self._preferences:
            headers[PREFERENCES_HEADER] = self._preferences
        if self._session_id is not None and not self._session_expired():
            headers[SESSION_HEADER] = self._session_id
            return headers, True
        self.drop_security_session()
        authorization = self.credential.authorization_header()
        if authorization is not None:
            headers['Authorization'] = authorization
        return headers, False

    def _session_expired(self):
        return self._session_expires is not None and self._clock() >= self._session_expires

    def _remember_security_session(self, response):
        if not self.security_sessions or response.status_code >= 400:
            return
        session_id = response.headers.get(SESSION_HEADER)
        if not session_id:
            return
        self._session_id = session_id
        self._session_expires = None
        lifetime_ms = response.headers.get(SESSION_LIFETIME_HEADER)
        try:
            self._session_expires = self._clock() + int(lifetime_ms) / 1000.0 - SESSION_EXPIRY_MARGIN
        except (TypeError, ValueError):
            pass

    def _describe_status(self, url, response, attempt):
        status = response.status_code
        message = 'GET %s failed: HTTP %d' % (display_url(url), status)
        if response.reason:
            message += ' ' + response.reason
        server_message = _server_error_message(response)
        if server_message:
            message += ': %s' % server_message
        hint = self._hint(url, response, server_message)
        if hint:
            # The server's own message may already end a sentence.
            message += '%s %s' % ('' if message.endswith(('.', '!', '?')) else '.', hint)
        if status in RETRY_STATUSES and attempt:
            message += ' (gave up after %d retries)' % attempt
        return message

    def _hint(self, url, response, server_message):
        status = response.status_code
        if 300 <= status < 400:
            return ('The site redirects to %s; redirects are not followed so that credentials never go to another address. '
                    'Set url to the final address' % display_url(response.headers.get('Location', 'an unnamed location')))
        if status in (401, 403):
            return self._forbidden_hint(url, server_message)
        if status == 404:
            return 'No such resource: check url (a site base ends in /rest/core)'
        if status == SESSION_REJECTED:
            return 'The site rejected the security session even after a fresh login'
        if status in RETRY_STATUSES:
            delay = _retry_after(response)
            if delay is not None and delay > MAX_RETRY_AFTER:
                return 'The site asked to retry after %d seconds, longer than the %d seconds this client waits' % (delay, MAX_RETRY_AFTER)
        return None

    def _forbidden_hint(self, url, server_message):
        method = self.credential.method
        if method == 'anonymous':
            return 'The site does not allow this anonymously: give credentials'
        named = _named_cause(server_message)
        if named:
            return named
        causes = ['the site refused the credentials (auth_method=%s)' % method]
        if self._preferences:
            causes.append('a requested preference (%s) is not available to this user' % self._preferences)
        if str(url).rstrip('/').endswith('/token'):
            if method in ('bearer', 'trusted_service'):
                causes.append('the token used to log in is not renewable, and only a renewable token can get a new one')
            # UNICORE accepts a login that maps to nobody, then refuses it a token.
            causes.append('the login maps to no user at this site (unicore.auth.unicore_access_info shows what it maps to)')
        return 'Most likely ' + ', or '.join(causes)


# Advice for a refusal whose cause the site's own message names, by a phrase of that message.
_NAMED_CAUSES = (
    ('non-renewable', 'Only a renewable token can get a new one: log in with the original credential, '
                      'or issue the token with renewable: true'),
    ('anonymous', 'The login maps to no user at this site (unicore.auth.unicore_access_info shows what it maps to)'),
)


def _named_cause(server_message):
    lowered = (server_message or '').lower()
    for phrase, advice in _NAMED_CAUSES:
        if phrase in lowered:
            return advice
    return None


def _server_error_message(response):
    if 'json' not in response.headers.get('Content-Type', ''):
        return None
    try:
        body = json.loads(response.text)
    except ValueError:
        return None
    if isinstance(body, dict) and body.get('errorMessage'):
        return str(body['errorMessage'])
    return None


def _retry_after(response):
    """Seconds the server asked us to wait (``Retry-After`` as seconds or HTTP date), or None."""
    value = response.headers.get('Retry-After')
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0, int(when.timestamp() - time.time()))


def _backoff(attempt):
    return min(BACKOFF_MAX, BACKOFF_FIRST * (2 ** attempt))


def _is_retryable(exc):
    """Connection failures are worth another try; TLS failures and slow answers are not."""
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    return isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError))


def describe_exception(exc, timeout):
    """A short cause for a failed request, from the innermost error."""
    if isinstance(exc, requests.exceptions.SSLError):
        return _describe_tls_error(_root_cause(exc))
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return 'could not connect within %g seconds (timeout)' % timeout
    if isinstance(exc, requests.exceptions.Timeout):
        return 'no response within %g seconds (timeout)' % timeout
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        return 'not a valid URL'
    return _root_cause(exc)


# What to do about a TLS failure, by a phrase OpenSSL uses for its cause.
_TLS_ADVICE = (
    ('unable to get local issuer certificate', 'Set ca_path to the CA that signed the site certificate (validate_certs: false only for tests)'),
    ('self-signed certificate', 'Set ca_path to the CA that signed the site certificate (validate_certs: false only for tests)'),
    ('self signed certificate', 'Set ca_path to the CA that signed the site certificate (validate_certs: false only for tests)'),
    ('hostname mismatch', 'The certificate is for another host name: use the host name the certificate names in url'),
    ('certificate has expired', "The site's certificate has expired: tell the site's administrators"),
    ('unknown ca', 'The site does not trust the CA of client_cert'),
    ('certificate required', 'The site wants a TLS client certificate: give client_cert'),
    # How a refused client certificate often shows with TLS 1.3: the site drops the connection.
    ('unexpected eof', 'The site closed the connection during the TLS handshake; a site that wants a TLS client '
                       'certificate does that when none or an untrusted one is given (client_cert)'),
    ('eof occurred in violation of protocol', 'The site closed the connection during the TLS handshake; a site that wants a TLS client '
                                              'certificate does that when none or an untrusted one is given (client_cert)'),
    ('wrong version number', 'The port does not speak TLS: check the scheme and port of url'),
)


def _describe_tls_error(cause):
    # OpenSSL names some reasons with underscores (TLSV1_ALERT_UNKNOWN_CA).
    lowered = cause.lower().replace('_', ' ')
    for phrase, advice in _TLS_ADVICE:
        if phrase in lowered:
            return 'TLS error: %s. %s' % (cause.rstrip('.'), advice)
    return 'TLS error: %s' % cause.rstrip('.')


def _root_cause(exc):
    seen = set()
    current = exc
    while id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return 'certificate verify failed: %s' % (current.verify_message or current.reason)
        if isinstance(current, ssl.SSLError):
            return getattr(current, 'reason', None) or str(current)
        if isinstance(current, socket.gaierror):
            return 'cannot resolve the host name'
        if isinstance(current, http.client.RemoteDisconnected):
            return 'the server closed the connection without a response'
        if isinstance(current, http.client.IncompleteRead):
            return 'the connection broke before the whole response arrived'
        if isinstance(current, OSError) and current.errno and current.errno > 0:
            return os.strerror(current.errno).lower()
        inner = _inner_exception(current)
        if inner is None:
            break
        current = inner
    text = str(current) or current.__class__.__name__
    if 'IncompleteRead' in text or 'Connection broken' in text:
        return 'the connection broke before the whole response arrived'
    return text


def _inner_exception(exc):
    reason = getattr(exc, 'reason', None)
    if isinstance(reason, BaseException):
        return reason
    for arg in getattr(exc, 'args', ()):
        if isinstance(arg, BaseException):
            return arg
    return exc.__cause__ or exc.__context__


def _positive_number(option, value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UnicoreError('%s must be a number of seconds, got %r' % (option, value))
    if number <= 0:
        raise UnicoreError('%s must be greater than 0, got %s' % (option, value))
    return number


def _non_negative_int(option, value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UnicoreError('%s must be a whole number, got %r' % (option, value))
    if number < 0:
        raise UnicoreError('%s must not be negative, got %s' % (option, value))
    return number


def connection_settings(validate_certs=True, ca_path=None, client_cert=None, client_key=None, timeout=30, retries=3):
    """``(timeout, retries, verify, cert)`` as a Transport uses them; UnicoreError, naming the option, for one it refuses."""
    return (_positive_number('timeout', timeout), _non_negative_int('retries', retries),
            _verify_setting(validate_certs, ca_path), _cert_setting(client_cert, client_key))


def _verify_setting(validate_certs, ca_path):
    if not validate_certs:
        return False
    if ca_path is None or ca_path == '':
        # What requests does with its environment, read once: these variables
        # name the bundle to trust when no ca_path is given.
        return os.environ.get('REQUESTS_CA_BUNDLE') or os.environ.get('CURL_CA_BUNDLE') or True
    ca_path = str(ca_path)
    if not os.path.exists(ca_path):
        raise UnicoreError('ca_path: %s does not exist' % ca_path)
    return ca_path


def _cert_setting(client_cert, client_key):
    if not client_cert:
        if client_key:
            raise UnicoreError('client_key is set but client_cert is not; give the certificate too')
        return None
    for option, path in (('client_cert', client_cert), ('client_key', client_key)):
        if path and not os.path.isfile(str(path)):
            raise UnicoreError('%s: file %s does not exist' % (option, path))
    return (str(client_cert), str(client_key)) if client_key else str(client_cert)
