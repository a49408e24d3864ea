"""Publisher identities in lock files: fill them in (``lock-identities``), check them (``audit``).

Reads PEP 751 ``pylock.toml`` (and rewrites only its ``attestation-identities``
keys, with tomlkit, which round-trips formatting and comments), and, for ``audit``,
``uv.lock`` and hashed ``requirements.txt``, which cannot pin identities: for those,
identities are reported, never enforced.

Every locked file is checked against the index (:mod:`hatch_attest._index_verify`):
the index still serves it with the locked hash, its provenance verifies, and its
publisher is one the package pins. Each release's JSON answer and each file's
provenance is fetched once, concurrently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement

from hatch_attest.errors import IndexServiceError, LockFileError

if TYPE_CHECKING:
    from sigstore.verify import Verifier

    from hatch_attest._index_verify import FileVerdict, IndexClient, IndexFile

__all__ = [
    "AuditLine",
    "AuditReport",
    "Lock",
    "LockedFile",
    "LockedPackage",
    "audit",
    "lock_identities",
    "read_lock",
]

LockFormat = Literal["pylock", "uv.lock", "requirements"]
IDENTITIES = "attestation-identities"


@dataclass(frozen=True)
class LockedFile:
    """One file a lock names, with the sha256 it locks."""

    filename: str
    sha256: str | None


@dataclass
class LockedPackage:
    """One package of a lock.

    ``files`` are the named files (pylock, uv.lock); ``hashes`` the bare hashes of a
    requirements line (any file of the release with one of them is locked).
    ``identities`` are the pinned ``attestation-identities`` (None: none pinned, or
    a format that cannot pin them). ``skipped`` says why the package is not checked.
    """

    name: str
    version: str | None
    files: list[LockedFile] = field(default_factory=list)
    hashes: frozenset[str] = frozenset()
    identities: list[dict[str, Any]] | None = None
    skipped: str | None = None
    table: Any = None  # the pylock package's tomlkit table, to rewrite


@dataclass
class Lock:
    """A lock file's packages, and (for pylock) the document to rewrite."""

    path: Path
    format: LockFormat
    packages: list[LockedPackage]
    document: Any = None

    @property
    def can_pin(self) -> bool:
        """Only PEP 751 lock files have ``attestation-identities``."""
        return self.format == "pylock"


# --- reading ----------------------------------------------------------------------


