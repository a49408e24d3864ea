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

import contextlib
import errno
import fnmatch
import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from hatch_attest._claims import MAX_ATTESTATION_BYTES, read_envelope_statement
from hatch_attest.errors import DistributionError

ATTESTATION_SUFFIX = ".attestation"
PUBLISH_KIND = "publish"
DISTRIBUTIONS: Mapping[str, str] = {"wheel": ".whl", "sdist": ".tar.gz"}
"""The file suffix of each distribution kind PyPI accepts (and hatchling's target names)."""
_TMP_SUFFIX = ".tmp"
# How often a staging file is made again when a concurrent run removed it before
# it was locked (a window of microseconds).
_STAGING_ATTEMPTS = 3


def attestation_path(dist: Path, kind: str = PUBLISH_KIND) -> Path:
    """The path of the ``kind`` attestation of ``dist`` (``<dist>.<kind>.attestation``)."""
    return dist.with_name(f"{dist.name}.{kind}{ATTESTATION_SUFFIX}")


def is_distribution(path: Path) -> bool:
    """Whether ``path`` is named like a wheel or an sdist."""
    return path.name.endswith(tuple(DISTRIBUTIONS.values()))


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


MAX_READ_BYTES = 64 << 20
"""The largest attestation file ``inspect`` and ``verify`` read; real ones are kilobytes."""


def read_attestation(path: Path) -> bytes:
    """An attestation file's bytes, for ``inspect`` and ``verify``.

    Raises :class:`DistributionError` (one line) when it cannot be read, or is larger
    than :data:`MAX_READ_BYTES`: no tool writes such a file, and reading it whole
    could exhaust memory.
    """
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_READ_BYTES + 1)
    except OSError as e:
        msg = f"cannot read it: {e.strerror or e}"
        raise DistributionError(msg) from e
    if len(raw) > MAX_READ_BYTES:
        msg = (
            f"larger than {MAX_READ_BYTES >> 20} MiB, so not read: a PEP 740 attestation is a "
            "few kilobytes. Delete it and build again to re-create it"
        )
        raise DistributionError(msg)
    return raw


def subject_digest(attestation_file: Path) -> str | None:
    """The sha256 the attestation claims for its subject, or None if unreadable.

    This reads the (unverified) in-toto statement only to decide whether the file
    can possibly belong to the artifact beside it; it is not a verification. Any
    content is handled: binary, huge, deeply nested, in any encoding.
    """
    try:
        with attestation_file.open("rb") as f:
            raw = f.read(MAX_ATTESTATION_BYTES + 1)
    except OSError:
        return None
    statement = read_envelope_statement(raw)
    if statement is None or len(statement.subjects) != 1:
        return None
    return statement.subjects[0][1]


@dataclass(frozen=True)
class StaleAttestation:
    """An attestation beside a distribution that does not describe it."""

    path: Path
    reason: str
    removed: bool = True
    """False when it could not safely be removed (a directory): the caller must say so."""


def remove_stale_attestations(dist: Path) -> list[StaleAttestation]:
    """Delete every ``<dist>.*.attestation`` whose subject is not ``dist``'s bytes.

    Also removes dangling symlinks of that name, and leftovers of runs that were
    killed while staging (``.<dist>.<kind>.attestation.<pid>.*.tmp`` that no live
    run holds locked, see :func:`staging_leftovers`). Directories of that name are
    reported, not removed.
    Returns what was found, so the caller can say so. Unreadable or malformed
    attestations are stale too: twine would send them and PyPI would refuse.
    """
    found = [*_leftovers(dist)]
    candidates = find_attestations(dist)
    if not candidates:
        return found
    actual = sha256_file(dist)
    for path in candidates:
        if path.is_symlink() and not path.exists():
            found.append(_remove(path, dist, "a symlink to nothing"))
            continue
        if path.is_dir():
            reason = "a directory, not an attestation; remove it: twine would fail on it"
            found.append(StaleAttestation(path, reason, removed=False))
            continue
        claimed = subject_digest(path)
        if claimed == actual:
            continue
        reason = (
            "unreadable or not an attestation"
            if claimed is None
            else f"it attests sha256 {claimed[:12]}…, the file is {actual[:12]}…"
        )
        found.append(_remove(path, dist, reason))
    return found


