"""Command line entry point: build everything, start the listeners, wait for a signal."""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading

from .application import Application
from .directory import build_directory
from .fixtures import build_fixtures, write_fixtures
from .material import ensure_material
from .oidc import CONFIDENTIAL_CLIENT_ID, DEFAULT_ACCESS_LIFETIME, DEFAULT_REFRESH_LIFETIME, ProviderSettings
from .pki import load_cert
from .server import TLSServer, server_tls_context
from .sessions import DEFAULT_LIFETIME
from .sites import build_sites
from .tokens import IssuedTokenLog

TLS_FAULTS = ("expired", "wrong_host", "unknown_ca")


def parse_args(argv):
    """Command line options."""
    parser = argparse.ArgumentParser(prog="unicore-testserver", description="Local UNICORE/X stand-in for tests (HTTPS on loopback).")
    parser.add_argument("--port", type=int, required=True, help="port of the main listener (0: pick a free one)")
    parser.add_argument("--workdir", help="directory for PKI, keys and fixtures.json (default: a new temporary directory); reused on restart")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--session-lifetime", type=int, default=DEFAULT_LIFETIME, help="security session lifetime in seconds (default 8 h)")
    parser.add_argument("--oidc-access-lifetime", type=int, default=DEFAULT_ACCESS_LIFETIME,
                        help="lifetime of the OIDC provider's access tokens in seconds (default %d)" % DEFAULT_ACCESS_LIFETIME)
    parser.add_argument("--oidc-refresh-lifetime", type=int, default=DEFAULT_REFRESH_LIFETIME,
                        help="lifetime of its refresh tokens in seconds (default %d)" % DEFAULT_REFRESH_LIFETIME)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def main(argv=None):
    """Run the server until SIGTERM or SIGINT; returns the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    workdir = os.path.abspath(args.workdir or tempfile.mkdtemp(prefix="unicore-testserver-"))
    material = ensure_material(workdir)
    sites = build_sites(material)
    directory = build_directory(material)

    # Bind the main listener first: its port is part of every URL the application renders.
    main_context = server_tls_context(material.tls["server"]["cert"], material.tls["server"]["key"], material.ca_cert)
    main_server = TLSServer((args.host, args.port), main_context, None, "main", args.verbose)
    port = main_server.port
    issued_log = IssuedTokenLog(os.path.join(workdir, "issued-tokens.log"))
    oidc_settings = ProviderSettings(client_secret=material.oidc_provider["client_secret"], otp=material.oidc_provider["otp"],
                                     access_lifetime=args.oidc_access_lifetime, refresh_lifetime=args.oidc_refresh_lifetime,
                                     issued_log=IssuedTokenLog(os.path.join(workdir, "oidc-issued-tokens.log")))
    app = Application(sites, directory, load_cert(material.ca_cert), "https://localhost:%d" % port, args.session_lifetime,
                      oidc_settings, issued_log, sessions_log=IssuedTokenLog(os.path.join(workdir, "issued-sessions.log")))
    main_server.app = app
    servers = [main_server]
    tls_fault_urls = {}
    for name in TLS_FAULTS:
        context = server_tls_context(material.tls[name]["cert"], material.tls[name]["key"], material.ca_cert)
        server = TLSServer((args.host, 0), context, app, name, args.verbose)
        servers.append(server)
        tls_fault_urls[name] = "https://localhost:%d/DEMO-SITE/rest/core" % server.port

    fixtures_path = os.path.join(workdir, "fixtures.json")
    write_fixtures(fixtures_path, build_fixtures(app, material, tls_fault_urls, port))

    stop = threading.Event()

    def request_stop(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    for server in servers:
        server.start()
    oidc = {"issuer": app.oidc.issuer, "token_endpoint": app.oidc.token_endpoint,
            "client_id": CONFIDENTIAL_CLIENT_ID, "client_secret": oidc_settings.client_secret}
    sys.stdout.write(json.dumps({"ready": True, "port": port, "url": app.site_url("DEMO-SITE"), "registry": app.registry_url,
                                 "oidc": oidc, "workdir": workdir, "fixtures": fixtures_path}) + "\n")
    sys.stdout.flush()

    while not stop.wait(0.5):
        pass
    # Stop the listeners in parallel: each one's shutdown waits for its poll interval.
    stoppers = [threading.Thread(target=server.stop) for server in servers]
    for stopper in stoppers:
        stopper.start()
    for stopper in stoppers:
        stopper.join()
    return 0
