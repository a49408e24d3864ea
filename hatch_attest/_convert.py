"""Turn Sigstore bundles into PEP 740 attestations: ``hatch-attest convert``.

PyPI's "Producing attestations" page describes a second way to attest: sign with
any Sigstore client (GitHub's ``actions/attest``, ``sigstore attest``, cosign),
then convert each bundle with ``pypi_attestations.Attestation.from_bundle``. This
module does that conversion, and refuses, before anything is written, every
bundle whose attestation PyPI would reject, one line per bundle saying why and
what to do:

- not a readable Sigstore bundle (v0.1 to v0.3 JSON);
- signed with a key rather than a Fulcio certificate;
- a message signature (``sigstore sign``), not a DSSE envelope;
- no Rekor v1 entry with an inclusion promise. A PEP 740 attestation keeps the
  certificate, the envelope and one log entry, and drops RFC 3161 timestamps, so
  a Rekor v2 entry (which has no signed time of its own) could never verify;
- a statement with more than one subject, a predicate type PyPI does not accept,
  or a subject that is not a distribution file name PyPI accepts.

Each attestation is then verified with :func:`hatch_attest._verify.verify_attestation`,
as ``hatch-attest verify`` would, against the distribution file beside it when
there is one, else against the subject's own name and digest. Output is all or
nothing, as with ``sign``: every file is staged first, then all are put in place.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sigstore.errors
from pydantic import ValidationError
from pypi_attestations import Attestation, AttestationType, Distribution, Publisher
from pypi_attestations import ConversionError as LibraryConversionError

# The private model `Attestation.verify` parses statements with (as in verify.py).
from sigstore.dsse import _Statement
from sigstore.models import Bundle
from sigstore.verify import Verifier
from sigstore.verify.policy import VerificationPolicy

# The bundle model under `sigstore.models.Bundle` (a dependency of sigstore): it
# parses without sigstore's own invariants, so a refusal can say what is missing.
from sigstore_models.bundle.v1 import Bundle as BundleModel
from sigstore_models.intoto import Envelope as DsseEnvelopeModel

from hatch_attest import _files as files
from hatch_attest._claims import certificate_identity, validation_problem
from hatch_attest._predicates import PREDICATES
from hatch_attest._verify import (
    DSSE_PAYLOAD_TYPE,
    configured_verifier,
    publisher_to_verify,
    verify_attestation,
)
from hatch_attest.errors import BundleError, ConfigError, DistributionError, VerificationError

if TYPE_CHECKING:
    from hatch_attest._attest import Reporter
    from hatch_attest._config import AttestConfig

__all__ = ["KINDS", "Converted", "convert_bundles", "convert_paths"]

KINDS: dict[str, str] = {p.predicate_type: p.file_kind for p in PREDICATES.values()}
"""The ``<kind>`` of ``<dist>.<kind>.attestation`` for each predicate type PyPI accepts."""

_PUBLISH_V1 = AttestationType.PYPI_PUBLISH_V1.value
# The only log entry a converted attestation can verify with: Rekor v1's dsse
# type, whose inclusion promise (signed entry timestamp) carries the signing time.
_REKOR_V1_DSSE = ("dsse", "0.0.1")
# Rekor v2 entry types (sigstore-python logs a DSSE envelope as hashedrekord/0.0.2).
_REKOR_V2_KINDS = {("hashedrekord", "0.0.2"), ("dsse", "0.0.2")}
_SIGN_AGAIN = (
    "attest again with Rekor v1 (`sigstore attest --rekor-version 1`, or `actions/attest` "
    "in a public repository)"
)
_MAX_NAMED_SUBJECTS = 3


@dataclass(frozen=True)
class Converted:
    """One attestation that :func:`convert_bundles` wrote, and how it was verified."""

    bundle: Path
    path: Path
    """The attestation file written."""
    subject: str
    """The distribution file name the attestation covers."""
    sha256: str
    predicate_type: str
    identity: str | None
    """The signing certificate's identity (a workflow URI or an email)."""
    log_index: int
    checked_file: Path | None
    """The distribution whose bytes the digest was checked against, or None when
    there was none beside the attestation (then only the subject's own name and
    digest were verified)."""

    @property
    def kind(self) -> str:
        """``publish`` or ``slsa``: the ``<kind>`` of the conventional file name."""
        return KINDS[self.predicate_type]

    @property
    def uploadable(self) -> bool:
        """Whether the file is named ``<subject>.<kind>.attestation``, as twine and uv need."""
        return self.path.name == files.attestation_path(Path(self.subject), self.kind).name

    def render(self) -> str:
        """One line for humans: what was written and what it was verified against."""
        against = (
            f"digest checked against {self.checked_file}"
            if self.checked_file is not None
            else f"no {self.subject} beside it, so verified against the subject's own name "
            "and sha256 only"
        )
        return (
            f"{self.path}: {self.kind} attestation for {self.subject}, signed by "
            f"{self.identity or 'an unnamed identity'}, Rekor log index {self.log_index}; "
            f"{against}"
        )


