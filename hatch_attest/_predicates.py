"""What an attestation says about a distribution: its predicate.

PyPI accepts two predicate types per file, at most one attestation of each
(warehouse ``attestations/services.py``), and verifies both with the same
Trusted Publisher policy; neither reads the predicate body:

* :data:`PUBLISH` (``https://docs.pypi.org/attestations/publish/v1``, file
  ``<dist>.publish.attestation``): "this Trusted Publisher published this file".
  Its predicate is empty.
* :data:`SLSA_PROVENANCE` (``https://slsa.dev/provenance/v1``, file
  ``<dist>.slsa.attestation``): SLSA build provenance, "this workflow, at this
  commit, in this run, built this file".

Every provenance value is taken from the OIDC token's claims, never from
environment variables: the claims are what Fulcio copies into the signing
certificate, so a verifier can check them. :meth:`Predicate.check` compares a
predicate with the certificate it was signed under, after signing and before
the file is written; a contradiction means the predicate must not be written.

This module imports only the standard library; sigstore and pypi-attestations
are imported inside the functions that sign or read attestations.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from hatch_attest import _kinds as kinds
from hatch_attest._kinds.base import USE_PUBLISH, at
from hatch_attest.errors import PredicateError

if TYPE_CHECKING:
    from pypi_attestations import Attestation, Distribution
    from sigstore.sign import Signer

__all__ = [
    "PREDICATES",
    "PUBLISH",
    "PUBLISH_PREDICATE_TYPE",
    "SLSA_PROVENANCE",
    "SLSA_PROVENANCE_PREDICATE_TYPE",
    "Predicate",
    "PublishPredicate",
    "SlsaProvenancePredicate",
    "auto_predicate",
    "check_attestation",
    "for_predicate_type",
    "sign_statement",
]

PUBLISH_PREDICATE_TYPE = "https://docs.pypi.org/attestations/publish/v1"
SLSA_PROVENANCE_PREDICATE_TYPE = "https://slsa.dev/provenance/v1"


class Predicate(ABC):
    """One predicate type: how to build its body and how to check it.

    ``kind`` is the configuration name (``predicate = "..."``), ``file_kind`` the
    middle of the file name ``<dist>.<file_kind>.attestation`` (a single word,
    as uv publish requires), ``predicate_type`` the in-toto ``predicateType``.
    """

    kind: ClassVar[str]
    predicate_type: ClassVar[str]
    file_kind: ClassVar[str]

    def file_name(self, dist_name: str) -> str:
        """The attestation file name for the distribution file ``dist_name``."""
        return f"{dist_name}.{self.file_kind}.attestation"

    @abstractmethod
    def build(self, claims: Mapping[str, Any]) -> dict[str, Any] | None:
        """The predicate body for a token with these ``claims`` (None: no body).

        Raises :class:`PredicateError` when this predicate cannot be made for
        that identity; the message says what to use instead.
        """

    @abstractmethod
    def check(
        self, predicate: Mapping[str, Any] | None, certificate_claims: Mapping[str, str]
    ) -> str | None:
        """Why ``predicate`` contradicts the signing certificate, or None if it does not.

        ``certificate_claims`` are the Fulcio claims by name, as returned by
        :func:`hatch_attest._claims.certificate_claims` (``source_repository_uri``,
        ``build_config_uri``, ...). A value the certificate does not certify is a
        contradiction too: nothing unverifiable is written.
        """

    def describe(self, predicate: Mapping[str, Any] | None) -> list[tuple[str, str]]:
        """The predicate's main values as (label, value) lines, for ``inspect``.

        Read as written, without checking anything; missing values are left out.
        """
        return []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind!r}>"


class PublishPredicate(Predicate):
    """PyPI's publish attestation; warehouse requires its predicate to be empty."""

    kind = "publish"
    predicate_type = PUBLISH_PREDICATE_TYPE
    file_kind = "publish"

    def build(self, claims: Mapping[str, Any]) -> None:
        """Always None: the publish predicate has no body."""

    def check(
        self, predicate: Mapping[str, Any] | None, certificate_claims: Mapping[str, str]
    ) -> str | None:
        """A publish predicate says nothing, so only a non-empty one is wrong."""
        if predicate:
            return "a publish attestation's predicate must be empty; PyPI rejects any other"
        return None


class SlsaProvenancePredicate(Predicate):
    """SLSA provenance v1, in the format of the publisher kind that signs it.

    Each kind builds and checks its own (:meth:`hatch_attest._kinds.base.Publisher.provenance`):
    GitHub's own format for GitHub jobs, ours for GitLab jobs. Google Cloud
    identities are refused: their token names a service account and nothing about a
    source repository, commit or build configuration, so provenance would assert
    nothing that the certificate backs.
    """

    kind = "slsa-provenance"
    predicate_type = SLSA_PROVENANCE_PREDICATE_TYPE
    file_kind = "slsa"

    def build(self, claims: Mapping[str, Any]) -> dict[str, Any]:
        """The provenance of a job, from its token's claims, by the token's kind."""
        issuer = claims.get("iss")
        publisher = kinds.for_issuer(issuer)
        if publisher is None:
            msg = (
                f"SLSA provenance is made for {kinds.provenance_kinds()} identities only; "
                f"this token was issued by {issuer!r}; {USE_PUBLISH}"
            )
            raise PredicateError(msg)
        return publisher.provenance(claims)

    def check(
        self, predicate: Mapping[str, Any] | None, certificate_claims: Mapping[str, str]
    ) -> str | None:
        """Compare every certified value of the provenance with the certificate."""
        build_type = at(predicate, "buildDefinition", "buildType")
        issuer = certificate_claims.get("issuer")
        publisher = kinds.for_build_type(build_type)
        if publisher is None:
            return f"the provenance has an unknown buildType {build_type!r}"
        if issuer != publisher.issuer:
            return (
                f"the provenance has buildType {build_type}, but the certificate was issued "
                f"for {issuer!r}, not {publisher.issuer}"
            )
        problems = [
            _contradiction(field, value, label, certified)
            for field, value, label, certified in publisher.provenance_pairs(
                predicate, certificate_claims
            )
            if not isinstance(value, str) or certified is None or value != certified
        ]
        return "; ".join(problems) if problems else None

    def describe(self, predicate: Mapping[str, Any] | None) -> list[tuple[str, str]]:
        """Build type, source, workflow or CI configuration, ref, commit, builder, run."""
        build_type = at(predicate, "buildDefinition", "buildType")
        publisher = kinds.for_build_type(build_type, predicate)
        dependencies = at(predicate, "buildDefinition", "resolvedDependencies")
        source = dependencies[0] if isinstance(dependencies, list) and dependencies else None
        rows = [
            ("Build type", build_type),
            *(publisher.provenance_rows(predicate) if publisher is not None else []),
            ("Commit", at(source, "digest", "gitCommit")),
            ("Builder", at(predicate, "runDetails", "builder", "id")),
            ("Run", at(predicate, "runDetails", "metadata", "invocationId")),
        ]
        return [(label, value) for label, value in rows if isinstance(value, str)]


