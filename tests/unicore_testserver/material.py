"""Everything generated into the workdir: PKI, users' keys, secrets.

Generated once and reused when the server restarts on the same workdir (RSA
key generation dominates start-up time). ``material.json`` (0600) is written
last and lists every file, so an interrupted generation is simply redone.

Layout::

    pki/ca.pem  pki/ca.key                   the CA the clients trust
    pki/sites/<SITE>.pem|.key                site credentials (RSA), sign issued tokens
    pki/tls/server.pem|.key                  TLS for localhost, 127.0.0.1, ::1
    pki/tls/{expired,wrong_host,unknown_ca}.pem|.key, pki/ca2.pem|.key
    pki/services/{trusted,untrusted}.pem|.key
    pki/clients/<name>.pem|.key              X.509 client certificates
    keys/<name>, keys/<name>.pub             users' SSH keys in several formats
    users/<user>/.ssh/authorized_keys        registered public keys
    material.json                            manifest + secrets (0600)
"""

import datetime
import json
import os
import secrets
import shutil
from dataclasses import dataclass, field

from . import pki
from .directory import USERS_BY_NAME
from .sites import SITE_SPECS
from .sshkeys import new_key, openssh_public_line, write_key_pair

MATERIAL_VERSION = 2
MANIFEST = "material.json"
# Regenerate when a certificate that should be valid expires within this.
MIN_REMAINING = datetime.timedelta(days=7)

CA_DN = "CN=UNICORE Test CA, O=UNICORE, C=EU"
UNKNOWN_CA_DN = "CN=Unknown Test CA, O=Elsewhere, C=EU"
TLS_DN = "CN=localhost, O=UNICORE, C=EU"
TLS_HOSTS = ("localhost", "127.0.0.1", "::1")
WRONG_HOST = "wrong.example.org"
TRUSTED_SERVICE_DN = "CN=Workflow Service, O=UNICORE, C=EU"
UNTRUSTED_SERVICE_DN = "CN=Rogue Service, O=UNICORE, C=EU"

# name -> (DN, signed by the unknown CA?) of X.509 client certificates
CLIENT_CERTS = {
    "demouser": (USERS_BY_NAME["demouser"].dn, False),
    "otheruser": (USERS_BY_NAME["otheruser"].dn, False),
    "unmapped": (USERS_BY_NAME["unmapped"].dn, False),
    "unknown_ca": (USERS_BY_NAME["demouser"].dn, True),
}

# (fixture name, key id, type, file format, registered for)
# Entries sharing a key id are the same key pair written in another format.
KEY_SPECS = (
    ("rsa_openssh", "rsa1", "rsa", "openssh", "demouser"),
    ("rsa_pem", "rsa1", "rsa", "pem-traditional", "demouser"),
    ("rsa_pkcs8", "rsa1", "rsa", "pkcs8", "demouser"),
    ("ec_pkcs8_encrypted", "ec1", "ec", "pkcs8-encrypted", "demouser"),
    ("ec_openssh", "ec2", "ec", "openssh", "demouser"),
    ("ed25519_openssh_encrypted", "ed1", "ed25519", "openssh-encrypted", "demouser"),
    ("ed25519_otheruser", "ed2", "ed25519", "openssh", "otheruser"),
    ("rsa_unregistered", "rsa9", "rsa", "openssh", None),
    ("ec_unregistered", "ec9", "ec", "pkcs8", None),
    ("ed25519_unregistered", "ed9", "ed25519", "openssh", None),
)

# name -> (user, valid) of simulated OIDC access tokens
OIDC_TOKENS = {
    "demouser": ("demouser", True),
    "otheruser": ("otheruser", True),
    "expired": ("demouser", False),
    "unmapped": ("unmapped", True),
}


@dataclass
class Material:
    """Paths (absolute) and loaded objects of the generated material."""

    workdir: str
    ca_cert: str = None
    sites: dict = field(default_factory=dict)             # name -> {cert, key, cert_obj, key_obj}
    tls: dict = field(default_factory=dict)               # server|expired|wrong_host|unknown_ca -> {cert, key}
    trusted_service: dict = field(default_factory=dict)   # dn, cert, key, hmac_secret, cert_obj
    untrusted_service: dict = field(default_factory=dict)
    client_certs: dict = field(default_factory=dict)      # name -> {cert, key, dn}
    keys: dict = field(default_factory=dict)              # name -> fixture entry
    authorized_keys: dict = field(default_factory=dict)   # username -> path
    oidc_tokens: dict = field(default_factory=dict)       # name -> {token, user, valid}
    oidc_provider: dict = field(default_factory=dict)     # client_secret, otp

    def manifest(self):
        """JSON-able form (no loaded objects)."""
        def strip(entry):
            return {k: v for k, v in entry.items() if not k.endswith("_obj")}
        return {
            "version": MATERIAL_VERSION,
            "ca_cert": self.ca_cert,
            "sites": {name: strip(entry) for name, entry in self.sites.items()},
            "tls": self.tls,
            "trusted_service": strip(self.trusted_service),
            "untrusted_service": strip(self.untrusted_service),
            "client_certs": self.client_certs,
            "keys": self.keys,
            "authorized_keys": self.authorized_keys,
            "oidc_tokens": self.oidc_tokens,
            "oidc_provider": self.oidc_provider,
        }


