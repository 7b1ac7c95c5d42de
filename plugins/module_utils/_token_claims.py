# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the claims of a UNICORE token without checking its signature (internal to the collection).

Only the issuing server can check the signature; the collection reads the claims
to decide whether a kept token still fits, and to show them. No JWT library is
needed for that.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import time

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError


def looks_like_jwt(text):
    parts = text.split('.')
    return len(parts) == 3 and all(parts[:2]) and all(_is_base64url(part) for part in parts)


def _is_base64url(part):
    # isalnum() alone takes letters of any alphabet, which no header may carry.
    return all((char.isascii() and char.isalnum()) or char in '-_=' for char in part)


def decode_token_claims(token):
    """The claims (payload) of a JWT as a dict. Raises UnicoreError, without the token, when it is not one."""
    if token is None or not str(token).strip():
        # What a module that issued no token returns (check mode, state: absent): say so, not "malformed".
        raise UnicoreError('it was given no token (the value is %s): in check mode, or with state=absent, '
                           'unicore_auth_token returns none; test the result first, e.g. when: result.token is truthy'
                           % ('null' if token is None else 'empty'))
    token = str(token).strip()
    if not looks_like_jwt(token):
        raise UnicoreError('the value is not a UNICORE token (a JWT has three dot-separated parts)')
    payload = token.split('.')[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)).decode('utf-8'))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise UnicoreError('the value is not a UNICORE token: its claims are not base64url-encoded JSON')
    if not isinstance(claims, dict):
        raise UnicoreError('the value is not a UNICORE token: its claims are not a JSON object')
    return claims


def _flag(value):
    # UNICORE writes boolean claims as the strings "true" and "false".
    return str(value).lower() == 'true' if value is not None else False


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def token_info(token, now=None):
    """What a user needs to know about a token: who, from where, until when, and with what rights.

    ``limited`` is true when the token has an audience, which UNICORE sets to the
    issuing server's DN for tokens limited to that server.
    """
    claims = decode_token_claims(token)
    now = time.time() if now is None else now
    expires = _int_or_none(claims.get('exp'))
    return {
        'sub': claims.get('sub'),
        'iss': claims.get('iss'),
        'iat': _int_or_none(claims.get('iat')),
        'exp': expires,
        'renewable': _flag(claims.get('renewable')),
        'limited': claims.get('aud') not in (None, '', []),
        'uid': claims.get('uid'),
        'preferences': claims.get('preferences'),
        'expires_at': None if expires is None else iso8601_utc(expires),
        'expires_in': None if expires is None else int(expires - now),
    }


def iso8601_utc(epoch_seconds):
    return datetime.datetime.fromtimestamp(epoch_seconds, tz=datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
