"""The sites on the one port, their identities, the Registry that lists them, and whom they trust.

Each site is a UNICORE/X container with its own credential (DN, RSA key,
certificate signed by the test CA). It signs the tokens it issues with that
key and accepts delegation JWTs from issuers whose key it holds, as UNICORE/X
does: its own certificate, the certificates of the Registry peers it trusts,
locally configured trusted issuers, and (DEMO-SITE only) a shared HMAC secret.

Being listed by the Registry and trusting its other sites are two things:
all three sites are listed, but only DEMO-SITE and PARTNER-SITE share trust
(each accepts the other's unlimited tokens). LONE-SITE is listed and trusts
only itself, and neither of the others trusts it: the site of a federation
whose tokens go nowhere else.
"""

from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from .dn import normalise_dn


@dataclass(frozen=True)
class SiteSpec:
    """Static description of a site."""

    name: str
    dn: str
    in_registry: bool = True        # listed by the Registry as a CoreServices entry
    # Trusts the certificates of the other sharing sites of the Registry, and
    # they trust its own: the sites that accept each other's unlimited tokens.
    shares_trust: bool = False
    trusts_services: bool = False   # trusted service certificate and HMAC secret configured


SITE_SPECS = (
    SiteSpec("DEMO-SITE", "CN=DEMO-SITE, O=UNICORE, C=EU", shares_trust=True, trusts_services=True),
    SiteSpec("PARTNER-SITE", "CN=PARTNER-SITE, O=UNICORE, C=EU", shares_trust=True),
    SiteSpec("LONE-SITE", "CN=LONE-SITE, O=UNICORE, C=EU", shares_trust=False),
)

REGISTRY_NAME = "REGISTRY"
# The registry answers from DEMO-SITE's container: same authentication
# configuration and the same security sessions.
REGISTRY_HOST_SITE = "DEMO-SITE"

CORE_PATH = "rest/core"          # UNICORE/X REST base
AUTH_PATH = "rest/auth"          # UFTP auth server base (same /token, /certificate)
REGISTRY_PATH = "rest/registries/default_registry"
# Entries of the Registry that are not sites: (name, base, type). A UNICORE
# Workflow server registers as WorkflowServices (PyUNICORE's Registry reads
# those apart from the sites); the test server lists one but does not serve it.
REGISTRY_OTHER_ENTRIES = (("WORKFLOW", "rest/workflows", "WorkflowServices"),)


@dataclass
class Site:
    """A running site: credential plus trust store."""

    name: str
    dn: str
    cert: x509.Certificate
    key: rsa.RSAPrivateKey  # signs the tokens the site issues
    cert_path: str
    in_registry: bool
    shares_trust: bool
    trusted_keys: dict = field(default_factory=dict)   # normalised issuer DN -> [public key]
    hmac_secret: str = None

    def trust(self, issuer_dn, public_key):
        """Accept delegation JWTs from ``issuer_dn`` signed with ``public_key``."""
        self.trusted_keys.setdefault(normalise_dn(issuer_dn), []).append(public_key)

    def keys_for_issuer(self, issuer_dn):
        """Public keys trusted for JWTs issued by ``issuer_dn`` (compared normalised)."""
        return self.trusted_keys.get(normalise_dn(issuer_dn), [])

    def trusts_site(self, other):
        """True when this site accepts the tokens ``other`` issues (its own always)."""
        key = other.cert.public_key()
        return any(trusted == key for trusted in self.keys_for_issuer(other.dn))


def build_sites(material):
    """Sites with trust wired as described in the module docstring."""
    sites = {}
    for spec in SITE_SPECS:
        credential = material.sites[spec.name]
        site = Site(name=spec.name, dn=spec.dn, cert=credential["cert_obj"], key=credential["key_obj"],
                    cert_path=credential["cert"], in_registry=spec.in_registry, shares_trust=spec.shares_trust)
        site.trust(spec.dn, site.cert.public_key())
        if spec.trusts_services:
            site.trust(material.trusted_service["dn"], material.trusted_service["cert_obj"].public_key())
            site.hmac_secret = material.trusted_service["hmac_secret"]
        sites[spec.name] = site
    # Registry members that share trust learn each other's certificates from the registry entries.
    members = [site for site in sites.values() if site.in_registry and site.shares_trust]
    for site in members:
        for peer in members:
            if peer is not site:
                site.trust(peer.dn, peer.cert.public_key())
    return sites
