"""What an attestation says about itself: its in-toto statement and its signer's claims.

The one place that reads a signing certificate's identity and Fulcio claims, and
an attestation's statement, so that the build log, ``inspect`` and ``verify``
always name the same identity. Nothing here verifies anything.

Importing it is cheap (standard library only): the idle build path reads
statements of stale attestation files; ``cryptography`` is imported by the
certificate functions that need it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography import x509
    from pydantic import ValidationError
    from pypi_attestations import Attestation

__all__ = [
    "CLAIM_LABELS",
    "Statement",
    "attestation_identity",
    "certificate_claims",
    "certificate_identity",
    "read_envelope_statement",
    "read_statement",
    "validation_problem",
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
_LEGACY_ISSUER_OID = _FULCIO_OID_PREFIX + "1"
_OTHERNAME_SAN_OID = _FULCIO_OID_PREFIX + "7"

# An attestation file is a few kilobytes; anything far larger is not one, and is
# not read whole (a stale file can hold anything).
MAX_ATTESTATION_BYTES = 1 << 20


def certificate_claims(certificate: x509.Certificate) -> dict[str, str]:
    """Return the Fulcio claims of ``certificate`` by name, in OID order.

    Decodes the same extensions, the same way, as
    ``pypi_attestations.Attestation.certificate_claims``; adds the issuer from
    the legacy 1.1 extension when the certificate predates 1.8.
    """
    from cryptography import x509

    found: dict[str, str] = {}
    for extension in certificate.extensions:
        name = _CLAIM_NAMES.get(extension.oid.dotted_string)
        if name is None or not isinstance(extension.value, x509.UnrecognizedExtension):
            continue
        found[name] = _utf8string(extension.value.value)
    if "issuer" not in found:
        try:
            legacy = certificate.extensions.get_extension_for_oid(
                x509.ObjectIdentifier(_LEGACY_ISSUER_OID)
            ).value
        except x509.ExtensionNotFound:
            pass
        else:
            if isinstance(legacy, x509.UnrecognizedExtension):
                found["issuer"] = legacy.value.decode("utf-8", "replace")
    return {name: found[name] for name in _CLAIM_NAMES.values() if name in found}


def certificate_identity(certificate: x509.Certificate) -> str | None:
    """Return the signer identity: the first Subject Alternative Name, if any.

    A URI (a CI workflow), an email (a person or a service account), or Fulcio's
    OtherName username SAN.
    """
    from cryptography import x509

    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    names: list[str] = [
        *san.get_values_for_type(x509.UniformResourceIdentifier),
        *san.get_values_for_type(x509.RFC822Name),
    ]
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id.dotted_string == _OTHERNAME_SAN_OID:
            names.append(_utf8string(other.value))
    return names[0] if names else None


def attestation_identity(attestation: Attestation) -> str | None:
    """The signer identity of an attestation's certificate (see :func:`certificate_identity`)."""
    from cryptography import x509

    try:
        certificate = x509.load_der_x509_certificate(attestation.verification_material.certificate)
    except ValueError:
        return None
    return certificate_identity(certificate)


def _utf8string(der: bytes) -> str:
    """Decode a DER UTF8String; keep undecodable values readable rather than fail."""
    from cryptography.hazmat import asn1

    try:
        return asn1.decode_der(str, der)
    except ValueError:
        return der.decode("utf-8", "replace")


@dataclass(frozen=True)
class Statement:
    """The parts of an in-toto statement hatch-attest reads (unverified).

    ``subjects`` are ``(name, sha256)`` pairs; either may be None when absent or
    not a string.
    """

    subjects: tuple[tuple[str | None, str | None], ...]
    predicate_type: str | None
    predicate: Any


def read_statement(payload: bytes | str) -> Statement:
    """Parse an in-toto statement's JSON; parts of the wrong shape read as missing.

    Raises:
        ValueError: saying why, when it is not a JSON object. Nothing else, on any
            input (deep nesting, odd encodings, huge numbers).
    """
    try:
        document = json.loads(payload)
    except (ValueError, RecursionError) as e:
        msg = f"not JSON ({e})" if isinstance(e, ValueError) else "not JSON (nested too deeply)"
        raise ValueError(msg) from None
    if not isinstance(document, dict):
        msg = "not a JSON object"
        raise ValueError(msg)  # noqa: TRY004 - malformed input, one error type for callers
    raw_subjects = document.get("subject")
    subjects: list[tuple[str | None, str | None]] = []
    for subject in raw_subjects if isinstance(raw_subjects, list) else []:
        name = subject.get("name") if isinstance(subject, dict) else None
        digest = subject.get("digest") if isinstance(subject, dict) else None
        sha256 = digest.get("sha256") if isinstance(digest, dict) else None
        subjects.append(
            (name if isinstance(name, str) else None, sha256 if isinstance(sha256, str) else None)
        )
    predicate_type = document.get("predicateType")
    return Statement(
        subjects=tuple(subjects),
        predicate_type=predicate_type if isinstance(predicate_type, str) else None,
        predicate=document.get("predicate"),
    )


def read_envelope_statement(attestation_json: bytes) -> Statement | None:
    """The statement inside a PEP 740 attestation file's bytes; None if it has none.

    Reads no more than the file's shape needs: ``envelope.statement``, base64.
    """
    if len(attestation_json) > MAX_ATTESTATION_BYTES:
        return None
    try:
        document = json.loads(attestation_json)
        encoded = document["envelope"]["statement"]
        return read_statement(base64.b64decode(encoded, validate=True))
    except (ValueError, RecursionError, KeyError, TypeError, binascii.Error):
        return None


def validation_problem(error: ValidationError) -> str:
    """Summarise a pydantic error as ``field.path: reason`` (the first of them)."""
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "top level"
    more = f", and {error.error_count() - 1} more problem(s)" if error.error_count() > 1 else ""
    return f"{where}: {problem['msg']}{more}"
