# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``auth_method: oidc_server``: log in at the site's OIDC provider, send its access token (internal to the collection).

As PyUNICORE's ``OIDCServerToken`` and UCC's ``oidc-server`` do: a form POST to
the provider's token endpoint, with a kept refresh token first and the
password grant only when there is none or the provider refuses it. Providers
rotate refresh tokens, so the one an answer carries replaces the kept one in
the file UCC and PyUNICORE keep them in (``{"<token endpoint>": {"refresh_token": ...}}``).
"""

from __future__ import annotations

import base64
import json
import os
from urllib.parse import quote

from ansible_collections.unicore.auth.plugins.module_utils._connection_options import connection_keywords, plain_http_check
from ansible_collections.unicore.auth.plugins.module_utils._credentials import AnonymousCredential, Credential, check_header_word
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._options import is_blank
from ansible_collections.unicore.auth.plugins.module_utils._private_files import FileLock, ensure_private_directory, read_private, write_private
from ansible_collections.unicore.auth.plugins.module_utils._urls import display_url

DEFAULT_REFRESH_TOKEN_FILE = '~/.cache/unicore.auth/oidc-refresh-tokens'
# RFC 6749 error codes and what the user can do about them.
ADVICE = {
    'invalid_client': 'check oidc_client_id and oidc_client_secret (and oidc_client_auth)',
    'unauthorized_client': 'the client may not use this grant: check the client at the provider',
    'invalid_scope': 'check oidc_scope',
    'unsupported_grant_type': 'the provider does not offer this grant to the client',
}


class OidcServerCredential(Credential):
    """``Authorization: Bearer <access token>``, the token got from the OIDC provider once per run."""

    method = 'oidc_server'
    OPTIONS = ('username', 'password', 'oidc_token_endpoint', 'oidc_issuer', 'oidc_client_id', 'oidc_client_secret',
               'oidc_client_auth', 'oidc_scope', 'oidc_otp', 'oidc_refresh_token', 'oidc_refresh_token_file',
               'oidc_store_refresh_token')

    def __init__(self, settings, connection):
        self.settings = settings
        self.connection = connection
        self._access_token = None

    @classmethod
    def from_options(cls, options):
        settings = dict((name, options.get_given(name)) for name in cls.OPTIONS)
        settings['oidc_client_auth'] = options.get_option_default('oidc_client_auth', 'post')
        settings['oidc_scope'] = options.get_option_default('oidc_scope', 'openid')
        settings['oidc_store_refresh_token'] = options.get_option_default('oidc_store_refresh_token', True)
        settings['allow_http'] = options.get_option_default('allow_http', False)
        connection = dict(connection_keywords(options), client_cert=None, client_key=None)
        return cls(settings, connection)

    def validate(self):
        given = self.settings
        if is_blank(given['oidc_token_endpoint']) and is_blank(given['oidc_issuer']):
            raise UnicoreError('auth_method=oidc_server needs oidc_token_endpoint or oidc_issuer (the OIDC provider)')
        if is_blank(given['oidc_client_id']):
            raise UnicoreError('auth_method=oidc_server needs oidc_client_id (the client registered at the OIDC provider)')
        for option in ('oidc_token_endpoint', 'oidc_issuer'):
            if not is_blank(given[option]):
                _check_provider_url(option, str(given[option]), given['allow_http'])
        for option in ('oidc_refresh_token', 'oidc_client_secret', 'oidc_otp'):
            if not is_blank(given[option]):
                check_header_word(option, str(given[option]), 'the login at the OIDC provider')
        if is_blank(given['oidc_refresh_token']) and (is_blank(given['username']) or is_blank(given['password'])) \
                and not os.path.exists(self.refresh_token_file()):
            raise UnicoreError('auth_method=oidc_server needs oidc_refresh_token, a refresh token kept in oidc_refresh_token_file '
                               '(%s, which does not exist), or username and password' % self.refresh_token_file())

    def refresh_token_file(self):
        return os.path.expanduser(str(self.settings['oidc_refresh_token_file'] or DEFAULT_REFRESH_TOKEN_FILE))

    def authorization_header(self):
        if self._access_token is None:
            self._access_token = self._log_in()
        return 'Bearer ' + self._access_token

    def _log_in(self):
        """The access token of one login at the provider; the rotated refresh token kept."""
        from ansible_collections.unicore.auth.plugins.module_utils._transport import Transport

        transport = Transport(AnonymousCredential(), **dict(self.connection, retries=0))
        try:
            provider = OidcProvider(transport, self.settings)
            store = RefreshTokenStore(self.refresh_token_file()) if self.settings['oidc_store_refresh_token'] else None
            endpoint = provider.token_endpoint()
            if store is None:
                return provider.log_in(endpoint, None, None)
            with store.locked():
                return provider.log_in(endpoint, store.get(endpoint), lambda new: store.put(endpoint, new))
        finally:
            transport.close()


def _check_provider_url(option, url, allow_http):
    # The same rule as for the site's url; the warning for an allowed http:// one has no way out of a credential.
    plain_http_check(option, url, allow_http, reached='the provider')
    if not url.strip().lower().startswith(('http://', 'https://')):
        raise UnicoreError('%s: %s is not an https:// URL' % (option, display_url(url)))


class OidcProvider:
    """The token endpoint of an OIDC provider, reached through a Transport."""

    def __init__(self, transport, settings):
        self.transport = transport
        self.settings = settings

    def token_endpoint(self):
        """``oidc_token_endpoint``, or the one the issuer's discovery document names."""
        if not is_blank(self.settings['oidc_token_endpoint']):
            return str(self.settings['oidc_token_endpoint']).strip()
        discovery = str(self.settings['oidc_issuer']).strip().rstrip('/') + '/.well-known/openid-configuration'
        document = self.transport.get_json(discovery)
        endpoint = document.get('token_endpoint') if isinstance(document, dict) else None
        if not isinstance(endpoint, str) or not endpoint:
            raise UnicoreError('oidc_issuer: %s names no token_endpoint; set oidc_token_endpoint' % display_url(discovery))
        # The provider names it, but the same rule holds as for one given: never plain HTTP unless allowed.
        _check_provider_url('oidc_issuer (its token_endpoint)', endpoint, self.settings['allow_http'])
        return endpoint

    def log_in(self, endpoint, kept_refresh_token, keep):
        """The access token: by the refresh token (given, else ``kept_refresh_token``), else by the password grant.

        ``keep(refresh_token)`` is called with the refresh token the answer carries, when there is one to keep.
        """
        given = self.settings['oidc_refresh_token']
        refresh_token = str(given) if not is_blank(given) else kept_refresh_token
        has_password = not is_blank(self.settings['username']) and not is_blank(self.settings['password'])
        if refresh_token is not None:
            answer = self._grant(endpoint, {'grant_type': 'refresh_token', 'refresh_token': refresh_token})
            if 'error' not in answer:
                return self._accepted(endpoint, answer, keep)
            if answer['error'] != 'invalid_grant' or not has_password:
                raise UnicoreError(self._refresh_refused(endpoint, answer, given_option=not is_blank(given)), url=endpoint)
        if not has_password:
            raise UnicoreError('auth_method=oidc_server: no refresh token for %s is kept in %s; log in once with username and '
                               'password, or give oidc_refresh_token' % (display_url(endpoint), self.settings['oidc_refresh_token_file']
                                                                         or DEFAULT_REFRESH_TOKEN_FILE), url=endpoint)
        form = {'grant_type': 'password', 'username': str(self.settings['username']), 'password': str(self.settings['password']),
                'scope': str(self.settings['oidc_scope'])}
        if not is_blank(self.settings['oidc_otp']):
            form['otp'] = str(self.settings['oidc_otp'])
        answer = self._grant(endpoint, form)
        if 'error' in answer:
            raise UnicoreError(self._refused(endpoint, answer, 'the password grant'), url=endpoint)
        return self._accepted(endpoint, answer, keep)

    def _grant(self, endpoint, form):
        """The provider's JSON answer: the tokens, or ``{"error", "error_description"}``."""
        client_id = str(self.settings['oidc_client_id'])
        secret = self.settings['oidc_client_secret']
        authorization = None
        if self.settings['oidc_client_auth'] == 'basic':
            # RFC 6749 2.3.1: both parts form-encoded before they are joined.
            pair = '%s:%s' % (quote(client_id, safe=''), quote('' if is_blank(secret) else str(secret), safe=''))
            authorization = 'Basic ' + base64.b64encode(pair.encode('utf-8')).decode('ascii')
        else:
            form = dict(form, client_id=client_id)
            if not is_blank(secret):
                form['client_secret'] = str(secret)
        response = self.transport.post_form(endpoint, form, authorization)
        try:
            answer = json.loads(response.text)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise UnicoreError('POST %s answered HTTP %d with something that is not JSON (Content-Type: %s): is it the token endpoint?'
                               % (display_url(endpoint), response.status_code, response.headers.get('Content-Type', 'none')),
                               url=endpoint, status=response.status_code)
        if response.status_code >= 400 and 'error' not in answer:
            answer['error'] = 'HTTP %d' % response.status_code
        if 'error' not in answer and not isinstance(answer.get('access_token'), str):
            raise UnicoreError('POST %s answered without an access_token' % display_url(endpoint), url=endpoint, status=response.status_code)
        return answer

    @staticmethod
    def _accepted(endpoint, answer, keep):
        new_refresh_token = answer.get('refresh_token')
        if keep is not None and isinstance(new_refresh_token, str) and new_refresh_token:
            keep(new_refresh_token)
        return answer['access_token']

    def _refresh_refused(self, endpoint, answer, given_option):
        if answer['error'] == 'invalid_grant':
            if given_option:
                return self._refused(endpoint, answer, 'oidc_refresh_token') + (
                    '. It has expired or was used already (providers rotate refresh tokens): give a new one, '
                    'or username and password as well')
            return self._refused(endpoint, answer, 'the refresh token kept in %s' % (
                self.settings['oidc_refresh_token_file'] or DEFAULT_REFRESH_TOKEN_FILE)) + (
                '. It has expired or was used by another client: log in once with username and password, or give oidc_refresh_token')
        return self._refused(endpoint, answer, 'the refresh token')

    @staticmethod
    def _refused(endpoint, answer, what):
        error = str(answer.get('error'))
        description = answer.get('error_description')
        message = 'the OIDC provider at %s refused %s: %s' % (display_url(endpoint), what, error)
        if isinstance(description, str) and description.strip():
            message += ' (%s)' % description.strip()[:200]
        advice = ADVICE.get(error)
        return message + ('; %s' % advice if advice else '')


