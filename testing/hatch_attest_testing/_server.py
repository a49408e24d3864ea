"""The loopback HTTP server every local service answers on.

One `ThreadingHTTPServer` on 127.0.0.1 routes by method and path (or path
prefix) to the services, counts requests per endpoint, records every exchange,
and applies latency and transport faults. Every wait is on the `stopping`
event, so `close()` always returns promptly: it releases waiting handlers, then
joins every thread it started.
"""

from __future__ import annotations

import http
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from hatch_attest_testing._faults import (
    ENDPOINTS,
    Delay,
    DropAfterProcessing,
    Echo,
    Fault,
    FaultTable,
    Hang,
    Malformed,
    Status,
    Trickle,
)
from hatch_attest_testing._http import Reply, Request, json_reply
from hatch_attest_testing._loopback import LoopbackServer, Service

_logger = logging.getLogger(__name__)

# Requests are a CSR, a DSSE envelope or a timestamp query: a few kilobytes.
_MAX_BODY = 16 * 1024 * 1024
# How long a silent client may hold a handler thread.
_SOCKET_TIMEOUT = 10.0
# How long `exchanges()` waits for answered requests to be recorded.
_SETTLE_SECONDS = 2.0


Handler = Callable[[Request, Fault | None], Reply]
_STATUSES = {status.value for status in http.HTTPStatus}


@dataclass(frozen=True)
class Exchange:
    """One request as the server saw it, and the status it answered."""

    endpoint: str
    method: str
    path: str
    status: int | None
    """None when no answer was sent (a hang, or a connection dropped on purpose)."""


