"""Faults: the ways a Sigstore service misbehaves, injected one endpoint at a time.

Transport faults (`status`, `delay`, `hang`, `trickle`, `malformed`, `echo`,
`drop_after_processing`) apply to every endpoint, the local index's included. The
others corrupt one service's answer in a way only a verifier can notice:
`wrong_sct_key`, `untrusted_ca` and `certified_claim` apply to "fulcio";
`bad_inclusion_proof`, `bad_set` and `bad_checkpoint` apply to "rekor" (to new
entries and to entries read back alike). The local index's read-back answers have
their own: `oversized` ("json", "integrity"), `tampered` ("json") and
`provenance_of` ("integrity").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import ClassVar

ENDPOINTS = ("oidc", "fulcio", "rekor", "tsa")
"""The endpoints of `LocalSigstore`."""


@dataclass(frozen=True)
class Fault:
    """Base of all faults; build them with the constructors below.

    `status`, `delay`, `hang`, `trickle`, `malformed`, `echo` and `drop_after_processing`
    apply to every endpoint ("oidc", "fulcio", "rekor", "tsa", and those of
    `LocalIndex`); `wrong_sct_key`, `untrusted_ca` and `certified_claim` only to
    "fulcio"; `bad_inclusion_proof`, `bad_set` and `bad_checkpoint` only to "rekor".
    `inject` raises ValueError for any other pairing.
    """

    # None: any endpoint (a transport fault).
    endpoints: ClassVar[tuple[str, ...] | None] = None

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
    def trickle(interval: float, *, headers: bool = False) -> Trickle:
        """Answer normally, but one byte every `interval` seconds.

        The status line and headers go at once and the body trickles; with
        `headers`, the whole answer trickles from its first byte. Every read the
        client makes gets a byte well within any per-read timeout, so only a bound
        on the whole exchange ends it. `LocalSigstore.bytes_sent()` tells how many
        bytes went out.
        """
        if interval <= 0:
            msg = f"interval must be positive, got {interval}"
            raise ValueError(msg)
        return Trickle(interval, headers)

    @staticmethod
    def malformed() -> Malformed:
        """Answer 200 with a body that is not what the client expects."""
        return Malformed()

    @staticmethod
    def drop_after_processing() -> DropAfterProcessing:
        """Do the work (Rekor: the entry lands in the log), then close the connection
        without answering, as when a proxy or the network loses the response."""
        return DropAfterProcessing()

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
    def certified_claim(extension: int, value: str) -> CertifiedClaim:
        """Fulcio: certify `value` as claim 1.3.6.1.4.1.57264.1.<extension>, whatever the
        token says (a Fulcio that maps claims differently from the client)."""
        return CertifiedClaim(extension, value)

    @staticmethod
    def oversized(size: int) -> Oversized:
        """Index "json"/"integrity": answer 200 with a JSON document of `size` bytes."""
        return Oversized(size)

    @staticmethod
    def tampered() -> Tampered:
        """Index "json": list each file with the digest of other bytes, as when the
        files were replaced on the index after upload (the provenance stays)."""
        return Tampered()

    @staticmethod
    def provenance_of(filename: str) -> ProvenanceOf:
        """Index "integrity": answer with the provenance of `filename` instead."""
        return ProvenanceOf(filename)

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
class Trickle(Fault):
    """The normal answer, one byte at a time."""

    interval: float
    headers: bool = False


@dataclass(frozen=True)
class Malformed(Fault):
    """A 200 answer with a garbage body."""


@dataclass(frozen=True)
class DropAfterProcessing(Fault):
    """The request takes effect, but its answer never reaches the client."""


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
class CertifiedClaim(Fault):
    """Fulcio's certificate carries another value for one claim extension."""

    endpoints: ClassVar[tuple[str, ...]] = ("fulcio",)
    extension: int
    value: str


@dataclass(frozen=True)
class Oversized(Fault):
    """An index answer far larger than any real one."""

    endpoints: ClassVar[tuple[str, ...]] = ("json", "integrity")
    size: int


@dataclass(frozen=True)
class Tampered(Fault):
    """The JSON API lists digests of files that are not the attested ones."""

    endpoints: ClassVar[tuple[str, ...]] = ("json",)


@dataclass(frozen=True)
class ProvenanceOf(Fault):
    """The Integrity API answers with another file's provenance."""

    endpoints: ClassVar[tuple[str, ...]] = ("integrity",)
    filename: str


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


METHODS = ("GET", "POST")


class FaultTable:
    """The active faults of each endpoint, with how many more requests each affects.

    A fault is set for all of an endpoint's requests or for one HTTP method only
    (Rekor's reads are GETs, its writes POSTs); a method's own fault comes first.
    """

    def __init__(self, endpoints: tuple[str, ...] = ENDPOINTS) -> None:
        self.endpoints = endpoints
        self._lock = threading.Lock()
        self._faults: dict[tuple[str, str | None], tuple[Fault, int | None]] = {}

    def set(
        self, endpoint: str, fault: Fault, times: int | None, method: str | None = None
    ) -> None:
        """Replaces the fault of the endpoint (and method); `times=None` means every request."""
        if endpoint not in self.endpoints:
            msg = f"unknown endpoint {endpoint!r}; expected one of {', '.join(self.endpoints)}"
            raise ValueError(msg)
        if fault.endpoints is not None and endpoint not in fault.endpoints:
            msg = (
                f"{type(fault).__name__} applies to {', '.join(fault.endpoints)}, "
                f"not to {endpoint!r}"
            )
            raise ValueError(msg)
        if method is not None and method not in METHODS:
            msg = f"unknown method {method!r}; expected one of {', '.join(METHODS)} (or None)"
            raise ValueError(msg)
        if times is not None and times < 1:
            msg = f"times must be at least 1 (or None for every request), got {times}"
            raise ValueError(msg)
        with self._lock:
            self._faults[(endpoint, method)] = (fault, times)

    def take(self, endpoint: str, method: str) -> Fault | None:
        """The fault for one `method` request to `endpoint`, using up one of its times."""
        with self._lock:
            for key in ((endpoint, method), (endpoint, None)):
                entry = self._faults.get(key)
                if entry is None:
                    continue
                fault, times = entry
                if times == 1:
                    del self._faults[key]
                elif times is not None:
                    self._faults[key] = (fault, times - 1)
                return fault
            return None

    def clear(self) -> None:
        """Removes every fault."""
        with self._lock:
            self._faults.clear()
