# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_method: oidc_agent: the request on the agent's socket, and answers no real agent gives on demand.

A scripted agent listens on a UNIX socket here to show what the real one does
not do when asked (an answer that is not JSON or never ends, a token that would
break the header); the integration tests ask the real oidc-agent.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import threading

import pytest

from ansible_collections.unicore.auth.plugins.module_utils._credentials import CREDENTIAL_KINDS, auto_auth_method
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._oidc_agent_credentials import (
    MIN_VALID_PERIOD,
    NOT_RUNNING,
    OidcAgentCredential,
)

ACCESS_TOKEN = 'opaque-access-token-0815'


class ScriptedAgent:
    """Answers each connection with the next scripted bytes (or holds it open for ``None``), recording the requests."""

    def __init__(self, path, answers):
        self.path = path
        self.answers = list(answers)
        self.requests = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(path)
        self._server.listen(5)
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while self.answers:
            answer = self.answers.pop(0)
            connection, _address = self._server.accept()
            with connection:
                self.requests.append(json.loads(connection.recv(65536).decode('utf-8')))
                if answer is None:
                    self._release.wait(10)
                else:
                    connection.sendall(answer)

    def close(self):
        self._release.set()
        self._server.close()
        self._thread.join(5)


@pytest.fixture
def agent():
    directory = tempfile.mkdtemp(prefix='agent-')  # a short path: a socket's name must fit in 108 bytes
    started = []

    def start(*answers):
        scripted = ScriptedAgent(os.path.join(directory, 'sock'), [
            answer if answer is None or isinstance(answer, bytes) else json.dumps(answer).encode('utf-8') for answer in answers])
        started.append(scripted)
        return scripted
    yield start
    for scripted in started:
        scripted.close()
    for name in os.listdir(directory):
        os.unlink(os.path.join(directory, name))
    os.rmdir(directory)


def success(token=ACCESS_TOKEN):
    return {'status': 'success', 'access_token': token, 'issuer': 'https://idp.example/realms/unicore/', 'expires_at': 2000000000}


@pytest.fixture
def agent_credential(credential, monkeypatch):
    monkeypatch.delenv('OIDC_SOCK', raising=False)

    def build(**given):
        return credential(**dict(dict(auth_method='oidc_agent', oidc_agent_account='demo'), **given))
    return build


def test_the_kind_is_listed_with_its_own_options():
    assert CREDENTIAL_KINDS['oidc_agent'].OPTIONS == OidcAgentCredential.OPTIONS


def test_auto_picks_oidc_agent_for_an_account_after_a_token_and_an_oidc_provider(options):
    assert auto_auth_method(options(oidc_agent_account='demo')) == 'oidc_agent'
    assert auto_auth_method(options(oidc_agent_account='demo', token='t')) == 'bearer'
    assert auto_auth_method(options(oidc_agent_account='demo', oidc_issuer='https://idp.example')) == 'oidc_server'
    assert auto_auth_method(options(oidc_agent_account='demo', username='demouser', password='p')) == 'oidc_agent'


def test_the_agent_is_asked_once_for_a_token_that_stays_valid_for_the_run(agent, agent_credential):
    scripted = agent(success())
    login = agent_credential(oidc_agent_socket=scripted.path)
    assert login.authorization_header() == 'Bearer ' + ACCESS_TOKEN
    assert login.authorization_header() == 'Bearer ' + ACCESS_TOKEN
    # No scope: asking for another scope than the account's makes the agent refresh on every call.
    assert scripted.requests == [{'request': 'access_token', 'account': 'demo', 'min_valid_period': MIN_VALID_PERIOD,
                                  'application_hint': 'unicore.auth'}]


def test_a_given_scope_is_asked_for(agent, agent_credential):
    scripted = agent(success())
    agent_credential(oidc_agent_socket=scripted.path, oidc_scope='openid profile').authorization_header()
    assert scripted.requests[0]['scope'] == 'openid profile'


