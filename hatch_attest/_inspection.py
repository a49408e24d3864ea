"""A human-readable view of a PEP 740 attestation file, **without verifying it**.

Everything shown here is read from the file as is: the subject, the predicate
type, the identity claims that Fulcio wrote into the signing certificate, and
the Rekor log entry. None of it is trustworthy until the attestation has been
verified (:mod:`hatch_attest._verify`); :func:`render_text` says so on its first
line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from pydantic import ValidationError
from pypi_attestations import Attestation

from hatch_attest._claims import (
    CLAIM_LABELS,
    certificate_claims,
    certificate_identity,
    read_statement,
    validation_problem,
)
from hatch_attest._files import ATTESTATION_SUFFIX, find_attestations, read_attestation
from hatch_attest.errors import AttestError, DistributionError, VerificationError

if TYPE_CHECKING:
    from hatch_attest._attest import Reporter

__all__ = [
    "AttestationInfo",
    "describe",
    "describe_attestation",
    "render_text",
]


@dataclass(frozen=True)
class AttestationInfo:
    """What an attestation file says about itself (unverified unless stated).

    ``claims`` maps Fulcio claim names (see :data:`CLAIM_LABELS`) to values, in
    Fulcio's OID order; only the claims present in the certificate appear.
    """

    path: Path
    subject_name: str
    subject_sha256: str | None
    predicate_type: str
    identity: str | None
    """The certificate's Subject Alternative Name: a workflow URI or an email."""
    claims: Mapping[str, str]
    log_index: int
    integrated_time: datetime
    predicate_fields: tuple[tuple[str, str], ...] = ()
    """What the predicate states, as labelled values (SLSA provenance: builder, source, run)."""

    @property
    def issuer(self) -> str | None:
        """The OIDC issuer that vouched for ``identity``."""
        return self.claims.get("issuer")

    def to_json_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable view; times are ISO 8601 UTC (``...Z``)."""
        return {
            "path": str(self.path),
            "subject": {"name": self.subject_name, "sha256": self.subject_sha256},
            "predicate_type": self.predicate_type,
            "identity": self.identity,
            "claims": dict(self.claims),
            "predicate": dict(self.predicate_fields),
            "rekor": {
                "log_index": self.log_index,
                "integrated_time": _iso8601(self.integrated_time),
            },
        }


def describe(attestation_path: Path) -> AttestationInfo:
    """Read ``attestation_path`` and describe it, without verifying anything.

    Raises :class:`DistributionError` when the file cannot be read and
    :class:`VerificationError` when it is not a well-formed PEP 740 attestation.
    """
    try:
        raw = read_attestation(attestation_path)
    except DistributionError as e:
        msg = f"{attestation_path}: {e}"
        raise DistributionError(msg) from e
    try:
        attestation = Attestation.model_validate_json(raw)
    except ValidationError as e:
        if attestation_path.name.endswith(ATTESTATION_SUFFIX):
            fix = "PyPI would reject it. Delete it and build again to re-create it"
        else:
            # Never tell anyone to delete a file that is not an attestation.
            fix = (
                "give attestation files (<dist>.<kind>.attestation), distributions (to see "
                "their attestations) or folders"
            )
        msg = f"{attestation_path} is not a PEP 740 attestation ({validation_problem(e)}); {fix}"
        raise VerificationError(msg) from e
    return describe_attestation(attestation, attestation_path)


def describe_attestation(attestation: Attestation, path: Path) -> AttestationInfo:
    """Describe an already parsed attestation; ``path`` is only reported.

    Raises :class:`VerificationError` when a part of it cannot be decoded.
    """
    try:
        statement = read_statement(attestation.envelope.statement)
    except ValueError as e:
        msg = f"{path}: the signed statement is {e}"
        raise VerificationError(msg) from e
    if len(statement.subjects) != 1:
        count = len(statement.subjects)
        msg = f"{path}: the statement has {count} subjects; a PEP 740 attestation has exactly one"
        raise VerificationError(msg)
    name, sha256 = statement.subjects[0]
    predicate_type = statement.predicate_type
    if name is None or predicate_type is None:
        msg = f"{path}: the statement lacks a subject name or a predicate type"
        raise VerificationError(msg)

    certificate = _certificate(attestation, path)
    log_index, integrated_time = _log_entry(attestation, path)
    return AttestationInfo(
        path=path,
        subject_name=name,
        subject_sha256=sha256,
        predicate_type=predicate_type,
        identity=certificate_identity(certificate),
        claims=certificate_claims(certificate),
        log_index=log_index,
        predicate_fields=_predicate_fields(predicate_type, statement.predicate),
        integrated_time=integrated_time,
    )


def _predicate_fields(predicate_type: str, predicate: Any) -> tuple[tuple[str, str], ...]:
    from hatch_attest._predicates import for_predicate_type

    kind = for_predicate_type(predicate_type)
    if kind is None or not (predicate is None or isinstance(predicate, dict)):
        return ()
    return tuple(kind.describe(predicate))


def render_text(info: AttestationInfo) -> str:
    """Render ``info`` for humans. The first line says that nothing was verified."""
    lines = [
        "UNVERIFIED: shown as written in the file; anyone can write these values.",
        "Verify the attestation against the distribution before trusting any of them.",
        "",
        f"Attestation:     {info.path}",
        f"Subject:         {info.subject_name}",
        f"SHA-256:         {info.subject_sha256 or '(none)'}",
        f"Predicate type:  {info.predicate_type}",
        f"Signer identity: {info.identity or '(none)'}",
    ]
    width = max(len(CLAIM_LABELS[name]) for name in info.claims) if info.claims else 0
    if info.claims:
        lines.append("Certificate claims:")
        lines.extend(
            f"  {CLAIM_LABELS[name] + ':':<{width + 1}} {value}"
            for name, value in info.claims.items()
        )
    if info.predicate_fields:
        lines.append("Predicate:")
        label_width = max(len(label) for label, _ in info.predicate_fields)
        lines.extend(
            f"  {label + ':':<{label_width + 1}} {value}" for label, value in info.predicate_fields
        )
    lines.append(f"Rekor log index: {info.log_index} (integrated {_iso8601(info.integrated_time)})")
    return "\n".join(lines) + "\n"


def _certificate(attestation: Attestation, path: Path) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(attestation.verification_material.certificate)
    except ValueError as e:
        msg = f"{path}: the signing certificate is not a DER X.509 certificate ({e})"
        raise VerificationError(msg) from e


def _log_entry(attestation: Attestation, path: Path) -> tuple[int, datetime]:
    # PEP 740 attestations carry exactly the one entry that `to_bundle` uses.
    entry = attestation.verification_material.transparency_entries[0]
    try:
        # Rekor v1 JSON encodes int64 as strings; the global index (not the
        # shard-relative one in the inclusion proof) is what search.sigstore.dev takes.
        log_index = int(entry["logIndex"])
        integrated_time = datetime.fromtimestamp(int(entry["integratedTime"]), tz=timezone.utc)
    except (KeyError, TypeError, ValueError, OverflowError, OSError) as e:
        msg = f"{path}: the transparency log entry has no valid logIndex/integratedTime ({e!r})"
        raise VerificationError(msg) from e
    return log_index, integrated_time


def _iso8601(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the `inspect` command's pipeline ----------------------------------------------


@dataclass(frozen=True)
class InspectReport:
    """What :func:`inspect_paths` read: the attestations it could describe, and why not the rest."""

    infos: tuple[AttestationInfo, ...]
    problems: tuple[AttestError, ...]
    """One error per file that could not be described (exit status 1)."""


def inspect_paths(paths: Sequence[str], reporter: Reporter) -> InspectReport:
    """Describe the attestations ``paths`` name, unverified.

    A PATH is an attestation file, a distribution (its attestations) or a folder
    (its attestation files); any other file is read as an attestation, and fails
    as one.

    Raises:
        DistributionError: no attestation file was found at all.
    """
    from hatch_attest._discovery import find

    targets: list[Path] = []
    for item in paths:
        if not Path(item).exists():
            # Described below, failing as a file that cannot be read.
            targets.append(Path(item))
            continue
        found = find([item])
        mine = [*found.attestations, *found.named_others]
        for dist in found.distributions:
            mine.extend(p for p in find_attestations(dist) if p not in mine)
        if not mine and Path(item).is_dir():
            reporter.display_info(f"{item}: no attestation files in this directory")
        elif not mine:
            reporter.display_info(f"{item}: no attestation next to it")
        targets.extend(p for p in mine if p not in targets)
    if not targets:
        msg = "no attestation files found in " + " ".join(paths)
        raise DistributionError(msg)
    infos: list[AttestationInfo] = []
    problems: list[AttestError] = []
    for target in targets:
        try:
            infos.append(describe(target))
        except AttestError as e:
            # Show what can be shown; the bad files make the exit status 1.
            problems.append(e)
    return InspectReport(tuple(infos), tuple(problems))
