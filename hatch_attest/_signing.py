"""Signing distributions: one identity, one certificate, many attestations.

:class:`AttestationSigner` asks Fulcio for a single short-lived certificate and
then signs each distribution with it, one Rekor entry per attestation. The
Rekor submissions are independent, so :meth:`AttestationSigner.sign_all` runs
them in a bounded thread pool (sigstore's Rekor client keeps one session per
thread for exactly this).

Every network call runs under :mod:`hatch_attest._http`'s deadline; every
failure becomes a :class:`~hatch_attest.errors.SigningError` that names the
service, the reason it gave, and what to do.

A Rekor POST whose answer was lost after the entry landed is retried, and Rekor
v1 answers the identical resubmission with 409 and the existing entry's
location. sigstore-python turns that into an error; like cosign and sigstore-js,
we read the existing entry back instead, and if that fails, sign once more with a
fresh signature (a new, distinct entry).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import requests
from cryptography import x509
from pypi_attestations import Attestation, AttestationError, Distribution

# Private API (tracked): sigstore's own Rekor v1 client (SigningContext takes it),
# subclassed to give its per-thread sessions our bounded adapter and to read back
# an entry that a lost answer left behind; sigstore has no public equivalent.
from sigstore._internal.rekor import EntryRequestBody, RekorClientError
from sigstore._internal.rekor.client import RekorClient
from sigstore.sign import Signer, SigningContext

from hatch_attest import _deadline, _http
from hatch_attest._claims import certificate_claims, certificate_identity
from hatch_attest._predicates import PUBLISH, Predicate, sign_statement
from hatch_attest._redact import redact
from hatch_attest.errors import AttestError, DistributionError, PredicateError, SigningError

if TYPE_CHECKING:
    from sigstore.models import ClientTrustConfig, TransparencyLogEntry

    from hatch_attest._identity import Token

T = TypeVar("T")

# A Rekor v1 entry UUID: the hex leaf hash, optionally after the 16-hex-digit tree ID.
_ENTRY_UUID = re.compile(r"(?:[0-9a-f]{16})?[0-9a-f]{64}")
_ENTRY_UUID_IN_MESSAGE = re.compile(r"with UUID ([0-9A-Fa-f]+)")


class _EntryNotFetched(Exception):
    """Rekor holds our entry (409 to a resubmission), but it could not be read back."""


class _BoundedRekorClient(RekorClient):
    """sigstore's Rekor v1 client, bounded, and at ease with its own retries.

    sigstore makes one session per thread, lazily; each gets the bounded adapter
    the first time its thread uses it.
    """

    def __init__(self, url: str, adapter: _http.BoundedAdapter) -> None:
        super().__init__(url)
        self._adapter = adapter

    @property
    def _session(self) -> requests.Session:
        session = super()._session
        if session.get_adapter("https://") is not self._adapter:
            _http.mount(session, self._adapter)
        return session

    def create_entry(self, request: EntryRequestBody) -> TransparencyLogEntry:
        """Submit ``request``; if Rekor already holds an equivalent entry, that one.

        "Equivalent" means the same canonical body: our signature and our
        certificate. So a 409 means an earlier attempt of ours landed (the
        adapter retried a POST whose answer was lost), and the entry Rekor holds
        is the one we asked for. The attestation is verified before it is written.
        """
        try:
            return super().create_entry(request)
        except RekorClientError as e:
            conflict = _find_cause(e, requests.HTTPError)
            if conflict is None or conflict.response is None:
                raise
            if conflict.response.status_code != 409:
                raise
            entry_uuid = _existing_entry_uuid(conflict.response)
        # _EntryNotFetched says what went wrong as a clause of a longer message.
        if entry_uuid is None:
            msg = "its 409 answer did not name the logged entry"
            raise _EntryNotFetched(msg)
        try:
            # GET {url}/log/entries/<uuid> on our own bounded session: the request
            # cosign and sigstore-js make, never to a host the answer names.
            return self.log.entries.get(uuid=entry_uuid)
        except Exception as e:  # any failure means the same: sign again
            msg = f"reading entry {entry_uuid} back failed ({_reason(e)})"
            raise _EntryNotFetched(msg) from e


def _existing_entry_uuid(response: requests.Response) -> str | None:
    """The UUID a 409 names: from ``Location``, else from the message (Rekor sends both)."""
    location = urlsplit(response.headers.get("Location", "")).path.rstrip("/")
    candidate = location.rsplit("/", 1)[-1].lower()
    if _ENTRY_UUID.fullmatch(candidate):
        return candidate
    found = _ENTRY_UUID_IN_MESSAGE.search(_server_reason(response))
    if found is not None and _ENTRY_UUID.fullmatch(found.group(1).lower()):
        return found.group(1).lower()
    return None


def bounded_signing_context(
    config: ClientTrustConfig, adapter: _http.BoundedAdapter
) -> SigningContext:
    """``SigningContext.from_trust_config``, but with bounded, retrying HTTP sessions.

    The Fulcio and Rekor clients are the ones sigstore itself would pick from the
    signing config (Rekor v1 is forced by :mod:`hatch_attest._trust`); only their
    sessions differ.
    """
    signing = config.signing_config
    fulcio = signing.get_fulcio()
    _http.mount(fulcio.session, adapter)
    tlog = signing.get_tlogs()[0]
    if not isinstance(tlog, RekorClient):
        msg = "the signing config selected a Rekor v2 log; PEP 740 attestations need Rekor v1"
        raise SigningError(msg)
    rekor = _BoundedRekorClient(tlog.url.removesuffix("/api/v1"), adapter)
    # No timestamp authorities, even when the signing config lists some: a PEP 740
    # attestation carries no RFC 3161 timestamps (Attestation.from_bundle drops
    # them), so a TSA call would only spend the time budget and add an outage.
    return SigningContext(
        fulcio=fulcio, rekor=rekor, trusted_root=config.trusted_root, tsa_clients=[]
    )


@dataclass(frozen=True)
class Signed:
    """A fresh attestation for one distribution, not yet written anywhere."""

    dist: Path
    sha256: str
    attestation: Attestation
    log_index: int
    predicate: Predicate = PUBLISH
    """Which predicate the attestation carries; its file is ``predicate.file_name(dist.name)``."""

    @property
    def path(self) -> Path:
        """Where the attestation goes: ``<dist>.<kind>.attestation`` beside the distribution."""
        return self.dist.with_name(self.predicate.file_name(self.dist.name))

    def to_json_bytes(self) -> bytes:
        """The attestation file's content (PEP 740 JSON)."""
        return self.attestation.model_dump_json().encode()