PUBLISH = PublishPredicate()
SLSA_PROVENANCE = SlsaProvenancePredicate()

PREDICATES: Mapping[str, Predicate] = {p.kind: p for p in (PUBLISH, SLSA_PROVENANCE)}
"""Every predicate by its configuration name: ``publish``, ``slsa-provenance``."""


def for_predicate_type(predicate_type: str) -> Predicate | None:
    """The predicate with this in-toto ``predicateType``, if PyPI accepts it."""
    for predicate in PREDICATES.values():
        if predicate.predicate_type == predicate_type:
            return predicate
    return None


def auto_predicate(
    env: Mapping[str, str] | None = None, *, cwd: Path | None = None
) -> tuple[Predicate, str]:
    """What ``predicate = "auto"`` writes in this job, and one line saying why.

    SLSA provenance when the job's workflow may publish with
    gh-action-pypi-publish signing its own publish attestations (or when that
    cannot be ruled out: a publish attestation would make the action fail), a
    publish attestation otherwise. Each kind's CI answers for its own uploaders
    (:func:`hatch_attest._kinds.uploader_signs_publish`).
    """
    import os

    from hatch_attest._kinds import uploader_signs_publish

    uses_action, reason = uploader_signs_publish(os.environ if env is None else env, cwd=cwd)
    if uses_action:
        return SLSA_PROVENANCE, f"SLSA provenance, to sit beside the action's own: {reason}"
    return PUBLISH, f"a publish attestation: {reason}"


def _contradiction(field: str, value: Any, label: str, certified: str | None) -> str:
    if certified is None:
        return f"the provenance's {field} ({value!r}) is not certified (certificate: {label})"
    return (
        f"the provenance's {field} is {value!r}, but the certificate's {label} says {certified!r}"
    )


# --- signing and reading ---------------------------------------------------------------


def sign_statement(
    signer: Signer, dist: Distribution, predicate_type: str, predicate: dict[str, Any] | None
) -> Attestation:
    """Sign an in-toto Statement v1 about ``dist`` with any predicate: a PEP 740 attestation.

    ``pypi_attestations.Attestation.sign`` makes publish attestations only; this
    is the same construction (one subject: the file name and its sha256; a DSSE
    envelope signed by ``signer``; converted with ``Attestation.from_bundle``)
    for any predicate type, and raises ``AttestationError`` where it does.
    """
    from pypi_attestations import Attestation, AttestationError, ConversionError
    from sigstore.dsse import DigestSet, StatementBuilder, Subject
    from sigstore.errors import Error as SigstoreError
    from sigstore.oidc import ExpiredIdentity
    from sigstore.sign import ExpiredCertificate  # type: ignore[attr-defined]  # as the library does

    try:
        builder = (
            StatementBuilder()
            .subjects([Subject(name=dist.name, digest=DigestSet(root={"sha256": dist.digest}))])
            .predicate_type(predicate_type)
        )
        if predicate is not None:
            builder = builder.predicate(predicate)
        statement = builder.build()
    except SigstoreError as e:
        raise AttestationError(str(e)) from e
    try:
        bundle = signer.sign_dsse(statement)
    except (ExpiredCertificate, ExpiredIdentity) as e:
        raise AttestationError(str(e)) from e
    try:
        return Attestation.from_bundle(bundle)
    except ConversionError as e:
        raise AttestationError(str(e)) from e


def check_attestation(attestation: Attestation) -> str | None:
    """Why ``attestation``'s predicate contradicts its own certificate, or None.

    Reads the signed statement and the certificate as they will be written; run
    it after signing and before writing (it does not verify the signature).
    """
    from cryptography import x509

    from hatch_attest._claims import certificate_claims

    try:
        statement = json.loads(attestation.envelope.statement)
        certificate = x509.load_der_x509_certificate(attestation.verification_material.certificate)
    except ValueError as e:
        return f"the attestation cannot be read: {e}"
    if not isinstance(statement, dict):
        return "the signed statement is not a JSON object"
    predicate_type = statement.get("predicateType")
    predicate = for_predicate_type(predicate_type) if isinstance(predicate_type, str) else None
    if predicate is None:
        return f"unknown predicate type {predicate_type!r}"
    body = statement.get("predicate")
    if body is not None and not isinstance(body, dict):
        return "the predicate is not a JSON object"
    return predicate.check(body, certificate_claims(certificate))
