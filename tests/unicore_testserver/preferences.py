"""``X-UNICORE-User-Preferences``: parsing, validation, encoding.

Syntax as UNICORE/X parses it: items separated by ``,``; each item split at
``:`` must give exactly two parts, else the request is refused with 403. Keys
are case-insensitive: ``uid``/``xlogin``, ``group``/``pgid``,
``supgids``/``supplementaryGroups`` (groups joined with ``+``), ``role``;
unknown keys are ignored. The splitting imitates Java's ``String.split``,
which drops trailing empty strings: ``uid:x,`` is one item, while an empty
header or ``uid:`` is malformed.
"""

from dataclasses import dataclass, replace


class PreferenceError(Exception):
    """Malformed header or a value the user may not select (→ 403, no detail)."""


def java_split(text, separator):
    """``String.split`` semantics for a literal one-character separator."""
    if separator not in text:
        return [text]
    parts = text.split(separator)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


_KEYS = {
    "uid": "uid", "xlogin": "uid",
    "group": "group", "pgid": "group",
    "supgids": "supgids", "supplementarygroups": "supgids",
    "role": "role",
}


@dataclass(frozen=True)
class Preferences:
    """What a client asked for; None means "not asked, use the default"."""

    uid: str = None
    group: str = None
    supgids: tuple = None
    role: str = None

    @property
    def empty(self):
        """True when nothing was asked for."""
        return self.uid is None and self.group is None and self.supgids is None and self.role is None

    def merged(self, other):
        """These preferences overridden by the ones set in ``other``."""
        return Preferences(
            uid=other.uid if other.uid is not None else self.uid,
            group=other.group if other.group is not None else self.group,
            supgids=other.supgids if other.supgids is not None else self.supgids,
            role=other.role if other.role is not None else self.role,
        )

    def encode(self):
        """Header syntax, as put into the ``preferences`` claim of issued tokens."""
        items = []
        if self.uid is not None:
            items.append("uid:" + self.uid)
        if self.group is not None:
            items.append("group:" + self.group)
        if self.supgids is not None:
            items.append("supgids:" + "+".join(self.supgids))
        if self.role is not None:
            items.append("role:" + self.role)
        return ",".join(items)


def parse(value):
    """Parse one header value into Preferences; PreferenceError when malformed."""
    found = {}
    for item in java_split(value, ","):
        parts = java_split(item, ":")
        if len(parts) != 2:
            raise PreferenceError("Invalid format for user preference")
        key = _KEYS.get(parts[0].lower())
        if key == "supgids":
            found[key] = tuple(java_split(parts[1], "+"))
        elif key is not None:
            found[key] = parts[1]
    return Preferences(**found)


def parse_all(values):
    """Parse every header occurrence in order; later ones override earlier ones."""
    prefs = Preferences()
    for value in values:
        prefs = prefs.merged(parse(value))
    return prefs


@dataclass(frozen=True)
class Selection:
    """The effective uid / group / supplementary groups / role of a request."""

    uid: str = None
    group: str = None
    supgids: tuple = ()
    role: str = "anonymous"
    queue: str = None


def select(identity, prefs):
    """Apply ``prefs`` to the identity's mapping; PreferenceError when not allowed.

    Anything requested that the mapping does not offer is refused, which for
    anonymous or unmapped identities means any preference at all.
    """
    user = identity.mapped_user
    default_uid = None
    if user is not None:
        default_uid = identity.default_uid if identity.default_uid in user.uids else user.default_uid
    selection = Selection(
        uid=default_uid,
        group=user.default_group if user else None,
        role=user.default_role if user else "anonymous",
        queue=user.default_queue if user else None,
    )
    uids = user.uids if user else ()
    groups = user.groups if user else ()
    roles = user.roles if user else ()
    if prefs.uid is not None:
        if prefs.uid not in uids:
            raise PreferenceError("uid not available")
        selection = replace(selection, uid=prefs.uid)
    if prefs.group is not None:
        if prefs.group not in groups:
            raise PreferenceError("group not available")
        selection = replace(selection, group=prefs.group)
    if prefs.supgids is not None:
        if any(group not in groups for group in prefs.supgids):
            raise PreferenceError("supplementary group not available")
        selection = replace(selection, supgids=tuple(prefs.supgids))
    if prefs.role is not None:
        if prefs.role not in roles:
            raise PreferenceError("role not available")
        selection = replace(selection, role=prefs.role)
    return selection
