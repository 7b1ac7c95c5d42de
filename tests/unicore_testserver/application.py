"""The UNICORE/X resources: routing, security sessions, base resource, /token, /certificate, registry.

Requests under the OIDC provider's realm go to the provider (oidc.py).

Per request (UNICORE's AuthNHandler):
a session id, when sent, replaces authentication (unknown or expired → 432,
even with an Authorization header); otherwise the request is authenticated in
full, preferences are applied, and a new session is created. Every response
after that carries the session headers.
"""

import datetime
import functools
import re
import sys
import traceback

from . import identity as ids
from .authn import AuthenticationFailed, authenticate
from .faults import FaultList
from .messages import TEXT, Response
from .oidc import OidcProvider, is_oidc_path
from .pki import cert_expiry, cert_pem, subject_dn
from .preferences import PreferenceError, parse_all, select
from .sessions import SessionStore
from .sites import AUTH_PATH, CORE_PATH, REGISTRY_HOST_SITE, REGISTRY_NAME, REGISTRY_OTHER_ENTRIES, REGISTRY_PATH
from .stats import RequestLog, Stats
from .tokens import DEFAULT_LIFETIME, issue_token

SERVER_VERSION = "10.2.0"
SESSION_HEADER = "X-UNICORE-SecuritySession"
SESSION_LIFETIME_HEADER = "X-UNICORE-SecuritySession-Lifetime"
PREFERENCES_HEADER = "X-UNICORE-User-Preferences"

# /SITE/rest/core[/token|/certificate] and the same under rest/auth
_SITE_ROUTE = re.compile(r"^/(?P<site>[^/]+)/(?P<base>%s|%s)(?P<resource>/token|/certificate)?/?$"
                         % (re.escape(CORE_PATH), re.escape(AUTH_PATH)))
_REGISTRY_ROUTE = "/%s/%s" % (REGISTRY_NAME, REGISTRY_PATH)

NON_RENEWABLE_MESSAGE = "Error creating token: Cannot create token when authenticating with a non-renewable token!"
LIFETIME_TOO_LONG_MESSAGE = "Requested token lifetime is longer than the remaining server certificate validity."