class Server(LoopbackServer):
    """Routes, counters, faults and latency; services plug in with `route()`."""

    # socketserver's default backlog is 5: a client with more connections in flight
    # (an audit fetches concurrently) would see SYNs dropped and retried a second later.
    request_queue_size = 128

    def __init__(
        self, endpoints: tuple[str, ...] = ENDPOINTS, *, tls: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(_RequestHandler)
        self.endpoints = endpoints
        self.faults = FaultTable(endpoints)
        self.latency = 0.0
        self._tls = tls
        self._routes: dict[tuple[str, str], tuple[str, Handler]] = {}
        self._prefix_routes: list[tuple[str, str, str, Handler]] = []
        self._counts = dict.fromkeys(endpoints, 0)
        self._sent = dict.fromkeys(endpoints, 0)
        self._exchanges: list[Exchange] = []
        # Requests counted but not yet recorded: a client can read its answer (and a
        # test go on) before the handler thread records how the exchange ended.
        self._in_flight = 0
        # Bumped by reset(): a request that outlives a reset (a late answer to a
        # client that gave up) belongs to the test before it, not to the next.
        self._generation = 0
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`, or `https://...` when serving TLS."""
        host, port = self.server_address[:2]
        scheme = "http" if self._tls is None else "https"
        return f"{scheme}://{host!s}:{port}"

    def route(
        self, method: str, path: str, endpoint: str, handler: Handler, *, prefix: bool = False
    ) -> None:
        """Serves `method path` with `handler`, counted under `endpoint`.

        With `prefix`, every path that starts with `path` goes to `handler` (for
        paths that carry a name, like `/serviceAccounts/<email>:generateIdToken`).
        """
        if prefix:
            self._prefix_routes.append((method, path, endpoint, handler))
            self._prefix_routes.sort(key=lambda route: len(route[1]), reverse=True)
        else:
            self._routes[(method, path)] = (endpoint, handler)

    def route_prefix(self, method: str, prefix: str, endpoint: str, handler: Handler) -> None:
        """Serves every `method` request whose path starts with `prefix`."""
        self._prefix_routes.append((method, prefix, endpoint, handler))

    def lookup(self, method: str, path: str) -> tuple[str, Handler] | None:
        """The endpoint and handler of a request, if any (exact paths first, then prefixes)."""
        found = self._routes.get((method, path))
        if found is not None:
            return found
        for route_method, start, endpoint, handler in self._prefix_routes:
            if route_method == method and path.startswith(start):
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

    def count(self, endpoint: str) -> int:
        """Records one request to `endpoint`; returns the generation it belongs to."""
        with self._lock:
            self._counts[endpoint] += 1
            self._in_flight += 1
            return self._generation

    def counts(self) -> dict[str, int]:
        """Requests per endpoint so far."""
        with self._lock:
            return dict(self._counts)

    def sent(self, endpoint: str, size: int, generation: int) -> None:
        """Counts `size` bytes of an answer written to a client of `endpoint`."""
        with self._lock:
            if generation == self._generation:
                self._sent[endpoint] += size

    def bytes_sent(self) -> dict[str, int]:
        """Bytes of answers (status line, headers and body) written per endpoint so far.

        Counted as they go out, so a trickled answer's count is live: it tells how
        much of the answer a client waited for before it gave up.
        """
        with self._lock:
            return dict(self._sent)

    def current(self, generation: int) -> bool:
        """Whether no reset came since the request of `generation` began."""
        with self._lock:
            return generation == self._generation

    def record(self, exchange: Exchange, generation: int) -> None:
        """Records how one request ended, unless a reset came since it began."""
        with self._lock:
            if generation == self._generation:  # a reset since forgot it
                self._in_flight -= 1
                self._exchanges.append(exchange)
            self._settled.notify_all()

    def exchanges(self) -> list[Exchange]:
        """Every routed request so far, in the order they ended.

        Waits (at most ``_SETTLE_SECONDS``) for requests that were answered but not
        yet recorded; one that hangs stays out.
        """
        with self._settled:
            self._settled.wait_for(lambda: self._in_flight == 0, timeout=_SETTLE_SECONDS)
            return list(self._exchanges)

    def reset(self) -> None:
        """Clears faults, counters and recorded exchanges."""
        self.faults.clear()
        with self._lock:
            self._counts = dict.fromkeys(self.endpoints, 0)
            self._sent = dict.fromkeys(self.endpoints, 0)
            self._exchanges = []
            self._in_flight = 0
            self._generation += 1

    def pause(self, seconds: float) -> bool:
        """Waits `seconds`; False when the server is stopping meanwhile."""
        return seconds <= 0 or not self.stopping.wait(seconds)


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
    # The routed endpoint being answered, and its generation (none for a 404).
    _endpoint: str | None = None
    _generation = 0

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
        generation = self.server.count(endpoint)
        self._endpoint, self._generation = endpoint, generation
        fault = self.server.faults.take(endpoint, self.command)
        status = None
        try:
            status = self._answer(url.path, url.query, handler, fault)
        finally:
            self.server.record(Exchange(endpoint, self.command, url.path, status), generation)

    def _answer(self, path: str, query: str, handler: Handler, fault: Fault | None) -> int | None:
        """Serves one routed request; the status sent, or None when nothing was."""
        length_header = self.headers.get("Content-Length") or "0"
        if not length_header.isdigit() or int(length_header) > _MAX_BODY:
            return self._send(
                json_reply(400, {"code": 400, "message": "bad or too large Content-Length"})
            )
        length = int(length_header)
        body = self.rfile.read(length)
        if not self.server.pause(self.server.latency):
            return None
        if isinstance(fault, Hang):
            # Hold the connection open without answering until the instance stops.
            self.server.stopping.wait()
            return None
        if isinstance(fault, Delay) and not self.server.pause(fault.seconds):
            return None
        if isinstance(fault, Status):
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            return self._send(Reply(fault.code, fault.body.encode(), "text/plain", headers))
        if isinstance(fault, Echo):
            return self._send(_echo(fault, self.command, path, self.headers, body))
        if isinstance(fault, Malformed):
            return self._send(Reply(200, b"<html>not the answer you expected", "application/json"))
        request = Request(self.command, path, dict(parse_qsl(query)), self.headers, body)
        reply = handler(request, fault)
        if isinstance(fault, DropAfterProcessing):
            # The service did the work; returning without a byte written closes the
            # connection (one request per connection), so the client sees it dropped.
            return None
        if isinstance(fault, Trickle):
            return self._trickle(reply, fault)
        return self._send(reply)

    def _head(self, reply: Reply) -> bytes:
        """The status line and headers `BaseHTTPRequestHandler` would write for `reply`."""
        if reply.reason is None:
            reason = http.HTTPStatus(reply.status).phrase if reply.status in _STATUSES else ""
        else:
            # Like warehouse: only ISO-8859-1 fits a status line; and no line breaks.
            reason = " ".join(reply.reason.split())
            reason = reason.encode("iso-8859-1", "replace").decode("iso-8859-1")
        self.log_request(reply.status)
        lines = [
            f"{self.protocol_version} {reply.status} {reason}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {reply.content_type}",
            f"Content-Length: {len(reply.body)}",
            *(f"{name}: {value}" for name, value in reply.headers.items()),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "strict")

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()
        if self._endpoint is not None:
            self.server.sent(self._endpoint, len(data), self._generation)

    def _send(self, reply: Reply) -> int | None:
        """Writes `reply`; its status, or None when the client had already gone."""
        try:
            self._write(self._head(reply) + reply.body)
        except (BrokenPipeError, ConnectionResetError):
            # A client that timed out before a delayed answer: nothing to report.
            return None
        return reply.status

    def _trickle(self, reply: Reply, fault: Trickle) -> int | None:
        """Writes `reply` one byte per `fault.interval` (after the head, unless it trickles too).

        Stops when the client goes away, the server stops, or a reset begins the
        next test; the status, or None when the whole answer did not go out.
        """
        head, body = self._head(reply), reply.body
        try:
            if not fault.headers:
                self._write(head)
                head = b""
            for byte in head + body:
                if not self.server.pause(fault.interval) or not self.server.current(
                    self._generation
                ):
                    return None
                self._write(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return None
        return reply.status


class ServedService(Service):
    """A local service answered by one `Server`: its latency, counts and bytes sent."""

    _server: Server

    @property
    def latency(self) -> float:
        """Seconds every request waits before it is answered (0 by default; for benchmarks)."""
        return self._server.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            msg = f"latency must not be negative, got {seconds}"
            raise ValueError(msg)
        self._server.latency = seconds

    def counts(self) -> dict[str, int]:
        """Requests received per endpoint (the service's endpoints, each counted from 0)."""
        return self._server.counts()

    def bytes_sent(self) -> dict[str, int]:
        """Bytes of answers written per endpoint so far, counted as they go out.

        With a `Fault.trickle`, this tells how much of an answer a client waited
        for before it gave up.
        """
        return self._server.bytes_sent()
