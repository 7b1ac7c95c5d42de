"""Who the sites know: users, their passwords, SSH keys, OIDC tokens, attributes.

One directory serves every site (as if all sites shared one XUUDB, one
password file and one OIDC provider). A user's *mapping* (uids, groups, roles,
queues) is what UNICORE's attribute sources return for the user's DN; a user
whose DN maps to nothing still authenticates, but gets role ``anonymous``
(UNICORE answers 200 then, not 403).
"""

import hmac
from dataclasses import dataclass, field

from .dn import normalise_dn
from .sshkeys import load_public_line


@dataclass(frozen=True)
class User:
    """A login and the attributes its DN maps to (first list entry = default)."""

    name: str
    password: str
    dn: str
    uids: tuple = ()
    groups: tuple = ()
    roles: tuple = ()
    queues: tuple = ()
    mapped: bool = True

    @property
    def default_uid(self):
        """Uid selected when the client asks for none."""
        return self.uids[0] if self.uids else None

    @property
    def default_group(self):
        """Primary group selected when the client asks for none."""
        return self.groups[0] if self.groups else None

    @property
    def default_role(self):
        """Role selected when the client asks for none."""
        return self.roles[0] if self.roles else "anonymous"

    @property
    def default_queue(self):
        """Queue selected by default (UNICORE offers no preference key for it)."""
        return self.queues[0] if self.queues else None


# The demo user of the UNICORE docs and tutorials, a second mapped user with a
# DN in another organisation and no queues, a user whose credentials are
# valid but whose DN maps to nothing, and a user whose login at the OIDC
# provider needs a second factor (oidc.py; at the sites its password alone
# logs in, as a password file knows no second factor).
USERS = (
    User(name="demouser", password="test123", dn="CN=Demo User, O=UNICORE, C=EU",
         uids=("demouser", "demo2"), groups=("users", "hpc", "project1", "project2"),
         roles=("user", "admin"), queues=("batch", "fast")),
    User(name="otheruser", password="other123", dn="CN=Other User, O=Partner Org, C=DE",
         uids=("other",), groups=("other", "partners"), roles=("user",)),
    User(name="unmapped", password="unmapped123", dn="CN=Unmapped User, O=UNICORE, C=EU", mapped=False),
    User(name="otpuser", password="secondfactor123", dn="CN=OTP User, O=UNICORE, C=EU",
         uids=("otpuser",), groups=("users",), roles=("user",)),
)

USERS_BY_NAME = {user.name: user for user in USERS}


@dataclass
class OidcToken:
    """An access token as the (simulated) introspection endpoint knows it."""

    token: str
    user: str
    valid: bool


@dataclass
class Directory:
    """Lookups used by the authenticators; immutable after start-up."""

    users: dict = field(default_factory=dict)
    authorized_keys: dict = field(default_factory=dict)   # username -> [public key]
    oidc_tokens: dict = field(default_factory=dict)       # token value -> OidcToken
    _by_dn: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        self._by_dn = {normalise_dn(user.dn): user for user in self.users.values()}

    def check_password(self, username, password):
        """The user when the password matches, else None (constant-time compare)."""
        user = self.users.get(username)
        if user is None:
            # still compare, so unknown users cost the same as wrong passwords
            hmac.compare_digest(password.encode("utf-8"), b"x" * 16)
            return None
        if hmac.compare_digest(password.encode("utf-8"), user.password.encode("utf-8")):
            return user
        return None

    def user_by_name(self, username):
        """The user with this login name, or None."""
        return self.users.get(username)

    def user_by_dn(self, dn):
        """The directory entry for a DN (compared normalised), or None."""
        return self._by_dn.get(normalise_dn(dn))

    def public_keys(self, username):
        """Registered SSH public keys of a user (empty list when none)."""
        return self.authorized_keys.get(username, [])

    def introspect(self, token):
        """Simulated OIDC token introspection: the OidcToken entry, or None."""
        return self.oidc_tokens.get(token)


def load_authorized_keys(path):
    """Public keys from an authorized_keys file."""
    keys = []
    with open(path, "r", encoding="utf-8") as stream:
        for line in stream:
            key = load_public_line(line)
            if key is not None:
                keys.append(key)
    return keys


def build_directory(material):
    """Directory from the workdir material (key files and secrets)."""
    authorized = {name: load_authorized_keys(path) for name, path in material.authorized_keys.items()}
    tokens = {entry["token"]: OidcToken(entry["token"], entry["user"], entry["valid"])
              for entry in material.oidc_tokens.values()}
    return Directory(users=dict(USERS_BY_NAME), authorized_keys=authorized, oidc_tokens=tokens)
