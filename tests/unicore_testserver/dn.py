"""Distinguished name comparison.

UNICORE compares DNs as X.500 names, not as strings: the configured DN
``CN=Demo User, O=UNICORE, C=EU`` and the subject of a certificate rendered by
Java or by ``cryptography`` as ``CN=Demo User,O=UNICORE,C=EU`` are the same
user. The normal form used here splits the RDNs at unescaped commas, strips
the whitespace around each RDN and around the ``=``, and upper-cases the
attribute type. Attribute values keep their case; RDN order is significant.
"""

ANONYMOUS_DN = "CN=ANONYMOUS,O=UNKNOWN,OU=UNKNOWN"


def split_rdns(dn):
    """Split a DN string at commas that are not escaped with a backslash."""
    rdns = []
    current = []
    escaped = False
    for char in dn:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == ",":
            rdns.append("".join(current))
            current = []
        else:
            current.append(char)
    rdns.append("".join(current))
    return rdns


def normalise_dn(dn):
    """Return the comparable normal form of ``dn`` (None stays None)."""
    if dn is None:
        return None
    parts = []
    for rdn in split_rdns(dn.strip()):
        attr_type, sep, value = rdn.strip().partition("=")
        if sep:
            parts.append("%s=%s" % (attr_type.strip().upper(), value.strip()))
        else:
            parts.append(rdn.strip())
    return ",".join(parts)


def dn_equal(first, second):
    """True when both DNs name the same entity."""
    if first is None or second is None:
        return False
    return normalise_dn(first) == normalise_dn(second)
