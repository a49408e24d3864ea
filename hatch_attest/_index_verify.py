"""Verify what a package index serves: every file of a release, with its PEP 740 provenance.

The files of a release come from the index's JSON API (``/pypi/NAME/VERSION/json``:
``urls[].filename`` and ``urls[].digests.sha256``), each file's provenance from the
Integrity API (``/integrity/NAME/VERSION/FILENAME/provenance``). Every attestation of
every bundle is verified with :func:`hatch_attest._verify.verify_attestation` (the
checks of ``Attestation.verify``, against the caller's trust root) for the file's name
and sha256 and the bundle's publisher, as PyPI did at upload.

HTTP goes through :class:`hatch_attest._http.BoundedAdapter` (retries with backoff,
``Retry-After``), on a bounded thread pool, all of it inside one deadline. Answers are
size-limited; server text is shown only through :func:`hatch_attest._redact.redact`.
Every failure is an :class:`~hatch_attest.errors.IndexServiceError` or a per-file
verdict, never a traceback.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import quote

from packaging.utils import canonicalize_name

from hatch_attest._redact import redact
from hatch_attest.errors import AttestError, IndexServiceError

if TYPE_CHECKING:
    import requests
    from pypi_attestations import Provenance
    from sigstore.verify import Verifier

__all__ = [
    "DEFAULT_INDEX",
    "DEFAULT_JOBS",
    "DEFAULT_TIMEOUT",
    "MAX_ANSWER_BYTES",
    "FileVerdict",
    "IndexClient",
    "IndexFile",
    "ReleaseReport",
    "describe_identity",
    "fetch_and_verify",
    "identity_matches",
    "identity_of",
    "parse_release_spec",
    "verify_file",
    "verify_release",
]

DEFAULT_INDEX = "https://pypi.org"
DEFAULT_JOBS = 16
"""Requests in flight at once: enough to hide latency, few enough to be a polite client."""
DEFAULT_TIMEOUT = 120.0
"""Seconds for the whole command's network time, retries included."""
MAX_ANSWER_BYTES = 8 * 1024 * 1024
"""The largest JSON or Integrity API answer read. A release's JSON answer on PyPI is
tens of kilobytes (hundreds for a release with many wheels), a provenance a few."""

_JSON_ACCEPT = "application/json"
_INTEGRITY_ACCEPT = "application/vnd.pypi.integrity.v1+json"
_QUOTE_LIMIT = 200  # characters of a server's text quoted in an error

Status = Literal["verified", "no-provenance", "failed"]
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class IndexFile:
    """One file of a release, as the JSON API lists it."""

    filename: str
    sha256: str
    url: str


