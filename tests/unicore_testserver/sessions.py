"""Security sessions (``X-UNICORE-SecuritySession``), in memory.

As UNICORE/X keeps them: every response to an authenticated or anonymous
request carries a session id and its remaining lifetime in milliseconds;
sending the id back replaces authentication; an unknown or expired id is
answered with 432; at most 5 sessions per user and client IP, least recently
used evicted. A session holds the identity and the selection made by the
preferences of the request that created it, and belongs to the site
(container) that created it. Every id handed out is also appended to
``<workdir>/issued-sessions.log`` (0600), so that the secrets scan can look for
session ids where none belongs.
"""

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

DEFAULT_LIFETIME = 8 * 3600
MAX_SESSIONS_PER_USER = 5


@dataclass
class Session:
    """One security session."""

    session_id: str
    site: str
    owner: str
    client_ip: str
    identity: object        # identity.Identity
    preferences: object     # preferences.Preferences as requested (goes into issued tokens)
    selection: object       # preferences.Selection in effect
    expires: float          # time.monotonic() deadline

    def remaining_ms(self):
        """Remaining lifetime in milliseconds (the Lifetime header's unit)."""
        return max(0, int((self.expires - time.monotonic()) * 1000))


class SessionStore:
    """Thread-safe store; each (site, owner, client IP) keeps its sessions in LRU order."""

    def __init__(self, lifetime=DEFAULT_LIFETIME, max_per_user=MAX_SESSIONS_PER_USER, issued_log=None):
        self.lifetime = lifetime
        self.max_per_user = max_per_user
        # tokens.IssuedTokenLog of every session id handed out (the secrets scan looks for them), or None.
        self.issued_log = issued_log
        self._lock = threading.Lock()
        self._sessions = {}      # id -> Session
        self._by_owner = {}      # (site, owner, ip) -> OrderedDict id -> None, least recent first

    def create(self, site, identity, preferences, selection, client_ip):
        """Store a new session, evicting the owner's least recently used one beyond the limit."""
        session = Session(session_id=str(uuid.uuid4()), site=site, owner=identity.session_owner, client_ip=client_ip,
                          identity=identity, preferences=preferences, selection=selection,
                          expires=time.monotonic() + self.lifetime)
        key = (site, session.owner, client_ip)
        with self._lock:
            owned = self._by_owner.setdefault(key, OrderedDict())
            owned[session.session_id] = None
            self._sessions[session.session_id] = session
            while len(owned) > self.max_per_user:
                evicted, _unused = owned.popitem(last=False)
                self._sessions.pop(evicted, None)
        if self.issued_log is not None:
            self.issued_log.add(session.session_id)
        return session

    def lookup(self, site, session_id):
        """The live session with this id at this site (marked as used), else None."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.site != site:
                return None
            key = (session.site, session.owner, session.client_ip)
            if session.expires <= time.monotonic():
                self._sessions.pop(session_id, None)
                self._by_owner.get(key, {}).pop(session_id, None)
                return None
            self._by_owner[key].move_to_end(session_id)
            return session

    def clear(self):
        """Forget every session (the next reuse of any id gets 432)."""
        with self._lock:
            self._sessions.clear()
            self._by_owner.clear()

    def count(self):
        """Number of sessions held."""
        with self._lock:
            return len(self._sessions)
