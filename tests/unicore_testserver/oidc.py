"""The OIDC provider the sites trust, on the server's own port, laid out like a Keycloak realm.

    GET  <issuer>/.well-known/openid-configuration    discovery
    POST <issuer>/protocol/openid-connect/token       password and refresh_token grants

with ``<issuer> = https://localhost:PORT/auth/realms/unicore``. What UNICORE's
clients (UCC, PyUNICORE, oidc-agent) and the collection rely on, after RFC 6749:

* the token endpoint takes a form (``application/x-www-form-urlencoded``) only;
  the client authenticates with ``client_id`` and ``client_secret`` in the form
  or with HTTP Basic (the id and secret form-encoded, RFC 6749 2.3.1), never
  both; the public client sends its ``client_id`` only;
* the users are the directory's, with their passwords; ``otpuser`` also needs
  its one-time code in the form field ``otp`` (as UCC and PyUNICORE send it);
* access tokens are opaque (no dots, so a site never takes one for a JWT) and
  expire; refresh tokens rotate: a refresh answer carries a new one, and the
  used one is refused from then on, as Keycloak does with "revoke refresh token";
  except for the client ``unicore-reusable-refresh``, which stands for a Keycloak
  realm with "Revoke Refresh Token" off (Keycloak's default): its answers carry a
  new refresh token too, but the used one stays good until it expires, so a
  refresh token kept in an AWX credential or in Vault works again;
* errors are JSON ``{"error", "error_description"}`` with ``Cache-Control:
  no-store``; ``invalid_client`` is 401 with ``WWW-Authenticate``, all others 400.

The sites' OAuth authenticator asks ``introspect`` (in process, standing for
the introspection call a real site makes). Every token issued is appended to
``<workdir>/oidc-issued-tokens.log`` as ``access TOKEN`` or ``refresh TOKEN``
for the tests' leak scan.
"""

import base64
import binascii
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus

from .messages import Response

REALM_PATH = "/auth/realms/unicore"
DISCOVERY_PATH = REALM_PATH + "/.well-known/openid-configuration"
TOKEN_PATH = REALM_PATH + "/protocol/openid-connect/token"
FORM = "application/x-www-form-urlencoded"

CONFIDENTIAL_CLIENT_ID = "unicore-confidential"
PUBLIC_CLIENT_ID = "unicore-public"
# Confidential, with refresh tokens that do not rotate; it shares the confidential client's secret
# (the server's material holds one client secret).
REUSABLE_REFRESH_CLIENT_ID = "unicore-reusable-refresh"
OTP_USER = "otpuser"
GRANT_TYPES = ("password", "refresh_token")
SCOPES = ("openid", "offline_access", "profile", "email")
DEFAULT_SCOPE = "openid"
DEFAULT_ACCESS_LIFETIME = 300
DEFAULT_REFRESH_LIFETIME = 1800
# Tokens are kept in memory; expired ones are dropped once this many are held.
PRUNE_AT = 10000

INVALID_CLIENT_CREDENTIALS = "Invalid client or Invalid client credentials"
NOT_ACTIVE = "Token is not active"
NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]


def is_oidc_path(path):
    """True for the provider's paths."""
    return path == REALM_PATH or path.startswith(REALM_PATH + "/")


class OAuthError(Exception):
    """An RFC 6749 error answer."""

    def __init__(self, error, description):
        super().__init__(description)
        self.error = error
        self.description = description

    def response(self):
        """The JSON error answer: 401 with a challenge for invalid_client, else 400."""
        body = {"error": self.error, "error_description": self.description}
        if self.error == "invalid_client":
            response = Response.json(401, body)
            response.headers.append(("WWW-Authenticate", 'Basic realm="unicore"'))
        else:
            response = Response.json(400, body)
        response.headers.extend(NO_STORE)
        return response


@dataclass(frozen=True)
class Client:
    """A registered client; a public one has no secret."""

    client_id: str
    secret: str = None
    rotates_refresh_tokens: bool = True     # False: a used refresh token stays good (Keycloak: "Revoke Refresh Token" off)


@dataclass
class Grant:
    """What an issued token stands for."""

    user: str
    client_id: str
    scope: str
    expires: float          # time.monotonic() deadline
    used: bool = False      # refresh tokens only: rotated away


@dataclass(frozen=True)
class ProviderSettings:
    """What the command line and the workdir material decide."""

    client_secret: str
    otp: str
    access_lifetime: int        # seconds
    refresh_lifetime: int
    issued_log: object          # tokens.IssuedTokenLog


