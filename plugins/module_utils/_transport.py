# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTPS transport to a UNICORE site (internal to the collection).

A ``requests.Session`` that keeps the connection alive, reuses the server's
security session instead of authenticating every request, retries idempotent
requests with backoff, and turns every failure into one ``UnicoreError`` whose
message names the URL and the cause (in ``_transport_errors``' words) and never a secret.

Every request (to a site, a Registry or an OIDC provider: all HTTP of the
collection goes through here) must end within ``timeout`` seconds in all:
connecting, the TLS handshake, the answer's headers and its body together, so
that a site or proxy that sends its answer a byte at a time cannot hold a task.
Every read from the socket waits at most for what is left of that time (see
``_DeadlineReader``), and the body is read in pieces with the deadline checked
before each. An answer is read up to a limit (``TOKEN_ANSWER``, ``JSON_ANSWER``),
never whole into memory first. A retried request gets the whole ``timeout``
again for each attempt: at most ``retries`` + 1 attempts (one more after the
site forgot the security session), with the waits between them.
"""

from __future__ import annotations

import collections
import contextvars
import email.utils
import http.client
import io
import json
import socket
import time
import warnings

from ansible_collections.unicore.auth.plugins.module_utils._connection_options import connection_settings
from ansible_collections.unicore.auth.plugins.module_utils._credentials import is_header_word
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._transport_errors import (
    describe_exception,
    describe_large_answer,
    describe_slow_answer,
    describe_status,
)
from ansible_collections.unicore.auth.plugins.module_utils._urls import display_url

try:
    import requests
    import urllib3.exceptions
    from requests.adapters import HTTPAdapter
    from requests.auth import AuthBase
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
except ImportError:
    HAS_REQUESTS = False
    AuthBase = HTTPAdapter = HTTPConnection = HTTPSConnection = HTTPConnectionPool = HTTPSConnectionPool = object
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

AnswerLimit = collections.namedtuple('AnswerLimit', 'max_bytes what')
# The most of an answer that is read, for every reader of the collection. The
# body of /token is the token itself, a JWT of a few KiB; the JSON documents of a
# site, a Registry or an OIDC provider are far below 8 MiB. A larger answer is
# not what was asked for, and is not read into memory.
TOKEN_ANSWER = AnswerLimit(64 * 1024, 'a token')
JSON_ANSWER = AnswerLimit(8 * 1024 * 1024, 'a JSON document')
# Bodies are read in pieces of this size; the deadline is checked before each.
READ_PIECE = 64 * 1024


class _NoNetrcAuth(AuthBase):
    """Leaves requests as they are.

    With no auth set, requests fills in credentials from ~/.netrc; an
    anonymous request must stay anonymous and a header we built must win.
    """

    def __call__(self, request):
        return request


class _Deadline:
    """The moment one request must be over, by the transport's clock, and how many bytes of its answer arrived."""

    def __init__(self, clock, seconds):
        self._clock = clock
        self.seconds = seconds
        self.expires = clock() + seconds
        self.received = 0

    def remaining(self):
        return self.expires - self._clock()


# The deadline of the request under way in this thread (the transport sets it
# around each attempt): urllib3 builds connections and answers itself, so this
# is how its sockets learn it.
_REQUEST_DEADLINE = contextvars.ContextVar('unicore_auth_request_deadline', default=None)


class _DeadlinePassed(socket.timeout):
    """A read from the socket after the request's time was up."""


class _DeadlineReader(io.RawIOBase):
    """The socket as http.client reads an answer from it, each read waiting only for what is left of the deadline.

    A socket's timeout bounds each read, not their sum: a site that sends a byte
    every half second never trips it. Here each read gets the time that remains,
    so the status line, the headers and the body together end at the deadline.
    """

    def __init__(self, sock, deadline):
        super().__init__()
        self._sock = sock
        self._io = sock.makefile('rb', buffering=0)
        self._deadline = deadline

    def readable(self):
        return True

    def readinto(self, buffer):
        remaining = self._deadline.remaining()
        if remaining <= 0:
            raise _DeadlinePassed('the answer took longer than %g s in all' % self._deadline.seconds)
        timeout = self._sock.gettimeout()
        self._sock.settimeout(remaining if timeout is None else min(timeout, remaining))
        try:
            count = self._io.readinto(buffer)
        finally:
            try:
                # A kept-alive connection sends its next request with urllib3's own timeout.
                self._sock.settimeout(timeout)
            except OSError:
                pass
        self._deadline.received += count or 0
        return count

    def fileno(self):
        return self._sock.fileno()

    def close(self):
        if not self.closed:
            self._io.close()
        super().close()


class _SocketWithDeadline:
    """What http.client takes an answer from: only ``makefile`` is used, which here reads through a ``_DeadlineReader``."""

    def __init__(self, sock, deadline):
        self._sock = sock
        self._deadline = deadline

    def makefile(self, *_args, **_kwargs):
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


class _ResponseWithDeadline(http.client.HTTPResponse):
    """http.client's answer, read within the deadline of the request under way (if any)."""

    def __init__(self, sock, *args, **kwargs):
        deadline = _REQUEST_DEADLINE.get()
        super().__init__(sock if deadline is None else _SocketWithDeadline(sock, deadline), *args, **kwargs)


class _KeepsToTheDeadline:
    """For urllib3's connections: answers read within the deadline, and the TLS handshake within what connecting left of it."""

    response_class = _ResponseWithDeadline

    def _new_conn(self):
        sock = super()._new_conn()
        deadline = _REQUEST_DEADLINE.get()
        if deadline is not None:
            remaining = deadline.remaining()
            if remaining <= 0:
                sock.close()
                raise urllib3.exceptions.ConnectTimeoutError(self, 'connected only after the timeout of %g s' % deadline.seconds)
            # CPython's ssl module keeps to the socket's timeout across the whole
            # handshake, so the handshake ends by the deadline too.
            sock.settimeout(remaining)
        return sock


class _HTTPConnection(_KeepsToTheDeadline, HTTPConnection):
    """urllib3's plain HTTP connection (allow_http), keeping to the deadline."""


class _HTTPSConnection(_KeepsToTheDeadline, HTTPSConnection):
    """urllib3's HTTPS connection, keeping to the deadline."""


class _HTTPConnectionPool(HTTPConnectionPool):
    """urllib3's pool, of connections that keep to the deadline."""

    ConnectionCls = _HTTPConnection


class _HTTPSConnectionPool(HTTPSConnectionPool):
    """urllib3's pool, of connections that keep to the deadline."""

    ConnectionCls = _HTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    """requests' adapter with connections that keep to the deadline of the request under way."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {'http': _HTTPConnectionPool, 'https': _HTTPSConnectionPool}

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        # An HTTP(S) proxy's manager uses the standard pools, replaced here; a
        # SOCKS proxy's has its own, whose answers keep to the deadline only
        # between the pieces of the body.
        if manager.pool_classes_by_scheme == {'http': HTTPConnectionPool, 'https': HTTPSConnectionPool}:
            manager.pool_classes_by_scheme = {'http': _HTTPConnectionPool, 'https': _HTTPSConnectionPool}
        return manager


class _AnswerNotRead(Exception):
    """An answer the transport stopped reading: too slow or too large. ``status`` is its HTTP status when it got that far."""

    def __init__(self, cause, status=None):
        super().__init__(cause)
        self.cause = cause
        self.status = status


class Transport:
    """Authenticated GET requests to one UNICORE site (and the form posts of an OIDC login, see ``post_form``)."""

    def __init__(self, credential, validate_certs=True, ca_path=None, client_cert=None, client_key=None,
                 timeout=30, retries=3, security_sessions=True, preferences=None,
                 sleep=time.sleep, clock=time.monotonic, kept_sessions=None):
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
        # A _security_session_store.SecuritySessionStore: sessions kept on this machine between runs.
        self._kept_sessions = kept_sessions if self.security_sessions else None
        self._kept_looked_up = set()  # the preferences headers it was asked for
        self._http = requests.Session()
        self._http.auth = _NoNetrcAuth()
        for prefix in ('https://', 'http://'):
            self._http.mount(prefix, _DeadlineAdapter())
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
        if self._kept_sessions is not None:
            self._kept_sessions.release()
        self._http.close()

    def get_json(self, url):
        """GET ``url`` as JSON (at most ``JSON_ANSWER``) and return the decoded object."""
        response = self.get(url, accept='application/json', limit=JSON_ANSWER)
        try:
            return json.loads(response.text)
        except ValueError:
            raise UnicoreError('GET %s returned a body that is not JSON (Content-Type: %s, %d bytes)'
                               % (display_url(url), response.headers.get('Content-Type', 'none'), len(response.content)),
                               url=url, status=response.status_code)

    def get(self, url, accept='application/json', params=None, limit=JSON_ANSWER):
        """GET ``url``; return the response with its body read (at most ``limit``), or raise UnicoreError for any failure."""
        url = str(url)
        attempt = 0
        session_retried = False
        while True:
            headers, sent_session = self._headers(accept)
            try:
                response = self._send('GET', url, limit, headers=headers, params=params)
            except _AnswerNotRead as cut:
                # Too slow or too large: another attempt would be so too.
                raise UnicoreError('GET %s failed: %s' % (display_url(url), cut.cause), url=url, status=cut.status)
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
                self._session_refused()
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
        error answer itself (its body read, at most ``JSON_ANSWER``).
        UnicoreError when no answer comes.
        """
        url = str(url)
        headers = {'Accept': 'application/json'}
        if authorization is not None:
            headers['Authorization'] = checked_authorization(authorization, 'the client credentials for POST %s' % display_url(url))
        try:
            return self._send('POST', url, JSON_ANSWER, headers=headers, data=form)
        except _AnswerNotRead as cut:
            raise UnicoreError('POST %s failed: %s' % (display_url(url), cut.cause), url=url, status=cut.status)
        except requests.exceptions.RequestException as exc:
            raise UnicoreError('POST %s failed: %s' % (display_url(url), describe_exception(exc, self.timeout)), url=url)

    def _send(self, method, url, limit, **request):
        """One attempt, over within ``timeout`` seconds: the response with its body read (at most ``limit``).

        requests' exception when no answer came, _AnswerNotRead when one came too slowly or was too large.
        """
        # verify= on every request: requests lets REQUESTS_CA_BUNDLE and
        # CURL_CA_BUNDLE override a Session's own setting, so ca_path and
        # validate_certs would not always win. Redirects are not followed, so
        # no credential or session id ever goes to another address. stream:
        # the body is read here, in pieces, within the deadline and the limit.
        request.update(verify=self._verify, cert=self._cert, timeout=self.timeout, allow_redirects=False, proxies=self._proxies(url),
                       stream=True)
        deadline = _Deadline(self._clock, self.timeout)
        current = _REQUEST_DEADLINE.set(deadline)
        try:
            try:
                response = self._request(method, url, request)
            except requests.exceptions.Timeout:
                if deadline.received:
                    # Part of the answer came, the rest not in time (headers sent a little at a time).
                    raise _AnswerNotRead(describe_slow_answer(self.timeout))
                raise
            try:
                response._content = _read_body(response, deadline, limit, self.timeout)
                response._content_consumed = True
            except BaseException:
                if response.raw is not None:
                    # Not read to its end: the connection cannot serve another request.
                    response.close()
                raise
            return response
        finally:
            _REQUEST_DEADLINE.reset(current)

    def _request(self, method, url, request):
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
        self._adopt_kept_session()
        if self._session_id is not None and not self._session_expired():
            headers[SESSION_HEADER] = self._session_id
            return headers, True
        self.drop_security_session()
        authorization = self.credential.authorization_header()
        if authorization is not None:
            headers['Authorization'] = checked_authorization(authorization, 'auth_method=%s' % self.credential.method)
        return headers, False

    def _session_expired(self):
        return self._session_expires is not None and self._clock() >= self._session_expires

    def _adopt_kept_session(self):
        """Take up the session an earlier run kept on this machine for these preferences (looked for once), or claim the login."""
        if self._kept_sessions is None or self._session_id is not None or self._preferences in self._kept_looked_up:
            return
        self._kept_looked_up.add(self._preferences)
        kept = self._kept_sessions.find(self._preferences, SESSION_EXPIRY_MARGIN)
        if kept is None:
            # Runs that start together (forks): the first logs in, the others wait for its session rather than log in too.
            self._kept_sessions.claim(self._preferences)
            kept = self._kept_sessions.find(self._preferences, SESSION_EXPIRY_MARGIN)
        if kept is not None:
            self._kept_sessions.release()
            self._use_kept_session(kept)

    def _use_kept_session(self, kept):
        session_id, seconds_left = kept
        self._session_id = session_id
        self._session_expires = self._clock() + seconds_left - SESSION_EXPIRY_MARGIN

    def _session_refused(self):
        """The site answered 432 to the session sent: it is dropped, here and on this machine, and the next request logs in.

        Unless another run has kept a newer session meanwhile (after the same
        432, a site restart): that one is taken up instead.
        """
        refused = self._session_id
        self.drop_security_session()
        if self._kept_sessions is not None:
            newer = self._kept_sessions.forget(self._preferences, refused, SESSION_EXPIRY_MARGIN)
            if newer is not None:
                self._use_kept_session(newer)

    def _remember_security_session(self, response):
        if not self.security_sessions or response.status_code >= 400:
            return
        session_id = response.headers.get(SESSION_HEADER)
        # Echoed back in a header: an id with white space or a control character (a folded header line
        # brings "\r\n " into it) is not sent anywhere, and the next request logs in with the credentials.
        if not session_id or not is_header_word(session_id):
            return
        if self._kept_sessions is not None and session_id != self._session_id:
            # A new session, of this run's login: kept for the runs after it (those waiting for it first).
            self._kept_sessions.keep(self._preferences, session_id, _session_lifetime(response))
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
        hint = self.credential.refusal_hint() if response.status_code in (401, 403) else None
        if hint:
            message += '%s %s' % ('' if message.endswith('.') else '.', hint)
        return message


def checked_authorization(value, what):
    """``value``, an Authorization header (``<scheme> <credentials>``), when neither part holds white space or a control character.

    Every credential kind checks its own secrets where it gets them; this is
    the last look before any of them goes out, so that no header is ever
    ended early or added to. UnicoreError naming ``what``, never the value.
    """
    scheme, space, credentials = str(value).partition(' ')
    if not (space and is_header_word(scheme) and is_header_word(credentials)):
        raise UnicoreError('%s: the Authorization header would hold white space or a control character, which could end it or '
                           'add another header; nothing was sent' % what)
    return value


def _session_lifetime(response):
    """Seconds the security session of ``response`` lasts, as its Lifetime header says (milliseconds); None when it does not say."""
    try:
        return int(response.headers.get(SESSION_LIFETIME_HEADER)) / 1000.0
    except (TypeError, ValueError):
        return None


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


def _read_body(response, deadline, limit, timeout):
    """The body of a streamed ``response``, read in pieces while ``deadline`` lasts and up to ``limit``.

    requests' exception when the connection breaks, _AnswerNotRead when the
    body is over the limit (said by its Content-Length, or found while
    reading) or still arriving when the time is up.
    """
    if response._content is not False:
        # An adapter that hands over the body whole (as requests' Response.content takes it).
        body = response._content or b''
        if len(body) > limit.max_bytes:
            raise _AnswerNotRead(describe_large_answer(limit.max_bytes, limit.what), response.status_code)
        return body
    announced = _content_length(response)
    if announced is not None and announced > limit.max_bytes:
        raise _AnswerNotRead(describe_large_answer(limit.max_bytes, limit.what, announced), response.status_code)
    body = bytearray()
    pieces = response.iter_content(READ_PIECE)
    while True:
        if deadline.remaining() <= 0:
            raise _AnswerNotRead(describe_slow_answer(timeout), response.status_code)
        try:
            piece = next(pieces, None)
        except requests.exceptions.RequestException as exc:
            if deadline.remaining() <= 0 or _is_read_timeout(exc):
                raise _AnswerNotRead(describe_slow_answer(timeout), response.status_code)
            raise
        if piece is None:
            return bytes(body)
        if len(body) + len(piece) > limit.max_bytes:
            raise _AnswerNotRead(describe_large_answer(limit.max_bytes, limit.what), response.status_code)
        body += piece


def _is_read_timeout(exc):
    """Whether requests' exception from reading a body is a read that timed out (it calls that a ConnectionError)."""
    return any(isinstance(arg, urllib3.exceptions.ReadTimeoutError) for arg in exc.args)


def _content_length(response):
    value = response.headers.get('Content-Length', '').strip()
    return int(value) if value.isdigit() else None


def _backoff(attempt):
    return min(BACKOFF_MAX, BACKOFF_FIRST * (2 ** attempt))


def _is_retryable(exc):
    """Connection failures are worth another try; TLS failures and slow answers are not."""
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    return isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError))
