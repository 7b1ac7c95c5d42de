"""Counters and the recent-request log read by tests through the control API.

Tests use them to prove costs (one token request for N hosts, sessions reused
instead of full authentications) and to see what a client actually sent. The
request log records the authorization *scheme* only, never a credential.
"""

import threading
import time
from collections import Counter, deque

REQUEST_LOG_SIZE = 1000


class Stats:
    """Thread-safe counters; reset() zeroes them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counters = {}
        self.reset()

    def reset(self):
        """Zero all counters."""
        with self._lock:
            self._counters = {
                "requests": Counter(),
                "full_authentications": Counter(),
                "tokens_issued": Counter(),
                "faults_applied": Counter(),
                "oidc_grants": Counter(),       # (grant type, "ok" or the RFC 6749 error) -> n
                "registry_reads": Counter(),    # "anonymous" or "authenticated" -> n
                "oidc_discovery": 0,
                "session_reuses": 0,
                "sessions_rejected_432": 0,
                "forbidden_403": 0,
            }

    def count(self, name, key=None):
        """Increment counter ``name`` (per ``key`` for the per-site/per-method ones)."""
        with self._lock:
            if key is None:
                self._counters[name] += 1
            else:
                self._counters[name][key] += 1

    def snapshot(self):
        """JSON-able copy of all counters."""
        with self._lock:
            counters = self._counters
            return {
                "requests": {"total": sum(counters["requests"].values()), "per_site": dict(counters["requests"])},
                "full_authentications": dict(counters["full_authentications"]),
                "full_authentications_total": sum(counters["full_authentications"].values()),
                "session_reuses": counters["session_reuses"],
                "sessions_rejected_432": counters["sessions_rejected_432"],
                "tokens_issued": {"total": sum(counters["tokens_issued"].values()), "per_site": dict(counters["tokens_issued"])},
                "forbidden_403": counters["forbidden_403"],
                "faults_applied": {"total": sum(counters["faults_applied"].values()), "per_action": dict(counters["faults_applied"])},
                "oidc_grants": _nested(counters["oidc_grants"]),
                "oidc_discovery": counters["oidc_discovery"],
                # Answers of the Registry, by whether the caller sent credentials (or a session made with them).
                # Refused reads are not counted here; requests.per_site.REGISTRY counts every request.
                "registry_reads": {"total": sum(counters["registry_reads"].values()),
                                   "anonymous": counters["registry_reads"]["anonymous"],
                                   "authenticated": counters["registry_reads"]["authenticated"]},
            }


def _nested(counter):
    """{(a, b): n} as {a: {b: n}}."""
    nested = {}
    for (outer, inner), value in counter.items():
        nested.setdefault(outer, {})[inner] = value
    return nested


class RequestLog:
    """The most recent requests (bounded), oldest first."""

    def __init__(self, size=REQUEST_LOG_SIZE):
        self._lock = threading.Lock()
        self._entries = deque(maxlen=size)

    def add(self, entry):
        """Append one request record."""
        entry.setdefault("time", time.time())
        with self._lock:
            self._entries.append(entry)

    def recent(self, last=None):
        """The last ``last`` records (all when None), oldest first."""
        with self._lock:
            entries = list(self._entries)
        if last is not None:
            entries = entries[-last:] if last > 0 else []
        return entries

    def clear(self):
        """Forget all records."""
        with self._lock:
            self._entries.clear()