class TokenStore:
    """Issued tokens by value, thread-safe, expired ones pruned as they pile up."""

    def __init__(self):
        self._lock = threading.Lock()
        self._grants = {}
        self._prune_at = PRUNE_AT

    def add(self, token, grant):
        """Remember an issued token."""
        with self._lock:
            self._grants[token] = grant
            if len(self._grants) >= self._prune_at:
                now = time.monotonic()
                self._grants = {value: kept for value, kept in self._grants.items() if kept.expires > now}
                self._prune_at = max(PRUNE_AT, 2 * len(self._grants))

    def active(self, token):
        """The grant of a token that is neither expired nor used, else None."""
        with self._lock:
            grant = self._grants.get(token)
        if grant is None or grant.used or grant.expires <= time.monotonic():
            return None
        return grant

    def use(self, token, accept, rotate=True):
        """Use up a refresh token; returns ``accept(grant)``, which may refuse it first (OAuthError).

        Under the lock, so that of two refreshes racing with the same token only one wins.
        With ``rotate=False`` the token is not used up: it stays good until it expires.
        """
        with self._lock:
            grant = self._grants.get(token)
            if grant is None or grant.expires <= time.monotonic():
                raise OAuthError("invalid_grant", NOT_ACTIVE)
            if grant.used:
                raise OAuthError("invalid_grant", "Refresh token already used: refresh tokens rotate, use the one the last answer carried")
            accepted = accept(grant)
            if rotate:
                grant.used = True
            return accepted

    def clear(self):
        """Forget every token: from now on each is refused as not active."""
        with self._lock:
            self._grants.clear()

    def count_active(self):
        """Number of tokens still usable."""
        now = time.monotonic()
        with self._lock:
            return sum(1 for grant in self._grants.values() if not grant.used and grant.expires > now)


class OidcProvider:
    """Discovery, the token endpoint, and introspection for the sites."""

    def __init__(self, base_url, directory, settings, stats):
        self.issuer = base_url + REALM_PATH
        self.token_endpoint = base_url + TOKEN_PATH
        self.discovery_url = base_url + DISCOVERY_PATH
        self.directory = directory
        self.settings = settings
        self.stats = stats
        self.clients = {client.client_id: client for client in
                        (Client(CONFIDENTIAL_CLIENT_ID, settings.client_secret), Client(PUBLIC_CLIENT_ID),
                         Client(REUSABLE_REFRESH_CLIENT_ID, settings.client_secret, rotates_refresh_tokens=False))}
        self.access_tokens = TokenStore()
        self.refresh_tokens = TokenStore()

    def introspect(self, token):
        """The user name an active access token stands for, or None."""
        grant = self.access_tokens.active(token)
        return grant.user if grant is not None else None

    def handle(self, request):
        """Response to a request under the realm."""
        if request.path == DISCOVERY_PATH:
            if request.method not in ("GET", "HEAD"):
                return _method_not_allowed("GET")
            self.stats.count("oidc_discovery")
            return Response.json(200, self.discovery())
        if request.path == TOKEN_PATH:
            if request.method != "POST":
                return _method_not_allowed("POST")
            return self._token(request)
        return Response.json(404, {"error": "not_found", "error_description": "No resource at '%s'" % request.path})

    def discovery(self):
        """The provider metadata: what oidc-agent and the collection read from it."""
        return {
            "issuer": self.issuer,
            "token_endpoint": self.token_endpoint,
            "grant_types_supported": list(GRANT_TYPES),
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        }

    # -- the token endpoint -----------------------------------------------

    def _token(self, request):
        counted_as = "other"    # the counters name the supported grant types, and lump the rest together
        try:
            form = _form(request)
            grant_type = form.get("grant_type")
            if grant_type is None:
                raise OAuthError("invalid_request", "Missing form parameter: grant_type")
            if grant_type not in GRANT_TYPES:
                raise OAuthError("unsupported_grant_type", "Unsupported grant_type: use password or refresh_token")
            counted_as = grant_type
            client = self._authenticate_client(request, form)
            if grant_type == "password":
                user, scope = self._password_grant(form)
            else:
                user, scope = self._refresh_grant(form, client)
        except OAuthError as error:
            self.stats.count("oidc_grants", (counted_as, error.error))
            return error.response()
        self.stats.count("oidc_grants", (counted_as, "ok"))
        return self._issue(user, client.client_id, scope)

    def _authenticate_client(self, request, form):
        """The client the request authenticates as (RFC 6749 2.3.1), else OAuthError."""
        authorization = request.header("Authorization")
        if authorization is not None:
            if "client_secret" in form:
                raise OAuthError("invalid_request", "Use one client authentication: HTTP Basic or client_secret in the form, not both")
            client_id, secret = _basic_credentials(authorization)
            if form.get("client_id", client_id) != client_id:
                raise OAuthError("invalid_request", "client_id in the form differs from the client of the Basic credentials")
        else:
            client_id, secret = form.get("client_id"), form.get("client_secret")
            if client_id is None:
                raise OAuthError("invalid_client", "No client authentication: send client_id (and client_secret) in the form or as HTTP Basic")
        client = self.clients.get(client_id)
        if client is None:
            raise OAuthError("invalid_client", INVALID_CLIENT_CREDENTIALS)
        if client.secret is None:
            # a public client proves nothing; whatever secret it sends is ignored, as Keycloak does
            return client
        if secret is None:
            raise OAuthError("invalid_client", "Client secret not provided in request")
        if not hmac.compare_digest(secret.encode("utf-8"), client.secret.encode("utf-8")):
            raise OAuthError("invalid_client", INVALID_CLIENT_CREDENTIALS)
        return client

    def _password_grant(self, form):
        """(user name, scope) of a password login, else OAuthError."""
        username = _required(form, "username")
        password = _required(form, "password")
        scope = _scope(form.get("scope"), SCOPES)
        user = self.directory.check_password(username, password)
        if user is None:
            raise OAuthError("invalid_grant", "Invalid user credentials")
        if user.name == OTP_USER:
            otp = form.get("otp")
            if otp is None:
                raise OAuthError("invalid_grant", "A one-time code is required for this user: send it in the form field otp")
            if not hmac.compare_digest(otp.encode("utf-8"), self.settings.otp.encode("utf-8")):
                raise OAuthError("invalid_grant", "Invalid one-time code (otp)")
        return user.name, scope

    def _refresh_grant(self, form, client):
        """(user name, scope) of a refresh, which uses the refresh token up if the client rotates them; else OAuthError."""
        token = _required(form, "refresh_token")
        requested = form.get("scope")

        def accept(grant):
            # refused before the token is used up: a request that fails must not burn it
            if grant.client_id != client.client_id:
                raise OAuthError("invalid_grant", "Token client and authorized client don't match")
            return grant.user, _scope(requested, grant.scope.split(), default=grant.scope)

        # a token of another client is refused in accept(), so the authenticated client decides
        return self.refresh_tokens.use(token, accept, rotate=client.rotates_refresh_tokens)

    def _issue(self, user, client_id, scope):
        """A new access and refresh token, answered as Keycloak does."""
        settings = self.settings
        now = time.monotonic()
        access_token = secrets.token_urlsafe(32)
        refresh_token = secrets.token_urlsafe(48)
        self.access_tokens.add(access_token, Grant(user, client_id, scope, now + settings.access_lifetime))
        self.refresh_tokens.add(refresh_token, Grant(user, client_id, scope, now + settings.refresh_lifetime))
        settings.issued_log.add("access " + access_token)
        settings.issued_log.add("refresh " + refresh_token)
        response = Response.json(200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": settings.access_lifetime,
            "refresh_token": refresh_token,
            "refresh_expires_in": settings.refresh_lifetime,
            "scope": scope,
        })
        response.headers.extend(NO_STORE)
        return response


