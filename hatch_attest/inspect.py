"""A human-readable view of a PEP 740 attestation file, **without verifying it**.

Everything shown here is read from the file as is: the subject, the predicate
type, the identity claims that Fulcio wrote into the signing certificate, and
the Rekor log entry. None of it is trustworthy until the attestation has been
verified (:mod:`hatch_attest.verify`); :func:`render_text` says so on its first
line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat import asn1
from pydantic import ValidationError
from pypi_attestations import Attestation

from hatch_attest.errors import DistributionError, VerificationError

__all__ = [
    "CLAIM_LABELS",
    "AttestationInfo",
    "certificate_claims",
    "certificate_identity",
    "describe",
    "describe_attestation",
    "render_text",
]

_FULCIO_OID_PREFIX = "1.3.6.1.4.1.57264.1."

# Fulcio's certificate extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md)
# by their documented names, in OID order. Keys of the JSON view are these names, so
# they can be looked up in Fulcio's documentation. `Attestation.certificate_claims`
# returns exactly these OIDs (1.8 to 1.22: the DER-encoded, non-deprecated ones).
_CLAIM_NAMES: Mapping[str, str] = {
    _FULCIO_OID_PREFIX + "8": "issuer",
    _FULCIO_OID_PREFIX + "9": "build_signer_uri",
    _FULCIO_OID_PREFIX + "10": "build_signer_digest",
    _FULCIO_OID_PREFIX + "11": "runner_environment",
    _FULCIO_OID_PREFIX + "12": "source_repository_uri",
    _FULCIO_OID_PREFIX + "13": "source_repository_digest",
    _FULCIO_OID_PREFIX + "14": "source_repository_ref",
    _FULCIO_OID_PREFIX + "15": "source_repository_identifier",
    _FULCIO_OID_PREFIX + "16": "source_repository_owner_uri",
    _FULCIO_OID_PREFIX + "17": "source_repository_owner_identifier",
    _FULCIO_OID_PREFIX + "18": "build_config_uri",
    _FULCIO_OID_PREFIX + "19": "build_config_digest",
    _FULCIO_OID_PREFIX + "20": "build_trigger",
    _FULCIO_OID_PREFIX + "21": "run_invocation_uri",
    _FULCIO_OID_PREFIX + "22": "source_repository_visibility",
}

CLAIM_LABELS: Mapping[str, str] = {
    "issuer": "OIDC issuer",
    "build_signer_uri": "Build Signer URI",
    "build_signer_digest": "Build Signer Digest",
    "runner_environment": "Runner Environment",
    "source_repository_uri": "Source Repository URI",
    "source_repository_digest": "Source Repository Digest",
    "source_repository_ref": "Source Repository Ref",
    "source_repository_identifier": "Source Repository Identifier",
    "source_repository_owner_uri": "Source Repository Owner URI",
    "source_repository_owner_identifier": "Source Repository Owner Identifier",
    "build_config_uri": "Build Config URI",
    "build_config_digest": "Build Config Digest",
    "build_trigger": "Build Trigger",
    "run_invocation_uri": "Run Invocation URI",
    "source_repository_visibility": "Source Repository Visibility At Signing",
}
"""Fulcio's documented title of each claim, keyed by the names used in JSON."""

# Certificates issued before Fulcio added 1.8 carry the issuer only in the
# deprecated 1.1 extension, as raw (not DER-encoded) bytes.
_LEGACY_ISSUER_OID = x509.ObjectIdentifier(_FULCIO_OID_PREFIX + "1")
_OTHERNAME_SAN_OID = x509.ObjectIdentifier(_FULCIO_OID_PREFIX + "7")


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
        raw = attestation_path.read_bytes()
    except OSError as e:
        msg = f"cannot read attestation {attestation_path}: {e.strerror or e}"
        raise DistributionError(msg) from e
    try:
        attestation = Attestation.model_validate_json(raw)
    except ValidationError as e:
        msg = (
            f"{attestation_path} is not a PEP 740 attestation "
            f"({_first_validation_problem(e)}); PyPI would reject it. "
            "Delete it and build again to re-create it"
        )
        raise VerificationError(msg) from e
    return describe_attestation(attestation, attestation_path)