@dataclass(frozen=True)
class _Unverified:
    """A bundle converted, and what its statement says; not yet verified."""

    bundle: Path
    attestation: Attestation
    subject: str
    sha256: str
    predicate_type: str


@dataclass(frozen=True)
class _Ready:
    """A bundle converted and verified, not yet written."""

    converted: Converted
    payload: bytes


class _Refused(Exception):
    """Why one bundle cannot become an attestation (the message, without the path)."""


def convert_paths(
    bundles: Sequence[Path],
    config: AttestConfig,
    env: Mapping[str, str],
    reporter: Reporter,
    *,
    table_name: str,
    output: Path | None = None,
    output_dir: Path | None = None,
    overwrite: bool = False,
    offline: bool = False,
) -> list[Converted]:
    """``hatch-attest convert``: :func:`convert_bundles` with the configured publisher and trust.

    The publisher and the trust root are resolved as ``verify`` resolves them.
    Warns about each attestation written under a name twine and uv do not upload.

    Raises:
        ConfigError: ``output`` with several bundles, or no publisher (misuse).
        BundleError: one line per bundle that cannot be converted; nothing written.
    """
    if output is not None and len(bundles) > 1:
        msg = (
            f"--output names one file, but {len(bundles)} bundles were given; "
            "use --output-dir DIR for several"
        )
        raise ConfigError([msg])
    publisher = publisher_to_verify(config, env, table_name=table_name)
    verifier = configured_verifier(config, offline=offline)
    reporter.display_info(f"Verifying against {publisher.describe()}")
    converted = convert_bundles(
        bundles,
        verifier=verifier,
        publisher=publisher.to_pypi(),
        output=output,
        output_dir=output_dir,
        overwrite=overwrite,
    )
    for item in converted:
        if not item.uploadable:
            reporter.display_warning(
                f"twine and uv publish upload {item.path.name} only if it is named "
                f"{item.subject}.{item.kind}.attestation, next to {item.subject}"
            )
    return converted


