"""Bounded network time for every call to an OIDC endpoint, Fulcio and Rekor.

sigstore-python gives its Fulcio and Rekor clients plain ``requests.Session``
objects and calls them without a timeout or a retry: a hung service hangs the
release job until the CI runner kills it. We do not fork or monkeypatch
sigstore's clients. Instead we use requests' own, documented extension point,
the *transport adapter*: a session routes every request through the adapter
mounted for its URL prefix, so mounting :class:`BoundedAdapter` on the sessions
sigstore's clients own gives each call a timeout and retries without changing a
line of how sigstore builds, sends or parses its requests.

The budget is a *deadline* (not a per-call timeout): :func:`deadline` sets it
for the current thread, every attempt gets at most the time that is left, and
backoff sleeps never pass it. :class:`Budget` makes one deadline of an
artifact's token, certificate and log entry. Retried: connection errors, timeouts and 5xx
answers, with exponential backoff and full jitter. Not retried: any other 4xx,
except 429, which honours ``Retry-After`` if the wait fits in the budget.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter

# One attempt never waits longer than this, so a single hung connection cannot
# eat a whole generous budget that retries could have used.
MAX_ATTEMPT_SECONDS = 30.0
BACKOFF_BASE_SECONDS = 0.25
BACKOFF_CAP_SECONDS = 8.0
DEFAULT_BUDGET_SECONDS = 120.0

_local = threading.local()


class BudgetExhausted(requests.exceptions.Timeout):
    """The deadline passed before any attempt could succeed."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Bound every request made by this thread inside the block to ``seconds`` in total."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.deadline = previous


class Budget:
    """The network time of one artifact: its token, its certificate and its log entry.

    When artifacts share a token and a certificate (``hatch-attest sign`` signs
    many with one), the time those shared phases took counts against every
    artifact's budget, and each artifact's own calls get what is left, counted
    from when they start (time spent queued behind other artifacts is not theirs).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._shared = 0.0
        self._lock = threading.Lock()

    def remaining(self) -> float:
        """What the shared phases so far have left of the budget (may be negative)."""
        with self._lock:
            return self.seconds - self._shared

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        """Bound a phase every artifact needs (the token, the certificate)."""
        started = time.monotonic()
        try:
            with deadline(self.remaining()):
                yield
        finally:
            with self._lock:
                self._shared += time.monotonic() - started

    def per_artifact(self) -> contextlib.AbstractContextManager[None]:
        """Bound one artifact's own calls (its log entry) to what is left."""
        return deadline(self.remaining())


def _deadline() -> float:
    """The thread's deadline, or a default budget for a call made outside any."""
    end = getattr(_local, "deadline", None)
    return float(end) if end is not None else time.monotonic() + DEFAULT_BUDGET_SECONDS


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
    """An :class:`HTTPAdapter` that retries within the calling thread's deadline."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)

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
            remaining = end - time.monotonic()
            if remaining <= 0:
                msg = f"no answer from {_origin(request)} within the time budget"
                raise BudgetExhausted(msg, request=request)
            per_attempt = min(remaining, MAX_ATTEMPT_SECONDS)
            if isinstance(timeout, (int, float)):
                per_attempt = min(per_attempt, float(timeout))
            attempt += 1
            try:
                response = super().send(
                    request,
                    stream=stream,
                    timeout=per_attempt,
                    verify=verify,
                    cert=cert,
                    proxies=proxies,
                )
            except (requests.ConnectionError, requests.Timeout) as e:
                wait = _backoff(attempt)
                if wait >= end - time.monotonic():
                    msg = f"{_origin(request)} did not answer in time: {_describe(e)}"
                    raise BudgetExhausted(msg, request=request) from e
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
