# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transport's bounds: a request ends within ``timeout`` seconds in all, and reads at most a limit of its answer.

Most cases script the site with a fake adapter whose bodies arrive piece by
piece on a fake clock. The last ones talk to a small HTTP server on loopback
that sends its answer a byte at a time, because only a real socket shows that
dripped headers, which requests reads before any body, end at the deadline too.
"""

from __future__ import annotations

import itertools
import socketserver
import threading
import time

import pytest
import requests

from ansible_collections.unicore.auth.plugins.module_utils._client import UnicoreClient
from ansible_collections.unicore.auth.plugins.module_utils._credentials import AnonymousCredential, PasswordCredential
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._registry import read_registry
from ansible_collections.unicore.auth.plugins.module_utils._transport import JSON_ANSWER, READ_PIECE, TOKEN_ANSWER, Transport

SITE = 'https://site.example:8080/DEMO-SITE/rest/core'
REGISTRY = 'https://site.example:8080/REGISTRY/rest/registries/default_registry'
TOKEN_ENDPOINT = 'https://login.example/realms/unicore/protocol/openid-connect/token'


class ArrivingBody:
    """A response body that arrives in ``pieces``, each ``seconds`` after the last on the fake clock; records what was read."""

    def __init__(self, clock, pieces, seconds):
        self._clock = clock
        self._pieces = iter(pieces)
        self._seconds = seconds
        self.bytes_read = 0
        self.closed = False

    def read(self, _amount=None, **_kwargs):
        piece = next(self._pieces, b'')
        if piece:
            self._clock.advance(self._seconds)
        self.bytes_read += len(piece)
        return piece

    def close(self):
        self.closed = True


def streamed(body, status=200, headers=None):
    """A response whose body is still to be read from ``body``, as requests returns it with stream=True."""
    response = requests.Response()
    response.status_code = status
    response.reason = 'OK' if status == 200 else 'Service Unavailable'
    response.headers.update(headers or {})
    response.raw = body
    response.encoding = 'utf-8'
    return response


def endless(piece=b'x' * READ_PIECE):
    return itertools.repeat(piece)


def failure_of(call):
    with pytest.raises(UnicoreError) as error:
        call()
    return error.value


# ---------------------------------------------------------------- the deadline

def test_an_answer_still_arriving_when_the_timeout_is_up_fails_naming_the_url(scripted_transport, clock):
    body = ArrivingBody(clock, endless(b'x'), seconds=0.5)
    transport, site = scripted_transport(PasswordCredential('demouser', 'secret'), [streamed(body)], timeout=10)
    started = clock()
    error = failure_of(lambda: transport.get(SITE))
    assert str(error).startswith('GET %s failed: the answer took longer than timeout=10 s in all' % SITE)
    assert error.url == SITE
    # Stopped at the deadline: 20 bytes in 10 s, not one byte more.
    assert body.bytes_read == 20
    assert clock() - started == 10
    assert body.closed


def test_an_answer_that_ends_in_time_is_read_whole_however_slowly_it_came(scripted_transport, clock):
    body = ArrivingBody(clock, [b'{"client": ', b'{}', b'}'], seconds=3)
    transport = scripted_transport(AnonymousCredential(), [streamed(body)], timeout=10)[0]
    assert transport.get_json(SITE) == {'client': {}}
    assert clock() - 1000.0 == 9


def test_a_slow_answer_is_not_retried(scripted_transport, clock, sleeps):
    # A 503 is retried, but not when its body trickles in past the deadline.
    body = ArrivingBody(clock, endless(b'x'), seconds=1)
    transport, site = scripted_transport(AnonymousCredential(), [streamed(body, status=503)], timeout=5, retries=3)
    assert 'took longer than timeout=5 s in all' in str(failure_of(lambda: transport.get(SITE)))
    assert len(site.requests) == 1
    assert sleeps == []


def test_each_attempt_gets_the_whole_timeout_again(scripted_transport, clock, sleeps):
    first = ArrivingBody(clock, [b'{"errorMessage": ', b'"busy"}'], seconds=4)
    second = ArrivingBody(clock, [b'{"client": ', b'{}}'], seconds=4)
    transport, site = scripted_transport(AnonymousCredential(), [streamed(first, status=503), streamed(second)], timeout=10)
    # 16 s in all, over the timeout of 10 s, but 8 s for each attempt.
    assert transport.get_json(SITE) == {'client': {}}
    assert len(site.requests) == 2
    assert sleeps == [0.5]


def test_retries_bound_the_whole_request_to_retries_plus_one_timeouts_and_the_waits(scripted_transport, clock, sleeps):
    script = [streamed(ArrivingBody(clock, [b'{}'] * 9, seconds=1), status=503) for _attempt in range(4)]
    transport, site = scripted_transport(AnonymousCredential(), script, timeout=10, retries=3)
    started = clock()
    message = str(failure_of(lambda: transport.get(SITE)))
    assert 'HTTP 503' in message and 'gave up after 3 retries' in message
    assert len(site.requests) == 4
    # The fake clock moves only while answers arrive; the waits are counted apart.
    assert clock() - started <= (3 + 1) * 10
    assert sleeps == [0.5, 1.0, 2.0]


def test_a_form_post_answer_still_arriving_at_the_deadline_fails_naming_the_endpoint(scripted_transport, clock):
    body = ArrivingBody(clock, endless(b' '), seconds=1)
    transport = scripted_transport(AnonymousCredential(), [streamed(body)], timeout=3)[0]
    message = str(failure_of(lambda: transport.post_form(TOKEN_ENDPOINT, {'grant_type': 'password'})))
    assert message.startswith('POST %s failed: the answer took longer than timeout=3 s in all' % TOKEN_ENDPOINT)


# ---------------------------------------------------------------- the size limits

def test_an_answer_whose_content_length_is_over_the_limit_is_not_read(scripted_transport, clock):
    body = ArrivingBody(clock, endless(), seconds=0)
    answer = streamed(body, headers={'Content-Length': '314572800', 'Content-Type': 'text/plain'})
    transport, site = scripted_transport(AnonymousCredential(), [answer], retries=3)
    error = failure_of(lambda: transport.get(SITE + '/token', accept='text/plain', limit=TOKEN_ANSWER))
    assert str(error) == ('GET %s/token failed: the answer is larger than 64 KiB, the most this client reads for a token '
                          '(Content-Length: 314572800); check that the URL is the one meant' % SITE)
    assert error.status == 200
    assert body.bytes_read == 0
    assert body.closed
    assert len(site.requests) == 1


@pytest.mark.parametrize('limit, named', [
    pytest.param(TOKEN_ANSWER, 'larger than 64 KiB, the most this client reads for a token', id='token'),
    pytest.param(JSON_ANSWER, 'larger than 8 MiB, the most this client reads for a JSON document', id='json'),
])
def test_an_endless_answer_without_content_length_is_read_only_up_to_the_limit(scripted_transport, clock, limit, named):
    body = ArrivingBody(clock, endless(), seconds=0)
    transport = scripted_transport(AnonymousCredential(), [streamed(body)])[0]
    message = str(failure_of(lambda: transport.get(SITE, limit=limit)))
    assert message.startswith('GET %s failed: the answer is %s;' % (SITE, named))
    assert limit.max_bytes < body.bytes_read <= limit.max_bytes + READ_PIECE
    assert body.closed


@pytest.mark.parametrize('extra, fits', [(0, True), (1, False)])
def test_an_answer_of_exactly_the_limit_is_read(scripted_transport, clock, extra, fits):
    size = TOKEN_ANSWER.max_bytes + extra
    body = ArrivingBody(clock, [b'x' * 1000] * (size // 1000) + [b'x' * (size % 1000)], seconds=0)
    transport = scripted_transport(AnonymousCredential(), [streamed(body)])[0]
    if fits:
        assert len(transport.get(SITE, limit=TOKEN_ANSWER).content) == size
    else:
        assert 'larger than 64 KiB' in str(failure_of(lambda: transport.get(SITE, limit=TOKEN_ANSWER)))


def test_the_token_request_reads_at_most_64_kib(scripted_transport, clock):
    # 100 KiB would pass the limit for JSON and then fail as "not a token".
    body = ArrivingBody(clock, [b'x' * 1024] * 100, seconds=0)
    transport = scripted_transport(PasswordCredential('demouser', 'secret'), [streamed(body)])[0]
    error = failure_of(UnicoreClient(SITE, transport).issue_auth_token)
    assert str(error).startswith('GET %s/token failed: the answer is larger than 64 KiB' % SITE)


@pytest.mark.parametrize('reader, url, verb', [
    pytest.param(lambda transport: transport.get_json(SITE), SITE, 'GET', id='site-json'),
    pytest.param(lambda transport: read_registry(transport, REGISTRY), REGISTRY, 'GET', id='registry'),
    pytest.param(lambda transport: transport.post_form(TOKEN_ENDPOINT, {'grant_type': 'password'}), TOKEN_ENDPOINT, 'POST',
                 id='oidc-token-endpoint'),
])
def test_every_json_reader_reads_at_most_8_mib(scripted_transport, clock, reader, url, verb):
    body = ArrivingBody(clock, endless(), seconds=0)
    transport = scripted_transport(AnonymousCredential(), [streamed(body, headers={'Content-Type': 'application/json'})])[0]
    message = str(failure_of(lambda: reader(transport)))
    assert message.startswith('%s %s failed: the answer is larger than 8 MiB, the most this client reads for a JSON document' % (verb, url))
    assert body.bytes_read <= JSON_ANSWER.max_bytes + READ_PIECE


# ---------------------------------------------------------------- over a real socket

HEAD = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n'
BODY = b'{"client": {"dn": "CN=Demo User, O=UNICORE, C=EU"}, "padding": "' + b'.' * 100 + b'"}'
DRIP_SECONDS = 0.1


class LoopbackSite(socketserver.ThreadingTCPServer):
    """Plain HTTP on 127.0.0.1 that answers every request as ``mode`` says, and counts connections and requests."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mode):
        self.mode = mode
        self.connections = 0
        self.requests = 0
        super().__init__(('127.0.0.1', 0), _LoopbackHandler)

    @property
    def url(self):
        return 'http://127.0.0.1:%d/DEMO-SITE/rest/core' % self.server_address[1]


