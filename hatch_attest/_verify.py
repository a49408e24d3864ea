"""Run locally, against any Sigstore trust root, every check PyPI runs at upload.

``pypi_attestations.Attestation.verify`` is what PyPI runs, but it always builds
the production or staging ``Verifier`` (TUF, network). :func:`verify_attestation`
runs the same checks, in the same order, with a ``Verifier`` the caller built, for
example from a private or local instance's trusted root; the tests compare it with
the library on real public attestations so the two cannot drift apart.

:func:`check_distribution` adds what happens around that call on the way to PyPI:
how ``twine upload --attestations`` and ``uv publish`` find and read attestation
files, and what warehouse checks on the upload (file name, attestation count,
shape, predicate types). Each problem becomes a :class:`Finding`; bad input files
never raise. A finding is an error when PyPI (or twine on the way) would reject the
upload, and a warning when PyPI accepts it but something else goes wrong: the
verdict is PyPI's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import sigstore.errors
from cryptography import x509
from pydantic import ValidationError
from pypi_attestations import (
    Attestation,
    AttestationError,
    AttestationType,
    Distribution,
    Publisher,
)
from pypi_attestations import VerificationError as AttestationVerificationError

# Private API (tracked): the library's own subject-name parser, so that names compare
# exactly as in `Attestation.verify`; the parity tests fail if it drifts.
from pypi_attestations._impl import _check_dist_filename
from sigstore.dsse import Envelope as DsseEnvelope

# Private API (tracked): the statement model `Attestation.verify` parses with.
from sigstore.dsse import _Statement
from sigstore.verify import Verifier
from sigstore.verify.policy import VerificationPolicy

from hatch_attest._claims import (
    CLAIM_LABELS,
    certificate_claims,
    certificate_identity,
    read_statement,
    validation_problem,
)
from hatch_attest._files import (
    check_dist_filename,
    find_attestations,
    read_attestation,
    sha256_file,
    staging_leftovers,
)
from hatch_attest._inspection import AttestationInfo, describe_attestation
from hatch_attest._kinds import Publisher as TrustedPublisher
from hatch_attest._kinds import from_pypi
from hatch_attest._messages import count
from hatch_attest._redact import redact
from hatch_attest.errors import ConfigError, DistributionError, VerificationError

if TYPE_CHECKING:
    from hatch_attest._attest import Reporter
    from hatch_attest._config import AttestConfig

__all__ = [
    "DSSE_PAYLOAD_TYPE",
    "ERROR",
    "MAX_ATTESTATIONS_PER_FILE",
    "SUPPORTED_PREDICATE_TYPES",
    "WARNING",
    "DistributionReport",
    "Finding",
    "Severity",
    "VerifyReport",
    "check_attestation_set",
    "check_dist_filename",
    "check_distribution",
    "configured_verifier",
    "find_attestations",
    "publisher_to_verify",
    "verify_attestation",
    "verify_paths",
]

SUPPORTED_PREDICATE_TYPES: frozenset[str] = frozenset(
    {AttestationType.PYPI_PUBLISH_V1.value, AttestationType.SLSA_PROVENANCE_V1.value}
)
"""The predicate types PyPI accepts (warehouse ``SUPPORTED_ATTESTATION_TYPES``)."""

MAX_ATTESTATIONS_PER_FILE = len(SUPPORTED_PREDICATE_TYPES)
"""PyPI accepts at most one attestation per supported predicate type for a file."""

# The library compares with the same private constant and parses with the same
# private model (`sigstore.dsse._Statement`), so both accept exactly the same payloads.
DSSE_PAYLOAD_TYPE: str = DsseEnvelope._TYPE  # noqa: SLF001 - the library's own constant

MISSING_CHECK = "attestation-missing"
"""The finding of a distribution without attestations: twine refuses it, PyPI does not."""

_FIX_PUBLISHER = (
    "Build in the workflow that PyPI knows as this project's Trusted Publisher "
    "(the same workflow file as the publish job), or correct the expected publisher"
)


# How warehouse words the two ways `Attestation.verify` can fail at upload
# (`warehouse/attestations/services.py`, `IntegrityService.parse_attestations`).
_PYPI_UNKNOWN_ERROR = "Unknown error while trying to verify included attestations: "


def _pypi_not_verified(text: str) -> str:
    """warehouse's words around the library's `VerificationError(text)`."""
    error = AttestationVerificationError(text)
    return f"Could not verify the uploaded artifact using the included attestation: {error}"


class _Rejected(VerificationError):
    """A :class:`VerificationError` that knows which check (a :class:`Finding` id) failed.

    ``pypi_message`` is what PyPI says for the same failure: warehouse's words
    around the text of the error ``Attestation.verify`` raises at that step
    (the local index answers with it).
    """

    def __init__(self, check: str, message: str, pypi_message: str) -> None:
        super().__init__(message)
        self.check = check
        self.pypi_message = pypi_message


def verify_attestation(
    attestation: Attestation,
    dist: Distribution,
    publisher: Publisher | VerificationPolicy,
    verifier: Verifier,
) -> tuple[str, dict[str, Any] | None]:
    """Verify ``attestation`` for ``dist`` exactly as ``Attestation.verify`` does.

    Same checks, same order, but against ``verifier`` (any trust root) instead of
    the public-good instance: signature, certificate chain, transparency log and
    ``publisher`` policy (``verify_dsse``), DSSE payload type, in-toto statement,
    exactly one subject, a subject name that parses to the same distribution as
    ``dist.name``, the sha256 digest, and a predicate type PyPI knows.

    Returns ``(predicate_type, predicate)``. Raises :class:`VerificationError`
    saying what was expected, what was found and what to do.
    """
    payload = _verify_signature(attestation, publisher, verifier)
    return _check_statement(payload, dist)


def _verify_signature(
    attestation: Attestation,
    publisher: Publisher | VerificationPolicy,
    verifier: Verifier,
) -> bytes:
    """Steps 1 and 2 of `Attestation.verify`: signature and policy, then the payload type."""
    policy = _policy(publisher)
    try:
        bundle = attestation.to_bundle()
    except (AttestationError, sigstore.errors.Error, ValueError) as e:
        # The library lets sigstore's own bundle checks (e.g. `InvalidBundle`: no
        # inclusion promise) escape as they are; PyPI rejects all of them.
        msg = (
            f"the attestation's signing material is damaged ({e}); "
            "delete the attestation and build again to re-create it"
        )
        raise _Rejected("attestation-material", msg, f"{_PYPI_UNKNOWN_ERROR}{e}") from e

    recorder = _RecordingPolicy(policy)
    try:
        payload_type, payload = verifier.verify_dsse(bundle, recorder)
    except Exception as e:
        # PyPI rejects on any exception here (warehouse turns it into "Unknown error
        # while trying to verify included attestations"), and so do we; but a
        # publisher mismatch deserves a message naming the mismatched claim.
        pypi_message = (
            _pypi_not_verified(str(e))
            if isinstance(e, sigstore.errors.VerificationError)
            else f"{_PYPI_UNKNOWN_ERROR}{e}"
        )
        if recorder.failure is not None:
            raise _Rejected(
                "attestation-publisher",
                _publisher_mismatch(publisher, bundle.signing_certificate, recorder.failure),
                pypi_message,
            ) from e
        if isinstance(e, sigstore.errors.Error):
            msg = (
                f"the signature does not verify: {redact(str(e))}. The attestation was altered "
                "after signing, or it was made on another Sigstore instance than the "
                "one verified against; build again to re-create it"
            )
        else:
            msg = f"the signature could not be verified ({type(e).__name__}: {redact(str(e))})"
        raise _Rejected("attestation-signature", msg, pypi_message) from e

    if payload_type != DSSE_PAYLOAD_TYPE:
        msg = f"the signed payload has type {payload_type!r}; expected {DSSE_PAYLOAD_TYPE!r}"
        pypi = _pypi_not_verified(f"expected JSON envelope, got {payload_type}")
        raise _Rejected("attestation-statement", msg, pypi)
    return payload


def _check_statement(payload: bytes, dist: Distribution) -> tuple[str, dict[str, Any] | None]:
    """The rest of `Attestation.verify`: the signed statement against the distribution."""
    try:
        statement = _Statement.model_validate_json(payload)
    except ValidationError as e:
        msg = f"the signed payload is not an in-toto v1 statement: {e}"
        pypi = _pypi_not_verified(f"invalid statement: {e}")
        raise _Rejected("attestation-statement", msg, pypi) from e

    if len(statement.subjects) != 1:
        msg = (
            f"the statement has {len(statement.subjects)} subjects; PyPI requires exactly "
            f"one, the distribution file ({dist.name})"
        )
        pypi = _pypi_not_verified("too many subjects in statement (must be exactly one)")
        raise _Rejected("attestation-statement", msg, pypi)
    subject = statement.subjects[0]

    if not subject.name:
        msg = f"the statement's subject has no name; it must be the file name {dist.name!r}"
        pypi = _pypi_not_verified("invalid subject: missing name")
        raise _Rejected("attestation-subject", msg, pypi)

    # The library's own (unexported) name parser: names compare exactly as in
    # `Attestation.verify`, which accepts unnormalised spellings of the same name.
    try:
        subject_dist = _check_dist_filename(subject.name)
    except ValueError as e:
        msg = f"the subject name {subject.name!r} is not a distribution file name: {e}"
        pypi = _pypi_not_verified(f"invalid subject: {e}")
        raise _Rejected("attestation-subject", msg, pypi) from e
    # `Distribution` validated its name on construction, as in the library.
    if subject_dist != _check_dist_filename(dist.name):
        msg = (
            f"the attestation is for {subject.name!r}, not for {dist.name!r}; "
            "every distribution file needs its own attestation"
        )
        pypi = _pypi_not_verified(
            f"subject does not match distribution name: {subject.name} != {dist.name}"
        )
        raise _Rejected("attestation-subject", msg, pypi)

    digest = subject.digest.root.get("sha256")
    if digest is None or digest != dist.digest:
        found = f"sha256 {digest}" if digest else "no sha256 digest"
        msg = (
            f"the attestation covers {found}, but {dist.name} has sha256 {dist.digest}: "
            "the file changed after it was signed. Sign the file that you upload "
            "(do not rebuild or modify it after signing)"
        )
        pypi = _pypi_not_verified("subject does not match distribution digest")
        raise _Rejected("attestation-digest", msg, pypi)

    if statement.predicate_type not in {t.value for t in AttestationType}:
        msg = (
            f"unknown predicate type {statement.predicate_type!r}; PyPI accepts only "
            f"{_or(sorted(SUPPORTED_PREDICATE_TYPES))}"
        )
        pypi = _pypi_not_verified(f"unknown attestation type: {statement.predicate_type}")
        raise _Rejected("attestation-predicate-type", msg, pypi)

    return statement.predicate_type, statement.predicate


# --- PyPI's file name rules ---------------------------------------------------------


Severity = Literal["error", "warning"]

ERROR: Severity = "error"
"""A :class:`Finding` that makes PyPI (or twine, on the way) reject the upload."""
WARNING: Severity = "warning"
"""A :class:`Finding` PyPI accepts, but that loses or misuses an attestation elsewhere."""
ACCEPTED_BUT = "PyPI accepts this, but "
"""How every warning's message begins."""


