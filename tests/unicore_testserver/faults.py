"""Scripted faults for resilience tests (retries, timeouts, broken responses).

A fault matches requests by path prefix and, optionally, method; each match
consumes one of its ``count``. The first matching fault in order of
registration applies. Socket-level actions (drop, reset, truncate) are carried
out by the HTTP handler; the others produce an ordinary Response here, except
two that the handler sends in its own way:

* ``drip``: the site's real answer, sent one byte every ``delay`` seconds:
  ``part`` ``all`` (the default: status line and headers first, then the
  body), ``headers`` (those slowly, the body at once) or ``body`` (the headers
  at once, the body slowly).
* ``huge``: an answer of ``size`` bytes (default 300 MiB; a JSON document, an
  empty array padded with spaces), written in 64 KiB pieces and never held
  whole, with a Content-Length or, with ``chunked``, in chunked transfer
  encoding without one.

Faults at random, for a site that fails some of its requests (issue 15, scale
under faults):

* ``probability`` (more than 0, at most 1; default 1): the chance that a
  matching request meets the fault. A request that escapes it goes on to the
  next matching fault, or to the site. Only the requests a fault applies to
  consume its ``count``, and ``count: -1`` never runs out.
* ``actions`` (a list, in place of ``action``): each request the fault
  applies to meets one of them, picked at random with equal chances (list an
  action twice to weigh it double). ``status``, ``headers`` and the like serve
  every action that uses them; ``status`` defaults to 503 when ``respond`` is
  among them.
* The random numbers come from one generator per server, seeded with
  ``DEFAULT_SEED`` when the server starts and whenever the faults are cleared
  (a reset), or with the seed the control API sets: the same requests in the
  same order meet the same faults in every run.
* Each fault counts the requests it matched and, by action, those it applied
  to (``matched``, ``applied``, listed with the pending faults), so that a test
  can tell how many requests met each outcome.
"""

import dataclasses
import random
import threading
from collections import Counter
from dataclasses import dataclass, field

from .messages import JSON, Response

ACTIONS = ("respond", "delay", "drop", "reset", "truncate", "invalid_json", "empty", "drip", "huge")
SOCKET_ACTIONS = ("drop", "reset", "truncate")
# Actions after which the site answers as it would have: later (delay) or slowly (drip).
SITE_ANSWERS = ("delay", "drip")
DRIP_PARTS = ("all", "headers", "body")
HUGE_DEFAULT_SIZE = 300 * 1024 * 1024
UNLIMITED = -1              # a count that never runs out
DEFAULT_SEED = 0
FIELDS = ("path_prefix", "method", "count", "action", "actions", "probability", "status", "headers", "body", "content_type",
          "delay", "part", "size", "chunked")
_HUGE_PIECE = b" " * 65536

# Looks like the start of a UNICORE base resource, but is cut off.
NOT_JSON = b'{"client": {"dn": "CN=Demo User, O=UNICORE, C=EU", "xlogin": {"UID": "demo'


class FaultSpecError(ValueError):
    """A fault definition that cannot be used (→ 400 from the control API)."""


@dataclass
class Fault:
    """One scripted fault."""

    path_prefix: str
    action: str
    method: str = None          # None matches any method
    count: int = 1
    status: int = 503
    headers: dict = field(default_factory=dict)
    body: str = ""
    content_type: str = None
    delay: float = 0.0
    part: str = "all"           # drip: all, headers or body
    size: int = HUGE_DEFAULT_SIZE   # huge: bytes of the body
    chunked: bool = False       # huge: chunked transfer encoding, no Content-Length
    probability: float = 1.0    # the chance that a matching request meets the fault
    actions: tuple = ()         # when given, one of them at random for each request (action is then None)
    matched: int = 0            # requests that matched, whether or not they met the fault
    applied: Counter = field(default_factory=Counter)   # action -> requests that met it

    def matches(self, method, path):
        """True when this fault applies to a request."""
        return path.startswith(self.path_prefix) and (self.method is None or self.method == method)

    def response(self):
        """The Response for the non-socket actions (respond, invalid_json, empty)."""
        if self.action == "invalid_json":
            body = self.body.encode("utf-8") if self.body else NOT_JSON
            return Response(200, body, self.content_type or JSON, list(self.headers.items()))
        if self.action == "empty":
            return Response(200, b"", self.content_type or JSON, list(self.headers.items()))
        body = self.body.encode("utf-8")
        content_type = self.content_type or (JSON if body else None)
        return Response(self.status, body, content_type, list(self.headers.items()))

    def describe(self):
        """JSON-able form, as listed by the control API."""
        return {"path_prefix": self.path_prefix, "method": self.method, "count": self.count, "action": self.action,
                "status": self.status, "headers": self.headers, "body": self.body, "content_type": self.content_type,
                "delay": self.delay, "part": self.part, "size": self.size, "chunked": self.chunked,
                "probability": self.probability, "actions": list(self.actions), "matched": self.matched,
                "applied": dict(self.applied)}


