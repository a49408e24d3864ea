"""Bounded network time for every call to an OIDC endpoint, Fulcio and Rekor.

sigstore-python gives its Fulcio and Rekor clients plain ``requests.Session``
objects and calls them without a timeout or a retry: a hung service hangs the
release job until the CI runner kills it. We do not fork or monkeypatch
sigstore's clients. Instead we use requests' own, documented extension point,
the *transport adapter*: a session routes every request through the adapter
mounted for its URL prefix, so mounting :class:`BoundedAdapter` on the sessions
sigstore's clients own gives each call a timeout and retries without changing a
line of how sigstore builds, sends or parses its requests.

The budget is a *deadline* (:func:`hatch_attest._deadline.deadline`), and it bounds
the **whole** exchange, not each read: a socket timeout only bounds the wait for
the next byte, so a server that trickles its status line, headers or body one byte
at a time would never time out. Each attempt therefore runs under a watchdog that
shuts the connection's socket down when the attempt's time is up (a read blocked
on it returns at once), and the body is read inside the attempt, under the same
watch. The watchdog finds the socket through the connection classes of the pools
this adapter creates (urllib3's documented ``ConnectionCls`` extension point).

Retried: connection errors, timeouts and 5xx answers, with exponential backoff and
full jitter, as long as the deadline allows. Not retried: any other 4xx, except
429, which honours ``Retry-After`` if the wait fits in the budget.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

from hatch_attest._deadline import deadline, ran_out, remaining
from hatch_attest._deadline import end as _deadline

__all__ = ["BoundedAdapter", "BudgetExhausted", "deadline", "mount", "remaining"]

# One attempt never waits longer than this, so a single hung connection cannot
# eat a whole generous budget that retries could have used.
MAX_ATTEMPT_SECONDS = 30.0
BACKOFF_BASE_SECONDS = 0.25
BACKOFF_CAP_SECONDS = 8.0

_local = threading.local()


class BudgetExhausted(requests.exceptions.Timeout):
    """The deadline passed before any attempt could succeed."""


class _Watchdog:
    """Shuts down the sockets this thread's connections use, once time is up."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._done = False
        self._lock = threading.Lock()
        self._sockets: list[Any] = []
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True
        self._previous: _Watchdog | None = None

    def watch(self, sock: Any) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.fired:
                _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> _Watchdog:
        self._previous = getattr(_local, "watchdog", None)
        _local.watchdog = self
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()
        _local.watchdog = self._previous


def _shut(sock: Any) -> None:
    # An SSLTransport (TLS inside a TLS proxy tunnel) wraps the real socket.
    raw = getattr(sock, "socket", sock)
    if isinstance(raw, socket.socket):
        # The plain socket's shutdown, even for an SSLSocket: it wakes a read blocked
        # in another thread without touching the TLS state that thread is using.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(raw, socket.SHUT_RDWR)


def _watch(connection: HTTPConnection) -> None:
    # The socket itself, not the connection: http.client lets go of the socket
    # (``sock = None``) as soon as a closing answer's headers are read, and the
    # body is then read from the same socket through the response.
    watchdog: _Watchdog | None = getattr(_local, "watchdog", None)
    if watchdog is not None and connection.sock is not None:
        watchdog.watch(connection.sock)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)  # a kept-alive connection: connect() is not called again
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)
        super().request(*args, **kwargs)


class _WatchedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPConnectionPool, "https": _WatchedHTTPSConnectionPool}


def _watched(manager: PoolManager) -> PoolManager:
    # Instance attribute, read by PoolManager._new_pool for each new pool.
    manager.pool_classes_by_scheme = _WATCHED_POOLS
    return manager


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    with contextlib.suppress(TypeError, ValueError, IndexError):
        when = parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    return None


class BoundedAdapter(HTTPAdapter):
    """An :class:`HTTPAdapter` whose every exchange ends by the calling thread's deadline."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        """requests' pool manager, making pools whose connections the watchdog can close."""
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        _watched(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """requests' proxy manager, watched like the direct one (SOCKS proxies excepted)."""
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            # SOCKS pools have connection classes of their own, which the watchdog
            # cannot reach: through a SOCKS proxy only the per-read timeout applies.
            _watched(manager)
        return manager

    def send(  # noqa: PLR0917 - requests' own signature
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        end = _deadline()
        attempt = 0
        while True:
            now = time.monotonic()
            if end - now <= 0:
                raise BudgetExhausted(_late(request), request=request)
            per_attempt = min(end - now, MAX_ATTEMPT_SECONDS)
            if isinstance(timeout, (int, float)):
                per_attempt = min(per_attempt, float(timeout))
            attempt += 1
            try:
                response = self._exchange(
                    request, per_attempt, stream=stream, verify=verify, cert=cert, proxies=proxies
                )
            except (requests.ConnectionError, requests.Timeout) as e:
                wait = _backoff(attempt)
                if wait >= end - time.monotonic():
                    raise BudgetExhausted(_late(request, e), request=request) from e
            else:
                if response.status_code == 429:
                    retry_after = _retry_after(response)
                    wait = _backoff(attempt) if retry_after is None else retry_after
                elif response.status_code >= 500:
                    wait = _backoff(attempt)
                else:
                    return response
                if wait >= end - time.monotonic():
                    return response
                response.close()
            time.sleep(wait)

    def _exchange(
        self,
        request: requests.PreparedRequest,
        seconds: float,
        *,
        stream: bool,
        verify: bool | str,
        cert: Any,
        proxies: Mapping[str, str] | None,
    ) -> requests.Response:
        """One attempt, body included (unless streamed), over within ``seconds``."""
        with _Watchdog(seconds) as watchdog:
            try:
                response = super().send(
                    request,
                    stream=stream,
                    # The socket timeout also bounds each wait, so a silent server is
                    # noticed without the watchdog.
                    timeout=seconds,
                    verify=verify,
                    cert=cert,
                    proxies=proxies,
                )
                if not stream:
                    # Read now, under the watch; requests reads it later otherwise.
                    _ = response.content
            except requests.RequestException as e:
                if watchdog.fired:
                    raise requests.Timeout(str(e), request=request) from e
                if isinstance(e, requests.exceptions.ChunkedEncodingError):
                    # A body cut off mid-way: a failed exchange, retried like any other.
                    raise requests.ConnectionError(str(e), request=request) from e
                raise
        if watchdog.fired:
            # The socket was shut down just as the answer completed (or a body
            # without a length ended at the shutdown): not to be trusted.
            response.close()
            msg = "the exchange was cut off at its time limit"
            raise requests.Timeout(msg, request=request)
        return response


def _late(request: requests.PreparedRequest, error: Exception | None = None) -> str:
    how = "" if error is None else f" ({_describe(error)})"
    return f"{_origin(request)} did not finish answering{how}: {ran_out()}"


def _backoff(attempt: int) -> float:
    # "Full jitter": concurrent signers that failed together do not retry together.
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))  # noqa: S311


def _origin(request: requests.PreparedRequest) -> str:
    url = request.url or ""
    return url.split("?", 1)[0]


def _describe(error: Exception) -> str:
    if isinstance(error, requests.Timeout):
        return "timed out"
    return "connection failed"


def mount(session: requests.Session, adapter: BoundedAdapter) -> requests.Session:
    """Route every HTTP(S) request of ``session`` through ``adapter``."""
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
