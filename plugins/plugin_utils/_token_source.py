# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A token for the lookup's options: from the cache, or issued by the site (internal to the collection)."""

from __future__ import annotations

from ansible_collections.unicore.auth.plugins.module_utils._token_claims import token_info
from ansible_collections.unicore.auth.plugins.module_utils._token_request import TokenRequest
from ansible_collections.unicore.auth.plugins.module_utils._urls import checked_site_url
from ansible_collections.unicore.auth.plugins.plugin_utils._token_cache import TokenCache

# Everything that decides who the token is for and what it allows. Secrets are
# part of it so that a wrong password never gets a token someone else cached;
# the cache only ever stores a keyed hash of it.
IDENTITY_OPTIONS = ('auth_method', 'username', 'password', 'token', 'identity', 'identity_content', 'identity_passphrase',
                    'subject', 'issuer', 'hmac_secret', 'client_cert', 'client_key')


def cache_identity(options, url, request):
    identity = dict((name, _text(options.get_given(name))) for name in IDENTITY_OPTIONS)
    identity.update(url=url, preferences=request.preferences,
                    lifetime=request.lifetime, renewable=request.renewable, limited=request.limited)
    return identity


def _text(value):
    return None if value is None else str(value)


def token_for(options, cache_dir):
    """The token the options ask for and until when it may be given again: ``(token, reusable_until)``.

    With a ``cache_dir`` the token is issued at most once per cache entry; with
    None every call issues one.
    """
    request = TokenRequest.from_options(options)
    request.validate()
    url = checked_site_url(options.get_option('url'))

    def issue():
        # Built only on a cache miss: a hit costs no key loading, no import of
        # requests or cryptography, and no request.
        from ansible_collections.unicore.auth.plugins.module_utils._client import UnicoreClient, transport_from_options
        from ansible_collections.unicore.auth.plugins.module_utils._credentials import credential_from_options

        client = UnicoreClient(url, transport_from_options(options, credential_from_options(options)))
        try:
            token = request.issue(client)
        finally:
            client.transport.close()
        return token, token_info(token)['iss']

    if cache_dir is None:
        token = issue()[0]
    else:
        token = TokenCache(cache_dir).get_or_issue(cache_identity(options, url, request), request, issue)
    return token, request.reusable_until(token_info(token))