def _path(workdir, *parts):
    return os.path.join(workdir, *parts)


def _write_cert_and_key(cert_path, key_path, cert, key):
    pki.write_public(cert_path, pki.cert_pem(cert))
    pki.write_private(key_path, pki.key_pem(key))


def _generate_pki(material):
    workdir = material.workdir
    ca_key = pki.new_ec_key()
    ca = pki.make_ca(CA_DN, ca_key)
    material.ca_cert = _path(workdir, "pki", "ca.pem")
    _write_cert_and_key(material.ca_cert, _path(workdir, "pki", "ca.key"), ca, ca_key)
    ca2_key = pki.new_ec_key()
    ca2 = pki.make_ca(UNKNOWN_CA_DN, ca2_key)
    _write_cert_and_key(_path(workdir, "pki", "ca2.pem"), _path(workdir, "pki", "ca2.key"), ca2, ca2_key)

    for spec in SITE_SPECS:
        key = pki.new_rsa_key()
        cert = pki.issue_cert(ca, ca_key, spec.dn, key.public_key(), server=True, client=True)
        entry = {"cert": _path(workdir, "pki", "sites", spec.name + ".pem"),
                 "key": _path(workdir, "pki", "sites", spec.name + ".key")}
        _write_cert_and_key(entry["cert"], entry["key"], cert, key)
        material.sites[spec.name] = entry

    now = pki.utcnow()
    tls_plan = {
        "server": (ca, ca_key, TLS_DN, TLS_HOSTS, {}),
        # expired a day ago, otherwise a perfectly good certificate for localhost
        "expired": (ca, ca_key, TLS_DN, TLS_HOSTS, {"not_before": now - datetime.timedelta(days=30), "not_after": now - pki.ONE_DAY}),
        # valid, but only for another host name
        "wrong_host": (ca, ca_key, "CN=%s, O=UNICORE, C=EU" % WRONG_HOST, (WRONG_HOST,), {}),
        # valid for localhost, but from a CA the clients do not know
        "unknown_ca": (ca2, ca2_key, TLS_DN, TLS_HOSTS, {}),
    }
    for name, (issuer, issuer_key, dn, hosts, validity) in tls_plan.items():
        key = pki.new_ec_key()
        cert = pki.issue_cert(issuer, issuer_key, dn, key.public_key(), hosts=hosts, server=True, **validity)
        entry = {"cert": _path(workdir, "pki", "tls", name + ".pem"), "key": _path(workdir, "pki", "tls", name + ".key")}
        _write_cert_and_key(entry["cert"], entry["key"], cert, key)
        material.tls[name] = entry

    for attr, name, dn in (("trusted_service", "trusted", TRUSTED_SERVICE_DN), ("untrusted_service", "untrusted", UNTRUSTED_SERVICE_DN)):
        key = pki.new_rsa_key()
        cert = pki.issue_cert(ca, ca_key, dn, key.public_key(), client=True)
        entry = {"dn": dn, "cert": _path(workdir, "pki", "services", name + ".pem"),
                 "key": _path(workdir, "pki", "services", name + ".key")}
        _write_cert_and_key(entry["cert"], entry["key"], cert, key)
        setattr(material, attr, entry)
    # UNICORE requires at least 32 characters for an HMAC secret
    material.trusted_service["hmac_secret"] = secrets.token_urlsafe(36)

    for name, (dn, unknown) in CLIENT_CERTS.items():
        key = pki.new_ec_key()
        issuer, issuer_key = (ca2, ca2_key) if unknown else (ca, ca_key)
        cert = pki.issue_cert(issuer, issuer_key, dn, key.public_key(), client=True)
        entry = {"cert": _path(workdir, "pki", "clients", name + ".pem"),
                 "key": _path(workdir, "pki", "clients", name + ".key"), "dn": pki.subject_dn(cert)}
        _write_cert_and_key(entry["cert"], entry["key"], cert, key)
        material.client_certs[name] = entry