def _remove(path: Path, dist: Path, reason: str) -> StaleAttestation:
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
    return StaleAttestation(path, reason)


_LEFTOVER = re.compile(r"\.(?P<target>.+\.attestation)\.(?P<pid>\d+)\.[^.]+\.tmp")


def _leftovers(dist: Path) -> Iterable[StaleAttestation]:
    """Remove the staging files of ``dist``'s attestations whose writer died (``kill -9``)."""
    reason = "left behind by a run that was killed while writing"
    for path, pid in _staging_files(dist):
        try:
            removed = _abandoned(path, pid, remove=True)
        except OSError as e:
            msg = (
                f"{path.name} does not match {dist.name} ({reason}) and cannot be removed: "
                f"{e.strerror or e}. Delete it: PyPI would reject the upload."
            )
            raise DistributionError(msg) from e
        if removed:
            yield StaleAttestation(path, reason)


def staging_leftovers(dist: Path) -> list[Path]:
    """``.<dist>.<kind>.attestation.<pid>.*.tmp`` files whose writing run is gone.

    A live run holds a lock on its staging file (:class:`StagedFile`); a file whose
    lock can be taken was left behind by a run that was killed. A file being staged
    right now, by this process or any other (also one in another PID namespace, a
    container sharing the workspace), is not listed.
    """
    return [path for path, pid in _staging_files(dist) if _abandoned(path, pid)]


def _staging_files(dist: Path) -> list[tuple[Path, int]]:
    """Every staging file of ``dist``'s attestations, with the PID in its name."""
    try:
        siblings = sorted(dist.parent.iterdir())
    except OSError:
        return []
    found = []
    for path in siblings:
        match = _LEFTOVER.fullmatch(path.name)
        if match is not None and match["target"].startswith(f"{dist.name}."):
            found.append((path, int(match["pid"])))
    return found


def _abandoned(path: Path, pid: int, *, remove: bool = False) -> bool:
    """Whether no live run holds the staging file ``path`` (named after process ``pid``).

    Decided by the lock its writer holds for as long as it runs (``flock`` locks belong
    to the open file, so they hold across PID namespaces and die with the process,
    ``kill -9`` included). A PID cannot decide it: a container sharing the workspace
    numbers its processes on its own. With ``remove``, an abandoned file is removed
    while its lock is held, so a writer that has just created it (and not yet locked
    it) notices and makes another.

    Raises:
        OSError: with ``remove``, it could not be removed.
    """
    if fcntl is None:  # pragma: no cover - Windows
        # No flock. Windows refuses to delete a file another process holds open, so a
        # live run's file cannot be removed anyway; the PID decides what to report.
        return _unlink_if(not _alive(pid), path, remove=remove)
    try:
        # Non-blocking: a FIFO named like a staging file must not hang the build.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return False  # its run finished meanwhile
    except OSError:
        # A symlink, or a file we cannot open: not a staging file of a live run of ours
        # (those are regular files we can read); the PID is all there is to go by.
        return _unlink_if(not _alive(pid), path, remove=remove)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            return False  # not a staging file: left alone, as today
        if not stat.S_ISREG(mode):  # a FIFO or a device: never locked by a writer
            return _unlink_if(not _alive(pid), path, remove=remove)
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # a live run holds it
    except OSError:  # a filesystem without flock (some network mounts)
        return _unlink_if(not _alive(pid), path, remove=remove)
    else:
        return _unlink_if(True, path, remove=remove)
    finally:
        os.close(fd)


def _unlink_if(abandoned: bool, path: Path, *, remove: bool) -> bool:
    if abandoned and remove:
        try:
            path.unlink()
        except FileNotFoundError:
            return False  # another run removed it first
    return abandoned


