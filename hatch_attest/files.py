"""Where attestations live on disk, and how they get there.

An attestation for ``dist/pkg-1.0.tar.gz`` is ``dist/pkg-1.0.tar.gz.publish.attestation``.
twine picks up every ``<dist>.*.attestation`` by prefix; uv publish wants exactly
``<dist>.<kind>.attestation``; so the name is fixed, and any *other*
``<dist>.*.attestation`` that does not describe the file next to it is a hazard:
PyPI would reject the whole upload.

Everything here is standard library only, because the idle build path (no CI
identity) still removes stale attestations and must not import sigstore.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from hatch_attest.errors import DistributionError

ATTESTATION_SUFFIX = ".attestation"
PUBLISH_KIND = "publish"
DIST_SUFFIXES = (".whl", ".tar.gz")


def attestation_path(dist: Path, kind: str = PUBLISH_KIND) -> Path:
    """The path of the ``kind`` attestation of ``dist`` (``<dist>.<kind>.attestation``)."""
    return dist.with_name(f"{dist.name}.{kind}{ATTESTATION_SUFFIX}")


def is_distribution(path: Path) -> bool:
    """Whether ``path`` is named like a wheel or an sdist."""
    return path.name.endswith(DIST_SUFFIXES)


def invalid_name_reason(filename: str) -> str | None:
    """Why PyPI would reject a distribution with this file name, or None.

    PyPI wants the normalised forms of PEP 427 and PEP 625: the project name
    lower-cased with runs of ``-_.`` as one ``_``, and a normalised version.
    """
    try:
        if filename.endswith(".whl"):
            name, version, *_ = parse_wheel_filename(filename)
            raw_name, raw_version = filename.split("-")[:2]
        elif filename.endswith(".tar.gz"):
            name, version = parse_sdist_filename(filename)
            raw_name, _, raw_version = filename.removesuffix(".tar.gz").rpartition("-")
        else:
            return "not a wheel (.whl) or sdist (.tar.gz)"
    except (InvalidWheelFilename, InvalidSdistFilename) as e:
        return str(e)
    expected_name = canonicalize_name(name).replace("-", "_")
    if raw_name != expected_name:
        return f"the project name must be normalised as {expected_name!r}, not {raw_name!r}"
    if raw_version != str(version):
        return f"the version must be normalised as {str(version)!r}, not {raw_version!r}"
    return None


def find_attestations(dist: Path) -> list[Path]:
    """Every ``<dist>.*.attestation`` beside ``dist``, the way twine finds them."""
    prefix = f"{dist.name}."
    try:
        entries = list(dist.parent.iterdir())
    except FileNotFoundError:
        return []
    return sorted(
        p
        for p in entries
        if p.name.startswith(prefix) and p.name.endswith(ATTESTATION_SUFFIX) and p.is_file()
    )


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file, read in chunks (wheels can be large)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as e:
        msg = f"cannot read {path}: {e.strerror or e}"
        raise DistributionError(msg) from e
    return digest.hexdigest()


def subject_digest(attestation_file: Path) -> str | None:
    """The sha256 the attestation claims for its subject, or None if unreadable.

    This reads the (unverified) in-toto statement only to decide whether the file
    can possibly belong to the artifact beside it; it is not a verification.
    """
    try:
        raw = json.loads(attestation_file.read_bytes())
        statement = json.loads(base64.b64decode(raw["envelope"]["statement"], validate=True))
        subjects = statement["subject"]
        if not isinstance(subjects, list) or len(subjects) != 1:
            return None
        digest = subjects[0]["digest"]["sha256"]
    except (OSError, ValueError, KeyError, TypeError, binascii.Error):
        return None
    return digest if isinstance(digest, str) else None


@dataclass(frozen=True)
class StaleAttestation:
    """An attestation beside a distribution that does not describe it."""

    path: Path
    reason: str


def remove_stale_attestations(dist: Path) -> list[StaleAttestation]:
    """Delete every ``<dist>.*.attestation`` whose subject is not ``dist``'s bytes.

    Returns what was removed, so the caller can say so. Unreadable or malformed
    attestations are stale too: twine would send them and PyPI would refuse.
    """
    if not find_attestations(dist):
        return []
    actual = sha256_file(dist)
    removed: list[StaleAttestation] = []
    for path in find_attestations(dist):
        claimed = subject_digest(path)
        if claimed == actual:
            continue
        reason = (
            "unreadable or not an attestation"
            if claimed is None
            else f"it attests sha256 {claimed[:12]}…, the file is {actual[:12]}…"
        )
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        removed.append(StaleAttestation(path, reason))
    return removed


def report_stale_attestations(dist: Path, reporter: _Reporter) -> None:
    """:func:`remove_stale_attestations`, saying what was removed and why."""
    for stale in remove_stale_attestations(dist):
        reporter.display_warning(f"removed stale {stale.path.name}: {stale.reason}")


class _Reporter(Protocol):
    def display_warning(self, message: str) -> None: ...


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, whole.

    The temporary file lives in the same directory (``os.replace`` is atomic only
    within a filesystem) and is fsynced before the rename, so a crash leaves
    either the previous state or the complete new file, never a truncated one.
    """
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_attestation(dist: Path, expected_sha256: str, payload: bytes) -> Path:
    """Write the publish attestation of ``dist``, if ``dist`` still has the signed bytes.

    Signing takes seconds; a concurrent build could have replaced the artifact in
    the meantime. The digest is re-checked just before the write so that an
    attestation never lands next to bytes it does not describe.
    """
    actual = sha256_file(dist)
    if actual != expected_sha256:
        msg = (
            f"{dist.name} changed while it was being signed (signed sha256 {expected_sha256}, "
            f"now {actual}); no attestation was written. Rebuild and sign again."
        )
        raise DistributionError(msg)
    target = attestation_path(dist)
    try:
        write_atomic(target, payload)
    except OSError as e:
        msg = f"cannot write {target}: {e.strerror or e}. Check that {dist.parent} is writable."
        raise DistributionError(msg) from e
    return target


def remove_quietly(paths: Iterator[Path] | list[Path]) -> None:
    """Delete files that this run created, ignoring ones already gone."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