class RefreshTokenStore:
    """The refresh-token file of UCC and PyUNICORE: ``{"<token endpoint>": {"refresh_token": "..."}}``, 0600, written atomically."""

    OPTION = 'oidc_refresh_token_file'

    def __init__(self, path):
        self.path = path

    def locked(self):
        """Held while a refresh token is read, spent and replaced: two runs must not spend the same one."""
        ensure_private_directory(os.path.dirname(self.path), self.OPTION)
        return FileLock(self.path + '.lock', self.OPTION)

    def get(self, endpoint):
        entry = self._entries().get(endpoint)
        token = entry.get('refresh_token') if isinstance(entry, dict) else None
        return token if isinstance(token, str) and token else None

    def put(self, endpoint, refresh_token):
        entries = self._entries()
        entries[endpoint] = dict(entries.get(endpoint) if isinstance(entries.get(endpoint), dict) else {}, refresh_token=refresh_token)
        write_private(self.path, (json.dumps(entries, indent=2, sort_keys=True) + '\n').encode('utf-8'), 0o600, self.OPTION)

    def _entries(self):
        data = read_private(self.path, self.OPTION)
        if not data:
            return {}
        try:
            entries = json.loads(data.decode('utf-8'))
        except ValueError:
            raise UnicoreError('%s: %s is not the JSON of a refresh-token file ({"<token endpoint>": {"refresh_token": ...}}); '
                               'move it away' % (self.OPTION, self.path))
        if not isinstance(entries, dict):
            raise UnicoreError('%s: %s is not the JSON of a refresh-token file' % (self.OPTION, self.path))
        return entries