def test_the_socket_comes_from_oidc_sock_unless_the_option_names_one(agent, agent_credential, monkeypatch, tmp_path):
    scripted = agent(success(), success())
    monkeypatch.setenv('OIDC_SOCK', scripted.path)
    assert agent_credential().authorization_header() == 'Bearer ' + ACCESS_TOKEN
    monkeypatch.setenv('OIDC_SOCK', str(tmp_path / 'elsewhere'))
    assert agent_credential(oidc_agent_socket=scripted.path).authorization_header() == 'Bearer ' + ACCESS_TOKEN
    assert len(scripted.requests) == 2


def test_without_a_socket_the_error_says_to_start_the_agent(agent_credential):
    with pytest.raises(UnicoreError) as error:
        agent_credential()
    assert str(error.value) == NOT_RUNNING


def test_an_account_is_required(credential, monkeypatch):
    monkeypatch.setenv('OIDC_SOCK', '/run/agent.sock')
    with pytest.raises(UnicoreError, match='auth_method=oidc_agent needs oidc_agent_account'):
        credential(auth_method='oidc_agent')


def test_a_socket_where_no_agent_listens_is_named(agent_credential, tmp_path):
    path = str(tmp_path / 'gone.sock')
    with pytest.raises(UnicoreError) as error:
        agent_credential(oidc_agent_socket=path).authorization_header()
    assert str(error.value).startswith(NOT_RUNNING) and path in str(error.value)


@pytest.mark.parametrize('refusal, advice', [
    ('Agent locked', 'unlock it with oidc-add -u'),
    ('account not loaded', 'load the account with oidc-add demo'),
    ('No account configured with that short name', 'load the account with oidc-add demo'),
    ('the other party disconnected', "see oidc-agent's own log"),
])
def test_the_agents_refusal_is_shown_with_what_to_do(agent, agent_credential, refusal, advice):
    scripted = agent({'status': 'failure', 'error': refusal})
    with pytest.raises(UnicoreError) as error:
        agent_credential(oidc_agent_socket=scripted.path).authorization_header()
    assert str(error.value) == 'oidc-agent at %s gave no access token for account demo: %s; %s' % (
        scripted.path, refusal, str(error.value).rsplit('; ', 1)[1])
    assert advice in str(error.value)


@pytest.mark.parametrize('answer, expected', [
    (b'HTTP/1.1 400 Bad Request\r\n\r\n', 'did not answer as oidc-agent does (one JSON object): is it its socket?'),
    (b'["success"]', 'did not answer as oidc-agent does'),
    (json.dumps({'status': 'success'}).encode(), 'answered without an access token for account demo'),
    (b'{' + b' ' * (300 * 1024) + b'}', 'is over 262144 bytes: it is not oidc-agent'),
])
def test_an_answer_that_is_not_the_agents_is_refused(agent, agent_credential, answer, expected):
    scripted = agent(answer)
    with pytest.raises(UnicoreError, match=expected.replace('(', r'\(').replace(')', r'\)').replace('?', r'\?')):
        agent_credential(oidc_agent_socket=scripted.path).authorization_header()


def test_an_agent_that_never_answers_fails_after_the_timeout(agent, agent_credential):
    scripted = agent(None)
    with pytest.raises(UnicoreError, match=r'did not answer within 0\.3 s'):
        agent_credential(oidc_agent_socket=scripted.path, timeout=0.3).authorization_header()


@pytest.mark.parametrize('token', ['abc\r\nX-Injected: 1', 'abc def', 'abc\x00', 'abc\u0142'])
def test_a_token_that_would_break_the_header_is_refused_and_not_shown(agent, agent_credential, token):
    scripted = agent(success(token))
    with pytest.raises(UnicoreError) as error:
        agent_credential(oidc_agent_socket=scripted.path).authorization_header()
    assert 'the access token oidc-agent gave must' in str(error.value)
    assert 'abc' not in str(error.value)