def huge_body(size):
    """The body of a ``huge`` answer in pieces: ``size`` bytes of valid JSON (``[``, spaces, ``]``), never built whole."""
    yield b"["
    left = size - 2
    while left > 0:
        piece = _HUGE_PIECE if left >= len(_HUGE_PIECE) else _HUGE_PIECE[:left]
        yield piece
        left -= len(piece)
    yield b"]"


def _typed(spec, name, kind, default):
    value = spec.get(name, default)
    if value is None and default is None:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise FaultSpecError("fault field %r must be of type %s" % (name, kind.__name__))
    return value


def parse_fault(spec):
    """Fault from its JSON form; FaultSpecError on anything unusable."""
    if not isinstance(spec, dict):
        raise FaultSpecError("each fault must be a JSON object")
    unknown = set(spec) - set(FIELDS)
    if unknown:
        raise FaultSpecError("unknown fault fields: %s" % ", ".join(sorted(unknown)))
    action, actions = _actions(spec)
    path_prefix = _typed(spec, "path_prefix", str, "/")
    if not path_prefix.startswith("/"):
        raise FaultSpecError("path_prefix must start with '/'")
    method = _typed(spec, "method", str, None)
    headers = _typed(spec, "headers", dict, {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise FaultSpecError("fault headers must map strings to strings")
    fault = Fault(path_prefix=path_prefix, action=action, method=method.upper() if method else None,
                  count=_typed(spec, "count", int, 1),
                  status=_typed(spec, "status", int, 503 if "respond" in (actions or (action,)) else 200),
                  headers=headers, body=_typed(spec, "body", str, ""), content_type=_typed(spec, "content_type", str, None),
                  delay=_typed(spec, "delay", float, 0.0), part=_typed(spec, "part", str, "all"),
                  size=_typed(spec, "size", int, HUGE_DEFAULT_SIZE), chunked=_typed(spec, "chunked", bool, False),
                  probability=_typed(spec, "probability", float, 1.0), actions=actions)
    if (fault.count < 1 and fault.count != UNLIMITED) or not 100 <= fault.status <= 599 or fault.delay < 0:
        raise FaultSpecError("count must be >= 1 (or %d: unlimited), status 100-599, delay >= 0" % UNLIMITED)
    if not 0 < fault.probability <= 1:
        raise FaultSpecError("probability must be more than 0 and at most 1")
    if fault.part not in DRIP_PARTS:
        raise FaultSpecError("part must be one of %s" % ", ".join(DRIP_PARTS))
    if fault.size < 2:
        raise FaultSpecError("size must be >= 2")
    return fault


def _actions(spec):
    """``(action, actions)`` of a fault spec: one action and no choice, or None and the actions to pick from."""
    if "actions" not in spec:
        action = spec.get("action")
        if action not in ACTIONS:
            raise FaultSpecError("fault action must be one of %s" % ", ".join(ACTIONS))
        return action, ()
    if "action" in spec:
        raise FaultSpecError("give either action or actions, not both")
    actions = spec["actions"]
    if not isinstance(actions, list) or not actions or any(action not in ACTIONS for action in actions):
        raise FaultSpecError("actions must be a non-empty list of %s" % ", ".join(ACTIONS))
    return None, tuple(actions)


class FaultList:
    """Thread-safe ordered list of pending faults, and the random numbers of those that apply at random."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []
        self._seed = DEFAULT_SEED
        self._random = random.Random(DEFAULT_SEED)

    def add(self, specs):
        """Append faults (all or nothing); returns how many were added."""
        faults = [parse_fault(spec) for spec in specs]
        with self._lock:
            self._faults.extend(faults)
        return len(faults)

    def take(self, method, path):
        """The fault this request meets, one use of it consumed; None when it meets none.

        The first matching fault that applies: a fault with a ``probability``
        below 1 applies to a matching request at random, and one with
        ``actions`` is returned as a copy with the action picked for this
        request (the pending fault keeps its list).
        """
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method, path):
                    continue
                fault.matched += 1
                if fault.probability < 1 and self._random.random() >= fault.probability:
                    continue
                action = self._random.choice(fault.actions) if fault.actions else fault.action
                fault.applied[action] += 1
                if fault.count != UNLIMITED:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                return dataclasses.replace(fault, action=action, applied=Counter(fault.applied)) if fault.actions else fault
        return None

    def pending(self):
        """JSON-able list of the faults still pending."""
        with self._lock:
            return [fault.describe() for fault in self._faults]

    @property
    def seed(self):
        """The seed the random numbers started from (at the last seeding or clear)."""
        return self._seed

    def reseed(self, seed):
        """Start the random numbers afresh from ``seed`` (an int): the same requests then meet the same faults."""
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise FaultSpecError("seed must be an integer")
        with self._lock:
            self._seed = seed
            self._random.seed(seed)

    def clear(self):
        """Drop all pending faults; the random numbers start again from DEFAULT_SEED."""
        with self._lock:
            self._faults.clear()
            self._seed = DEFAULT_SEED
            self._random.seed(DEFAULT_SEED)