@dataclass(frozen=True)
class FileVerdict:
    """What the index's provenance says about one file, verified.

    ``identities`` are the publishers of the bundles that verified, as PEP 751
    ``attestation-identities`` tables (``kind`` plus the kind's keys).
    """

    filename: str
    sha256: str
    status: Status
    detail: str
    identities: tuple[dict[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """True when every attestation of the file verified."""
        return self.status == "verified"

    def render(self) -> str:
        """One line: the file, the verdict, and who or why."""
        if self.status == "verified":  # the detail says as whom: "verified as ..."
            return f"{self.filename}: verified {self.detail}".rstrip()
        if self.status == "failed":
            return f"{self.filename}: FAILED: {self.detail}"
        return f"{self.filename}: no provenance"


@dataclass(frozen=True)
class ReleaseReport:
    """Every file of a release with its verdict."""

    name: str
    version: str
    verdicts: tuple[FileVerdict, ...]

    @property
    def ok(self) -> bool:
        """True when the release has files and every one of them verifies."""
        return bool(self.verdicts) and all(v.ok for v in self.verdicts)

    def render(self) -> str:
        """One line per file, and a line saying so when nothing has provenance."""
        lines = [v.render() for v in self.verdicts]
        if self.verdicts and all(v.status == "no-provenance" for v in self.verdicts):
            lines.append(
                f"{self.name} {self.version} has no provenance at all: none of its "
                f"{len(self.verdicts)} file(s) was uploaded with attestations"
            )
        return "\n".join(lines)


def parse_release_spec(spec: str) -> tuple[str, str]:
    """``pypi:NAME==VERSION`` as ``(NAME, VERSION)``; ValueError saying the expected form."""
    from packaging.version import InvalidVersion, Version

    body = spec.removeprefix("pypi:")
    name, sep, version = body.partition("==")
    name, version = name.strip(), version.strip()
    try:
        Version(version)
    except InvalidVersion:
        sep = ""
    if not spec.startswith("pypi:") or not sep or not name or not _valid_name(name):
        msg = f"{spec!r} is not a release: use pypi:NAME==VERSION, e.g. pypi:sampleproject==4.0.0"
        raise ValueError(msg)
    return name, version


def _valid_name(name: str) -> bool:
    import re

    # PEP 508 names.
    return re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", name) is not None


class IndexClient:
    """Reads the JSON and Integrity APIs of one index, concurrently, within one deadline.

    ``timeout`` bounds the whole client's network time (every request, retry and
    backoff); ``jobs`` bounds the requests in flight.
    """

    def __init__(
        self,
        index_url: str = DEFAULT_INDEX,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        jobs: int = DEFAULT_JOBS,
        max_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self.index_url = index_url.rstrip("/")
        self.jobs = jobs
        self.max_bytes = max_bytes
        self._end = time.monotonic() + timeout
        self._timeout = timeout
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def close(self) -> None:
        """Closes every connection the client opened."""
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def __enter__(self) -> IndexClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the two APIs --------------------------------------------------------------

    def release(self, name: str, version: str) -> list[IndexFile]:
        """The files of ``name`` ``version``; IndexServiceError if there is no such release."""
        url = f"{self.index_url}/pypi/{quote(name)}/{quote(version)}/json"
        document = self._get_json(url, _JSON_ACCEPT)
        if document is None:
            msg = (
                f"{self.index_url} has no release {name} {version} (404 from {url}); "
                "check the name and version"
            )
            raise IndexServiceError(msg)
        try:
            entries = document["urls"]
            files = [
                IndexFile(str(e["filename"]), str(e["digests"]["sha256"]).lower(), str(e["url"]))
                for e in entries
            ]
        except (KeyError, TypeError) as e:
            msg = (
                f"{url}: the answer is not a JSON API release (no urls[].filename, "
                f"urls[].digests.sha256 or urls[].url: {type(e).__name__} {e}); "
                "is --index the index's root URL?"
            )
            raise IndexServiceError(msg) from None
        return files

    def provenance(self, name: str, version: str, filename: str) -> Provenance | None:
        """The file's PEP 740 provenance; None when the index has none (404)."""
        from pydantic import ValidationError
        from pypi_attestations import Provenance

        url = (
            f"{self.index_url}/integrity/{quote(str(canonicalize_name(name)))}/"
            f"{quote(version)}/{quote(filename)}/provenance"
        )
        document = self._get_json(url, _INTEGRITY_ACCEPT)
        if document is None:
            return None
        try:
            return Provenance.model_validate(document)
        except ValidationError as e:
            msg = (
                f"{url}: the answer is not PEP 740 provenance "
                f"({e.error_count()} schema error(s), first: {redact(str(e.errors()[0]['msg']))})"
            )
            raise IndexServiceError(msg) from None

    # --- concurrency ------------------------------------------------------------------

    def map(self, function: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``function`` over ``items`` on at most ``jobs`` threads, inside the deadline."""
        from hatch_attest._http import deadline

        def bounded(item: T) -> R:
            with deadline(max(0.0, self._end - time.monotonic()), budget=self._timeout):
                return function(item)

        work = list(items)
        if len(work) <= 1:
            return [bounded(item) for item in work]
        with ThreadPoolExecutor(max_workers=min(self.jobs, len(work))) as pool:
            return list(pool.map(bounded, work))

    # --- HTTP -----------------------------------------------------------------------

    def _session(self) -> requests.Session:
        # One session per thread: requests does not promise a shared one is thread-safe.
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            import requests

            from hatch_attest._http import BoundedAdapter, mount

            session = mount(requests.Session(), BoundedAdapter())
            session.headers["User-Agent"] = "hatch-attest"
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _get_json(self, url: str, accept: str) -> Any:
        """The JSON document at ``url``; None for a 404; IndexServiceError otherwise."""
        import requests

        from hatch_attest._http import BudgetExhausted, deadline, remaining

        try:
            with (
                deadline(
                    max(0.0, min(remaining(), self._end - time.monotonic())), budget=self._timeout
                ),
                self._session().get(url, headers={"Accept": accept}, stream=True) as response,
            ):
                if response.status_code == 404:
                    return None
                body = self._read(url, response)
                if response.status_code != 200:
                    text = body.decode("utf-8", "replace").strip()[:_QUOTE_LIMIT]
                    msg = (
                        f"{url}: the index answered {response.status_code} "
                        f"{response.reason or ''}".rstrip()
                        + (f": {text}" if text else "")
                        + "; try again later, or check --index"
                    )
                    raise IndexServiceError(redact(msg))
        except BudgetExhausted as e:
            # It names the URL and the budget: one budget for all requests, --timeout.
            raise IndexServiceError(redact(f"{e}; raise it with --timeout")) from None
        except requests.RequestException as e:
            raise IndexServiceError(redact(f"{url}: {e}")) from None
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            snippet = body[:60].decode("utf-8", "replace")
            msg = f"{url}: the answer is not JSON (it starts with {snippet!r})"
            raise IndexServiceError(redact(msg)) from None

    def _read(self, url: str, response: requests.Response) -> bytes:
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise IndexServiceError(self._too_large(url, f"{int(length)} bytes"))
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > self.max_bytes:
                raise IndexServiceError(self._too_large(url, "more"))
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, url: str, size: str) -> str:
        return (
            f"{url}: the answer is {size} long, more than the {self.max_bytes} bytes any "
            "real answer needs; refusing to read it (is --index a package index?)"
        )


# --- verification ---------------------------------------------------------------------


def identity_of(publisher: object) -> dict[str, str]:
    """A provenance bundle's publisher as a PEP 751 ``attestation-identities`` table."""
    dump = getattr(publisher, "model_dump", None)
    raw: Mapping[str, Any] = dump(mode="json", exclude_none=True) if callable(dump) else {}
    return {str(k): str(v) for k, v in raw.items() if isinstance(v, str | int)}


def describe_identity(identity: Mapping[str, Any]) -> str:
    """An identity in the ``--publisher`` spelling (``github:OWNER/REPO@WORKFLOW.yml``)."""
    from hatch_attest._kinds import from_identity

    publisher = from_identity(identity)
    if publisher is None:
        return json.dumps(dict(identity), sort_keys=True)
    where = f" (environment {identity['environment']})" if identity.get("environment") else ""
    return publisher.spec() + where


def identity_matches(pinned: Mapping[str, Any], found: Mapping[str, Any]) -> bool:
    """True when ``found`` is the publisher ``pinned`` names.

    Every key of the pinned table must hold the same value in ``found`` (``kind``
    compared without case, as PEP 751 leaves its spelling to the index); a pin without
    ``environment`` accepts any environment, as a Trusted Publisher without one does.
    """
    if str(pinned.get("kind", "")).casefold() != str(found.get("kind", "")).casefold():
        return False
    return all(key == "kind" or str(found.get(key)) == str(value) for key, value in pinned.items())


def verify_file(
    file: IndexFile,
    provenance: Provenance | None,
    verifier: Verifier,
    expected: Mapping[str, str] | None = None,
) -> FileVerdict:
    """Verify every attestation of every bundle of ``provenance`` for ``file``.

    Each against the file's name and sha256 and its bundle's publisher; with
    ``expected`` (an identity table), every bundle's publisher must also be that one.
    """
    from pydantic import ValidationError
    from pypi_attestations import Distribution

    from hatch_attest._inspection import describe_attestation
    from hatch_attest._verify import verify_attestation

    if provenance is None:
        return FileVerdict(file.filename, file.sha256, "no-provenance", "")
    bundles = provenance.attestation_bundles
    if not bundles or not any(b.attestations for b in bundles):
        return FileVerdict(
            file.filename, file.sha256, "failed", "the provenance holds no attestation"
        )
    try:
        dist = Distribution(name=file.filename, digest=file.sha256)
    except ValidationError:
        msg = f"the index lists it with sha256 {file.sha256!r}, or a name no index accepts"
        return FileVerdict(file.filename, file.sha256, "failed", msg)

    identities: list[dict[str, str]] = []
    sources: list[str] = []
    for bundle in bundles:
        identity = identity_of(bundle.publisher)
        who = describe_identity(identity)
        if expected is not None and not identity_matches(expected, identity):
            msg = (
                f"published by {who}, not by the expected {describe_identity(expected)} "
                "(--publisher)"
            )
            return FileVerdict(file.filename, file.sha256, "failed", msg)
        for attestation in bundle.attestations:
            try:
                verify_attestation(attestation, dist, bundle.publisher, verifier)
                claims = describe_attestation(attestation, Path(file.filename)).claims
            except AttestError as e:
                msg = f"an attestation of {who} does not verify: {e}"
                return FileVerdict(file.filename, file.sha256, "failed", redact(msg))
            except Exception as e:
                # PyPI-served data a verifier chokes on is a failed file, never a crash.
                msg = f"an attestation of {who} cannot be verified: {type(e).__name__}: {e}"
                return FileVerdict(file.filename, file.sha256, "failed", redact(msg))
            source = _source(claims)
            if source not in sources:
                sources.append(source)
        if identity not in identities:
            identities.append(identity)
    count = sum(len(b.attestations) for b in bundles)
    who = ", ".join(describe_identity(i) for i in identities)
    detail = f"as {who}, {'; '.join(sources)} ({count} attestation{'s' if count > 1 else ''})"
    return FileVerdict(file.filename, file.sha256, "verified", detail, tuple(identities))


def _source(claims: Mapping[str, str]) -> str:
    workflow = claims.get("build_config_uri") or claims.get("build_signer_uri")
    commit = claims.get("source_repository_digest")
    parts = [f"workflow {workflow}" if workflow else "", f"commit {commit}" if commit else ""]
    return ", ".join(p for p in parts if p) or f"issuer {claims.get('issuer', 'unknown')}"


def fetch_and_verify(
    client: IndexClient,
    name: str,
    version: str,
    files: Sequence[IndexFile],
    verifier: Verifier,
    *,
    expected: Mapping[str, str] | None = None,
) -> list[FileVerdict]:
    """Each file's provenance fetched once (concurrently) and verified; errors become verdicts."""

    def one(file: IndexFile) -> FileVerdict:
        try:
            provenance = client.provenance(name, version, file.filename)
        except IndexServiceError as e:
            return FileVerdict(file.filename, file.sha256, "failed", str(e))
        return verify_file(file, provenance, verifier, expected)

    return client.map(one, files)


def verify_release(
    client: IndexClient,
    name: str,
    version: str,
    verifier: Verifier,
    expected: Mapping[str, str] | None = None,
) -> ReleaseReport:
    """Every file of ``name`` ``version`` as the index serves it, verified.

    IndexServiceError when the release cannot be listed; per-file problems (no
    provenance, an Integrity API failure, an attestation that does not verify) are
    verdicts in the report.
    """
    files = client.map(lambda _: client.release(name, version), [None])[0]
    verdicts = fetch_and_verify(client, name, version, files, verifier, expected=expected)
    return ReleaseReport(name, version, tuple(verdicts))


def load_verifier(instance: str, trust_config: Path | None, *, offline: bool) -> Verifier:
    """The verifier of ``verify``: a trust config file, else a public instance's TUF root."""
    from hatch_attest._trust import load_trust_config, verifier_for

    return verifier_for(load_trust_config(instance, trust_config, offline=offline))


def verify_release_command(
    spec: str,
    *,
    verifier: Verifier,
    index: str = DEFAULT_INDEX,
    expected: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int = DEFAULT_JOBS,
    out: Callable[[str], None] = print,
    info: Callable[[str], None] = print,
) -> int:
    """``hatch-attest verify pypi:NAME==VERSION``: one line per file on ``out``; the exit status.

    0 when every file of the release verifies, 1 otherwise (a file without
    provenance or that fails, or an index that cannot be read).
    """
    name, version = parse_release_spec(spec)
    if expected is not None:
        info(f"Verifying {name} {version} on {index}, published by {describe_identity(expected)}")
    else:
        info(f"Verifying {name} {version} on {index}")
    with IndexClient(index, timeout=timeout, jobs=jobs) as client:
        report = verify_release(client, name, version, verifier, expected)
    if report.verdicts:
        out(report.render())
    if not report.verdicts:
        info(f"{name} {version} has no files on {index}")
        return 1
    bad = sum(not v.ok for v in report.verdicts)
    if bad:
        info(f"{bad} of {len(report.verdicts)} file(s) of {name} {version} do not verify")
        return 1
    info(f"all {len(report.verdicts)} file(s) of {name} {version} verify")
    return 0
