"""The loopback HTTP server every local service answers on.

One `ThreadingHTTPServer` on 127.0.0.1 routes by method and path to the
services, counts requests per endpoint, and applies latency and transport
faults. Every wait is on the `stopping` event, so `close()` always returns
promptly: it releases waiting handlers, then joins every thread it started.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from hatch_attest.testing._faults import (
    ENDPOINTS,
    Delay,
    Fault,
    FaultTable,
    Hang,
    Malformed,
    Status,
)
from hatch_attest.testing._http import Reply, Request, json_reply

_logger = logging.getLogger(__name__)

# Requests are a CSR, a DSSE envelope or a timestamp query: a few kilobytes.
_MAX_BODY = 16 * 1024 * 1024
# How long a silent client may hold a handler thread.
_SOCKET_TIMEOUT = 10.0
_JOIN_TIMEOUT = 10.0


Handler = Callable[[Request, Fault | None], Reply]


class Server(ThreadingHTTPServer):
    """Routes, counters, faults and latency; services plug in with `route()`."""

    # ThreadingMixIn tracks handler threads (daemonic, so a forgotten instance
    # cannot keep the interpreter alive) and joins them in `server_close()`.
    block_on_close = True

    def __init__(
        self, endpoints: tuple[str, ...] = ENDPOINTS, *, tls: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(("127.0.0.1", 0), _RequestHandler)
        self.stopping = threading.Event()
        self.endpoints = endpoints
        self.faults = FaultTable(endpoints)
        self.latency = 0.0
        self._tls = tls
        self._routes: dict[tuple[str, str], tuple[str, Handler]] = {}
        self._prefix_routes: list[tuple[str, str, str, Handler]] = []
        self._counts = dict.fromkeys(endpoints, 0)
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`, or `https://...` when serving TLS."""
        host, port = self.server_address[:2]
        scheme = "http" if self._tls is None else "https"
        return f"{scheme}://{host!s}:{port}"

    def route(self, method: str, path: str, endpoint: str, handler: Handler) -> None:
        """Serves `method path` with `handler`, counted under `endpoint`."""
        self._routes[(method, path)] = (endpoint, handler)

    def route_prefix(self, method: str, prefix: str, endpoint: str, handler: Handler) -> None:
        """Serves every `method` request whose path starts with `prefix`."""
        self._prefix_routes.append((method, prefix, endpoint, handler))

    def lookup(self, method: str, path: str) -> tuple[str, Handler] | None:
        """The endpoint and handler of a request, if any."""
        found = self._routes.get((method, path))
        if found is not None:
            return found
        for route_method, prefix, endpoint, handler in self._prefix_routes:
            if route_method == method and path.startswith(prefix):
                return endpoint, handler
        return None

    def finish_request(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        """Handles one connection, after the TLS handshake when serving TLS.

        The handshake runs here, in the connection's own thread, so that a client
        that never completes it cannot block `accept()` for everybody else.
        """
        if self._tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(_SOCKET_TIMEOUT)
        try:
            connection = self._tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            _logger.debug("TLS handshake with %s failed: %s", client_address, e)
            return
        # `wrap_socket` detached `request`: this socket is ours to close.
        with connection:
            super().finish_request(connection, client_address)

    def count(self, endpoint: str) -> None:
        """Records one request to `endpoint`."""
        with self._lock:
            self._counts[endpoint] += 1

    def counts(self) -> dict[str, int]:
        """Requests per endpoint so far."""
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        """Clears faults and counters."""
        self.faults.clear()
        with self._lock:
            self._counts = dict.fromkeys(self.endpoints, 0)

    def pause(self, seconds: float) -> bool:
        """Waits `seconds`; False when the server is stopping meanwhile."""
        return seconds <= 0 or not self.stopping.wait(seconds)

    def start(self) -> None:
        """Serves in a background thread."""
        self._thread.start()

    def close(self) -> None:
        """Releases waiting handlers, stops serving and joins every thread."""
        self.stopping.set()
        if self._thread.is_alive():
            self.shutdown()
            self._thread.join(_JOIN_TIMEOUT)
        self.server_close()


class _RequestHandler(BaseHTTPRequestHandler):
    server: Server
    # One request per connection: no idle keep-alive connection can hold a
    # thread (and so `close()`) hostage.
    protocol_version = "HTTP/1.0"
    timeout = _SOCKET_TIMEOUT

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: object) -> None:
        _logger.debug("%s " + format, self.address_string(), *args)

    def _handle(self) -> None:
        url = urlsplit(self.path)
        found = self.server.lookup(self.command, url.path)
        if found is None:
            self._send(json_reply(404, {"code": 404, "message": f"no route for {url.path}"}))
            return
        endpoint, handler = found
        self.server.count(endpoint)
        length_header = self.headers.get("Content-Length") or "0"
        if not length_header.isdigit() or int(length_header) > _MAX_BODY:
            self._send(json_reply(400, {"code": 400, "message": "bad or too large Content-Length"}))
            return
        length = int(length_header)
        body = self.rfile.read(length)
        fault = self.server.faults.take(endpoint)
        if not self.server.pause(self.server.latency):
            return
        if isinstance(fault, Hang):
            # Hold the connection open without answering until the instance stops.
            self.server.stopping.wait()
            return
        if isinstance(fault, Delay) and not self.server.pause(fault.seconds):
            return
        if isinstance(fault, Status):
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            reply = Reply(fault.code, fault.body.encode(), "text/plain", headers)
        elif isinstance(fault, Malformed):
            reply = Reply(200, b"<html>not the answer you expected", "application/json")
        else:
            query = dict(parse_qsl(url.query))
            reply = handler(Request(self.command, url.path, query, self.headers, body), fault)
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        if reply.reason is None:
            self.send_response(reply.status)
        else:
            # Like warehouse: only ISO-8859-1 fits a status line; and no line breaks.
            reason = " ".join(reply.reason.split())
            self.send_response(
                reply.status, reason.encode("iso-8859-1", "replace").decode("iso-8859-1")
            )
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)