def convert_bundles(
    bundles: Sequence[Path],
    *,
    verifier: Verifier,
    publisher: Publisher | VerificationPolicy,
    output: Path | None = None,
    output_dir: Path | None = None,
    overwrite: bool = False,
) -> list[Converted]:
    """Convert Sigstore ``bundles`` to PEP 740 attestations, verify and write them.

    Each attestation goes to ``<output_dir or the bundle's folder>/<subject>.<kind>.attestation``,
    or to ``output`` (exactly one bundle). It is verified with ``verifier`` (the
    trust root of the instance that signed) and ``publisher`` (the Trusted
    Publisher PyPI knows), and, when the subject's distribution file is beside
    it, against that file's sha256.

    All or nothing: raises :class:`BundleError` listing one line per bundle that
    cannot be converted (nothing is written then); an existing file is replaced
    only with ``overwrite``. Returns what was written, in the order given.
    """
    if output is not None and output_dir is not None:
        msg = "give either output or output_dir, not both"
        raise ValueError(msg)
    if output is not None and len(bundles) != 1:
        msg = f"output names one file, but {len(bundles)} bundles were given"
        raise ValueError(msg)

    problems: list[str] = []
    if output_dir is not None and not output_dir.is_dir():
        problems.append(f"{output_dir}: no such directory (--output-dir must exist)")
    if output is not None and not output.parent.is_dir():
        problems.append(f"{output}: its folder {output.parent} does not exist")
    if problems:
        raise BundleError(problems)

    ready: list[_Ready] = []
    # The same bundle named twice (a glob and a path) is converted once.
    unique: dict[Path, Path] = {}
    for bundle in bundles:
        unique.setdefault(bundle.resolve(), bundle)
    for bundle in unique.values():
        try:
            item = _convert(bundle)
            folder = output_dir if output_dir is not None else bundle.parent
            target = output or files.attestation_path(
                folder / item.subject, KINDS[item.predicate_type]
            )
            ready.append(_verified(item, target, verifier, publisher))
        except _Refused as e:
            problems.append(f"{bundle}: {e}")

    problems.extend(_collisions(ready, overwrite=overwrite))
    if problems:
        raise BundleError(problems)
    return _write(ready)


def _convert(bundle: Path) -> _Unverified:
    """Read ``bundle``, check that PyPI could accept it, and convert it."""
    try:
        raw = bundle.read_bytes()
    except OSError as e:
        msg = f"cannot read it: {e.strerror or e}"
        raise _Refused(msg) from e
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as e:
        hint = (
            "; a .jsonl file (`gh attestation download`) holds one bundle per line: "
            "save the line you need as its own file"
            if bundle.name.endswith(".jsonl")
            else "; pass the bundle's JSON file (e.g. <file>.sigstore.json)"
        )
        msg = f"not a Sigstore bundle: not valid JSON ({e}){hint}"
        raise _Refused(msg) from e
    if isinstance(document, dict) and {"base64Signature", "rekorBundle"} & document.keys():
        msg = (
            "this is cosign's legacy bundle format, not a Sigstore bundle; "
            "make one with `cosign attest-blob --new-bundle-format --bundle FILE`"
        )
        raise _Refused(msg)
    material = document.get("verificationMaterial") if isinstance(document, dict) else None
    if isinstance(material, dict) and not {"tlogEntries", "tlog_entries"} & material.keys():
        # Protobuf JSON may leave out an empty list (a bundle with only a timestamp).
        material["tlogEntries"] = []
        raw = json.dumps(document).encode()
    try:
        model = BundleModel.model_validate_json(raw)
    except ValidationError as e:
        msg = (
            f"not a Sigstore bundle ({validation_problem(e)}); expected the bundle JSON "
            "(v0.1 to v0.3) that `actions/attest`, `sigstore attest` or "
            "`cosign attest-blob --new-bundle-format` write"
        )
        raise _Refused(msg) from e

    envelope = _check_shape(model)
    try:
        parsed = Bundle.from_json(raw)
    except (sigstore.errors.Error, ValueError) as e:
        msg = (
            f"sigstore-python cannot read this bundle ({e}), and PyPI verifies attestations "
            "with it; attest again with a current Sigstore client"
        )
        raise _Refused(msg) from e
    subject, sha256, predicate_type = _check_statement(envelope.payload_type, envelope.payload)
    try:
        attestation = Attestation.from_bundle(parsed)
    except LibraryConversionError as e:
        msg = f"cannot be converted: {e}"
        raise _Refused(msg) from e
    return _Unverified(bundle, attestation, subject, sha256, predicate_type)


