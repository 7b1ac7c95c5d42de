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

from ansible_collections.unicore.auth.plugins.module_utils._site_clock import kept_offset, site_now
from ansible_collections.unicore.auth.plugins.module_utils._token_claims import exact_token_info, looks_like_jwt, token_problem
from ansible_collections.unicore.auth.plugins.module_utils._token_request import same_dn


class KeptToken:
    """A token found at ``dest``, given as the bearer ``token`` or found in a cache, with what is known about its site.

    ``info`` is its ``token_info``, judged by the site's clock, None when it is
    not a readable token; ``site_dn`` the DN of the site that issued it, when that
    is known without a request; ``source`` is ``'dest'``, ``'token'`` or
    ``'cache'``; ``clock_offset`` the seconds the site's clock was ahead of this
    machine's when the token was issued (0 when not recorded).
    """

    def __init__(self, token, info, site_dn, source, clock_offset=0):
        self.token = token
        self.info = info
        self.site_dn = site_dn
        self.source = source
        self.clock_offset = clock_offset

    @classmethod
    def from_file(cls, token, site_record, url):
        """The token read from ``dest``, with its ``.site`` record (a dict, or None)."""
        record = site_record or {}
        # The issuer is known only when this file's token was issued for this very URL.
        site_dn = record.get('issuer') if record.get('url') == url else None
        offset = kept_offset(record.get('clock_offset'))
        return cls(token, _info_or_none(token, offset), site_dn, 'dest', offset)

    @classmethod
    def given(cls, token):
        """The bearer ``token`` option.

        It is taken to belong to url's site: checking its issuer would cost a
        request, and the caller named the site.
        """
        token = str(token).strip()
        return cls(token, _info_or_none(token), None, 'token')

    @classmethod
    def cached(cls, token, site_dn, clock_offset=0):
        """A token from the lookup's cache, with the DN of the site that issued it and the clock offset as the cache recorded them."""
        offset = kept_offset(clock_offset)
        return cls(token, _info_or_none(token, offset), site_dn, 'cache', offset)

    def is_live(self):
        return self.info is not None and self.info['expires_in'] is not None and self.info['expires_in'] > 0

    def may_renew_itself(self):
        """True when the token may stand in for the credentials to get its successor.

        Only a live, renewable token that the module kept at ``dest`` for this
        very site may.
        """
        return (self.source == 'dest' and self.info is not None and self.info['renewable'] and self.is_live()
                and same_dn(self.info['iss'], self.site_dn))


def _info_or_none(token, clock_offset=0):
    # Judged as it would be handed on: a cache entry's token with white space around it is no token either.
    return exact_token_info(token, now=site_now(clock_offset))


def reason_to_replace(request, kept):
    """Why the kept token cannot be returned as it is, or None when it can."""
    if kept.info is None:
        return 'it is not a readable UNICORE token%s' % unreadable_cause(kept.token)
    if kept.source == 'dest' and kept.site_dn is None:
        return 'nothing records that it was issued by this site'
    return request.mismatch(kept.info, kept.site_dn)


def unreadable_cause(token):
    """What follows "not a readable UNICORE token" for a kept token that is not one: `` (<cause>)`` when it is shaped as one, else nothing.

    A token whose header or claims are not what UNICORE sends (no exp, an exp
    that is no number, an absurd lifetime) is named by what is wrong; anything
    else is no token at all. The token itself is never shown.
    """
    problem = token_problem(token)
    return ' (%s)' % problem if problem is not None and looks_like_jwt(token) else ''
