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
import re
import time

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError
from ansible_collections.unicore.auth.plugins.module_utils._token_request import MAX_LIFETIME


# The one rule for a token that a UNICORE site issued, wherever one enters the collection (issue 15): the
# answer of /token, a token kept at dest or in the lookup's cache, a remembered answer, a token given to be kept.
# A UNICORE token is a signed JWT in compact form: three base64url parts, unpadded (RFC 7515), joined by two dots,
# and nothing else. Nothing else means no line break, NUL, white space or "=": written into a token file, an
# environment file (VAR=token) or a header, any of them could add a line, a variable or a header of its own.
# plugins/lookup/unicore_token.py holds a twin of this pattern for remembered answers (it imports nothing of the
# collection there); a unit test keeps the two equal.
TOKEN_SHAPE = re.compile(r'[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+')
# A site issues a token for no longer than it is asked for, and the lifetime option allows at most 10 years;
# claims that say more (exp - iat, or exp - now without iat) are no UNICORE token's, however they came about.
MAX_TOKEN_LIFETIME = MAX_LIFETIME
# The last second that can be shown as a date (9999-12-31T23:59:59Z).
MAX_NUMERIC_DATE = 253402300799
# Claims the collection reads, and what UNICORE sends in each: a string (renewable is "true" or "false").
STRING_CLAIMS = ('sub', 'iss', 'uid', 'preferences', 'renewable')


def looks_like_jwt(text):
    """True when ``text`` is shaped as a UNICORE token: three non-empty base64url parts, two dots, nothing else."""
    return isinstance(text, str) and TOKEN_SHAPE.fullmatch(text) is not None


def token_problem(token):
    """Why ``token`` is not a token as a UNICORE site issues it (a phrase: "it holds a line break"), or None when it is one.

    The shape first, then the header and the claims as UNICORE writes them. The
    phrase never quotes the token, not even a part of it.
    """
    try:
        _read_token(token)
    except _NotAToken as problem:
        return str(problem)
    return None


def check_token(token, what):
    """``token`` when it is a UNICORE token; else UnicoreError "<what> is not a UNICORE token: <why>", without the token."""
    problem = token_problem(token)
    if problem is not None:
        raise UnicoreError('%s is not a UNICORE token: %s' % (what, problem))
    return token


class _NotAToken(Exception):
    """Why a value is not a UNICORE token, as a phrase that quotes nothing of it."""


def _read_token(token):
    """The claims of ``token`` when it is a UNICORE token; else _NotAToken with the cause."""
    if not isinstance(token, str):
        raise _NotAToken('it is not a string')
    if not looks_like_jwt(token):
        raise _NotAToken(_shape_problem(token))
    header, claims, dummy_signature = token.split('.')
    header = _decoded_part(header, 'its header is')
    claims = _decoded_part(claims, 'its claims are')
    if not isinstance(header.get('alg'), str) or not header['alg']:
        raise _NotAToken('its header names no signing algorithm (alg)')
    if header['alg'].lower() == 'none':
        raise _NotAToken('its header says it is not signed (alg none)')
    _check_claims(claims)
    return claims


def _shape_problem(text):
    if not text:
        return 'it is empty'
    for kind, found in (('a line break', lambda char: char in '\r\n'),
                        ('a NUL character', lambda char: char == '\0'),
                        ('white space', lambda char: char.isspace()),
                        ('a control character', lambda char: ord(char) < 32 or 127 <= ord(char) < 160),
                        ('a character that is not ASCII', lambda char: not char.isascii()),
                        ('base64 padding ("="), which a JWT never has', lambda char: char == '='),
                        ('a character outside the base64url alphabet (A-Z, a-z, 0-9, "-", "_") and "."',
                         lambda char: not (char.isalnum() or char in '-_.'))):
        if any(found(char) for char in text):
            return 'it holds %s' % kind
    parts = text.split('.')
    if len(parts) != 3:
        return 'it is not three dot-separated parts (header.claims.signature): it has %d' % len(parts)
    for name, part in zip(('header', 'claims', 'signature'), parts):
        if not part:
            return 'its %s part is empty' % name
    return 'it is not a JWT'


def _decoded_part(part, what):
    """The JSON object a base64url part holds; _NotAToken naming ``what`` ("its header is", "its claims are") when it holds none."""
    try:
        # RecursionError: a part of 64 KiB can nest JSON arrays deeper than the parser goes.
        value = json.loads(base64.urlsafe_b64decode(part + '=' * (-len(part) % 4)).decode('utf-8'))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise _NotAToken('%s not base64url-encoded JSON' % what)
    if not isinstance(value, dict):
        raise _NotAToken('%s not a JSON object' % what)
    return value


def _check_claims(claims):
    """_NotAToken naming the first claim that is not what UNICORE sends; UNICORE sends sub, iss, iat, exp = iat + lifetime."""
    if 'exp' not in claims:
        raise _NotAToken('it has no exp claim, so when it expires is unknown')
    expires = _time_claim(claims, 'exp')
    issued = _time_claim(claims, 'iat') if 'iat' in claims else None
    if issued is not None:
        if expires < issued:
            raise _NotAToken('its exp claim is before its iat claim: it would expire before it was issued')
        if expires - issued > MAX_TOKEN_LIFETIME:
            raise _NotAToken('its lifetime (exp - iat) is more than 10 years, longer than a site issues')
    elif expires - time.time() > MAX_TOKEN_LIFETIME:
        raise _NotAToken('it has no iat claim and its exp claim is more than 10 years ahead, longer than a site issues')
    for name in STRING_CLAIMS:
        if name in claims and not isinstance(claims[name], str):
            raise _NotAToken('its %s claim is not a string' % name)
    audience = claims.get('aud')
    if audience is not None and not isinstance(audience, str) and \
            not (isinstance(audience, list) and all(isinstance(item, str) for item in audience)):
        raise _NotAToken('its aud claim is not a string or a list of strings')


def _time_claim(claims, name):
    """The claim as whole seconds since 1970, as UNICORE writes exp and iat; _NotAToken when it is anything else."""
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _NotAToken('its %s claim is not a number' % name)
    if not isinstance(value, int):
        raise _NotAToken('its %s claim is not a whole number of seconds' % name)
    if not 0 <= value <= MAX_NUMERIC_DATE:
        raise _NotAToken('its %s claim is not a time between 1970 and 9999' % name)
    return value


def decode_token_claims(token):
    """The claims of a UNICORE token as a dict, checked by ``token_problem``'s rule. Raises UnicoreError, without the token, when it is not one.

    White space around the token (a file's newline) is ignored; inside it, nothing but the token's own characters is allowed.
    """
    if token is None or not str(token).strip():
        # What a module that issued no token returns (check mode, state: absent): say so, not "malformed".
        raise UnicoreError('it was given no token (the value is %s): in check mode, or with state=absent, '
                           'unicore_auth_token returns none; test the result first, e.g. when: result.token is truthy'
                           % ('null' if token is None else 'empty'))
    try:
        return _read_token(str(token).strip())
    except _NotAToken as problem:
        raise UnicoreError('the value is not a UNICORE token: %s' % problem)


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
    return _claims_info(decode_token_claims(token), now)


def exact_token_info(token, now=None):
    """``token_info`` of ``token`` exactly as it is, white space and all; None when it is not a UNICORE token.

    For a token about to be handed on as it is (a kept or cached one): one reading checks and decodes it.
    """
    try:
        claims = _read_token(token)
    except _NotAToken:
        return None
    return _claims_info(claims, now)


def _claims_info(claims, now):
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