def describe_attestation(attestation: Attestation, path: Path) -> AttestationInfo:
    """Describe an already parsed attestation; ``path`` is only reported.

    Raises :class:`VerificationError` when a part of it cannot be decoded.
    """
    statement = _statement(attestation, path)
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 1:
        count = len(subjects) if isinstance(subjects, list) else 0
        msg = f"{path}: the statement has {count} subjects; a PEP 740 attestation has exactly one"
        raise VerificationError(msg)
    subject = subjects[0]
    name = subject.get("name") if isinstance(subject, dict) else None
    digest = subject.get("digest") if isinstance(subject, dict) else None
    sha256 = digest.get("sha256") if isinstance(digest, dict) else None
    predicate_type = statement.get("predicateType")
    if not isinstance(name, str) or not isinstance(predicate_type, str):
        msg = f"{path}: the statement lacks a subject name or a predicate type"
        raise VerificationError(msg)

    certificate = _certificate(attestation, path)
    log_index, integrated_time = _log_entry(attestation, path)
    return AttestationInfo(
        path=path,
        subject_name=name,
        subject_sha256=sha256 if isinstance(sha256, str) else None,
        predicate_type=predicate_type,
        identity=certificate_identity(certificate),
        claims=certificate_claims(certificate),
        log_index=log_index,
        integrated_time=integrated_time,
    )


def certificate_claims(certificate: x509.Certificate) -> dict[str, str]:
    """Return the Fulcio claims of ``certificate`` by name, in OID order.

    Decodes the same extensions, the same way, as
    ``pypi_attestations.Attestation.certificate_claims``; adds the issuer from
    the legacy 1.1 extension when the certificate predates 1.8.
    """
    found: dict[str, str] = {}
    for extension in certificate.extensions:
        name = _CLAIM_NAMES.get(extension.oid.dotted_string)
        if name is None or not isinstance(extension.value, x509.UnrecognizedExtension):
            continue
        found[name] = _utf8string(extension.value.value)
    if "issuer" not in found:
        try:
            legacy = certificate.extensions.get_extension_for_oid(_LEGACY_ISSUER_OID).value
        except x509.ExtensionNotFound:
            pass
        else:
            if isinstance(legacy, x509.UnrecognizedExtension):
                found["issuer"] = legacy.value.decode("utf-8", "replace")
    return {name: found[name] for name in _CLAIM_NAMES.values() if name in found}


def certificate_identity(certificate: x509.Certificate) -> str | None:
    """Return the signer identity (the first Subject Alternative Name), if any."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    names: list[str] = [
        *san.get_values_for_type(x509.UniformResourceIdentifier),
        *san.get_values_for_type(x509.RFC822Name),
    ]
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id == _OTHERNAME_SAN_OID:
            names.append(_utf8string(other.value))
    return names[0] if names else None


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
    lines.append(f"Rekor log index: {info.log_index} (integrated {_iso8601(info.integrated_time)})")
    return "\n".join(lines) + "\n"


def _statement(attestation: Attestation, path: Path) -> dict[str, Any]:
    try:
        statement = json.loads(attestation.envelope.statement)
    except ValueError as e:
        msg = f"{path}: the signed statement is not JSON ({e})"
        raise VerificationError(msg) from e
    if not isinstance(statement, dict):
        msg = f"{path}: the signed statement is not a JSON object"
        raise VerificationError(msg)
    return statement


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


def _utf8string(der: bytes) -> str:
    """Decode a DER UTF8String; keep undecodable values readable rather than fail."""
    try:
        return asn1.decode_der(str, der)
    except ValueError:
        return der.decode("utf-8", "replace")


def _iso8601(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _first_validation_problem(error: ValidationError) -> str:
    """Summarise a pydantic error as ``field.path: reason`` (the first of them)."""
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "top level"
    more = f", and {error.error_count() - 1} more problem(s)" if error.error_count() > 1 else ""
    return f"{where}: {problem['msg']}{more}"
