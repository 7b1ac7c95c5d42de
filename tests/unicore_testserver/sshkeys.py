"""Users' SSH key pairs in the file formats clients meet in practice.

UNICORE's SSHKEY authentication verifies a JWT with the user's registered
OpenSSH public keys. Clients read the private key in OpenSSH or PEM/PKCS#8
form, encrypted or not, so the fixtures cover each of those formats.
"""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .pki import new_ec_key, new_ed25519_key, new_rsa_key, write_private, write_public

# format name -> (PrivateFormat, whether the format takes a passphrase)
_FORMATS = {
    "openssh": (serialization.PrivateFormat.OpenSSH, False),
    "openssh-encrypted": (serialization.PrivateFormat.OpenSSH, True),
    "pem-traditional": (serialization.PrivateFormat.TraditionalOpenSSL, False),
    "pkcs8": (serialization.PrivateFormat.PKCS8, False),
    "pkcs8-encrypted": (serialization.PrivateFormat.PKCS8, True),
}

_GENERATORS = {"rsa": new_rsa_key, "ec": new_ec_key, "ed25519": new_ed25519_key}


def new_key(key_type):
    """Generate a private key of type ``rsa``, ``ec`` (P-256) or ``ed25519``."""
    return _GENERATORS[key_type]()


def private_bytes(key, key_format, passphrase=None):
    """Serialise ``key`` in one of the named formats."""
    private_format, encrypted = _FORMATS[key_format]
    if encrypted:
        encryption = serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
    else:
        encryption = serialization.NoEncryption()
    encoding = serialization.Encoding.PEM
    return key.private_bytes(encoding, private_format, encryption)


def openssh_public_line(key, comment):
    """``ssh-rsa AAAA... comment`` as it appears in authorized_keys."""
    blob = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return "%s %s" % (blob.decode("ascii"), comment)


def write_key_pair(key, private_path, public_path, key_format, passphrase, comment):
    """Write the private key (0600) in ``key_format`` and its OpenSSH public key."""
    write_private(private_path, private_bytes(key, key_format, passphrase))
    write_public(public_path, openssh_public_line(key, comment) + "\n")


def load_public_line(line):
    """Parse one authorized_keys line into a public key; None for comments/blank lines.

    Options in front of the key type (``from="..." ssh-rsa ...``) are skipped,
    as sshd does.
    """
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    fields = line.split()
    for index, field in enumerate(fields):
        if field.startswith(("ssh-", "ecdsa-sha2-")) and index + 1 < len(fields):
            return serialization.load_ssh_public_key(("%s %s" % (field, fields[index + 1])).encode("ascii"))
    return None


def key_type_of(public_key):
    """Short type name of a public key: rsa, ec, ed25519."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "ec"
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "ed25519"
    return "unknown"