def _check_shape(model: BundleModel) -> DsseEnvelopeModel:
    """Refuse bundles whose signature PyPI could never verify; returns the DSSE envelope."""
    material = model.verification_material
    if material.public_key is not None:
        msg = (
            "the bundle is signed with a key, not a Sigstore (Fulcio) certificate; PyPI "
            "accepts only attestations signed by the identity of a Trusted Publisher. "
            "Attest keyless, in the workflow that publishes"
        )
        raise _Refused(msg)
    if model.dsse_envelope is None:
        msg = (
            "this is a message-signature bundle (`sigstore sign`, `cosign sign-blob`): it "
            "signs the file itself, while a PEP 740 attestation signs an in-toto statement "
            "in a DSSE envelope. Attest the file instead (`actions/attest`, "
            "`sigstore attest`, `cosign attest-blob`)"
        )
        raise _Refused(msg)
    if len(model.dsse_envelope.signatures) != 1:
        msg = (
            f"the DSSE envelope has {len(model.dsse_envelope.signatures)} signatures; "
            "a PEP 740 attestation carries exactly one"
        )
        raise _Refused(msg)

    entries = material.tlog_entries
    timestamps = (
        len(material.timestamp_verification_data.rfc3161_timestamps)
        if material.timestamp_verification_data is not None
        else 0
    )
    if not entries:
        stamped = " (only an RFC 3161 timestamp)" if timestamps else ""
        msg = (
            f"the bundle has no transparency log entry{stamped}; a PEP 740 attestation "
            f"verifies only with a Rekor v1 entry: {_SIGN_AGAIN}"
        )
        raise _Refused(msg)
    if len(entries) != 1:
        msg = (
            f"the bundle has {len(entries)} transparency log entries; a PEP 740 "
            f"attestation carries exactly one Rekor v1 entry: {_SIGN_AGAIN}"
        )
        raise _Refused(msg)
    entry = entries[0]
    kind = (entry.kind_version.kind, entry.kind_version.version)
    if kind in _REKOR_V2_KINDS:
        msg = (
            f"the bundle's log entry is a Rekor v2 entry ({'/'.join(kind)}), whose signing "
            "time comes only from the bundle's RFC 3161 timestamp; a PEP 740 attestation "
            "cannot carry that timestamp (the conversion drops it), so it would not "
            f"verify: {_SIGN_AGAIN}"
        )
        raise _Refused(msg)
    if kind != _REKOR_V1_DSSE:
        msg = (
            f"the bundle's log entry has type {'/'.join(kind)}; PyPI verifies attestations "
            f"only with a Rekor v1 dsse/0.0.1 entry: {_SIGN_AGAIN}"
        )
        raise _Refused(msg)
    if entry.inclusion_promise is None or not entry.integrated_time:
        msg = (
            "the bundle's Rekor v1 entry has no inclusion promise (signed entry "
            "timestamp), so its signing time would come only from an RFC 3161 timestamp, "
            "which a PEP 740 attestation cannot carry; it would not verify. Use the "
            "bundle as the Sigstore client wrote it, with its inclusion promise, or "
            f"{_SIGN_AGAIN}"
        )
        raise _Refused(msg)
    return model.dsse_envelope


