# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``auth_method: oidc_agent``: an access token from a running oidc-agent (internal to the collection).

As PyUNICORE's ``OIDCAgentToken`` and UCC's ``oidc-agent`` do: one JSON request
on the agent's UNIX socket, one JSON answer, after which the agent closes the
connection. The agent keeps the refresh token and refreshes at the provider
when its cached access token would not stay valid for ``min_valid_period``.
"""

from __future__ import annotations

import json
import os
import socket

from ansible_collections.unicore.auth.plugins.module_utils._credentials import Credential, check_header_word
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._options import is_blank

# The access token must outlast the requests of one run; oidc-token's own examples ask for 60 s.
MIN_VALID_PERIOD = 60
# An answer is a token and a few fields; anything longer is not the agent.
MAX_ANSWER_BYTES = 256 * 1024
APPLICATION_HINT = 'unicore.auth'
NOT_RUNNING = 'oidc-agent is not running: start it and set OIDC_SOCK, or set oidc_agent_socket'


class OidcAgentCredential(Credential):
    """``Authorization: Bearer <access token>``, the token asked of oidc-agent once per run."""

    method = 'oidc_agent'
    OPTIONS = ('oidc_agent_account', 'oidc_agent_socket', 'oidc_scope')

    def __init__(self, account, socket_path, scope, timeout):
        self.account = account
        self.socket_path = socket_path
        self.scope = scope
        self.timeout = timeout
        self._access_token = None

    @classmethod
    def from_options(cls, options):
        socket_path = options.get_given('oidc_agent_socket') or os.environ.get('OIDC_SOCK') or None
        return cls(options.get_given('oidc_agent_account'), socket_path, options.get_given('oidc_scope'),
                   options.get_option_default('timeout', 30))

    def validate(self):
        if is_blank(self.account):
            raise UnicoreError('auth_method=oidc_agent needs oidc_agent_account (the short name of the account in oidc-agent)')
        if is_blank(self.socket_path):
            raise UnicoreError(NOT_RUNNING)

    def authorization_header(self):
        if self._access_token is None:
            answer = self._ask({'request': 'access_token', 'account': str(self.account), 'min_valid_period': MIN_VALID_PERIOD,
                                'application_hint': APPLICATION_HINT})
            token = answer.get('access_token')
            if not isinstance(token, str) or not token:
                raise UnicoreError('oidc-agent at %s answered without an access token for account %s' % (self.socket_path, self.account))
            # An opaque token from another program goes into a header: nothing in it may end the header.
            check_header_word('the access token oidc-agent gave', token)
            self._access_token = token
        return 'Bearer ' + self._access_token

    def _ask(self, request):
        # The agent refreshes when asked for another scope than the account's, on every call: only a given scope is sent.
        if not is_blank(self.scope):
            request['scope'] = str(self.scope)
        path = os.path.expanduser(str(self.socket_path))
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(self.timeout)
                connection.connect(path)
                connection.sendall(json.dumps(request).encode('utf-8'))
                data = _read_to_end(connection, path)
        except socket.timeout:
            raise UnicoreError('oidc-agent at %s did not answer within %s s (timeout)' % (path, self.timeout))
        except (FileNotFoundError, ConnectionRefusedError) as error:
            raise UnicoreError('%s (no agent listens at %s: %s)' % (NOT_RUNNING, path, error.strerror))
        except OSError as error:
            raise UnicoreError('oidc_agent_socket: cannot talk to oidc-agent at %s: %s' % (path, error.strerror or error))
        try:
            answer = json.loads(data.decode('utf-8'))
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise UnicoreError('oidc_agent_socket: %s did not answer as oidc-agent does (one JSON object): is it its socket?' % path)
        if answer.get('status') != 'success':
            raise UnicoreError(self._refusal(path, answer.get('error')))
        return answer

    def _refusal(self, path, error):
        error = str(error or 'no error given')[:300]
        lowered = error.lower()
        if 'locked' in lowered:
            advice = 'unlock it with oidc-add -u'
        elif 'not loaded' in lowered or 'no account' in lowered:
            advice = 'load the account with oidc-add %s, or check oidc_agent_account' % self.account
        else:
            advice = 'see oidc-agent\'s own log for the cause'
        return 'oidc-agent at %s gave no access token for account %s: %s; %s' % (path, self.account, error, advice)


def _read_to_end(connection, path):
    chunks = []
    size = 0
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            return b''.join(chunks)
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise UnicoreError('oidc_agent_socket: the answer from %s is over %d bytes: it is not oidc-agent' % (path, MAX_ANSWER_BYTES))
        chunks.append(chunk)
