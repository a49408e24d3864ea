"""Signing distributions: one identity, one certificate, many attestations.

:class:`AttestationSigner` asks Fulcio for a single short-lived certificate and
then signs each distribution with it, one Rekor entry per attestation. The
Rekor submissions are independent, so :meth:`AttestationSigner.sign_all` runs
them in a bounded thread pool (sigstore's Rekor client keeps one session per
thread for exactly this).

Every network call runs under :mod:`hatch_attest._http`'s deadline; every
failure becomes a :class:`~hatch_attest.errors.SigningError` that names the
service, the reason it gave, and what to do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from cryptography import x509
from pypi_attestations import Attestation, AttestationError, Distribution
from sigstore._internal.rekor.client import RekorClient
from sigstore.sign import Signer, SigningContext

from hatch_attest import _http
from hatch_attest.claims import certificate_identity
from hatch_attest.errors import AttestError, DistributionError, SigningError
from hatch_attest.redact import redact

if TYPE_CHECKING:
    from sigstore.models import ClientTrustConfig

    from hatch_attest.identity import Token

T = TypeVar("T")


class _BoundedRekorClient(RekorClient):
    """sigstore's Rekor v1 client; it makes one session per thread, lazily, and
    each gets the bounded adapter the first time its thread uses it."""

    def __init__(self, url: str, adapter: _http.BoundedAdapter) -> None:
        super().__init__(url)
        self._adapter = adapter

    @property
    def _session(self) -> requests.Session:
        session = super()._session
        if session.get_adapter("https://") is not self._adapter:
            _http.mount(session, self._adapter)
        return session


def bounded_signing_context(
    config: ClientTrustConfig, adapter: _http.BoundedAdapter
) -> SigningContext:
    """``SigningContext.from_trust_config``, but with bounded, retrying HTTP sessions.

    The Fulcio and Rekor clients are the ones sigstore itself would pick from the
    signing config (Rekor v1 is forced by :mod:`hatch_attest.trust`); only their
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

    def to_json_bytes(self) -> bytes:
        """The attestation file's content (PEP 740 JSON)."""
        return self.attestation.model_dump_json().encode()


class AttestationSigner:
    """Signs distributions as one identity, with one Fulcio certificate."""

    def __init__(self, config: ClientTrustConfig, token: Token, *, timeout: float) -> None:
        """Obtain the certificate within ``timeout`` seconds."""
        self._context = bounded_signing_context(config, _http.BoundedAdapter())
        sigstore_token = token.to_sigstore()
        with _http.deadline(timeout):
            self._signer = _call("Fulcio", lambda: Signer(sigstore_token, self._context))
        # sigstore requests the certificate in the constructor and keeps it private.
        self.certificate: x509.Certificate = self._signer._signing_cert()

    @property
    def identity(self) -> str:
        """Who the certificate says signed: the workflow URI, or an email."""
        return certificate_identity(self.certificate) or "<no subject alternative name>"

    def sign(self, dist: Path, *, timeout: float) -> Signed:
        """Sign one distribution (one Rekor entry) within ``timeout`` seconds."""
        with _http.deadline(timeout):
            try:
                distribution = Distribution.from_file(dist)
            except (OSError, ValueError) as e:
                msg = f"cannot sign {dist.name}: {e}"
                raise DistributionError(msg) from e
            sha256 = distribution.digest
            attestation = _call("Rekor", lambda: Attestation.sign(self._signer, distribution))
        entry: Any = attestation.verification_material.transparency_entries[0]
        return Signed(dist, sha256, attestation, int(entry["logIndex"]))

    def sign_all(
        self,
        dists: Sequence[Path],
        *,
        jobs: int,
        timeout: float,
        check: Callable[[Signed], None] | None = None,
    ) -> list[Signed | BaseException]:
        """Sign every distribution concurrently, each within ``timeout``; results in input order.

        ``check`` runs on each result in the same worker as soon as it arrives (the
        verification overlaps the other artifacts' Rekor round trips). A failure for
        one does not stop the others; the caller decides what an all-or-nothing run
        does with partial success.
        """

        def one(dist: Path) -> Signed | BaseException:
            try:
                signed = self.sign(dist, timeout=timeout)
                if check is not None:
                    check(signed)
            except AttestError as e:
                return e
            return signed

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, dists))


def _call(service: str, action: Callable[[], T]) -> T:
    """Run a sigstore operation; turn any failure into a SigningError naming ``service``."""
    try:
        return action()
    except (SigningError, DistributionError):
        raise
    except _http.BudgetExhausted as e:
        msg = (
            f"{service} did not answer within the time budget ({e}). Retry the job; if the "
            "service is slow rather than down, raise `timeout` (HATCH_ATTEST_TIMEOUT)."
        )
        raise SigningError(msg) from e
    except Exception as e:  # sigstore raises many unrelated types; name the service
        raise SigningError(describe_failure(service, e)) from e


def describe_failure(service: str, error: BaseException) -> str:
    """A one-line account of ``error``, with the server's own reason when it gave one.

    Server and library text is shown only through :func:`~hatch_attest.redact.redact`:
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
