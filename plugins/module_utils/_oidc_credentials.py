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
import collections
import hashlib
import json
import os
from urllib.parse import quote

from ansible_collections.unicore.auth.plugins.module_utils._connection_options import connection_keywords, plain_http_check
from ansible_collections.unicore.auth.plugins.module_utils._credentials import AnonymousCredential, Credential, check_header_word, is_header_word
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._options import is_blank
from ansible_collections.unicore.auth.plugins.module_utils._private_files import FileLock, ensure_private_directory, read_private, write_private
from ansible_collections.unicore.auth.plugins.module_utils._urls import display_url

DEFAULT_REFRESH_TOKEN_FILE = '~/.cache/unicore.auth/oidc-refresh-tokens'
# The key of a refresh-token file entry that names the given refresh token it descends from.
FROM_GIVEN = 'unicore_auth_from_given'
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
                return provider.log_in(endpoint, store.get(endpoint), lambda kept: store.put(endpoint, kept))
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

    def log_in(self, endpoint, kept, keep):
        """The access token: by a refresh token (given, else the ``kept`` KeptRefreshToken), else by the password grant.

        A kept token that the provider gave in exchange for the given one (or
        for one of its successors) is its current form: a rotating provider
        has spent the given one, so the kept one goes first, and the given one
        after it only if it is refused. ``keep(KeptRefreshToken)`` is called
        with the refresh token the answer carries, when there is one to keep.
        """
        given = None if is_blank(self.settings['oidc_refresh_token']) else str(self.settings['oidc_refresh_token'])
        given_digest = _digest(given)
        has_password = not is_blank(self.settings['username']) and not is_blank(self.settings['password'])
        if given is None:
            attempts = [] if kept is None else [(kept.token, kept.from_given, False)]
        elif kept is not None and kept.from_given == given_digest:
            attempts = [(kept.token, given_digest, False), (given, given_digest, True)]
        else:
            attempts = [(given, given_digest, True)]
        for refresh_token, from_given, is_given in attempts:
            answer = self._grant(endpoint, {'grant_type': 'refresh_token', 'refresh_token': refresh_token})
            if 'error' not in answer:
                return self._accepted(answer, keep, from_given)
            last_try = (refresh_token, from_given, is_given) == attempts[-1]
            if answer['error'] != 'invalid_grant' or (last_try and not has_password):
                raise UnicoreError(self._refresh_refused(endpoint, answer, given_option=is_given), url=endpoint)
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
        return self._accepted(answer, keep, None)

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
        if 'error' not in answer and not (answer['access_token'] and is_header_word(answer['access_token'])):
            # An opaque token from another server goes into a header: nothing in it may end the header or add one.
            raise UnicoreError('POST %s answered with an access_token that is empty or holds white space or a control character; '
                               'it is not sent anywhere (is it the token endpoint?)' % display_url(endpoint),
                               url=endpoint, status=response.status_code)
        return answer

    @staticmethod
    def _accepted(answer, keep, from_given):
        new_refresh_token = answer.get('refresh_token')
        if keep is not None and isinstance(new_refresh_token, str) and new_refresh_token:
            keep(KeptRefreshToken(new_refresh_token, from_given))
        return answer['access_token']

    def _refresh_refused(self, endpoint, answer, given_option):
        if answer['error'] == 'invalid_grant':
            if given_option:
                return self._refused(endpoint, answer, 'oidc_refresh_token') + (
                    '. It has expired or was used already (providers rotate refresh tokens): give a new one, '
                    'or username and password as well. Where each run starts without the token kept in place of the given one '
                    '(an AWX job), keep oidc_refresh_token_file on storage that lasts, or use a provider that does not rotate '
                    'refresh tokens')
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


def _digest(refresh_token):
    return None if refresh_token is None else hashlib.sha256(refresh_token.encode('utf-8')).hexdigest()


class KeptRefreshToken(collections.namedtuple('KeptRefreshToken', 'token from_given')):
    """A refresh token of the file; ``from_given``: the SHA-256 of the given ``oidc_refresh_token`` it descends from, or None."""


class RefreshTokenStore:
    """The refresh-token file of UCC and PyUNICORE: ``{"<token endpoint>": {"refresh_token": "..."}}``, 0600, written atomically.

    An entry that descends from a given ``oidc_refresh_token`` also holds that
    token's SHA-256 as ``unicore_auth_from_given``, a key UCC and PyUNICORE ignore.
    """

    OPTION = 'oidc_refresh_token_file'

    def __init__(self, path):
        self.path = path

    def locked(self):
        """Held while a refresh token is read, spent and replaced: two runs must not spend the same one."""
        ensure_private_directory(os.path.dirname(self.path), self.OPTION)
        return FileLock(self.path + '.lock', self.OPTION)

    def get(self, endpoint):
        """The KeptRefreshToken for ``endpoint``, or None."""
        entry = self._entries().get(endpoint)
        if not isinstance(entry, dict) or not isinstance(entry.get('refresh_token'), str) or not entry['refresh_token']:
            return None
        from_given = entry.get(FROM_GIVEN)
        return KeptRefreshToken(entry['refresh_token'], from_given if isinstance(from_given, str) else None)

    def put(self, endpoint, kept):
        entries = self._entries()
        entry = dict(entries.get(endpoint) if isinstance(entries.get(endpoint), dict) else {}, refresh_token=kept.token)
        entry.pop(FROM_GIVEN, None)
        if kept.from_given is not None:
            entry[FROM_GIVEN] = kept.from_given
        entries[endpoint] = entry
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