@dataclass(frozen=True)
class Finding:
    """One reason why an upload would fail, or lose its attestation.

    ``severity`` is :data:`ERROR` when PyPI (or ``twine upload --attestations``)
    would reject the upload, :data:`WARNING` when PyPI accepts it but something
    else goes wrong (``uv publish`` skips a file, a predicate other tools misread,
    a file left by a killed run). Only errors decide the verdict, so ``verify``
    says what PyPI says.

    ``path`` is the file concerned, ``message`` says what failed and how to fix it,
    and ``check`` is one of these stable ids:

    ``dist-filename``, ``dist-unreadable``: the distribution file itself;
    ``attestation-missing``, ``attestation-count``, ``attestation-filename``: which
    attestation files go with it; ``attestation-unreadable``, ``attestation-json``,
    ``attestation-schema``: reading one; ``attestation-material``,
    ``attestation-signature``, ``attestation-publisher``, ``attestation-statement``,
    ``attestation-subject``, ``attestation-digest``, ``attestation-predicate-type``:
    verifying it; ``attestation-duplicate-type``, ``attestation-publish-predicate``:
    its predicate; ``attestation-error``: anything unexpected while verifying;
    ``staging-leftover``: a staging file left by a killed run (a warning).
    """

    check: str
    path: Path
    message: str
    severity: Severity = ERROR

    def __str__(self) -> str:
        return f"{self.path}: {self.label}{self.message} [{self.check}]"

    @property
    def label(self) -> str:
        """``"warning: "`` before a warning's message, nothing before an error's."""
        return "warning: " if self.severity == WARNING else ""


