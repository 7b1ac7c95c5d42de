"""A faithful stand-in for UNICORE/X sites, for the unicore.auth collection's tests.

Usage::

    tests/unicore-testserver --port PORT [--workdir DIR] [--host 127.0.0.1]
                             [--session-lifetime SECONDS] [--oidc-access-lifetime SECONDS]
                             [--oidc-refresh-lifetime SECONDS] [--verbose]

Serves DEMO-SITE, PARTNER-SITE and LONE-SITE, a Registry that lists all three
(DEMO-SITE and PARTNER-SITE accept each other's unlimited tokens, LONE-SITE
only its own) and the OIDC provider the sites trust over HTTPS on one port, prints one JSON line
``{"ready": true, "port": ..., "url": ..., "registry": ..., "oidc": {"issuer",
"token_endpoint", "client_id", "client_secret"}, "workdir": ..., "fixtures":
...}`` once it accepts connections, and stops on SIGTERM/SIGINT. Behaviour
follows UNICORE/X's REST authentication as the UNICORE server sources implement it (where they differ from the published
docs, the code wins: wrong credentials get 403, a DN that maps to nobody gets
200 with role ``anonymous``); each module's docstring states the part of it
that the module implements. How the tests start and use the server is in
README.md, "Testing"; credentials and paths for tests are in
``<workdir>/fixtures.json``.
Uses only the standard library, ``cryptography`` and ``PyJWT``, and nothing
from the collection itself.
"""

from .cli import main

__all__ = ["main"]