class AttestationSigner:
    """Signs distributions as one identity, with one Fulcio certificate."""

    def __init__(
        self,
        config: ClientTrustConfig,
        token: Token,
        *,
        timeout: float,
        budget: float | None = None,
    ) -> None:
        """Obtain the certificate within ``timeout`` seconds.

        ``budget`` is the configured time budget that ``timeout`` is what is left of:
        the messages of this call and of every later :meth:`sign` cite it.
        """
        self._budget = budget
        self._context = bounded_signing_context(config, _http.BoundedAdapter())
        sigstore_token = token.to_sigstore()
        # Provenance is built from the claims of the token Fulcio certifies, never the env.
        self._claims = token.claims
        self._bodies: dict[str, dict[str, Any] | None] = {}
        with _http.deadline(timeout, budget=budget):
            self._signer = _call("Fulcio", lambda: Signer(sigstore_token, self._context))
        # sigstore requests the certificate in the constructor and keeps it private.
        self.certificate: x509.Certificate = self._signer._signing_cert()  # noqa: SLF001

    @property
    def identity(self) -> str:
        """Who the certificate says signed: the workflow URI, or an email."""
        return certificate_identity(self.certificate) or "<no subject alternative name>"

    def predicate_body(self, predicate: Predicate) -> dict[str, Any] | None:
        """The predicate made from the token's claims, checked against the certificate.

        Checked before anything is signed: a contradiction would be a permanent,
        public false statement.

        Raises:
            PredicateError: it cannot be made for this identity, or contradicts the
                certificate.
        """
        if predicate.kind in self._bodies:
            return self._bodies[predicate.kind]
        body = predicate.build(self._claims)
        problem = predicate.check(body, certificate_claims(self.certificate))
        if problem is not None:
            msg = (
                f"the {predicate.kind} predicate made from the identity token contradicts the "
                f"certificate Fulcio issued for it: {problem}. Nothing was signed. Retry the "
                'job; if it happens again, use `predicate = "publish"` and report it'
            )
            raise PredicateError(msg)
        self._bodies[predicate.kind] = body
        return body

    def sign(self, dist: Path, *, timeout: float, predicate: Predicate = PUBLISH) -> Signed:
        """Sign one distribution (one Rekor entry) within ``timeout`` seconds.

        ``predicate`` chooses the attestation's predicate (publish by default);
        raises :class:`PredicateError` when it cannot be made for this identity.
        """
        body = self.predicate_body(predicate)
        with _http.deadline(timeout, budget=self._budget):
            try:
                distribution = Distribution.from_file(dist)
            except (OSError, ValueError) as e:
                msg = f"cannot sign {dist.name}: {e}"
                raise DistributionError(msg) from e
            sha256 = distribution.digest
            attestation = _call("Rekor", lambda: self._attest(distribution, predicate, body))
        entry: Any = attestation.verification_material.transparency_entries[0]
        return Signed(dist, sha256, attestation, int(entry["logIndex"]), predicate)

    def _attest(
        self, distribution: Distribution, predicate: Predicate, body: dict[str, Any] | None
    ) -> Attestation:
        def once() -> Attestation:
            if predicate is PUBLISH:
                return Attestation.sign(self._signer, distribution)
            return sign_statement(self._signer, distribution, predicate.predicate_type, body)

        try:
            return once()
        except _EntryNotFetched as lost:
            # Our entry is in the log but out of reach. A fresh signature (ECDSA
            # signatures are randomized) proposes a new, distinct entry; the lost
            # one stays in the log, harmless: it attests the same distribution.
            try:
                return once()
            except Exception as again:  # name both failures, whatever the second was
                msg = (
                    f"Rekor logged the entry for {distribution.name}, but its answer was lost "
                    f"and {lost}; signing again failed too ({_reason(again)}). Retry the job; "
                    "if Rekor is slow rather than down, raise `timeout` (HATCH_ATTEST_TIMEOUT)."
                )
                raise SigningError(msg) from again

    def sign_all(
        self,
        work: Sequence[tuple[Path, Predicate]],
        *,
        jobs: int,
        timeout: float,
        check: Callable[[Signed], None] | None = None,
    ) -> list[Signed | BaseException]:
        """Sign every ``(distribution, predicate)`` concurrently, each within ``timeout``.

        Results come in input order. Each predicate's body is made (and checked
        against the certificate) once, before anything is signed. ``check`` runs on
        each result in the same worker as soon as it arrives (verification overlaps
        the other artifacts' Rekor round trips). A failure for one does not stop the
        others; the caller decides what an all-or-nothing run does with partial
        success.
        """
        for predicate in {predicate.kind: predicate for _, predicate in work}.values():
            self.predicate_body(predicate)

        def one(item: tuple[Path, Predicate]) -> Signed | BaseException:
            dist, predicate = item
            try:
                signed = self.sign(dist, timeout=timeout, predicate=predicate)
                if check is not None:
                    check(signed)
            except AttestError as e:
                return e
            return signed

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, work))