@dataclass(frozen=True)
class DistributionReport:
    """The result of :func:`check_distribution` for one distribution file.

    ``verified`` describes the attestations that passed every check: predicate
    type, signer identity (``identity``, ``claims["build_config_uri"]``, ...) and
    Rekor log index. ``ok`` is true when no finding is an error: ``twine upload
    --attestations`` and PyPI would accept the file with its attestations
    (warnings may remain; see :class:`Finding`).
    """

    dist: Path
    sha256: str | None
    attestations: tuple[Path, ...]
    verified: tuple[AttestationInfo, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """True when no finding is an error: PyPI's verdict."""
        return not self.errors

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings that make PyPI (or twine) reject the upload."""
        return tuple(f for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings PyPI accepts."""
        return tuple(f for f in self.findings if f.severity == WARNING)

    @property
    def unattested(self) -> bool:
        """True when the only error is a missing attestation: PyPI accepts such a file."""
        return bool(self.errors) and all(f.check == MISSING_CHECK for f in self.errors)

    def render(self) -> str:
        """Render for humans: the verdict, then one line per verified attestation or finding."""
        verdict = "OK" if self.ok else "NOT ATTESTED" if self.unattested else "REJECTED"
        lines = [f"{self.dist}: {verdict}"]
        lines.extend(
            f"  {info.path.name}: {info.predicate_type}, signed by {info.identity}, "
            f"Rekor log index {info.log_index}"
            for info in self.verified
        )
        lines.extend(
            f"  {finding.path.name}: {finding.label}{finding.message} [{finding.check}]"
            for finding in self.findings
        )
        return "\n".join(lines)


def check_distribution(
    dist_path: Path,
    publisher: Publisher | VerificationPolicy,
    verifier: Verifier,
    *,
    attestation_paths: Sequence[Path] | None = None,
) -> DistributionReport:
    """Check ``dist_path`` and its attestations the way an upload to PyPI would.

    Covers: a file name PyPI accepts; at least one attestation file (``twine upload
    --attestations`` fails otherwise), named ``<dist>.<kind>.attestation`` (``uv
    publish`` ignores other names); each file readable JSON (twine) in the PEP 740
    shape (PyPI); at most :data:`MAX_ATTESTATIONS_PER_FILE`; each one verified by
    :func:`verify_attestation` against ``publisher`` and ``verifier``; predicate
    types supported and not repeated; and an empty publish/v1 predicate.

    ``attestation_paths`` defaults to :func:`find_attestations`. Never raises on bad
    input files: every problem is a :class:`Finding` in the report.
    """
    findings: list[Finding] = []

    try:
        check_dist_filename(dist_path.name)
    except DistributionError as e:
        findings.append(Finding("dist-filename", dist_path, str(e)))

    paths = tuple(find_attestations(dist_path) if attestation_paths is None else attestation_paths)
    # Only when looking beside the file, as an upload of `dist/*` would.
    findings.extend(_leftover_findings(dist_path) if attestation_paths is None else ())

    try:
        sha256 = sha256_file(dist_path)
    except DistributionError as e:
        cause = e.__cause__
        reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else cause
        msg = f"cannot read the distribution: {reason or e}"
        findings.append(Finding("dist-unreadable", dist_path, msg))
        return DistributionReport(dist_path, None, paths, (), tuple(findings))

    try:
        dist = Distribution(name=dist_path.name, digest=sha256)
    except ValidationError:
        # The name does not parse as a distribution at all (already reported above):
        # nothing can be verified against it.
        return DistributionReport(dist_path, sha256, paths, (), tuple(findings))

    if not paths:
        msg = (
            f"no attestation found (expected {dist_path.name}.publish.attestation next to "
            "it); `twine upload --attestations` refuses to upload a file without one"
        )
        findings.append(Finding(MISSING_CHECK, dist_path, msg))

    parsed: list[tuple[Path, Attestation]] = []
    for path in paths:
        findings.extend(_name_findings(path, dist_path))
        loaded = _load(path)
        if isinstance(loaded, Finding):
            findings.append(loaded)
        else:
            parsed.append((path, loaded))

    if len(paths) > MAX_ATTESTATIONS_PER_FILE:
        msg = (
            f"{len(paths)} attestation files for one distribution; PyPI accepts at most "
            f"{MAX_ATTESTATIONS_PER_FILE} (one publish/v1 and one SLSA provenance v1). "
            "Remove the extra files: twine uploads every <dist>.*.attestation"
        )
        findings.append(Finding("attestation-count", dist_path, msg))

    verified: list[AttestationInfo] = []
    seen_types: dict[str, Path] = {}
    for path, attestation in parsed:
        try:
            predicate_type, predicate = verify_attestation(attestation, dist, publisher, verifier)
            info = describe_attestation(attestation, path)
        except _Rejected as e:
            findings.append(Finding(e.check, path, str(e)))
            continue
        except Exception as e:
            # PyPI rejects the upload on any error here; a report must never raise.
            msg = f"unexpected error while verifying: {type(e).__name__}: {redact(str(e))}"
            findings.append(Finding("attestation-error", path, msg))
            continue

        predicate_findings = _predicate_findings(path, predicate_type, predicate, seen_types)
        findings.extend(predicate_findings)
        seen_types.setdefault(predicate_type, path)
        if all(f.severity == WARNING for f in predicate_findings):
            verified.append(info)

    return DistributionReport(dist_path, sha256, paths, tuple(verified), tuple(findings))


def check_attestation_set(
    dist: Path,
    ours: Sequence[Attestation],
    others: Sequence[Path],
    publisher: Publisher | VerificationPolicy,
    verifier: Verifier,
) -> list[str]:
    """What PyPI would reject if ``others`` were uploaded with ``dist`` beside ``ours``.

    ``ours`` are fresh attestations that already verified; ``others`` are the other
    attestation files twine would send with them. Each must pass
    :func:`check_distribution`'s checks, their number must stay within
    :data:`MAX_ATTESTATIONS_PER_FILE`, and no predicate type may repeat.
    """
    our_types = {read_statement(a.envelope.statement).predicate_type for a in ours}
    report = check_distribution(dist, publisher, verifier, attestation_paths=others)
    problems = [str(finding) for finding in report.errors]
    total = len(others) + len(ours)
    if total > MAX_ATTESTATIONS_PER_FILE:
        problems.append(
            f"{dist}: {total} attestations with the new ones; PyPI accepts at most "
            f"{MAX_ATTESTATIONS_PER_FILE}, one per predicate type. Remove "
            f"{', '.join(p.name for p in others)}"
        )
    problems.extend(
        f"{info.path}: it has predicate type {info.predicate_type} too, and PyPI accepts one "
        "attestation per predicate type for a file. Remove it"
        for info in report.verified
        if info.predicate_type in our_types
    )
    return problems


def _leftover_findings(dist_path: Path) -> list[Finding]:
    # Neither twine nor uv uploads these; they are only clutter that a later
    # `cp dist/*` or an uploader globbing `dist/.*` could pick up.
    msg = (
        "a staging file left by a killed run; remove it (the next build or "
        "`hatch-attest sign` of this file also does)"
    )
    return [
        Finding("staging-leftover", path, msg, WARNING) for path in staging_leftovers(dist_path)
    ]


def _name_findings(path: Path, dist_path: Path) -> list[Finding]:
    # uv publish splits `<dist>.<kind>.attestation` at the last two dots and matches
    # `<dist>` exactly; twine uploads any `<dist>*.*.attestation` among its inputs,
    # and warehouse never sees a file name (attestations arrive as one JSON list in
    # the upload form): a warning, not a rejection.
    dist_part, _, kind = path.name.removesuffix(".attestation").rpartition(".")
    if dist_part == dist_path.name and kind:
        return []
    msg = (
        f"{ACCEPTED_BUT}uv publish will not upload it (twine does): name the file "
        f"{dist_path.name}.<kind>.attestation, e.g. {dist_path.name}.publish.attestation"
    )
    return [Finding("attestation-filename", path, msg, WARNING)]


def _load(path: Path) -> Attestation | Finding:
    """Read one attestation file as twine, then PyPI, would; a Finding when they would fail."""
    try:
        raw = read_attestation(path)
    except DistributionError as e:
        return Finding("attestation-unreadable", path, str(e))
    try:
        # twine: `json.load` of the file (UTF-8/16/32 detected), re-serialised
        # into the upload form.
        document = json.loads(raw)
    except (ValueError, RecursionError) as e:
        msg = (
            f"not valid JSON ({e}); `twine upload --attestations` refuses it. "
            "Delete it and build again to re-create it"
        )
        return Finding("attestation-json", path, msg)
    try:
        # warehouse: `TypeAdapter(list[Attestation]).validate_json(...)`.
        return Attestation.model_validate_json(json.dumps(document))
    except (ValidationError, ValueError, RecursionError) as e:
        problem = validation_problem(e) if isinstance(e, ValidationError) else str(e)
        msg = (
            f"not a PEP 740 attestation ({problem}); PyPI rejects the upload as "
            "'Malformed attestations'. Delete it and build again to re-create it"
        )
        return Finding("attestation-schema", path, msg)


def _predicate_findings(
    path: Path,
    predicate_type: str,
    predicate: dict[str, Any] | None,
    seen_types: dict[str, Path],
) -> list[Finding]:
    """Warehouse's per-type checks (errors), and a warning for a non-empty publish/v1 predicate.

    What warehouse checks, in ``IntegrityService.parse_attestations``
    (pypi/warehouse ``warehouse/attestations/services.py``, read at commit
    045929b186df4041fb6cb87aff8d3b77146a73ab): at most
    ``len(SUPPORTED_ATTESTATION_TYPES)`` attestations, each passing
    ``Attestation.verify``, a predicate type in ``SUPPORTED_ATTESTATION_TYPES``, no
    predicate type twice. It never reads the predicate itself, and neither does
    ``Attestation.verify`` (pypi-attestations 0.0.30 returns it unchecked).
    """
    if predicate_type not in SUPPORTED_PREDICATE_TYPES:
        msg = (
            f"predicate type {predicate_type!r} is not supported by PyPI; use "
            f"{_or(sorted(SUPPORTED_PREDICATE_TYPES))}"
        )
        return [Finding("attestation-predicate-type", path, msg)]
    if predicate_type in seen_types:
        msg = (
            f"{seen_types[predicate_type].name} already has predicate type {predicate_type}; "
            "PyPI accepts one attestation per predicate type for a file. Remove one of them"
        )
        return [Finding("attestation-duplicate-type", path, msg)]
    if predicate_type == AttestationType.PYPI_PUBLISH_V1 and predicate:
        msg = (
            f"{ACCEPTED_BUT}the {predicate_type} predicate is defined to be empty (null or "
            f"{{}}) and tools ignore what it holds; found {json.dumps(predicate)[:200]}. Use "
            "the SLSA provenance predicate type for build provenance"
        )
        return [Finding("attestation-publish-predicate", path, msg, WARNING)]
    return []


# --- Explaining a publisher policy failure ------------------------------------------


class _RecordingPolicy:
    """Wraps a policy to learn whether *it* is what made ``verify_dsse`` fail.

    ``verify_dsse`` runs the policy between the chain/SCT checks and the log and
    signature checks, and raises the same error type for all of them.
    """

    def __init__(self, inner: VerificationPolicy) -> None:
        self._inner = inner
        self.failure: Exception | None = None

    def verify(self, cert: x509.Certificate) -> None:
        try:
            self._inner.verify(cert)
        except Exception as e:
            self.failure = e
            raise


def _policy(publisher: Publisher | VerificationPolicy) -> VerificationPolicy:
    # Private API (tracked): `_as_policy` is the very policy `Attestation.verify` uses.
    as_policy = getattr(publisher, "_as_policy", None)
    if callable(as_policy):
        # The very policy `Attestation.verify` builds for a publisher; it is only
        # reachable through this private method.
        policy: VerificationPolicy = as_policy()
        return policy
    return publisher  # type: ignore[return-value]  # a sigstore policy already


def _publisher_mismatch(
    publisher: Publisher | VerificationPolicy,
    certificate: x509.Certificate,
    failure: Exception,
) -> str:
    """Say which claim of the signing certificate differs from the expected publisher."""
    claims = certificate_claims(certificate)
    identity = certificate_identity(certificate)
    ours = from_pypi(publisher)
    if ours is None:
        return (
            f"the signer ({identity or 'no identity'}, issuer {claims.get('issuer', 'unknown')}) "
            f"does not satisfy the verification policy: {failure}"
        )
    claims["identity"] = identity or ""
    expected = ours.expected_certificate_claims(claims)
    mismatches = [
        _mismatch(name, claims.get(name), values)
        for name, values in expected
        if claims.get(name) not in values
    ]
    # Should the library's policy ever check something that is not listed above,
    # fall back to its own words rather than claim that everything matched.
    details = "; ".join(mismatches) if mismatches else str(failure)
    return (
        f"the attestation was not signed by the Trusted Publisher ({ours.describe()}): "
        f"{details}. {_FIX_PUBLISHER}"
    )


def _mismatch(name: str, found: str | None, expected: list[str]) -> str:
    label = "signer identity (SAN)" if name == "identity" else CLAIM_LABELS[name]
    if found is None:
        return f"the certificate has no {label}; expected {_or(expected)}"
    text = f"{label} is {found!r}, expected {_or(expected)}"
    if any(found.casefold() == value.casefold() for value in expected):
        text += " (they differ only in letter case, and PyPI compares them exactly)"
    return text


def _or(values: Sequence[str]) -> str:
    quoted = [repr(value) for value in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


# --- the `verify` command's pipeline -----------------------------------------------


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify_paths` found: one :class:`DistributionReport` per distribution."""

    publisher: TrustedPublisher
    reports: tuple[DistributionReport, ...]

    @property
    def ok(self) -> bool:
        """True when every distribution would be uploaded with its attestations."""
        return all(report.ok for report in self.reports)

    def summary(self) -> list[str]:
        """The closing lines: PyPI's verdict, and files that have no attestation at all."""
        total = count(len(self.reports), "distribution")
        warned = sum(len(report.warnings) for report in self.reports)
        # Warnings never change the verdict: it is PyPI's.
        also = f" ({count(warned, 'warning')})" if warned else ""
        rejected = sum(not r.ok and not r.unattested for r in self.reports)
        unattested = sum(r.unattested for r in self.reports)
        if not rejected and not unattested:
            every = (
                "the distribution passes"
                if len(self.reports) == 1
                else f"all {len(self.reports)} distributions pass"
            )
            return [f"{every} PyPI's attestation checks{also}"]
        lines = []
        if rejected:
            lines.append(f"{rejected} of {total} would be rejected by PyPI{also}")
            also = ""
        if unattested:
            it = "it" if unattested == 1 else "them"
            lines.append(
                f"{unattested} of {total} {'has' if unattested == 1 else 'have'} no attestation"
                f"{also}: PyPI accepts {it} without one, but `twine upload --attestations` "
                f"refuses to upload {it}; attest {it} with `hatch-attest sign`, or upload "
                "without --attestations"
            )
        return lines


def publisher_to_verify(
    config: AttestConfig, env: Mapping[str, str], *, table_name: str
) -> TrustedPublisher:
    """The publisher to verify against, resolved as signing resolves it.

    See :func:`hatch_attest._attest.expected_publisher`; without one there is nothing
    to verify against.

    Raises:
        ConfigError: no publisher is configured or shown by the CI environment.
    """
    from hatch_attest._attest import expected_publisher
    from hatch_attest._kinds import inferring_jobs, publisher_doubt, spec_forms

    publisher = expected_publisher(config, env)
    if publisher is None:
        msg = (
            f"no Trusted Publisher to verify against: pass --publisher {spec_forms()}, or set "
            f"`publisher` in [{table_name}] of ./pyproject.toml, or run in the "
            f"{inferring_jobs()} job that publishes"
        )
        raise ConfigError([msg])
    # PyPI checks the workflow that uploads, which need not be this job's.
    doubt = None if config.publisher is not None else publisher_doubt(env)
    if doubt is not None:
        raise ConfigError([doubt])
    return publisher


def configured_verifier(config: AttestConfig, *, offline: bool) -> Verifier:
    """A verifier for the configured Sigstore instance (its trust root loaded now).

    Raises:
        TrustConfigError: the trust root cannot be loaded; without the network, the
            message suggests ``--offline``.
    """
    from hatch_attest._trust import load_trust_config, verifier_for

    trust = load_trust_config(
        config.instance,
        config.trust_config,
        offline=offline,
        offline_hint="pass --offline to verify with the cached trust root",
    )
    return verifier_for(trust)


def verify_paths(
    paths: Sequence[str],
    config: AttestConfig,
    env: Mapping[str, str],
    reporter: Reporter,
    *,
    table_name: str,
    offline: bool = False,
    on_report: Callable[[DistributionReport], None] | None = None,
) -> VerifyReport:
    """Check the distributions ``paths`` name, and their attestations, as PyPI would.

    ``paths`` are files, directories or globs (:func:`hatch_attest._discovery.find`);
    other files are skipped with a note. ``on_report`` sees each distribution's
    report as soon as it is made.

    Raises:
        ConfigError: no publisher to verify against, or a file named that is not a
            distribution and nothing to verify (misuse).
        DistributionError: a path names nothing, or no distribution was found.
        TrustConfigError: the trust root cannot be loaded.
    """
    from hatch_attest._discovery import distributions

    publisher = publisher_to_verify(config, env, table_name=table_name)
    # A name PyPI rejects is one of the findings, reported with the rest.
    dists = distributions(paths, reporter, verb="verify")
    verifier = configured_verifier(config, offline=offline)
    policy = publisher.to_pypi()
    reporter.display_info(f"Verifying against {publisher.describe()}")
    reports = []
    for dist in dists:
        report = check_distribution(dist, policy, verifier)
        if on_report is not None:
            on_report(report)
        reports.append(report)
    return VerifyReport(publisher, tuple(reports))