def _lock(fd: int) -> None:
    """Hold an exclusive lock on a new staging file for as long as ``fd`` is open.

    Blocking: the only other holder can be a run checking whether it is a leftover,
    which holds it for a moment.
    """
    if fcntl is None:  # pragma: no cover - Windows: see _abandoned
        return
    with contextlib.suppress(OSError):  # no flock here: _abandoned goes by the PID
        fcntl.flock(fd, fcntl.LOCK_EX)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def check_writable(target: Path) -> None:
    """Raise :class:`DistributionError` when ``target`` surely cannot be written.

    Checked before signing, so that a wrong folder never costs a public log entry:
    the name's length, a directory in the way, and a folder we cannot write to.
    """
    folder = target.parent
    try:
        name_max = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        name_max = 255
    # The staging file's name is the longest one written.
    longest = len(f".{target.name}.{os.getpid()}.XXXXXXXX{_TMP_SUFFIX}".encode())
    if longest > name_max:
        msg = (
            f"cannot write {target.name}: the attestation's name would be too long for this "
            f"filesystem ({longest} bytes while staging, at most {name_max}); shorten the "
            "distribution's name (its project name, version or tags)"
        )
        raise DistributionError(msg)
    if target.is_dir():
        msg = f"cannot write {target}: a directory has that name. Remove it."
        raise DistributionError(msg)
    if not os.access(folder, os.W_OK | os.X_OK):
        msg = f"cannot write {target}: {folder} is not writable. Check its permissions."
        raise DistributionError(msg)