def _generate_user_keys(material):
    workdir = material.workdir
    pairs = {}
    registered = {}
    for name, key_id, key_type, key_format, user in KEY_SPECS:
        key = pairs.setdefault(key_id, new_key(key_type))
        passphrase = secrets.token_urlsafe(12) if key_format.endswith("-encrypted") else None
        entry = {"path": _path(workdir, "keys", name), "type": key_type, "format": key_format,
                 "passphrase": passphrase, "registered_for": user, "public_key": _path(workdir, "keys", name + ".pub")}
        write_key_pair(key, entry["path"], entry["public_key"], key_format, passphrase, "%s@unicore-testserver" % name)
        material.keys[name] = entry
        if user is not None:
            registered.setdefault(user, {})[key_id] = openssh_public_line(key, key_id)
    for user in USERS_BY_NAME:
        path = _path(workdir, "users", user, ".ssh", "authorized_keys")
        lines = list(registered.get(user, {}).values())
        pki.write_private(path, "".join(line + "\n" for line in lines))
        material.authorized_keys[user] = path


def _generate_tokens(material):
    for name, (user, valid) in OIDC_TOKENS.items():
        # opaque (no dots), so it is never mistaken for a JWT
        material.oidc_tokens[name] = {"token": "oidc-" + secrets.token_urlsafe(32), "user": user, "valid": valid}


def _generate_oidc_secrets(material):
    # A fixed one-time code rather than a TOTP, so that tests can send it. Ten digits,
    # not six, so that the leak scan can search for it without hitting other numbers.
    material.oidc_provider = {"client_secret": secrets.token_urlsafe(32),
                              "otp": "".join(secrets.choice("0123456789") for _digit in range(10))}


def _load_objects(material):
    for entry in material.sites.values():
        entry["cert_obj"] = pki.load_cert(entry["cert"])
        entry["key_obj"] = pki.load_key(entry["key"])
    material.trusted_service["cert_obj"] = pki.load_cert(material.trusted_service["cert"])


def _all_files(manifest):
    files = [manifest["ca_cert"]]
    for group in ("sites", "tls", "client_certs"):
        for entry in manifest[group].values():
            files += [entry["cert"], entry["key"]]
    for service in ("trusted_service", "untrusted_service"):
        files += [manifest[service]["cert"], manifest[service]["key"]]
    for entry in manifest["keys"].values():
        files += [entry["path"], entry["public_key"]]
    files += list(manifest["authorized_keys"].values())
    return files


def _reusable(manifest, workdir):
    """True when the manifest describes complete, still valid material in this workdir."""
    if manifest.get("version") != MATERIAL_VERSION:
        return False
    try:
        files = _all_files(manifest)
    except (KeyError, TypeError, AttributeError):
        return False
    if not all(os.path.isfile(path) and os.path.dirname(path).startswith(workdir) for path in files):
        return False
    if set(manifest["keys"]) != {spec[0] for spec in KEY_SPECS} or set(manifest["sites"]) != {s.name for s in SITE_SPECS}:
        return False
    deadline = pki.utcnow() + MIN_REMAINING
    certs = [manifest["ca_cert"]] + [e["cert"] for e in manifest["sites"].values()]
    certs += [e["cert"] for name, e in manifest["tls"].items() if name != "expired"]
    certs += [e["cert"] for e in manifest["client_certs"].values()]
    certs += [manifest[s]["cert"] for s in ("trusted_service", "untrusted_service")]
    return all(pki.cert_expiry(pki.load_cert(path)) > deadline for path in certs)


def ensure_material(workdir):
    """Load the material from ``workdir``, generating it first when needed."""
    workdir = os.path.abspath(workdir)
    os.makedirs(workdir, mode=0o700, exist_ok=True)
    manifest_path = _path(workdir, MANIFEST)
    if os.path.isfile(manifest_path):
        try:
            with open(manifest_path, "r", encoding="utf-8") as stream:
                manifest = json.load(stream)
            if _reusable(manifest, workdir):
                manifest.pop("version")
                material = Material(workdir=workdir, **manifest)
                _load_objects(material)
                return material
        except (OSError, ValueError):
            pass
    for sub in ("pki", "keys", "users"):
        shutil.rmtree(_path(workdir, sub), ignore_errors=True)
    material = Material(workdir=workdir)
    _generate_pki(material)
    _generate_user_keys(material)
    _generate_tokens(material)
    _generate_oidc_secrets(material)
    pki.write_private(manifest_path, json.dumps(material.manifest(), indent=2, sort_keys=True) + "\n")
    _load_objects(material)
    return material
