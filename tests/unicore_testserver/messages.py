"""Transport-neutral request and response objects passed between handler and application."""

import json
from dataclasses import dataclass, field
from http.client import HTTPMessage

JSON = "application/json"
TEXT = "text/plain"


@dataclass
class Request:
    """What the application needs to know about one HTTP request."""

    method: str
    path: str
    query: dict             # name -> [values], from urllib.parse.parse_qs
    headers: HTTPMessage    # case-insensitive get() / get_all()
    client_ip: str
    client_cert_dn: str = None
    body: bytes = b""

    def header(self, name):
        """Value of a request header (the first, if repeated), or None."""
        return self.headers.get(name)

    def header_all(self, name):
        """All values of a repeated request header, in order."""
        return self.headers.get_all(name) or []

    def query_value(self, name):
        """First value of a query parameter, or None."""
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Response:
    """Status, extra headers and body; Content-Length is always added by the handler."""

    status: int
    body: bytes = b""
    content_type: str = None
    headers: list = field(default_factory=list)    # [(name, value)]
    reason: str = None

    @classmethod
    def json(cls, status, data):
        """JSON body."""
        return cls(status, json.dumps(data).encode("utf-8"), JSON)

    @classmethod
    def text(cls, status, text):
        """text/plain body."""
        return cls(status, text.encode("utf-8"), TEXT)

    @classmethod
    def error(cls, status, message):
        """UNICORE's handler error format."""
        return cls.json(status, {"errorMessage": message, "status": status})

    @classmethod
    def empty(cls, status, reason=None):
        """No body at all (authentication refusals, 432)."""
        return cls(status, b"", None, [], reason)
