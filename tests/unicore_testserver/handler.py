"""HTTP/1.1 request handler: parsing, faults at the socket level, writing responses.

Keep-alive matters: clients reuse connections, and tests measure it. Every
response therefore has a Content-Length (also errors and empty bodies), and
the request body, if any, is always read completely. (The ``huge`` fault's
chunked answer has none, and closes the connection, as ``drip`` does.)
"""

import socket
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from cryptography import x509

from .application import PREFERENCES_HEADER, SESSION_HEADER, site_of_path
from .control import handle_control, is_control_path
from .faults import NOT_JSON, SITE_ANSWERS, SOCKET_ACTIONS, huge_body
from .messages import JSON, Request

IDLE_TIMEOUT = 300      # seconds a keep-alive connection may stay idle


def client_cert_dn(connection):
    """Subject DN of the verified TLS client certificate, or None."""
    try:
        der = connection.getpeercert(binary_form=True)
    except (AttributeError, ValueError):
        return None
    if not der:
        return None
    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


class RequestHandler(BaseHTTPRequestHandler):
    """One instance per connection; handles all requests sent on it."""

    protocol_version = "HTTP/1.1"
    server_version = "UNICORE-testserver/10.2.0"
    timeout = IDLE_TIMEOUT

    def version_string(self):
        """Server header without the Python version."""
        return self.server_version

    def setup(self):
        super().setup()
        self.cert_dn = client_cert_dn(self.connection)

    def log_request(self, code="-", size="-"):
        """Replaced by the request log written in _serve (only with --verbose)."""

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.server.verbose:
            sys.stderr.write("%s [%s] %s\n" % (self.address_string(), self.server.name, format % args))

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            # never sent by the clients under test; don't guess where the next request starts
            self.close_connection = True
            return b""
        try:
            length = int(length) if length else 0
        except ValueError:
            self.close_connection = True
            return b""
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self):
        started = time.monotonic()
        app = self.server.app
        path, _sep, query_string = self.path.partition("?")
        request = Request(method=self.command, path=path, query=parse_qs(query_string, keep_blank_values=True),
                          headers=self.headers, client_ip=self.client_address[0], client_cert_dn=self.cert_dn,
                          body=self._read_body())
        if is_control_path(path):
            self._send(handle_control(app, request))
            return
        app.stats.count("requests", site_of_path(path, app.sites))
        fault = app.faults.take(self.command, path)
        status = None
        try:
            if fault is None:
                response = app.handle(request)
                status = response.status
                self._send(response)
                return
            app.stats.count("faults_applied", fault.action)
            if fault.delay > 0 and fault.action != "drip":     # a drip's delay is its pace
                time.sleep(fault.delay)
            if fault.action in SOCKET_ACTIONS:
                status = self._socket_fault(fault)
            elif fault.action == "huge":
                status = fault.status
                self._send_huge(fault)
            else:
                response = app.handle(request) if fault.action in SITE_ANSWERS else fault.response()
                status = response.status
                if fault.action == "drip":
                    self._send_slowly(response, fault)
                else:
                    self._send(response)
        finally:
            # Recorded even when the client is gone before the answer (it gave up waiting).
            self._record(request, query_string, status, fault, started)

    # BaseHTTPRequestHandler dispatches on do_<METHOD>; the application routes by method itself.
    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def _send(self, response):
        self.send_response(response.status, response.reason)
        for name, value in response.headers:
            self.send_header(name, value)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    # -- answers sent slowly or without end (drip, huge) --------------------

    def _send_slowly(self, response, fault):
        """The response, its head and/or body (``fault.part``) sent one byte every ``fault.delay`` seconds."""
        self.close_connection = True
        reason = response.reason or self.responses.get(response.status, ("",))[0]
        lines = ["%s %d %s" % (self.protocol_version, response.status, reason),
                 "Server: %s" % self.version_string(), "Date: %s" % self.date_time_string()]
        lines.extend("%s: %s" % (name, value) for name, value in response.headers)
        if response.content_type:
            lines.append("Content-Type: %s" % response.content_type)
        lines.extend(["Content-Length: %d" % len(response.body), "Connection: close"])
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = b"" if self.command == "HEAD" else response.body
        for data, slowly in ((head, fault.part in ("all", "headers")), (body, fault.part in ("all", "body"))):
            if not slowly:
                self.wfile.write(data)
                continue
            for index in range(len(data)):
                self.wfile.write(data[index:index + 1])
                time.sleep(fault.delay)

    def _send_huge(self, fault):
        """``fault.size`` bytes of body, streamed in pieces, with a Content-Length or chunked."""
        self.close_connection = True
        self.send_response(fault.status)
        for name, value in fault.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", fault.content_type or JSON)
        if fault.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(fault.size))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        for piece in huge_body(fault.size):
            if fault.chunked:
                self.wfile.write(b"%x\r\n" % len(piece))
                self.wfile.write(piece)
                self.wfile.write(b"\r\n")
            else:
                self.wfile.write(piece)
        if fault.chunked:
            self.wfile.write(b"0\r\n\r\n")

    # -- socket-level faults ----------------------------------------------

    def _socket_fault(self, fault):
        """Carry out drop / reset / truncate; returns the status sent, if any."""
        self.close_connection = True
        if fault.action == "reset":
            # SO_LINGER 0 makes close() send a TCP RST instead of a FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()      # drop the makefile reference so that close() closes the descriptor now
            self.connection.close()
            return None
        status = None
        if fault.action == "truncate":
            body = fault.body.encode("utf-8") if fault.body else NOT_JSON
            status = fault.status
            self.send_response(status)
            for name, value in fault.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", fault.content_type or JSON)
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body)
        try:
            # no TLS close_notify: the peer sees the connection just end
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return status

    def _record(self, request, query_string, status, fault, started):
        authorization = request.header("Authorization")
        entry = {
            "method": request.method,
            "path": request.path,
            "query": query_string,
            "authorization_scheme": authorization.strip().split(" ", 1)[0] if authorization and authorization.strip() else None,
            "session_id_sent": request.header(SESSION_HEADER) is not None,
            "preferences": request.header(PREFERENCES_HEADER),
            "accept": request.header("Accept"),
            "client_cert": self.cert_dn is not None,
            "status": status,
            "fault": fault.action if fault is not None else None,
            "duration_ms": round((time.monotonic() - started) * 1000, 3),
        }
        self.server.app.request_log.add(entry)
        if self.server.verbose:
            sys.stderr.write("%s [%s] %s %s%s -> %s auth=%s session=%s%s (%.1f ms)\n" % (
                self.client_address[0], self.server.name, request.method, request.path,
                "?" + query_string if query_string else "", status, entry["authorization_scheme"],
                entry["session_id_sent"], " fault=" + fault.action if fault else "", entry["duration_ms"]))
