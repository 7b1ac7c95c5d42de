"""HTTPS listeners: the main one and the deliberately broken TLS ones.

All listeners serve the same Application. Details that matter for tests:

* TCP_NODELAY on every accepted socket: without it a keep-alive response
  written in two segments waits for the peer's delayed ACK (~40 ms).
* The TLS handshake runs in the connection's worker thread, not in the
  accept loop, so one slow or broken client cannot stall the others.
* Client certificates are optional (CERT_OPTIONAL) and verified against the
  test CA; they authenticate as X509 when no Authorization header is sent.
"""

import socket
import ssl
import sys
import threading
import traceback
from http.server import ThreadingHTTPServer

from .handler import RequestHandler

HANDSHAKE_TIMEOUT = 30


def server_tls_context(cert_path, key_path, client_ca_path):
    """Server-side TLS context with optional, verified client certificates."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    context.load_verify_locations(client_ca_path)
    context.verify_mode = ssl.CERT_OPTIONAL
    return context


class TLSServer(ThreadingHTTPServer):
    """Threaded HTTPS server with connection tracking for a clean stop."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, tls_context, app, name, verbose=False):
        self.tls_context = tls_context
        self.app = app
        self.name = name
        self.verbose = verbose
        self._connections = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, RequestHandler)

    @property
    def port(self):
        """The bound port (useful after binding port 0)."""
        return self.server_address[1]

    def get_request(self):
        sock, address = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, address

    def finish_request(self, request, client_address):
        """Runs in the worker thread: TLS handshake, then the HTTP connection."""
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            connection = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            if self.verbose:
                sys.stderr.write("%s [%s] TLS handshake failed: %s\n" % (client_address[0], self.name, exc))
            return
        with self._connections_lock:
            self._connections.add(connection)
        try:
            self.RequestHandlerClass(connection, client_address, self)
        finally:
            with self._connections_lock:
                self._connections.discard(connection)
            connection.close()

    def handle_error(self, request, client_address):
        """Clients going away mid-request are normal here; anything else is a bug worth showing."""
        error = sys.exc_info()[1]
        if isinstance(error, (OSError, ssl.SSLError)):
            if self.verbose:
                sys.stderr.write("%s [%s] connection error: %s\n" % (client_address[0], self.name, error))
            return
        traceback.print_exc(file=sys.stderr)

    def close_connections(self):
        """Shut down open keep-alive connections so their threads end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def start(self):
        """Serve in a daemon thread."""
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
                                  name="listener-" + self.name, daemon=True)
        thread.start()
        return thread

    def stop(self):
        """Stop serving, close the listening socket and open connections."""
        self.shutdown()
        self.server_close()
        self.close_connections()
