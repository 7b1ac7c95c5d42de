"""The authenticated principal of a request and the ``client`` object shown for it."""

from dataclasses import dataclass

from .directory import User
from .dn import ANONYMOUS_DN, normalise_dn
from .preferences import Preferences

# authenticationMethod values of UNICORE's client object
PASSWORD_FILE = "PASSWORD_FILE"
SSHKEY = "SSHKEY"
OAUTH = "OAUTH"
ETD = "ETD"
X509 = "X509"
# Not a UNICORE method name: used for statistics only; anonymous clients
# have no authenticationMethod in the client object.
ANONYMOUS = "ANONYMOUS"


@dataclass(frozen=True)
class Identity:
    """Result of a full authentication, kept in the security session."""

    dn: str
    method: str
    user: User = None                # None when the DN is unknown to the directory
    renewable: bool = False          # ETD only: the token had renewable=true
    default_uid: str = None          # ETD from this site: the token's uid claim
    fixed_preferences: Preferences = None   # ETD: preferences claim, overrides headers

    @property
    def anonymous(self):
        """True for requests without any credentials."""
        return self.method == ANONYMOUS

    @property
    def mapped_user(self):
        """The user whose attributes apply, or None (anonymous / unmapped)."""
        if self.user is not None and self.user.mapped:
            return self.user
        return None

    @property
    def session_owner(self):
        """Key for the per-user session limit."""
        return "anonymous" if self.anonymous else normalise_dn(self.dn)


def anonymous_identity():
    """The identity of a request without credentials."""
    return Identity(dn=ANONYMOUS_DN, method=ANONYMOUS)


def _without_nulls(mapping):
    """UNICORE omits keys whose value is null from the client object."""
    return {key: value for key, value in mapping.items() if value is not None}


def client_object(identity, selection):
    """The ``client`` object of ``GET BASE`` for this identity and selection."""
    if identity.anonymous:
        return {"dn": ANONYMOUS_DN, "xlogin": {}, "role": {"selected": "anonymous"}}
    user = identity.mapped_user
    # RFC 2253 form, as Java's X500Principal renders it.
    client = {"dn": normalise_dn(identity.dn), "authenticationMethod": identity.method}
    if user is None:
        client["xlogin"] = {}
        client["role"] = {"selected": "anonymous", "availableRoles": ["anonymous"]}
        return client
    client["xlogin"] = _without_nulls({
        "UID": selection.uid,
        "availableUIDs": list(user.uids),
        "group": selection.group,
        "availableGroups": list(user.groups),
        "selectedSupplementaryGroups": list(selection.supgids),
    })
    client["role"] = _without_nulls({"selected": selection.role, "availableRoles": list(user.roles)})
    if user.queues:
        client["queues"] = {"selected": selection.queue, "availableQueues": list(user.queues)}
    return client