def _method_not_allowed(allowed):
    response = Response.json(405, {"error": "method_not_allowed", "error_description": "Use %s" % allowed})
    response.headers.append(("Allow", allowed))
    return response


def _form(request):
    """The form parameters; a parameter without a value counts as omitted (RFC 6749 3.1)."""
    content_type = (request.header("Content-Type") or "").split(";", 1)[0].strip().lower()
    if content_type != FORM:
        raise OAuthError("invalid_request", "The token endpoint takes a form (Content-Type: %s)" % FORM)
    try:
        pairs = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError as exc:
        raise OAuthError("invalid_request", "The form is not UTF-8") from exc
    form = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError("invalid_request", "Parameter %s given more than once" % name)
        if value:
            form[name] = value
    return form


def _basic_credentials(authorization):
    """(client_id, secret) of an HTTP Basic header, both form-decoded as RFC 6749 2.3.1 has them encoded."""
    scheme, _sep, credential = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_client", "Unsupported client authentication: use HTTP Basic or the form")
    try:
        decoded = base64.b64decode(credential.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise OAuthError("invalid_client", "Malformed Basic credentials") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError("invalid_client", "Malformed Basic credentials")
    return unquote_plus(client_id), unquote_plus(secret)


def _required(form, name):
    if name not in form:
        raise OAuthError("invalid_request", "Missing parameter: %s" % name)
    return form[name]


def _scope(requested, allowed, default=DEFAULT_SCOPE):
    """The scope to grant: the requested one (each of its scopes allowed), or the default."""
    if requested is None:
        return default
    scopes = requested.split()
    unknown = [scope for scope in scopes if scope not in allowed]
    if unknown:
        raise OAuthError("invalid_scope", "Invalid scopes: %s" % " ".join(unknown))
    return " ".join(scopes)
