# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTPS transport to a UNICORE site (internal to the collection).

A ``requests.Session`` that keeps the connection alive, reuses the server's
security session instead of authenticating every request, retries idempotent
requests with backoff, and turns every failure into one ``UnicoreError`` whose
message names the URL and the cause (in ``_transport_errors``' words) and never a secret.
"""

from __future__ import annotations

import email.utils
import json
import time
import warnings

from ansible_collections.unicore.auth.plugins.module_utils._connection_options import connection_settings
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._transport_errors import describe_exception, describe_status
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
    """Authenticated GET requests to one UNICORE site (and the form posts of an OIDC login, see ``post_form``)."""

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
                response = self._send('GET', url, headers=headers, params=params)
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
                raise UnicoreError(self._failure_message(url, response, attempt), url=url, status=response.status_code)
            return response

    def post_form(self, url, form, authorization=None):
        """POST ``form`` to ``url`` once, without the site's credential or security session; the response, whatever its status.

        For an OIDC provider's token endpoint: a grant is never repeated (the
        first attempt may have spent a refresh token), and the caller reads an
        error answer itself. UnicoreError when no answer comes.
        """
        url = str(url)
        headers = {'Accept': 'application/json'}
        if authorization is not None:
            headers['Authorization'] = authorization
        try:
            return self._send('POST', url, headers=headers, data=form)
        except requests.exceptions.RequestException as exc:
            raise UnicoreError('POST %s failed: %s' % (display_url(url), describe_exception(exc, self.timeout)), url=url)

    def _send(self, method, url, **request):
        # verify= on every request: requests lets REQUESTS_CA_BUNDLE and
        # CURL_CA_BUNDLE override a Session's own setting, so ca_path and
        # validate_certs would not always win. Redirects are not followed, so
        # no credential or session id ever goes to another address.
        request.update(verify=self._verify, cert=self._cert, timeout=self.timeout, allow_redirects=False, proxies=self._proxies(url))
        if self._verify is False:
            # The user turned verification off on purpose; urllib3 would warn on every request.
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                return self._http.request(method, url, **request)
        return self._http.request(method, url, **request)

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

    def _failure_message(self, url, response, attempt):
        message = describe_status(url, response, self.credential.method, self._preferences, _retry_hint(response))
        if response.status_code in RETRY_STATUSES and attempt:
            message += ' (gave up after %d retries)' % attempt
        return message


def _retry_hint(response):
    """What the retries could not overcome, for a final answer of a status they handle; else None."""
    status = response.status_code
    if status == SESSION_REJECTED:
        return 'The site rejected the security session even after a fresh login'
    if status in RETRY_STATUSES:
        delay = _retry_after(response)
        if delay is not None and delay > MAX_RETRY_AFTER:
            return 'The site asked to retry after %d seconds, longer than the %d seconds this client waits' % (delay, MAX_RETRY_AFTER)
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
