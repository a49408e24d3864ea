"""What every local service shares: an HTTP server on 127.0.0.1 in a background thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TypeVar

# How long `close()` waits for the serving thread.
_JOIN_TIMEOUT = 10.0


class LoopbackServer(ThreadingHTTPServer):
    """Serves on 127.0.0.1 (a free port) in a background thread, from `start()` to `close()`."""

    # ThreadingMixIn tracks handler threads (daemonic, so a forgotten instance
    # cannot keep the interpreter alive) and joins them in `server_close()`.
    block_on_close = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        # Set by `close()`: handlers that wait (hangs, latency, tunnels) give up.
        self.stopping = threading.Event()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

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


_Service = TypeVar("_Service", bound="Service")


class Service:
    """A context manager that calls `stop()` on exit."""

    def stop(self) -> None:
        """Stops serving; subclasses release what they hold."""
        raise NotImplementedError

    def __enter__(self: _Service) -> _Service:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
