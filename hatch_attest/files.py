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
import fnmatch
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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


def check_dist_filename(filename: str) -> None:
    """Raise :class:`DistributionError` unless PyPI accepts ``filename`` for upload.

    Applies what warehouse checks from the name alone: no control characters or
    path separators; a ``.whl`` or (PEP 625) ``.tar.gz`` file whose name
    ``packaging`` parses; a normalised project name (lower case, runs of ``-_.``
    as one ``_``) and, for sdists, a normalised version. PyPI also compares the
    name and version with the file's metadata, and wheel platform tags with its
    list; those are not checked here.
    """
    # Imported here: the idle build path never checks names, and packaging.utils
    # pulls in platform, subprocess and sysconfig.
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        canonicalize_name,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    if any(ord(char) < 32 or ord(char) == 127 for char in filename):
        msg = f"PyPI rejects file names with control characters: {filename!r}"
        raise DistributionError(msg)
    if "/" in filename or "\\" in filename:
        msg = f"PyPI rejects file names containing '/' or '\\': {filename!r}"
        raise DistributionError(msg)

    if filename.endswith(".whl"):
        try:
            name, _, _, _ = parse_wheel_filename(filename)
        except InvalidWheelFilename as e:
            msg = (
                f"PyPI rejects {filename!r} ({e}): a wheel is named "
                "<name>-<version>[-<build>]-<python tag>-<abi tag>-<platform tag>.whl"
            )
            raise DistributionError(msg) from e
        # warehouse compares the name as written (parse_wheel_filename normalises it).
        written = filename.split("-", 1)[0]
        expected_name = name.replace("-", "_")
        if written != expected_name:
            msg = (
                f"PyPI rejects {filename!r}: the project name must be written in normalised "
                f"form, {expected_name!r}, not {written!r}. Build with a current build "
                "backend (hatchling >= 1.26 writes normalised names)"
            )
            raise DistributionError(msg)
        return

    if filename.endswith(".tar.gz"):
        try:
            name, version = parse_sdist_filename(filename)
        except InvalidSdistFilename as e:
            msg = (
                f"PyPI rejects {filename!r} ({e}): a source distribution is named "
                "<name>-<version>.tar.gz"
            )
            raise DistributionError(msg) from e
        expected = f"{canonicalize_name(name).replace('-', '_')}-{version}.tar.gz"
        if filename != expected:
            msg = (
                f"PyPI rejects source distribution {filename!r}: by PEP 625 it must be named "
                f"{expected!r} (normalised project name and version). Build with a current "
                "build backend (hatchling >= 1.26 writes normalised names)"
            )
            raise DistributionError(msg)
        return

    if filename.endswith(".zip"):
        msg = f"PyPI rejects {filename!r}: source distributions must be .tar.gz files (PEP 625)"
        raise DistributionError(msg)
    msg = f"{filename!r} is not a distribution: PyPI accepts only .whl and .tar.gz files"
    raise DistributionError(msg)


# --- Checking a distribution file and its attestation files -------------------------


def find_attestations(dist: Path) -> list[Path]:
    """The attestation files ``twine upload --attestations`` would send with ``dist``.

    twine's rule, exactly: every ``*.*.attestation`` whose name starts with the
    distribution's file name. (uv publish takes only ``<dist>.<kind>.attestation``.)
    """
    try:
        siblings = list(dist.parent.iterdir())
    except OSError:
        return []
    return sorted(
        path
        for path in siblings
        if path.name != dist.name
        and path.name.startswith(dist.name)
        and fnmatch.fnmatch(path.name, "*.*.attestation")
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
    candidates = find_attestations(dist)
    if not candidates:
        return []
    actual = sha256_file(dist)
    removed: list[StaleAttestation] = []
    for path in candidates:
        if not path.is_file():
            continue  # nothing we could delete; `verify` reports it
        claimed = subject_digest(path)
        if claimed == actual:
            continue
        reason = (
            "unreadable or not an attestation"
            if claimed is None
            else f"it attests sha256 {claimed[:12]}…, the file is {actual[:12]}…"
        )
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            msg = (
                f"{path.name} does not match {dist.name} ({reason}) and cannot be removed: "
                f"{e.strerror or e}. Delete it: PyPI would reject the upload."
            )
            raise DistributionError(msg) from e
        removed.append(StaleAttestation(path, reason))
    return removed


def report_stale_attestations(dist: Path, reporter: _Reporter) -> None:
    """:func:`remove_stale_attestations`, saying what was removed and why."""
    for stale in remove_stale_attestations(dist):
        reporter.display_warning(f"removed stale {stale.path.name}: {stale.reason}")


class _Reporter(Protocol):
    def display_warning(self, message: str) -> None: ...


class StagedFile:
    """A complete new file next to ``path``, put in place only by :meth:`commit`.

    The temporary file lives in the same directory (``os.replace`` is atomic only
    within a filesystem) and is fsynced before the rename, so a crash leaves
    either the previous state or the complete new file, never a truncated one.
    Staging every file of a run first means a failure can still leave everything
    as it was, including attestations that ``--overwrite`` was about to replace.
    """

    def __init__(self, path: Path, data: bytes) -> None:
        self.path = path
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        self._tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(self._tmp, 0o644)
        except BaseException:
            self.discard()
            raise

    def commit(self) -> None:
        """Put the new file in place (atomically replacing any old one)."""
        try:
            os.replace(self._tmp, self.path)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Forget the new file; the old one, if any, is untouched."""
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()


def stage_attestation(dist: Path, expected_sha256: str, payload: bytes) -> StagedFile:
    """Stage the publish attestation of ``dist``, if ``dist`` still has the signed bytes.

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
        return StagedFile(target, payload)
    except OSError as e:
        msg = f"cannot write {target}: {e.strerror or e}. Check that {dist.parent} is writable."
        raise DistributionError(msg) from e


def write_attestation(dist: Path, expected_sha256: str, payload: bytes) -> Path:
    """:func:`stage_attestation`, then commit: the attestation is in place, whole."""
    staged = stage_attestation(dist, expected_sha256, payload)
    try:
        staged.commit()
    except OSError as e:
        msg = f"cannot write {staged.path}: {e.strerror or e}"
        raise DistributionError(msg) from e
    return staged.path


def remove_quietly(paths: Iterator[Path] | list[Path]) -> None:
    """Delete files that this run created, ignoring ones already gone."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
