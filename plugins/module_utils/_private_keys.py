# -*- coding: utf-8 -*-
# Copyright: unicore.auth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loading private keys for JWT signing (internal to the collection).

Imported only by the JWT credential kinds: it needs ``cryptography``.
"""

from __future__ import annotations

from ansible_collections.unicore.auth.plugins.module_utils._errors import UnicoreError

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
except ImportError:
    HAS_CRYPTOGRAPHY = False
else:
    HAS_CRYPTOGRAPHY = True


def require_cryptography(purpose):
    if not HAS_CRYPTOGRAPHY:
        raise UnicoreError('%s needs the Python library cryptography' % purpose, missing_library='cryptography')


def read_key_file(option, path):
    try:
        with open(path, 'rb') as key_file:
            return key_file.read()
    except OSError as exc:
        raise UnicoreError('%s: cannot read key file %s: %s' % (option, path, exc.strerror or exc.__class__.__name__))


def load_private_key(option, data, passphrase=None):
    """A private key from OpenSSH or PEM/PKCS#8 bytes, decrypted with ``passphrase``.

    ``option`` names where the key came from, for the error message; the key
    material and the passphrase never appear in a message.
    """
    require_cryptography('a private key (%s)' % option)
    if isinstance(data, str):
        data = data.encode('utf-8')
    data = data.strip()
    if not data:
        raise UnicoreError('%s: the key is empty' % option)
    password = passphrase.encode('utf-8') if passphrase else None
    is_openssh = data.startswith(b'-----BEGIN OPENSSH PRIVATE KEY-----')
    load = serialization.load_ssh_private_key if is_openssh else serialization.load_pem_private_key
    try:
        try:
            return load(data, password)
        except TypeError:
            if password is None:
                raise
            # PyUNICORE passes the passphrase to unencrypted keys as well; accept that.
            return load(data, None)
    except TypeError:
        raise UnicoreError('%s: the key is encrypted; set identity_passphrase' % option)
    except UnsupportedAlgorithm as exc:
        if 'bcrypt' in str(exc):
            raise UnicoreError('%s: a passphrase-protected OpenSSH key needs the Python library bcrypt' % option,
                               missing_library='bcrypt')
        raise UnicoreError('%s: unsupported key type (%s); use RSA, EC P-256 or Ed25519' % (option, exc))
    except ValueError as exc:
        if password is not None and ('password' in str(exc).lower() or 'checksum' in str(exc) or 'decrypt' in str(exc).lower()):
            raise UnicoreError('%s: cannot decrypt the key: wrong identity_passphrase' % option)
        raise UnicoreError('%s: not a readable private key in OpenSSH or PEM format (is it complete?)' % option)


def signing_algorithm(option, key):
    """The JWT algorithm UNICORE expects for this key type."""
    if isinstance(key, rsa.RSAPrivateKey):
        return 'RS256'
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise UnicoreError('%s: EC keys must use curve P-256 (secp256r1) for ES256; this key uses %s' % (option, key.curve.name))
        return 'ES256'
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return 'EdDSA'
    kind = type(key).__name__.replace('PrivateKey', '').lstrip('_') or 'unknown'
    raise UnicoreError('%s: unsupported key type %s; use RSA, EC P-256 or Ed25519' % (option, kind))


def certificate_subject_dn(option, path):
    """The subject DN of a PEM certificate, as UNICORE writes DNs (RFC 4514)."""
    require_cryptography('reading %s' % option)
    data = read_key_file(option, path)
    try:
        certificate = x509.load_pem_x509_certificate(data)
    except ValueError:
        raise UnicoreError('%s: %s is not a PEM certificate' % (option, path))
    return certificate.subject.rfc4514_string()
