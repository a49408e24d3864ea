"""Faults: the ways a Sigstore service misbehaves, injected one endpoint at a time.

Transport faults (`status`, `delay`, `hang`, `malformed`, `echo`) apply to every endpoint.
The others corrupt one service's answer in a way only a verifier can notice:
`wrong_sct_key` and `untrusted_ca` apply to "fulcio"; `bad_inclusion_proof`,
`bad_set` and `bad_checkpoint` apply to "rekor".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import ClassVar

ENDPOINTS = ("oidc", "fulcio", "rekor", "tsa")


@dataclass(frozen=True)
class Fault:
    """Base of all faults; build them with the constructors below.

    `status`, `delay`, `hang`, `malformed` and `echo` apply to every endpoint ("oidc",
    "fulcio", "rekor", "tsa"); `wrong_sct_key` and `untrusted_ca` only to
    "fulcio"; `bad_inclusion_proof`, `bad_set` and `bad_checkpoint` only to
    "rekor". `LocalSigstore.inject` raises ValueError for any other pairing.
    """

    endpoints: ClassVar[tuple[str, ...]] = ENDPOINTS

    @staticmethod
    def status(code: int, *, body: str = "", retry_after: int | None = None) -> Status:
        """Answer `code` with `body` (and a `Retry-After` header when given)."""
        return Status(code, body, retry_after)

    @staticmethod
    def delay(seconds: float) -> Delay:
        """Answer normally, `seconds` late."""
        return Delay(seconds)

    @staticmethod
    def hang() -> Hang:
        """Accept the request and never answer; `stop()` closes the connection."""
        return Hang()

    @staticmethod
    def malformed() -> Malformed:
        """Answer 200 with a body that is not what the client expects."""
        return Malformed()

    @staticmethod
    def echo(code: int = 400, *, json: bool = True) -> Echo:
        """Answer `code` with the whole request (request line, headers, body) in the body.

        Some servers and proxies do this in error pages; the request carries the
        identity token. With `json`, the echo is the `message` of a JSON error body
        (as Fulcio's and Rekor's errors are), else plain text.
        """
        return Echo(code, json)

    @staticmethod
    def wrong_sct_key() -> WrongSCTKey:
        """Fulcio: embed an SCT signed by a CT log key the trusted root does not list."""
        return WrongSCTKey()

    @staticmethod
    def untrusted_ca() -> UntrustedCA:
        """Fulcio: issue from a CA outside the trusted root (its SCT is still valid)."""
        return UntrustedCA()

    @staticmethod
    def bad_inclusion_proof() -> BadInclusionProof:
        """Rekor: return an inclusion proof that does not lead to the signed root."""
        return BadInclusionProof()

    @staticmethod
    def bad_set() -> BadSET:
        """Rekor: return a signed entry timestamp that does not verify."""
        return BadSET()

    @staticmethod
    def bad_checkpoint() -> BadCheckpoint:
        """Rekor: return a checkpoint whose signature does not verify."""
        return BadCheckpoint()


@dataclass(frozen=True)
class Status(Fault):
    """An HTTP error status instead of the service's answer."""

    code: int
    body: str = ""
    retry_after: int | None = None


@dataclass(frozen=True)
class Delay(Fault):
    """The normal answer, late."""

    seconds: float


@dataclass(frozen=True)
class Hang(Fault):
    """No answer at all until the instance stops."""


@dataclass(frozen=True)
class Malformed(Fault):
    """A 200 answer with a garbage body."""


@dataclass(frozen=True)
class Echo(Fault):
    """An error status whose body repeats the request, credentials included."""

    code: int = 400
    json: bool = True


@dataclass(frozen=True)
class WrongSCTKey(Fault):
    """Fulcio's SCT is signed by an unknown CT log."""

    endpoints: ClassVar[tuple[str, ...]] = ("fulcio",)


@dataclass(frozen=True)
class UntrustedCA(Fault):
    """Fulcio's certificate chains to a root outside the trusted root."""

    endpoints: ClassVar[tuple[str, ...]] = ("fulcio",)


@dataclass(frozen=True)
class BadInclusionProof(Fault):
    """Rekor's inclusion proof does not hash up to the checkpoint's root."""

    endpoints: ClassVar[tuple[str, ...]] = ("rekor",)


@dataclass(frozen=True)
class BadSET(Fault):
    """Rekor's signed entry timestamp is corrupted."""

    endpoints: ClassVar[tuple[str, ...]] = ("rekor",)


@dataclass(frozen=True)
class BadCheckpoint(Fault):
    """Rekor's checkpoint signature is corrupted."""

    endpoints: ClassVar[tuple[str, ...]] = ("rekor",)


class FaultTable:
    """The active fault of each endpoint, with how many more requests it affects."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, tuple[Fault, int | None]] = {}

    def set(self, endpoint: str, fault: Fault, times: int | None) -> None:
        """Replaces the endpoint's fault; `times=None` means every request."""
        if endpoint not in ENDPOINTS:
            msg = f"unknown endpoint {endpoint!r}; expected one of {', '.join(ENDPOINTS)}"
            raise ValueError(msg)
        if endpoint not in fault.endpoints:
            msg = (
                f"{type(fault).__name__} applies to {', '.join(fault.endpoints)}, "
                f"not to {endpoint!r}"
            )
            raise ValueError(msg)
        if times is not None and times < 1:
            msg = f"times must be at least 1 (or None for every request), got {times}"
            raise ValueError(msg)
        with self._lock:
            self._faults[endpoint] = (fault, times)

    def take(self, endpoint: str) -> Fault | None:
        """The fault for one request to `endpoint`, using up one of its times."""
        with self._lock:
            entry = self._faults.get(endpoint)
            if entry is None:
                return None
            fault, times = entry
            if times == 1:
                del self._faults[endpoint]
            elif times is not None:
                self._faults[endpoint] = (fault, times - 1)
            return fault

    def clear(self) -> None:
        """Removes every fault."""
        with self._lock:
            self._faults.clear()