class StagedFile:
    """A complete new file next to ``path``, put in place only by :meth:`commit`.

    The temporary file lives in the same directory (``os.replace`` is atomic only
    within a filesystem), is locked for as long as it exists (so a later or
    concurrent run, in any PID namespace, can tell a leftover of a killed run from a
    file being staged), and is fsynced before the rename, so a crash leaves either
    the previous state or the complete new file, never a truncated one.
    :meth:`rollback` undoes a commit, restoring the file it replaced.
    """

    def __init__(self, path: Path, data: bytes) -> None:
        self.path = path
        self._backup: Path | None = None
        self._committed = False
        self._fd: int | None = None
        self._tmp, fd = self._create()
        try:
            with os.fdopen(os.dup(fd), "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(self._tmp, 0o644)
        except BaseException:
            self.discard()
            raise

    def _create(self) -> tuple[Path, int]:
        """A new staging file, open (``self._fd``) and locked."""
        for _ in range(_STAGING_ATTEMPTS):
            fd, name = tempfile.mkstemp(
                dir=self.path.parent, prefix=f".{self.path.name}.{os.getpid()}.", suffix=_TMP_SUFFIX
            )
            self._fd = fd
            _lock(fd)
            # Between mkstemp and the lock, a concurrent run could take the new, empty
            # file for a leftover and remove it: then make another.
            if os.fstat(fd).st_nlink > 0:
                return Path(name), fd
            self._release()
        msg = f"a concurrent run kept removing the staging files of {self.path.name}"
        raise OSError(errno.EAGAIN, msg)

    def _release(self) -> None:
        """Close the staging file's descriptor, which releases its lock."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def commit(self) -> None:
        """Put the new file in place (atomically replacing any old one, kept for rollback)."""
        if self.path.is_file() and not self.path.is_symlink():
            backup = self._tmp.with_name(self._tmp.name.removesuffix(_TMP_SUFFIX) + ".old.tmp")
            os.link(self.path, backup)
            self._backup = backup
        os.replace(self._tmp, self.path)
        self._committed = True
        self._release()  # the staging name is gone: nothing left to guard

    def rollback(self) -> None:
        """Undo :meth:`commit`: the previous file (or none) is back; nothing is left over."""
        if self._committed:
            if self._backup is not None:
                os.replace(self._backup, self.path)
                self._backup = None
            else:
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
            self._committed = False
        self.discard()

    def discard(self) -> None:
        """Forget the new file (and the backup of a committed one)."""
        for path in (self._tmp, self._backup):
            if path is not None:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        # Unlinked first, then unlocked: a concurrent run never sees it unguarded.
        self._release()


def stage_attestation(dist: Path, payload: bytes, kind: str = PUBLISH_KIND) -> StagedFile:
    """Write the ``kind`` attestation of ``dist`` beside it, under a temporary name, to commit."""
    return _stage(attestation_path(dist, kind), payload)


def commit_attestations(items: Sequence[tuple[Path, str, bytes | StagedFile]]) -> list[Path]:
    """Put each ``(dist, signed sha256, attestation)`` in place, all or nothing.

    Each attestation is staged first, unless it already is (a
    :func:`stage_attestation`). Then, file by file, the distribution's digest is
    checked again immediately before its own rename (a concurrent build may have
    replaced it while signing), and once all are in place the whole set is checked
    once more. On any failure, everything this run put in place is rolled back
    (an attestation it replaced is restored) and one clear error is raised.
    """
    staged: list[StagedFile] = []
    try:
        for dist, _, payload in items:
            staged.append(
                payload if isinstance(payload, StagedFile) else stage_attestation(dist, payload)
            )
        for (dist, sha256, _), file in zip(items, staged, strict=True):
            _check_unchanged(dist, sha256)
            _commit(file)
        for dist, sha256, _ in items:
            _check_unchanged(dist, sha256)
    except BaseException:
        for _, _, payload in items:
            if isinstance(payload, StagedFile) and payload not in staged:
                payload.discard()
        for file in reversed(staged):
            with contextlib.suppress(OSError):
                file.rollback()
        raise
    for file in staged:
        file.discard()
    return [file.path for file in staged]


def _stage(target: Path, payload: bytes) -> StagedFile:
    try:
        return StagedFile(target, payload)
    except OSError as e:
        raise DistributionError(_write_error(target, e)) from e


def _commit(file: StagedFile) -> None:
    try:
        file.commit()
    except OSError as e:
        raise DistributionError(_write_error(file.path, e)) from e


def _write_error(target: Path, error: OSError) -> str:
    if error.errno == errno.ENAMETOOLONG:
        hint = "Shorten the distribution's name."
    elif error.errno in {errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST}:
        hint = "A directory has that name: remove it."
    else:
        hint = f"Check that {target.parent} is writable."
    return (
        f"cannot write {target}: {error.strerror or error}. {hint} "
        "No attestation from this run was left in place."
    )


def _check_unchanged(dist: Path, expected_sha256: str) -> None:
    actual = sha256_file(dist)
    if actual != expected_sha256:
        msg = (
            f"{dist.name} changed while it was being signed (signed sha256 {expected_sha256}, "
            f"now {actual}); no attestation was written. Rebuild and sign again."
        )
        raise DistributionError(msg)


def clean_attestations(directory: Path, suffix: str) -> list[Path]:
    """Remove the attestations of every ``*<suffix>`` in ``directory``, and dead runs' leftovers.

    For a frontend's clean step (``hatch build -c``, ``hatch clean``): the
    distributions are going, so their attestations go too.
    """
    doomed, removed = [], []
    for path in sorted(directory.iterdir()):
        match = _LEFTOVER.fullmatch(path.name)
        target = match["target"] if match else path.name
        if not target.endswith(ATTESTATION_SUFFIX) or f"{suffix}." not in target:
            continue
        if match:
            # Removed under its lock, unless a live run (in any PID namespace) holds it.
            if _abandoned(path, int(match["pid"]), remove=True):
                removed.append(path)
        elif path.is_file() or path.is_symlink():
            doomed.append(path)
    remove_quietly(doomed)
    return sorted([*doomed, *removed])


def remove_quietly(paths: Iterable[Path]) -> None:
    """Delete files that this run created, ignoring ones already gone."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
