"""The loopback HTTP server every local service answers on.

One `ThreadingHTTPServer` on 127.0.0.1 routes by method and path to the
services, counts requests per endpoint, and applies latency and transport
faults. Every wait is on the `stopping` event, so `close()` always returns
promptly: it releases waiting handlers, then joins every thread it started.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from hatch_attest.testing._faults import (
    ENDPOINTS,
    Delay,
    Echo,
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

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RequestHandler)
        self.stopping = threading.Event()
        self.faults = FaultTable()
        self.latency = 0.0
        self._routes: dict[tuple[str, str], tuple[str, Handler]] = {}
        self._counts = dict.fromkeys(ENDPOINTS, 0)
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, method: str, path: str, endpoint: str, handler: Handler) -> None:
        """Serves `method path` with `handler`, counted under `endpoint`."""
        self._routes[(method, path)] = (endpoint, handler)

    def lookup(self, method: str, path: str) -> tuple[str, Handler] | None:
        """The endpoint and handler of a request, if any."""
        return self._routes.get((method, path))

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
            self._counts = dict.fromkeys(ENDPOINTS, 0)

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


def _echo(fault: Echo, method: str, path: str, headers: Message, body: bytes) -> Reply:
    # The way a Go service logs a request it refused (`%v` of an http.Header is a
    # map with sorted keys), so `Authorization` comes early, well within the first
    # few hundred characters a client may quote.
    header_map = " ".join(f"{name}:[{value}]" for name, value in sorted(headers.items()))
    echoed = body.decode("utf-8", "replace")
    text = f"invalid request {method} {path}: header=map[{header_map}] body={echoed}"
    if fault.json:
        return json_reply(fault.code, {"code": fault.code, "message": text, "details": []})
    return Reply(fault.code, text.encode(), "text/plain")


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
        elif isinstance(fault, Echo):
            reply = _echo(fault, self.command, url.path, self.headers, body)
        elif isinstance(fault, Malformed):
            reply = Reply(200, b"<html>not the answer you expected", "application/json")
        else:
            query = dict(parse_qsl(url.query))
            reply = handler(Request(self.command, url.path, query, self.headers, body), fault)
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)
