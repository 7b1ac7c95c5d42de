"""A faithful stand-in for UNICORE/X sites, for the unicore.auth collection's tests.

Usage::

    tests/unicore-testserver --port PORT [--workdir DIR] [--host 127.0.0.1]
                             [--session-lifetime SECONDS] [--verbose]

Serves DEMO-SITE, PARTNER-SITE and LONE-SITE plus a registry over HTTPS on
one port, prints one JSON line ``{"ready": true, "port": ..., "url": ...,
"workdir": ..., "fixtures": ...}`` once it accepts connections, and stops on
SIGTERM/SIGINT. Behaviour follows docs/unicore-rest-auth.md (the "facts
page"); credentials and paths for tests are in ``<workdir>/fixtures.json``.
Uses only the standard library, ``cryptography`` and ``PyJWT``, and nothing
from the collection itself.
"""

from .cli import main

__all__ = ["main"]