def _call(service: str, action: Callable[[], T]) -> T:
    """Run a sigstore operation; turn any failure into a SigningError naming ``service``."""
    try:
        return action()
    except (SigningError, DistributionError):
        raise
    except _http.BudgetExhausted as e:
        msg = f"{service} did not answer within the time budget: {e}. {_deadline.SLOW_FIX}"
        raise SigningError(msg) from e
    except Exception as e:  # sigstore raises many unrelated types; name the service
        raise SigningError(describe_failure(service, e)) from e


def describe_failure(service: str, error: BaseException) -> str:
    """A one-line account of ``error``, with the server's own reason when it gave one.

    Server and library text is shown only through :func:`~hatch_attest._redact.redact`:
    a server that echoes the request would otherwise show the identity token.
    """
    return redact(_describe_failure(service, error))


def _describe_failure(service: str, error: BaseException) -> str:
    http_error = _find_cause(error, requests.HTTPError)
    if http_error is not None and http_error.response is not None:
        response = http_error.response
        reason = _server_reason(response)
        what = "refused the request" if response.status_code < 500 else "is unavailable"
        hint = (
            "Retry the job later."
            if response.status_code >= 500 or response.status_code == 429
            else "Check the identity token and the trust config."
        )
        return f"{service} {what} (HTTP {response.status_code}: {reason}). {hint}"
    if _find_cause(error, json.JSONDecodeError) is not None:
        return (
            f"{service} answered with something that is not its API's JSON; check that the "
            "trust config points at a Sigstore service, or retry the job"
        )
    if _find_cause(error, requests.ConnectionError) is not None:
        return f"cannot connect to {service}. Check the job's network access. Retry the job."
    if isinstance(error, AttestationError) or "SCT" in str(error):
        return f"{service} returned something that does not verify: {error}"
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"{service} failed: {detail}"


def _reason(error: BaseException) -> str:
    """A short phrase for why a call failed, to put inside a longer message."""
    if isinstance(error, (_EntryNotFetched, SigningError)):
        return str(error)
    if _find_cause(error, _http.BudgetExhausted) is not None:
        return "no answer within the time budget"
    http_error = _find_cause(error, requests.HTTPError)
    if http_error is not None and http_error.response is not None:
        return f"HTTP {http_error.response.status_code}: {_server_reason(http_error.response)}"
    if _find_cause(error, json.JSONDecodeError) is not None:
        return "the answer is not Rekor's JSON"
    if _find_cause(error, requests.ConnectionError) is not None:
        return "the connection failed"
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _server_reason(response: requests.Response) -> str:
    # Redacted whole, then cut: a cut first could leave a token's tail unrecognised.
    try:
        body = response.json()
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str):
                return _one_line(redact(str(body[key])))[:300]
    # One line: an echoed request or an HTML page would otherwise spill over many.
    text = _one_line(response.text)
    if text and text.isprintable():
        return redact(text)[:300]
    return response.reason or "no reason given"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _find_cause(error: BaseException | None, kind: type[BaseException]) -> Any:
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kind):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None