def _check_statement(payload_type: str, payload: bytes) -> tuple[str, str, str]:
    """The statement's (subject name, sha256, predicate type), or why PyPI would refuse it."""
    if payload_type != DSSE_PAYLOAD_TYPE:
        msg = (
            f"the DSSE payload has type {payload_type!r}; a PEP 740 attestation signs an "
            f"in-toto statement ({DSSE_PAYLOAD_TYPE!r})"
        )
        raise _Refused(msg)
    try:
        statement = _Statement.model_validate_json(payload)
    except ValidationError as e:
        msg = f"the signed payload is not an in-toto v1 statement ({validation_problem(e)})"
        raise _Refused(msg) from e

    if len(statement.subjects) != 1:
        names = [s.name or "(unnamed)" for s in statement.subjects]
        shown = ", ".join(names[:_MAX_NAMED_SUBJECTS])
        if len(names) > _MAX_NAMED_SUBJECTS:
            shown += ", ..."
        msg = (
            f"the statement has {len(names)} subjects ({shown}); a PEP 740 attestation "
            "covers exactly one distribution file. Attest each file on its own "
            "(one `actions/attest` step per file, or `sigstore attest FILE...`, which "
            "writes one bundle per file)"
        )
        raise _Refused(msg)

    predicate_type = statement.predicate_type
    if predicate_type not in KINDS:
        accepted = " or ".join(repr(t) for t in KINDS)
        msg = f"PyPI does not accept the predicate type {predicate_type!r}; attest with {accepted}"
        raise _Refused(msg)
    if predicate_type == _PUBLISH_V1 and statement.predicate:
        msg = (
            f"the {_PUBLISH_V1} predicate must be empty (null or {{}}), and PyPI rejects "
            "this one; attest build provenance as 'https://slsa.dev/provenance/v1'"
        )
        raise _Refused(msg)

    subject = statement.subjects[0]
    if not subject.name:
        msg = "the statement's subject has no name; it must be the distribution's file name"
        raise _Refused(msg)
    try:
        files.check_dist_filename(subject.name)
    except DistributionError as e:
        msg = f"the subject is not a distribution PyPI accepts: {e}"
        raise _Refused(msg) from e
    sha256 = subject.digest.root.get("sha256")
    if not sha256:
        msg = "the statement's subject has no sha256 digest, which PyPI checks"
        raise _Refused(msg)
    return subject.name, sha256, predicate_type


def _verified(
    item: _Unverified,
    target: Path,
    verifier: Verifier,
    publisher: Publisher | VerificationPolicy,
) -> _Ready:
    """Verify the attestation as `hatch-attest verify` will, where it is going to live."""
    dist_file = target.parent / item.subject
    checked_file: Path | None = None
    digest = item.sha256
    if dist_file.is_file():
        try:
            digest = files.sha256_file(dist_file)
        except DistributionError as e:
            raise _Refused(str(e)) from e
        checked_file = dist_file
    attestation = item.attestation
    try:
        verify_attestation(
            attestation, Distribution(name=item.subject, digest=digest), publisher, verifier
        )
    except VerificationError as e:
        msg = f"the converted attestation does not verify: {e}"
        raise _Refused(msg) from e
    certificate = attestation.to_bundle().signing_certificate
    entry = attestation.verification_material.transparency_entries[0]
    converted = Converted(
        bundle=item.bundle,
        path=target,
        subject=item.subject,
        sha256=item.sha256,
        predicate_type=item.predicate_type,
        identity=certificate_identity(certificate),
        log_index=int(entry["logIndex"]),
        checked_file=checked_file,
    )
    return _Ready(converted, attestation.model_dump_json().encode())


def _collisions(ready: Sequence[_Ready], *, overwrite: bool) -> list[str]:
    """Outputs that two bundles would share, or that exist (without ``overwrite``)."""
    problems: list[str] = []
    claimed: dict[Path, Path] = {}
    for item in ready:
        target = item.converted.path
        other = claimed.setdefault(target.resolve(), item.converted.bundle)
        if other != item.converted.bundle:
            problems.append(
                f"{item.converted.bundle}: would write {target}, as {other} does; PyPI "
                "accepts one attestation per predicate type for a file, so keep one of them"
            )
        # lexists: a dangling link is a file too, and a name too long for the
        # filesystem is reported when the file is written.
        elif os.path.lexists(target) and not overwrite:
            problems.append(f"{target} already exists; pass --overwrite to replace it")
    return problems


def _write(ready: Sequence[_Ready]) -> list[Converted]:
    """Stage every file, then put them all in place; on any failure, none is."""
    staged: list[files.StagedFile] = []
    try:
        for item in ready:
            try:
                staged.append(files.StagedFile(item.converted.path, item.payload))
            except OSError as e:
                msg = f"cannot write {item.converted.path}: {e.strerror or e}"
                raise BundleError([msg]) from e
        for file in staged:
            file.commit()
    except BaseException:
        for file in staged:
            file.discard()
        raise
    return [item.converted for item in ready]