def iso8601(moment):
    """UNICORE's date format (UnitParser.getISO8601): 2026-01-31T12:00:00+0000."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")


def accepts_text_plain(accept):
    """True when an Accept header admits text/plain (absent header admits anything)."""
    if accept is None or not accept.strip():
        return True
    for media_range in accept.split(","):
        fields = [part.strip() for part in media_range.split(";")]
        media_type = fields[0].lower()
        quality = 1.0
        for param in fields[1:]:
            name, _sep, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media_type in ("*/*", "text/*", "text/plain") and quality > 0:
            return True
    return False


def site_of_path(path, sites):
    """Statistics bucket of a path: a site name, REGISTRY, OIDC, or 'other'."""
    if is_oidc_path(path):
        return "OIDC"
    first = path.lstrip("/").split("/", 1)[0]
    return first if first in sites or first == REGISTRY_NAME else "other"


class Application:
    """State shared by all listeners, and the request processing."""

    def __init__(self, sites, directory, ca_cert, base_url, session_lifetime, oidc_settings, issued_log=None, sessions_log=None):
        self.sites = sites
        self.directory = directory
        self.ca_cert = ca_cert
        self.base_url = base_url
        self.sessions = SessionStore(session_lifetime, issued_log=sessions_log)  # sessions_log: tokens.IssuedTokenLog, or None
        self.stats = Stats()
        self.request_log = RequestLog()
        self.faults = FaultList()
        self.issued_log = issued_log  # tokens.IssuedTokenLog, or None
        self.oidc = OidcProvider(base_url, directory, oidc_settings, self.stats)
        self.started = datetime.datetime.now(datetime.timezone.utc)

    # -- URLs -------------------------------------------------------------

    def site_url(self, site_name, base=CORE_PATH):
        """Public URL of a site's REST base (core or auth)."""
        return "%s/%s/%s" % (self.base_url, site_name, base)

    @property
    def registry_url(self):
        """Public URL of the registry."""
        return self.base_url + _REGISTRY_ROUTE

    # -- request processing -----------------------------------------------

    def handle(self, request):
        """Response for an application request (not the control API, not faults)."""
        try:
            response = self._route(request)
        except Exception:  # pylint: disable=broad-exception-caught
            # A bug in the test server: report it loudly but keep serving.
            traceback.print_exc(file=sys.stderr)
            response = Response.error(500, "Internal test server error")
        if response.status == 403:
            self.stats.count("forbidden_403")
        return response

    def _route(self, request):
        if is_oidc_path(request.path):
            return self.oidc.handle(request)
        if request.path == _REGISTRY_ROUTE:
            return self._secured(request, self.sites[REGISTRY_HOST_SITE], self._registry)
        match = _SITE_ROUTE.match(request.path)
        if match is None or match.group("site") not in self.sites:
            return Response.error(404, "No resource at '%s'" % request.path)
        site = self.sites[match.group("site")]
        resource = match.group("resource")
        base = match.group("base")
        if resource == "/token":
            return self._secured(request, site, self._token)
        if resource == "/certificate":
            return self._secured(request, site, self._certificate)
        return self._secured(request, site, functools.partial(self._base, base=base))

    def _secured(self, request, site, resource):
        """Establish the security session, run the resource, add session headers."""
        if request.method not in ("GET", "HEAD"):
            return Response.error(405, "Method %s not allowed" % request.method)
        session = self._session_for(request, site)
        if isinstance(session, Response):
            return session
        response = resource(request, site, session)
        response.headers.append((SESSION_HEADER, session.session_id))
        response.headers.append((SESSION_LIFETIME_HEADER, str(session.remaining_ms())))
        return response

    def _session_for(self, request, site):
        """The request's Session, or the 432/403 Response refusing it."""
        session_id = request.header(SESSION_HEADER)
        if session_id is not None:
            session = self.sessions.lookup(site.name, session_id.strip())
            if session is None:
                self.stats.count("sessions_rejected_432")
                return Response.empty(432, "Security session expired")
            # The stored selection stays; a preferences header is ignored on reuse.
            self.stats.count("session_reuses")
            return session
        try:
            identity = authenticate(request, site, self.directory, self.oidc)
        except AuthenticationFailed:
            return Response.empty(403)
        self.stats.count("full_authentications", identity.method)
        try:
            if identity.fixed_preferences is not None:
                # as in UNICORE: a preferences claim is fixed, later headers are ignored
                preferences = identity.fixed_preferences
            else:
                preferences = parse_all(request.header_all(PREFERENCES_HEADER))
            selection = select(identity, preferences)
        except PreferenceError:
            return Response.empty(403)
        return self.sessions.create(site.name, identity, preferences, selection, request.client_ip)

    # -- resources --------------------------------------------------------

    def _server_object(self, site):
        now = datetime.datetime.now(datetime.timezone.utc)
        return {
            "version": SERVER_VERSION,
            "siteName": site.name,
            "credential": {"dn": subject_dn(site.cert), "issuer": site.cert.issuer.rfc4514_string(),
                           "expires": iso8601(cert_expiry(site.cert))},
            "trustedCAs": [subject_dn(self.ca_cert)],
            "trustedSAMLIssuers": [],
            "externalConnections": {},
            "upSince": iso8601(self.started),
            "currentTime": iso8601(now),
        }

    def _base(self, _request, site, session, base):
        url = self.site_url(site.name, base)
        links = {
            "self": {"href": url, "description": "This resource"},
            "token": {"href": url + "/token", "description": "Issue an authentication token"},
            "certificate": {"href": url + "/certificate", "description": "Server certificate"},
        }
        return Response.json(200, {"client": ids.client_object(session.identity, session.selection),
                                   "server": self._server_object(site), "_links": links})

    def _certificate(self, _request, site, _session):
        return Response.text(200, cert_pem(site.cert))

    def _registry(self, _request, _site, session):
        """The Registry's entries: every listed site (in the order of SITE_SPECS, not sorted), then the other services."""
        entries = [{"href": self.site_url(name), "type": "CoreServices"}
                   for name, site in self.sites.items() if site.in_registry]
        entries += [{"href": self.site_url(name, base), "type": service_type} for name, base, service_type in REGISTRY_OTHER_ENTRIES]
        self.stats.count("registry_reads", "anonymous" if session.identity.anonymous else "authenticated")
        return Response.json(200, {"entries": entries})

    def _token(self, request, site, session):
        """GET BASE/token, following UNICORE's ApplicationBaseResource.getToken."""
        if not accepts_text_plain(request.header("Accept")):
            return Response.error(406, "Not acceptable: this resource produces text/plain")
        identity = session.identity
        if identity.mapped_user is None:
            # anonymous and unmapped callers are denied by access control
            return Response.error(403, "Access denied: anonymous users cannot obtain tokens.")
        if identity.method == ids.ETD and not identity.renewable:
            return Response.error(403, NON_RENEWABLE_MESSAGE)
        lifetime_param = request.query_value("lifetime")
        if lifetime_param is not None:
            try:
                lifetime = int(lifetime_param)
            except ValueError:
                # Java's Long.valueOf fails and the generic handler answers 500
                return Response.error(500, 'Error creating token: For input string: "%s"' % lifetime_param)
        else:
            lifetime = DEFAULT_LIFETIME
        remaining = max(0, int((cert_expiry(site.cert) - datetime.datetime.now(datetime.timezone.utc)).total_seconds()))
        if lifetime_param is not None and lifetime > remaining:
            return Response.error(400, LIFETIME_TOO_LONG_MESSAGE)
        lifetime = min(lifetime, remaining)
        token = issue_token(site, identity.dn, lifetime,
                            renewable=_flag(request.query_value("renewable")),
                            limited=_flag(request.query_value("limited")),
                            uid=session.selection.uid,
                            preferences=session.preferences.encode() or None)
        self.stats.count("tokens_issued", site.name)
        if self.issued_log is not None:
            self.issued_log.add(token)
        return Response(200, token.encode("ascii"), TEXT)

    # -- bookkeeping ------------------------------------------------------

    def reset(self):
        """Control API: zero counters, clear the request log and faults."""
        self.stats.reset()
        self.request_log.clear()
        self.faults.clear()


def _flag(value):
    """Only the string 'true' (any case) switches a flag on (Java's Boolean.parseBoolean)."""
    return value is not None and value.lower() == "true"
