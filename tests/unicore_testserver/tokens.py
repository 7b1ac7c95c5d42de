"""JWTs: issuing the site's tokens and verifying the ones clients present.

Issued tokens are those of UNICORE/X's ``GET BASE/token``: RS256 with the site's
key, claims ``sub`` (caller DN), ``iss`` (site DN), ``iat``, ``exp``,
``etd: "true"``, optional ``uid``, ``preferences``, ``renewable: "true"`` and
``aud`` (site DN) for limited tokens. The header carries only ``alg``, as the
Java library (Nimbus) writes it.

Verification follows UNICORE's ``JWTUtils.verifyClaims``: ``exp`` required,
60 s clock leeway, ``aud`` checked only when present (must be the receiving
site's DN), ``iat`` not checked.

Every issued token is also appended to ``<workdir>/issued-tokens.log`` (0600,
emptied at start-up), so that the tests' leak scan knows which tokens must not
show up in logs (tests/scripts/leak_scan.py).
"""

import binascii
import json
import os
import threading
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .dn import dn_equal, normalise_dn

CLOCK_LEEWAY = 60
DEFAULT_LIFETIME = 300

_VERIFY_OPTIONS = {"require": ["exp"], "verify_aud": False, "verify_iat": False}


class TokenError(Exception):
    """A JWT that must be refused."""


class IssuedTokenLog:
    """Appends each issued token, one per line, to a file only the owner can read (the OIDC provider has its own)."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        os.chmod(path, 0o600)
        self._stream = os.fdopen(fd, "w", encoding="ascii")

    def add(self, token):
        """Record one issued token (written through at once)."""
        with self._lock:
            self._stream.write(token + "\n")
            self._stream.flush()


def issue_token(site, subject_dn, lifetime, renewable=False, limited=False, uid=None, preferences=None):
    """A token signed by ``site`` for ``subject_dn``, valid ``lifetime`` seconds."""
    now = int(time.time())
    # The server writes DNs as Java's X500Principal does (RFC 2253, no spaces after commas).
    claims = {"sub": normalise_dn(subject_dn), "iss": normalise_dn(site.dn), "iat": now, "exp": now + lifetime, "etd": "true"}
    if uid:
        claims["uid"] = uid
    if preferences:
        claims["preferences"] = preferences
    if renewable:
        claims["renewable"] = "true"
    if limited:
        claims["aud"] = normalise_dn(site.dn)
    return jwt.encode(claims, site.key, algorithm="RS256", headers={"typ": None})


def unverified(token):
    """(header, claims) of a syntactically valid JWT, or None for anything else.

    UNICORE first checks whether a bearer token is a JWT at all; opaque tokens
    (OIDC access tokens) go to the other authenticators.
    """
    if token.count(".") != 2:
        return None
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.InvalidTokenError, ValueError, binascii.Error, json.JSONDecodeError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return header, claims


def algorithms_for(public_key):
    """JWS algorithms a public key can verify."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return {"secp256r1": ["ES256"], "secp384r1": ["ES384"], "secp521r1": ["ES512"]}.get(public_key.curve.name, [])
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return ["EdDSA"]
    return []


def _check_audience(claims, audience_dn):
    if "aud" not in claims:
        return
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if not any(isinstance(aud, str) and dn_equal(aud, audience_dn) for aud in audiences):
        raise TokenError("audience mismatch")


def verify_with_keys(token, public_keys, audience_dn):
    """Claims of ``token`` if any of ``public_keys`` verifies it, else TokenError."""
    try:
        alg = jwt.get_unverified_header(token).get("alg")
    except jwt.InvalidTokenError as exc:
        raise TokenError("malformed token") from exc
    for public_key in public_keys:
        if alg not in algorithms_for(public_key):
            continue
        try:
            claims = jwt.decode(token, public_key, algorithms=[alg], options=_VERIFY_OPTIONS, leeway=CLOCK_LEEWAY)
        except jwt.InvalidSignatureError:
            continue
        except jwt.InvalidTokenError as exc:
            # signature fine, claims not (expired, missing exp, ...)
            raise TokenError(str(exc)) from exc
        _check_audience(claims, audience_dn)
        return claims
    raise TokenError("no key verifies the token")


def verify_with_secret(token, secret, audience_dn):
    """Claims of an HMAC-signed ``token`` verified with ``secret``, else TokenError."""
    try:
        alg = jwt.get_unverified_header(token).get("alg")
        if alg not in ("HS256", "HS384", "HS512"):
            raise TokenError("not an HMAC token")
        claims = jwt.decode(token, secret, algorithms=[alg], options=_VERIFY_OPTIONS, leeway=CLOCK_LEEWAY)
    except jwt.InvalidTokenError as exc:
        raise TokenError(str(exc)) from exc
    _check_audience(claims, audience_dn)
    return claims


def verify_delegation(site, token, header, claims):
    """Verify a delegation (ETD) JWT as ``site`` does; returns the claims.

    Like UNICORE's JWTHelper: an HMAC token is checked against the site's
    shared secret (without looking at ``iss``); otherwise the keys the site
    holds for the issuer DN must verify it.
    """
    if site.hmac_secret and str(header.get("alg", "")).startswith("HS"):
        return verify_with_secret(token, site.hmac_secret, site.dn)
    keys = site.keys_for_issuer(claims.get("iss"))
    if not keys:
        raise TokenError("no certificate for the issuer")
    return verify_with_keys(token, keys, site.dn)
