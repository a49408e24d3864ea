"""An HTTPS proxy that sends PyPI's host names to the local index, and nowhere else.

twine uses Trusted Publishing only when it uploads to `https://upload.pypi.org/legacy/`
or `https://test.pypi.org/legacy/` (`Resolver.is_pypi`). With `HTTPS_PROXY` pointing
here, the real twine (and uv, with its default publish URL) talks to those names
unchanged: this proxy answers `CONNECT upload.pypi.org:443` by opening a tunnel to
the index on 127.0.0.1, which completes the TLS handshake with a certificate for
those names from its own CA. It never connects anywhere else.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
from http.server import BaseHTTPRequestHandler

from hatch_attest_testing._loopback import LoopbackServer

_logger = logging.getLogger(__name__)

_SOCKET_TIMEOUT = 10.0
# A tunnel with no traffic for this long is closed (uploads keep it busy).
_IDLE_LIMIT = 30.0
_POLL = 0.1
_CHUNK = 64 * 1024


class TunnelProxy(LoopbackServer):
    """Serves `CONNECT <host>:443` for `hosts` only, tunnelling to `target`."""

    def __init__(self, target: tuple[str, int], hosts: frozenset[str]) -> None:
        super().__init__(_TunnelHandler)
        self.target = target
        self.hosts = hosts
        self.tunnels = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`, the value for `HTTPS_PROXY`."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def opened(self) -> None:
        """Counts one tunnel."""
        with self._lock:
            self.tunnels += 1


class _TunnelHandler(BaseHTTPRequestHandler):
    server: TunnelProxy
    protocol_version = "HTTP/1.1"
    timeout = _SOCKET_TIMEOUT

    def log_message(self, format: str, *args: object) -> None:
        _logger.debug("%s " + format, self.address_string(), *args)

    def do_CONNECT(self) -> None:
        self.close_connection = True
        host, _, port = self.path.rpartition(":")
        if host not in self.server.hosts or port != "443":
            self.send_error(
                403, f"this proxy only tunnels to {', '.join(sorted(self.server.hosts))} on 443"
            )
            return
        try:
            upstream = socket.create_connection(self.server.target, timeout=_SOCKET_TIMEOUT)
        except OSError as e:
            self.send_error(502, f"the local index does not answer: {e}")
            return
        self.server.opened()
        with upstream:
            self.send_response(200, "Connection established")
            self.end_headers()
            self.wfile.flush()
            self._pump(self.connection, upstream)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        idle = 0.0
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                selector.register(sock, selectors.EVENT_READ)
            while not self.server.stopping.is_set() and idle < _IDLE_LIMIT:
                ready = selector.select(_POLL)
                if not ready:
                    idle += _POLL
                    continue
                idle = 0.0
                for key, _ in ready:
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    try:
                        data = source.recv(_CHUNK)
                        if not data:
                            return
                        peers[source].sendall(data)
                    except OSError:
                        return
