"""Full authentication of a request, as UNICORE/X's authentication chain does it.

Order (UNICORE's AuthNHandler):

1. A bearer token that is a JWT with ``etd`` true, ``sub`` and ``iss`` is a
   delegation token (issued by a site or a trusted service): method ``ETD``.
2. Otherwise the authenticators: Basic → password file (``PASSWORD_FILE``);
   a bearer JWT with ``sub == iss`` → the user's SSH keys (``SSHKEY``); an
   opaque bearer token → OIDC introspection (``OAUTH``): the long-lived tokens
   of the fixtures, or an access token of the OIDC provider while it is active.
3. No Authorization header: a verified TLS client certificate (``X509``),
   else anonymous.

Credentials that are present but do not verify are refused (403, never 401),
and so is an Authorization header that cannot be parsed. A credential that
verifies but whose DN maps to nobody is *not* refused: the identity carries
no mapped user and the client object shows role ``anonymous``.
"""

import base64
import binascii

from . import identity as ids
from .dn import dn_equal
from .preferences import PreferenceError, parse as parse_preferences
from .tokens import TokenError, unverified, verify_delegation, verify_with_keys


class AuthenticationFailed(Exception):
    """Credentials were given but are wrong or malformed (→ 403, empty body)."""


def _is_true(value):
    """Java's Boolean.parseBoolean on a claim (a JSON true becomes "true" too)."""
    return str(value).lower() == "true"


def authenticate(request, site, directory, provider):
    """The Identity of ``request`` at ``site``; AuthenticationFailed when refused."""
    authorization = request.header("Authorization")
    if authorization is None:
        if request.client_cert_dn:
            return _x509(request.client_cert_dn, directory)
        return ids.anonymous_identity()
    scheme, _sep, credential = authorization.strip().partition(" ")
    credential = credential.strip()
    if not credential:
        raise AuthenticationFailed("no credential after the scheme")
    if scheme.lower() == "basic":
        return _password(credential, directory)
    if scheme.lower() == "bearer":
        return _bearer(credential, site, directory, provider)
    raise AuthenticationFailed("unsupported scheme")


def _x509(cert_dn, directory):
    return ids.Identity(dn=cert_dn, method=ids.X509, user=directory.user_by_dn(cert_dn))


def _password(credential, directory):
    try:
        decoded = base64.b64decode(credential, validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise AuthenticationFailed("malformed Basic credential") from exc
    username, sep, password = decoded.partition(":")   # split at the first ':'
    if not sep:
        raise AuthenticationFailed("malformed Basic credential")
    user = directory.check_password(username, password)
    if user is None:
        raise AuthenticationFailed("wrong user name or password")
    return ids.Identity(dn=user.dn, method=ids.PASSWORD_FILE, user=user)


def _bearer(token, site, directory, provider):
    parsed = unverified(token)
    if parsed is None:
        return _oidc(token, directory, provider)
    header, claims = parsed
    if _is_true(claims.get("etd")) and claims.get("sub") and claims.get("iss"):
        return _delegation(token, header, claims, site, directory)
    return _ssh_key(token, claims, site, directory)


def _oidc(token, directory, provider):
    entry = directory.introspect(token)
    if entry is not None:
        username = entry.user if entry.valid else None
    else:
        username = provider.introspect(token)
    if username is None:
        raise AuthenticationFailed("unknown or inactive access token")
    user = directory.user_by_name(username)
    return ids.Identity(dn=user.dn, method=ids.OAUTH, user=user)


def _delegation(token, header, claims, site, directory):
    try:
        verified = verify_delegation(site, token, header, claims)
    except TokenError as exc:
        raise AuthenticationFailed("delegation token refused: %s" % exc) from exc
    subject = verified["sub"]
    # The uid claim only counts in tokens this site issued itself (UNICORE's AuthNHandler).
    own_token = dn_equal(verified.get("iss"), site.dn)
    fixed = None
    if "preferences" in verified:
        try:
            fixed = parse_preferences(str(verified["preferences"]))
        except PreferenceError as exc:
            raise AuthenticationFailed("malformed preferences claim") from exc
    return ids.Identity(dn=subject, method=ids.ETD, user=directory.user_by_dn(subject),
                        renewable=_is_true(verified.get("renewable", "false")),
                        default_uid=verified.get("uid") if own_token else None,
                        fixed_preferences=fixed)


def _ssh_key(token, claims, site, directory):
    subject, issuer = claims.get("sub"), claims.get("iss")
    if not isinstance(subject, str) or subject != issuer:
        raise AuthenticationFailed("JWT is neither a delegation token nor signed by the user")
    user = directory.user_by_name(subject)
    keys = directory.public_keys(subject)
    if user is None or not keys:
        raise AuthenticationFailed("no keys registered for the user")
    try:
        verify_with_keys(token, keys, site.dn)
    except TokenError as exc:
        raise AuthenticationFailed("user JWT refused: %s" % exc) from exc
    # UNICORE's SSHKeyAuthenticator proposes the login name as the uid.
    return ids.Identity(dn=user.dn, method=ids.SSHKEY, user=user, default_uid=subject)
