"""``<workdir>/fixtures.json``: everything a test needs to talk to the server (0600, contains secrets)."""

import json
import os

from .directory import USERS
from .dn import ANONYMOUS_DN
from .oidc import CONFIDENTIAL_CLIENT_ID, OTP_USER, PUBLIC_CLIENT_ID, REUSABLE_REFRESH_CLIENT_ID, SCOPES
from .pki import cert_expiry, iso8601_utc, write_private
from .sites import AUTH_PATH


def build_fixtures(app, material, tls_fault_urls, port):
    """The fixtures document (all paths absolute)."""
    sites = {}
    for name, site in app.sites.items():
        sites[name] = {
            "url": app.site_url(name),
            "auth_url": app.site_url(name, AUTH_PATH),
            "dn": site.dn,
            "cert": site.cert_path,
            "cert_not_after": iso8601_utc(cert_expiry(site.cert)),
            "in_registry": site.in_registry,
            # the sites whose tokens this one accepts (itself included): the unlimited ones go that far
            "trusts_tokens_of": sorted(other.name for other in app.sites.values() if site.trusts_site(other)),
        }
    users = {}
    for user in USERS:
        users[user.name] = {
            "password": user.password,
            "dn": user.dn,
            "uids": list(user.uids),
            "groups": list(user.groups),
            "roles": list(user.roles),
            "queues": list(user.queues),
            "mapped": user.mapped,
        }
    trusted = material.trusted_service
    untrusted = material.untrusted_service
    return {
        "ca_cert": material.ca_cert,
        "port": port,
        "base_url": app.base_url,
        "control_url": app.base_url + "/_testserver",
        "registry_url": app.registry_url,
        "session_lifetime": app.sessions.lifetime,
        "anonymous_dn": ANONYMOUS_DN,
        "sites": sites,
        "users": users,
        "keys": material.keys,
        "oidc_tokens": material.oidc_tokens,
        "trusted_service": {"dn": trusted["dn"], "cert": trusted["cert"], "key": trusted["key"], "hmac_secret": trusted["hmac_secret"]},
        "untrusted_service": {"dn": untrusted["dn"], "cert": untrusted["cert"], "key": untrusted["key"]},
        "client_certs": material.client_certs,
        "tls_faults": tls_fault_urls,
        "issued_tokens_log": app.issued_log.path if app.issued_log is not None else None,
        "issued_sessions_log": app.sessions.issued_log.path if app.sessions.issued_log is not None else None,
        "oidc": _oidc_fixtures(app.oidc),
    }


def _oidc_fixtures(provider):
    """The OIDC provider: where it is, its clients, and who logs in there."""
    settings = provider.settings
    users = {}
    for user in USERS:
        users[user.name] = {"username": user.name, "password": user.password}
        if user.name == OTP_USER:
            users[user.name]["otp"] = settings.otp
    return {
        "issuer": provider.issuer,
        "token_endpoint": provider.token_endpoint,
        "discovery_url": provider.discovery_url,
        "scopes_supported": list(SCOPES),
        "clients": {"confidential": {"id": CONFIDENTIAL_CLIENT_ID, "secret": settings.client_secret},
                    "public": {"id": PUBLIC_CLIENT_ID},
                    # refresh tokens that do not rotate (Keycloak: "Revoke Refresh Token" off); the confidential client's secret
                    "reusable_refresh": {"id": REUSABLE_REFRESH_CLIENT_ID, "secret": settings.client_secret,
                                         "rotates_refresh_tokens": False}},
        "users": users,
        "otp_user": OTP_USER,
        "access_token_lifetime": settings.access_lifetime,
        "refresh_token_lifetime": settings.refresh_lifetime,
        "issued_tokens_log": settings.issued_log.path,
    }


def write_fixtures(path, fixtures):
    """Write atomically, so a reader never sees a half-written file."""
    tmp = path + ".tmp"
    write_private(tmp, json.dumps(fixtures, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
