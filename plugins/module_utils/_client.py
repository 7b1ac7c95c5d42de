# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client operations on a UNICORE site: access info and token issue (internal to the collection)."""

from __future__ import annotations

import time

from ansible_collections.unicore.auth.plugins.module_utils._connection_options import connection_keywords, connection_settings
from ansible_collections.unicore.auth.plugins.module_utils._credentials import credential_from_options
from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._preferences import preferences_header
from ansible_collections.unicore.auth.plugins.module_utils._security_session_store import (
    DEFAULT_DIRECTORY as DEFAULT_SESSION_DIRECTORY,
    SecuritySessionStore,
    login_identity,
)
from ansible_collections.unicore.auth.plugins.module_utils._site_clock import learnt_offset
from ansible_collections.unicore.auth.plugins.module_utils._token_claims import token_problem
from ansible_collections.unicore.auth.plugins.module_utils._transport import TOKEN_ANSWER, Transport
from ansible_collections.unicore.auth.plugins.module_utils._urls import checked_site_url, display_url


def transport_from_options(options, credential=None):
    """A transport configured from the shared connection options, ``credential`` (by default the options' own) sent to the site."""
    credential = credential if credential is not None else credential_from_options(options)
    keywords = connection_keywords(options)
    security_sessions = options.get_option_default('security_sessions', True)
    return Transport(
        credential,
        security_sessions=security_sessions,
        preferences=preferences_header(options.get_option_default('preferences')),
        kept_sessions=kept_security_sessions(options, credential, keywords) if security_sessions else None,
        **keywords
    )


def kept_security_sessions(options, credential, keywords):
    """The store of the sessions kept on this machine for the options' site and ``credential``; None when none are kept.

    Never for a site whose certificate is not checked: whoever answers in its
    place could hand out a session id, as it could a token (nor is a token kept then).
    """
    url = options.get_option_default('url')
    timeout, dummy_retries, verify, cert = connection_settings(**keywords)
    if url is None or verify is False:
        return None
    return SecuritySessionStore(options.get_option_default('security_session_dir', DEFAULT_SESSION_DIRECTORY),
                                login_identity(options, credential, checked_site_url(url), verify, cert),
                                wait=timeout)


class UnicoreClient:
    """One UNICORE site, reached through a Transport."""

    def __init__(self, url, transport):
        self.url = checked_site_url(url)
        self.transport = transport
        # Seconds the site's clock is ahead of this machine's, learnt from the last token it issued.
        self.clock_offset = 0

    @classmethod
    def from_options(cls, options, credential=None):
        """Validate every option offline, then build the client; no request is made."""
        url = checked_site_url(options.get_option('url'))
        return cls(url, transport_from_options(options, credential))

    def site_properties(self):
        """The site's base resource: ``client``, ``server`` and ``_links``."""
        properties = self.transport.get_json(self.url)
        if not isinstance(properties, dict) or not isinstance(properties.get('client'), dict):
            raise UnicoreError('GET %s returned JSON without a "client" object; is url a UNICORE site base (.../rest/core)?'
                               % display_url(self.url), url=self.url)
        return properties

    def access_info(self):
        """What the login maps to: the server's ``client`` object as sent, and the server's version and DN."""
        properties = self.site_properties()
        server = _dict_or_empty(properties.get('server'))
        # UNICORE puts the server's DN in server.credential.dn.
        return {
            'client': properties['client'],
            'server': {'version': server.get('version'), 'dn': _dict_or_empty(server.get('credential')).get('dn')},
        }

    def issue_auth_token(self, lifetime=None, renewable=False, limited=True):
        """A new UNICORE token (JWT) issued by this site.

        ``lifetime`` in seconds (None: the server's default of 300). ``limited``
        tokens are valid only at this site, which is why it is the default.
        """
        params = {}
        if lifetime is not None:
            if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime <= 0:
                raise UnicoreError('lifetime must be a positive whole number of seconds, got %r' % (lifetime,))
            params['lifetime'] = str(lifetime)
        # The server reads only the string "true"; anything else means false.
        if renewable:
            params['renewable'] = 'true'
        if limited:
            params['limited'] = 'true'
        url = self.url + '/token'
        response = self.transport.get(url, accept='text/plain', params=params, limit=TOKEN_ANSWER)
        received_at = time.time()
        token = response.text.strip()
        if not token:
            raise UnicoreError('GET %s returned an empty body instead of a token' % display_url(url), url=url, status=response.status_code)
        # Checked before anything keeps or sends it: a line break in it would add a line to a token file,
        # a variable to an environment file, or a header to a request.
        problem = token_problem(token)
        if problem is not None:
            raise UnicoreError('GET %s returned something that is not a token (Content-Type: %s, %d bytes): %s'
                               % (display_url(url), response.headers.get('Content-Type', 'none'), len(response.content), problem),
                               url=url, status=response.status_code)
        self.clock_offset = learnt_offset(response.headers.get('Date'), received_at)
        return token


def _dict_or_empty(value):
    return value if isinstance(value, dict) else {}