class _LoopbackHandler(socketserver.StreamRequestHandler):

    def handle(self):
        self.server.connections += 1
        try:
            while self._read_request():
                self.server.requests += 1
                answer = (HEAD % len(BODY), BODY)
                mode = self.server.mode
                if mode == 'silent':
                    time.sleep(10)
                    return
                for part, slowly in zip(answer, (mode == 'drip-head', mode == 'drip-body')):
                    if not slowly:
                        self.wfile.write(part)
                        continue
                    for index in range(len(part)):
                        self.wfile.write(part[index:index + 1])
                        time.sleep(DRIP_SECONDS)
        except OSError:
            pass    # the client gave up

    def _read_request(self):
        lines = []
        while True:
            line = self.rfile.readline()
            if not line:
                return False
            if line in (b'\r\n', b'\n'):
                return bool(lines)
            lines.append(line)


@pytest.fixture
def loopback_site():
    """``loopback_site(mode)``: a running LoopbackSite (modes ok, drip-head, drip-body, silent)."""
    servers = []

    def start(mode):
        server = LoopbackSite(mode)
        threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True).start()
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize('mode, dripping_takes', [
    pytest.param('drip-head', len(HEAD % len(BODY)) * DRIP_SECONDS, id='headers-a-byte-at-a-time'),
    pytest.param('drip-body', len(BODY) * DRIP_SECONDS, id='body-a-byte-at-a-time'),
])
def test_an_answer_dripping_over_a_real_socket_ends_at_the_deadline(loopback_site, deadline, mode, dripping_takes):
    site = loopback_site(mode)
    transport = Transport(AnonymousCredential(), timeout=1, retries=0)
    started = time.monotonic()
    message = str(failure_of(lambda: transport.get_json(site.url)))
    elapsed = time.monotonic() - started
    assert message.startswith('GET %s failed: the answer took longer than timeout=1 s in all' % site.url)
    # Not a measure of speed: the bound that tells a deadline from a hang. Each
    # byte comes well within the timeout, so without the deadline the request
    # would take as long as the whole drip (over 7 s).
    assert dripping_takes > 7
    assert elapsed < 1 + 2


def test_a_site_that_sends_nothing_fails_as_no_response_within_the_timeout(loopback_site, deadline):
    site = loopback_site('silent')
    transport = Transport(AnonymousCredential(), timeout=1, retries=0)
    message = str(failure_of(lambda: transport.get_json(site.url)))
    assert message == 'GET %s failed: no response within 1 seconds (timeout)' % site.url


def test_kept_alive_connections_still_serve_one_request_after_another(loopback_site, deadline):
    site = loopback_site('ok')
    transport = Transport(AnonymousCredential(), timeout=1, retries=0)
    for _request in range(3):
        assert transport.get_json(site.url)['client']['dn'] == 'CN=Demo User, O=UNICORE, C=EU'
    assert (site.connections, site.requests) == (1, 3)