def read_lock(path: Path) -> Lock:
    """Read ``pylock.toml`` (or ``pylock.*.toml``), ``uv.lock`` or a hashed requirements file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        msg = f"{path}: cannot read the lock file: {getattr(e, 'strerror', None) or e}"
        raise LockFileError(msg) from None
    if path.name == "uv.lock":
        return Lock(path, "uv.lock", _read_uv_lock(path, text))
    if path.suffix == ".toml":
        return _read_pylock(path, text)
    return Lock(path, "requirements", _read_requirements(path, text))


def _parse_toml(path: Path, text: str) -> Any:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        return tomlkit.parse(text)
    except TOMLKitError as e:
        msg = f"{path}: not valid TOML ({e}); fix the file or re-create it with your locker"
        raise LockFileError(msg) from None


def _filename(entry: Mapping[str, Any]) -> str | None:
    name = entry.get("name")
    if isinstance(name, str) and name:
        return name
    url = entry.get("url")
    if isinstance(url, str) and url:
        return unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or None
    path = entry.get("path")
    return Path(path).name if isinstance(path, str) and path else None


def _read_pylock(path: Path, text: str) -> Lock:
    document = _parse_toml(path, text)
    if "lock-version" not in document:
        msg = (
            f"{path}: not a PEP 751 lock file (no lock-version); use pylock.toml, uv.lock "
            "or a requirements file with --hash"
        )
        raise LockFileError(msg)
    packages: list[LockedPackage] = []
    for table in document.get("packages", []):
        name = str(table.get("name", ""))
        version = table.get("version")
        package = LockedPackage(name, None if version is None else str(version), table=table)
        entries = [table["sdist"]] if "sdist" in table else []
        entries.extend(table.get("wheels", []))
        for entry in entries:
            filename = _filename(entry)
            if filename is None:
                continue
            hashes = entry.get("hashes", {})
            sha256 = hashes.get("sha256") if isinstance(hashes, Mapping) else None
            package.files.append(LockedFile(filename, None if sha256 is None else str(sha256)))
        pinned = table.get(IDENTITIES)
        if pinned is not None:
            package.identities = [{str(k): v for k, v in dict(item).items()} for item in pinned]
        if not package.files:
            package.skipped = "not from an index (no sdist or wheels)"
        packages.append(package)
    return Lock(path, "pylock", packages, document)


def _read_uv_lock(path: Path, text: str) -> list[LockedPackage]:
    document = _parse_toml(path, text)
    packages: list[LockedPackage] = []
    for table in document.get("package", []):
        name = str(table.get("name", ""))
        version = table.get("version")
        package = LockedPackage(name, None if version is None else str(version))
        source = table.get("source", {})
        if not isinstance(source, Mapping) or "registry" not in source:
            package.skipped = "not from an index (uv.lock source: " + (
                ", ".join(str(k) for k in source) if isinstance(source, Mapping) else "?"
            )
            package.skipped += ")"
        entries = [table["sdist"]] if "sdist" in table else []
        entries.extend(table.get("wheels", []))
        for entry in entries:
            filename = _filename(entry)
            digest = str(entry.get("hash", ""))
            if filename is not None:
                sha256 = digest.removeprefix("sha256:") if digest.startswith("sha256:") else None
                package.files.append(LockedFile(filename, sha256))
        if not package.files and package.skipped is None:
            package.skipped = "no files locked"
        packages.append(package)
    return packages


_HASH = re.compile(r"--hash[=\s]+sha256:([0-9a-fA-F]{64})")


def _read_requirements(path: Path, text: str) -> list[LockedPackage]:
    # pip's format: `\` continues a line, `#` starts a comment, options start with `-`.
    joined = re.sub(r"\\\r?\n", " ", text)
    packages: list[LockedPackage] = []
    for raw in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line or line.startswith("-"):
            continue
        hashes = frozenset(h.lower() for h in _HASH.findall(line))
        spec = line.split(" --", 1)[0].strip().rstrip(";").strip()
        try:
            requirement = Requirement(spec)
        except InvalidRequirement as e:
            packages.append(LockedPackage(spec, None, skipped=f"not a requirement ({e})"))
            continue
        pins = [s.version for s in requirement.specifier if s.operator in {"==", "==="}]
        package = LockedPackage(requirement.name, pins[0] if len(pins) == 1 else None)
        package.hashes = hashes
        if requirement.url:
            package.skipped = "not from an index (a direct URL)"
        elif package.version is None or "*" in package.version:
            package.skipped = "not pinned to one version (==)"
        elif not hashes:
            package.skipped = "no --hash: nothing says which files are locked"
        packages.append(package)
    if not packages:
        msg = f"{path}: no requirements found; is it a lock file?"
        raise LockFileError(msg)
    return packages


# --- checking against the index -----------------------------------------------------


AuditKind = Literal["ok", "note", "fail"]


@dataclass(frozen=True)
class AuditLine:
    """One finding: ``ok`` (verified, pinned), ``note`` (reported only) or ``fail``."""

    kind: AuditKind
    package: str
    message: str

    def render(self) -> str:
        """``OK  name==version: ...`` for humans."""
        return f"{self.kind.upper():<4} {self.package}: {self.message}"


@dataclass
class AuditReport:
    """Every finding of an audit or of ``lock-identities``."""

    lines: list[AuditLine] = field(default_factory=list)
    pinned: int = 0

    @property
    def failures(self) -> list[AuditLine]:
        """The findings that fail the command."""
        return [line for line in self.lines if line.kind == "fail"]

    def add(self, kind: AuditKind, package: str, message: str) -> None:
        """Record a finding."""
        self.lines.append(AuditLine(kind, package, message))


@dataclass
class _Checked:
    package: LockedPackage
    label: str
    error: str | None = None
    pairs: list[tuple[LockedFile | None, IndexFile | None, FileVerdict | None, str | None]] = field(
        default_factory=list
    )


def _label(package: LockedPackage) -> str:
    return f"{package.name}=={package.version}" if package.version else package.name


def _version_from_files(package: LockedPackage) -> str | None:
    from packaging.utils import parse_sdist_filename, parse_wheel_filename

    for file in package.files:
        try:
            if file.filename.endswith(".whl"):
                return str(parse_wheel_filename(file.filename)[1])
            return str(parse_sdist_filename(file.filename)[1])
        except ValueError:
            continue
    return None


def _check_packages(lock: Lock, client: IndexClient, verifier: Verifier) -> list[_Checked]:
    """Fetch each release once, match the locked files, fetch and verify each provenance once."""
    from hatch_attest._index_verify import verify_file

    checked = [_Checked(p, _label(p)) for p in lock.packages if p.skipped is None and p.name]
    for item in checked:
        if item.package.version is None:
            item.package.version = _version_from_files(item.package)
            item.label = _label(item.package)

    def release(item: _Checked) -> list[IndexFile] | None:
        if item.package.version is None:
            item.error = "no version in the lock, and none in its file names"
            return None
        try:
            return client.release(item.package.name, item.package.version)
        except IndexServiceError as e:
            item.error = str(e)
            return None

    served = client.map(release, checked)
    # (item, locked file, index file) for every file to verify, in lock order.
    jobs: list[tuple[_Checked, LockedFile | None, IndexFile]] = []
    for item, files in zip(checked, served, strict=True):
        if files is None:
            continue
        by_name = {f.filename: f for f in files}
        if item.package.files:
            for locked in item.package.files:
                found = by_name.get(locked.filename)
                if found is None:
                    why = f"{locked.filename} is locked, but the index does not serve it"
                    item.pairs.append((locked, None, None, why))
                elif locked.sha256 is not None and locked.sha256.lower() != found.sha256:
                    why = (
                        f"{locked.filename}: the index serves sha256 {found.sha256}, the lock "
                        f"has {locked.sha256.lower()}: the file changed since it was locked"
                    )
                    item.pairs.append((locked, found, None, why))
                else:
                    jobs.append((item, locked, found))
        else:
            matching = [f for f in files if f.sha256 in item.package.hashes]
            if not matching:
                item.error = (
                    "the index serves no file with any of the locked hashes "
                    f"({len(item.package.hashes)} locked, {len(files)} served)"
                )
            jobs.extend((item, None, f) for f in matching)

    def one(job: tuple[_Checked, LockedFile | None, IndexFile]) -> FileVerdict:
        item, _, file = job
        version = item.package.version or ""
        try:
            provenance = client.provenance(item.package.name, version, file.filename)
        except IndexServiceError as e:
            from hatch_attest._index_verify import FileVerdict

            return FileVerdict(file.filename, file.sha256, "failed", str(e))
        return verify_file(file, provenance, verifier)

    for (item, locked_file, file), verdict in zip(jobs, client.map(one, jobs), strict=True):
        item.pairs.append((locked_file, file, verdict, None))
    return checked


def audit(
    lock: Lock,
    client: IndexClient,
    verifier: Verifier,
    *,
    require_identities: bool = False,
) -> AuditReport:
    """Check every locked file against the index; see the module docstring.

    Fails on: a file the index no longer serves with the locked hash, provenance
    that does not verify, a publisher that is not one of the pinned identities, and
    provenance that disappeared where identities are pinned. Packages without pinned
    identities are notes, unless ``require_identities`` (pylock only: the other
    formats cannot pin identities).
    """
    report = AuditReport()
    for package in lock.packages:
        if package.skipped is not None:
            report.add("note", _label(package), f"not checked: {package.skipped}")
    enforce = require_identities and lock.can_pin
    for item in _check_packages(lock, client, verifier):
        if item.error is not None:
            report.add("fail", item.label, item.error)
            continue
        pins = item.package.identities if lock.can_pin else None
        for _locked, _file, verdict, problem in item.pairs:
            if problem is not None or verdict is None:
                report.add("fail", item.label, problem or "not checked")
            else:
                kind, message = _judge(lock, pins, verdict, enforce=enforce)
                report.add(kind, item.label, f"{verdict.filename}: {message}")
    return report


def _judge(
    lock: Lock, pins: list[dict[str, Any]] | None, verdict: FileVerdict, *, enforce: bool
) -> tuple[AuditKind, str]:
    """The audit's verdict on one file's verified provenance, given the pinned identities."""
    from hatch_attest._index_verify import describe_identity, identity_matches

    pinned = ", ".join(describe_identity(p) for p in pins or ())
    if verdict.status == "failed":
        return "fail", f"provenance does not verify: {verdict.detail}"
    if verdict.status == "no-provenance":
        if pins:
            return (
                "fail",
                f"provenance disappeared: the index serves none, but the lock pins {pinned}",
            )
        if enforce:
            return "fail", "no provenance (--require-identities)"
        return "note", "no provenance"
    if pins:
        strangers = [
            describe_identity(i)
            for i in verdict.identities
            if not any(identity_matches(p, i) for p in pins)
        ]
        if strangers:
            return "fail", (
                f"publisher identity changed: published by {', '.join(strangers)}, "
                f"the lock pins {pinned}"
            )
        return "ok", f"verified {verdict.detail} (pinned)"
    if enforce:
        found = ", ".join(describe_identity(i) for i in verdict.identities)
        return "fail", (
            f"verified as {found}, but the lock pins no identity (--require-identities; "
            "run `hatch-attest lock-identities`)"
        )
    why = "not pinned" if lock.can_pin else f"{lock.format} cannot pin identities; reported only"
    return "note", f"verified {verdict.detail} ({why})"


def lock_identities(lock: Lock, client: IndexClient, verifier: Verifier) -> AuditReport:
    """Fill each package's ``attestation-identities`` from its verified provenance.

    Only for packages whose every locked file verifies; the others stay unchanged,
    with one line each. Writes the file (only those keys change) when any changed.
    """
    import tomlkit

    from hatch_attest._index_verify import describe_identity

    if not lock.can_pin:
        msg = (
            f"{lock.path}: {lock.format} has no place for publisher identities; "
            "export a PEP 751 pylock.toml (e.g. `uv export --format pylock.toml`)"
        )
        raise LockFileError(msg)
    report = AuditReport()
    for package in lock.packages:
        if package.skipped is not None:
            report.add("note", _label(package), f"unchanged: {package.skipped}")
    changed = False
    for item in _check_packages(lock, client, verifier):
        label = item.label
        if item.error is not None:
            report.add("fail", label, f"unchanged: {item.error}")
            continue
        problems = [p for *_, p in item.pairs if p is not None]
        verdicts = [v for _, _, v, _ in item.pairs if v is not None]
        failed = [v for v in verdicts if v.status == "failed"]
        missing = [v for v in verdicts if v.status == "no-provenance"]
        if problems or failed:
            why = problems[0] if problems else f"{failed[0].filename}: {failed[0].detail}"
            report.add("fail", label, f"unchanged: {why}")
            continue
        if missing:
            names = ", ".join(v.filename for v in missing)
            report.add("note", label, f"unchanged: no provenance for {names}")
            continue
        identities: list[dict[str, str]] = []
        for verdict in verdicts:
            identities.extend(i for i in verdict.identities if i not in identities)
        array = tomlkit.array()
        for identity in identities:
            table = tomlkit.inline_table()
            table.update(identity)
            array.append(table)
        if item.package.identities != identities:
            item.package.table[IDENTITIES] = array
            item.package.identities = [dict(i) for i in identities]
            changed = True
        report.pinned += 1
        who = ", ".join(describe_identity(i) for i in identities)
        report.add("ok", label, f"pinned {who}")
    if changed:
        try:
            lock.path.write_text(tomlkit.dumps(lock.document), encoding="utf-8")
        except OSError as e:
            msg = f"{lock.path}: cannot write the lock file: {e.strerror or e}"
            raise LockFileError(msg) from None
    return report


def lock_command(
    path: Path,
    *,
    action: Literal["audit", "lock-identities"],
    verifier: Verifier,
    index: str,
    timeout: float,
    jobs: int,
    require_identities: bool = False,
    out: Callable[[str], None] = print,
    info: Callable[[str], None] = print,
) -> int:
    """``hatch-attest audit`` / ``lock-identities``: one line per finding; the exit status.

    0 when nothing failed, 1 when something did (see :func:`audit` and
    :func:`lock_identities` for what fails).
    """
    from hatch_attest._index_verify import IndexClient

    lock = read_lock(path)
    checked = sum(p.skipped is None for p in lock.packages)
    info(f"Checking {checked} package(s) of {path} ({lock.format}) against {index}")
    with IndexClient(index, timeout=timeout, jobs=jobs) as client:
        if action == "audit":
            report = audit(lock, client, verifier, require_identities=require_identities)
        else:
            report = lock_identities(lock, client, verifier)
    for line in report.lines:
        out(line.render())
    failures = len(report.failures)
    if action == "lock-identities":
        info(f"pinned the publisher identities of {report.pinned} package(s) in {path}")
    if failures:
        info(f"{failures} problem(s) found")
        return 1
    if action == "audit":
        info("no problem found")
    return 0
