# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A token kept from an earlier run, and the one rule that decides whether it still fits (internal to the collection).

The ``unicore_auth_token`` module, the lookup's cache and the roles all decide
with ``reason_to_replace``, so that they keep and replace tokens alike. The
lookup reaches this on every cache hit: it imports no ``requests`` and no
``cryptography``.
"""

from __future__ import annotations

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._token_claims import token_info
from ansible_collections.unicore.auth.plugins.module_utils._token_request import same_dn


class KeptToken:
    """A token found at ``dest``, given as the bearer ``token`` or found in a cache, with what is known about its site.

    ``info`` is its ``token_info``, None when it is not a readable token;
    ``site_dn`` the DN of the site that issued it, when that is known without a
    request; ``source`` is ``'dest'``, ``'token'`` or ``'cache'``.
    """

    def __init__(self, token, info, site_dn, source):
        self.token = token
        self.info = info
        self.site_dn = site_dn
        self.source = source

    @classmethod
    def from_file(cls, token, site_record, url):
        """The token read from ``dest``, with its ``.site`` record (a dict, or None)."""
        record = site_record or {}
        # The issuer is known only when this file's token was issued for this very URL.
        site_dn = record.get('issuer') if record.get('url') == url else None
        return cls(token, _info_or_none(token), site_dn, 'dest')

    @classmethod
    def given(cls, token):
        """The bearer ``token`` option.

        It is taken to belong to url's site: checking its issuer would cost a
        request, and the caller named the site.
        """
        token = str(token).strip()
        return cls(token, _info_or_none(token), None, 'token')

    @classmethod
    def cached(cls, token, site_dn):
        """A token from the lookup's cache, with the DN of the site that issued it as the cache recorded it (or None)."""
        return cls(token, _info_or_none(token), site_dn, 'cache')

    def is_live(self):
        return self.info is not None and self.info['expires_in'] is not None and self.info['expires_in'] > 0

    def may_renew_itself(self):
        """True when the token may stand in for the credentials to get its successor.

        Only a live, renewable token that the module kept at ``dest`` for this
        very site may.
        """
        return (self.source == 'dest' and self.info is not None and self.info['renewable'] and self.is_live()
                and same_dn(self.info['iss'], self.site_dn))


def _info_or_none(token):
    try:
        return token_info(token)
    except UnicoreError:
        return None


def reason_to_replace(request, kept):
    """Why the kept token cannot be returned as it is, or None when it can."""
    if kept.info is None:
        return 'it is not a readable UNICORE token'
    if kept.source == 'dest' and kept.site_dn is None:
        return 'nothing records that it was issued by this site'
    return request.mismatch(kept.info, kept.site_dn)
