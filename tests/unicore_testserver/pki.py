"""X.509 primitives: keys, a CA, certificates signed by it, PEM files.

Only what the test server needs, built on ``cryptography``. Names are built
from the DN strings used everywhere else (``CN=..., O=..., C=...``) so that a
certificate's subject renders back (RFC 4514) in the same RDN order.
"""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .dn import split_rdns

_NAME_OIDS = {
    "CN": NameOID.COMMON_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "C": NameOID.COUNTRY_NAME,
    "L": NameOID.LOCALITY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
}

ONE_DAY = datetime.timedelta(days=1)


def utcnow():
    """Timezone-aware current time (certificates need aware datetimes)."""
    return datetime.datetime.now(datetime.timezone.utc)


def name_from_dn(dn):
    """Build an x509.Name from ``CN=a, O=b, C=c``.

    X.509 stores the RDNs most significant first (C, O, CN) while the string
    form lists them least significant first, hence the reversal.
    """
    attributes = []
    for rdn in split_rdns(dn):
        attr_type, _sep, value = rdn.strip().partition("=")
        attributes.append(x509.NameAttribute(_NAME_OIDS[attr_type.strip().upper()], value.strip()))
    return x509.Name(list(reversed(attributes)))


def new_rsa_key(bits=2048):
    """RSA key: needed wherever a JWT must be RS256 (site keys, services)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def new_ec_key():
    """EC P-256 key: cheap to generate, used for TLS and client certificates."""
    return ec.generate_private_key(ec.SECP256R1())


def new_ed25519_key():
    """Ed25519 key (SSH keys only)."""
    return ed25519.Ed25519PrivateKey.generate()


def _builder(subject, issuer_name, public_key, not_before, not_after):
    return (x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after))


def make_ca(dn, key, days=3650):
    """Self-signed CA certificate."""
    now = utcnow()
    name = name_from_dn(dn)
    builder = (_builder(name, name, key.public_key(), now - ONE_DAY, now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    return builder.sign(key, hashes.SHA256())


def issue_cert(ca_cert, ca_key, dn, public_key, hosts=(), server=False, client=False, not_before=None, not_after=None, days=365):
    """Certificate for ``dn`` signed by the CA.

    ``hosts`` become subject alternative names (IP addresses as IP SANs);
    ``server``/``client`` set the extended key usages TLS libraries check.
    """
    now = utcnow()
    not_before = not_before or now - ONE_DAY
    not_after = not_after or now + datetime.timedelta(days=days)
    builder = (_builder(name_from_dn(dn), ca_cert.subject, public_key, not_before, not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False))
    if hosts:
        names = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    usages = []
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def cert_pem(cert):
    """PEM text of a certificate."""
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def key_pem(key):
    """Unencrypted PKCS#8 PEM of a private key."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def write_private(path, data):
    """Write a secret file readable by the owner only (created 0600, never wider)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as stream:
        stream.write(data)
    os.chmod(path, 0o600)


def write_public(path, data):
    """Write a non-secret file (certificates, public keys)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, "wb") as stream:
        stream.write(data)


def load_cert(path):
    """Load a PEM certificate."""
    with open(path, "rb") as stream:
        return x509.load_pem_x509_certificate(stream.read())


def load_key(path, password=None):
    """Load a PEM private key."""
    with open(path, "rb") as stream:
        return serialization.load_pem_private_key(stream.read(), password=password)


def cert_expiry(cert):
    """Expiry of a certificate as an aware datetime."""
    expiry = getattr(cert, "not_valid_after_utc", None)
    if expiry is None:
        # cryptography < 42 only offers the naive UTC datetime
        expiry = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return expiry


def subject_dn(cert):
    """Subject DN as Java and ``cryptography`` render it: ``CN=x,O=y,C=z``."""
    return cert.subject.rfc4514_string()


def iso8601_utc(moment):
    """2026-01-31T12:00:00Z."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
