# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What token is wanted, and whether a kept one still fits (internal to the collection).

Shared by the ``unicore_auth_token`` module and the ``unicore_token`` lookup, so
that both keep and reuse tokens by the same rules.
"""

from __future__ import annotations

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError

DEFAULT_LIFETIME = 3600
# Longer than any site certificate lives; beyond it a lifetime is a typo.
MAX_LIFETIME = 10 * 366 * 24 * 3600


def same_dn(first, second):
    """Compare DNs as X.500 names: UNICORE writes them without spaces, users often with."""
    def normalised(dn):
        parts = []
        for rdn in str(dn).split(','):
            attribute, sep, value = rdn.strip().partition('=')
            parts.append('%s=%s' % (attribute.strip().upper(), value.strip()) if sep else rdn.strip())
        return ','.join(parts)
    return first is not None and second is not None and normalised(first) == normalised(second)


def _whole_number(option, value):
    if isinstance(value, bool):
        raise UnicoreError('%s must be a whole number of seconds, got %r' % (option, value))
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UnicoreError('%s must be a whole number of seconds, got %r' % (option, value))


def _preferences_header(preferences):
    if preferences is None:
        return None
    # Imported only when preferences are given: every module a lookup's cache
    # hit imports is compiled again in every forked worker.
    from ansible_collections.unicore.auth.plugins.module_utils._preferences import preferences_header
    return preferences_header(preferences)


def _unmet_preferences(header, info):
    """``(what the token has, what was asked for)`` when a kept token was issued for another selection, else None.

    A token carries the selection in its ``preferences`` claim (newest servers)
    or at least its ``uid``; what it does not carry cannot be compared.
    """
    if not header:
        return None
    # Imported only now: a request with preferences has imported it already.
    from ansible_collections.unicore.auth.plugins.module_utils._preferences import header_selections
    wanted = dict(header_selections(header))
    if not wanted:
        return None
    if info.get('preferences'):
        held = dict(header_selections(info['preferences']))
        differing = sorted(key for key in wanted if held.get(key) != wanted[key])
        if differing:
            return (','.join('%s:%s' % (key, held.get(key, '(default)')) for key in differing),
                    ','.join('%s:%s' % (key, wanted[key]) for key in differing))
        return None
    if 'uid' in wanted and info.get('uid') is not None and info['uid'] != wanted['uid']:
        return 'uid:%s' % info['uid'], 'uid:%s' % wanted['uid']
    return None


class TokenRequest:
    """The token properties asked for, and the rule a kept token must meet to be reused."""

    def __init__(self, lifetime=DEFAULT_LIFETIME, renewable=False, limited=True, min_validity=None, preferences=None):
        self.lifetime = _whole_number('lifetime', lifetime)
        self.renewable = bool(renewable)
        self.limited = bool(limited)
        self.min_validity = self.lifetime // 10 if min_validity is None else _whole_number('min_validity', min_validity)
        # The X-UNICORE-User-Preferences header value the token is issued with, or None.
        self.preferences = preferences

    @classmethod
    def from_options(cls, options):
        return cls(options.get_option_default('lifetime', DEFAULT_LIFETIME),
                   options.get_option_default('renewable', False),
                   options.get_option_default('limited', True),
                   options.get_option_default('min_validity'),
                   _preferences_header(options.get_option_default('preferences')))

    def validate(self):
        if self.lifetime <= 0:
            raise UnicoreError('lifetime must be a positive number of seconds, got %d' % self.lifetime)
        if self.lifetime > MAX_LIFETIME:
            raise UnicoreError('lifetime %d seconds is more than 10 years; give the lifetime in seconds' % self.lifetime)
        if self.min_validity < 0:
            raise UnicoreError('min_validity must not be negative, got %d' % self.min_validity)
        if self.min_validity >= self.lifetime:
            raise UnicoreError('min_validity (%d s) must be less than lifetime (%d s), or no new token would ever be kept'
                               % (self.min_validity, self.lifetime))

    def mismatch(self, info, site_dn=None):
        """Why the kept token described by ``info`` (from ``token_info``) does not fit, or None when it fits.

        ``site_dn`` is the DN of the site the token must come from, when known.
        """
        if info['renewable'] != self.renewable:
            return 'it is %srenewable' % ('' if info['renewable'] else 'not ')
        if info['limited'] != self.limited:
            return 'it is %slimited' % ('' if info['limited'] else 'not ')
        if site_dn is not None and not same_dn(info['iss'], site_dn):
            return 'it was issued by %s, not by this site' % info['iss']
        unmet = _unmet_preferences(self.preferences, info)
        if unmet:
            return 'it was issued for %s, not %s' % unmet
        if info['expires_in'] is None or info['expires_in'] < self.min_validity:
            return 'it is valid for less than min_validity (%d s)' % self.min_validity
        return None

    def reusable_until(self, info):
        """Until when the token described by ``info`` stays valid for at least min_validity (epoch seconds), or None."""
        return None if info['exp'] is None else info['exp'] - self.min_validity

    def issue(self, client):
        try:
            return client.issue_auth_token(lifetime=self.lifetime, renewable=self.renewable, limited=self.limited)
        except UnicoreError as error:
            # Imported on failure only: the lookup's cache hits use this class too.
            from ansible_collections.unicore.auth.plugins.module_utils._login_mapping import refused_preferences_error
            raise refused_preferences_error(client, error) or error
