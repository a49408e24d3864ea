"""`LocalIndex`: PyPI's upload path, emulated on 127.0.0.1 next to a `LocalSigstore`.

What the real uploaders (twine, uv) and PyPI do with a release, so that tests
and the demo can upload for real:

- Trusted Publishing: `GET /_/oidc/audience` and `POST /_/oidc/mint-token`
  verify an ID token from the `LocalSigstore`'s issuers, match its claims to a
  configured Trusted Publisher the way warehouse's `lookup_by_claims` and
  `verify_claims` do, and mint a short-lived upload token (uv's
  `POST /_/oidc/burn-token` revokes it);
- the legacy upload API, `POST /legacy/` (multipart, `:action=file_upload`),
  authenticated as `__token__` with a Trusted Publishing token or an API token,
  and applying warehouse's attestation rules in warehouse's order with its
  wording (`forklift/legacy.py`, `attestations/services.py`). Each attestation
  is verified with `hatch_attest._verify.verify_attestation` against this
  Sigstore instance's trusted root and the upload's Trusted Publisher;
- read-back: the simple API (`/simple/<project>/`, HTML or PEP 691 JSON), the
  files (`/files/<name>`), the JSON API of a release (`/pypi/<project>/<version>/json`:
  `urls[]` with `filename`, `digests.sha256`, `url`) and the Integrity API
  (`/integrity/<project>/<version>/<file>/provenance`, PEP 740 provenance).
  `add_file()` publishes a file with a given provenance without an upload (real
  provenance made elsewhere, or many files for a benchmark).

It serves HTTPS with its own throwaway CA: twine and uv build the Trusted
Publishing URLs as `https://<host>/...`. twine also uses Trusted Publishing only
for PyPI's own upload URLs, so `client_env()` routes `upload.pypi.org` (and
`test.pypi.org`, `pypi.org`) to this index through a local proxy.

Not emulated: accounts, projects created by upload with a pending publisher,
metadata and file content validation beyond names and digests, wheel/sdist
inspection, the JSON API's `info` beyond name and version, yanking, persistence.
Publisher checks skip `repository_owner_id` (a Trusted Publisher here names no owner id).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import email.parser
import email.policy
import hashlib
import html
import json
import re
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)
from pydantic import TypeAdapter, ValidationError
from pypi_attestations import (
    Attestation,
    AttestationBundle,
    AttestationType,
    Distribution,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
    Provenance,
)
from sigstore.models import ClientTrustConfig
from sigstore.verify import Verifier

from hatch_attest._verify import _Rejected, verify_attestation  # private: carries PyPI's words
from hatch_attest.errors import VerificationError
from hatch_attest_testing._faults import Fault, Oversized, ProvenanceOf, Tampered
from hatch_attest_testing._http import Reply, Request, json_reply
from hatch_attest_testing._identity import GITHUB_ISSUER, GITLAB_ISSUER, GOOGLE_ISSUER, Claims
from hatch_attest_testing._instance import LocalSigstore
from hatch_attest_testing._oidc import TokenError
from hatch_attest_testing._proxy import TunnelProxy
from hatch_attest_testing._server import ServedService, Server
from hatch_attest_testing._tls import server_credentials

INDEX_ENDPOINTS = (
    "audience", "mint-token", "burn-token", "upload", "simple", "files", "json", "integrity",
)  # fmt: skip
"""The endpoints of `LocalIndex`, for `counts()` and `inject()`."""

PYPI_HOSTS = ("upload.pypi.org", "test.pypi.org", "pypi.org")
"""Host names the index answers for through `client_env()`'s proxy."""

TrustedPublisher = GitHubPublisher | GitLabPublisher | GooglePublisher
"""A Trusted Publisher, given the way warehouse hands it to `Attestation.verify`."""

_AUDIENCE = "pypi"
_TOKEN_LIFETIME = 900  # seconds, as warehouse's OIDC-minted macaroons
_HELP = "https://pypi.org/help/"
_SUPPORTED_ATTESTATION_TYPES = (AttestationType.PYPI_PUBLISH_V1, AttestationType.SLSA_PROVENANCE_V1)
_INTEGRITY_TYPE = "application/vnd.pypi.integrity.v1+json"
_SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
_BACKDATE = datetime.timedelta(minutes=5)
# Pyramid's plain-text body for HTTPBadRequest / HTTPForbidden.
_EXPLANATIONS = {
    400: (
        "Bad Request",
        "The server could not comply with the request since it is either malformed "
        "or otherwise incorrect.",
    ),
    403: ("Forbidden", "Access was denied to this resource."),
}
# warehouse `_WORKFLOW_FILENAME_RE` (oidc/models/github.py).
_GITHUB_WORKFLOW = re.compile(r"([^/]+\.(yml|yaml))(?=@)")
# warehouse `_WORKFLOW_FILEPATH_RE` (oidc/models/gitlab.py).
_GITLAB_WORKFLOW = re.compile(r"(?<=//)(.*[^/]\.(yml|yaml))(?=@)")


class _InvalidPublisherError(Exception):
    """warehouse's `InvalidPublisherError`: the token's claims match no Trusted Publisher."""


class _UploadError(Exception):
    """An upload refused with `status` and warehouse's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class UploadedFile:
    """One file the index accepted, as PyPI would keep it."""

    project: str
    """The project name as uploaded (`canonicalize_name` it to compare)."""
    version: str
    filename: str
    sha256: str
    content: bytes
    trusted_publisher: TrustedPublisher | None
    """The Trusted Publisher that uploaded it; None for an API-token upload."""
    attestations: tuple[Attestation, ...]
    provenance: dict[str, Any] | None
    """The Integrity API's answer for it (PEP 740 provenance), if it has attestations."""


@dataclass(frozen=True)
class Refusal:
    """One request the index refused, with warehouse's words (what an uploader shows)."""

    endpoint: str
    """``"upload"`` or ``"mint-token"`` (see `INDEX_ENDPOINTS`)."""
    status: int
    message: str
    """The upload's 4xx message, or the token exchange's ``code: description``."""
    filename: str | None = None
    """The uploaded file's name, when the request got far enough to name one."""


@dataclass
class _UploadToken:
    publisher: TrustedPublisher | None
    projects: frozenset[str]  # canonical names; empty: any project (an API token)
    expires: float | None


@dataclass(frozen=True)
class _Part:
    value: bytes
    filename: str | None
    content_type: str | None


class LocalIndex(ServedService):
    """A package index with PyPI's upload rules and Trusted Publishing, on 127.0.0.1.

    Start it with `LocalIndex.start(sigstore)`, register Trusted Publishers with
    `add_publisher()`, give uploaders `client_env()`, then read back `files()`.
    """

    def __init__(self, sigstore: LocalSigstore, *, directory: Path | None) -> None:
        """Use `LocalIndex.start()`; this makes the keys but serves nothing."""
        self._sigstore = sigstore
        self._own_directory = directory is None
        self._directory = (
            Path(tempfile.mkdtemp(prefix="local-index-")) if directory is None else directory
        )
        self._directory.mkdir(parents=True, exist_ok=True)
        not_before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        credentials = server_credentials(
            self._directory, hosts=("localhost", *PYPI_HOSTS), not_before=not_before - _BACKDATE
        )
        self.ca_path: Path = credentials.ca_path
        """The PEM certificate of the index's own CA: what clients must trust."""
        self._server = Server(INDEX_ENDPOINTS, tls=credentials.context())
        self.url: str = self._server.url
        """`https://127.0.0.1:<port>`."""
        self.upload_url: str = f"{self.url}/legacy/"
        """The upload URL by address (uploaders that need no proxy: uv)."""
        host, port = self._server.server_address[:2]
        self._proxy = TunnelProxy((str(host), port), frozenset(PYPI_HOSTS))
        self._trusted_root = ClientTrustConfig.from_json(
            sigstore.trust_config_path.read_text()
        ).trusted_root
        self._lock = threading.Lock()
        self._publishers: list[tuple[str, TrustedPublisher]] = []
        self._tokens: dict[str, _UploadToken] = {}
        self._used_jti: set[str] = set()
        self._files: list[UploadedFile] = []
        self._refusals: list[Refusal] = []

        route = self._server.route
        route("GET", "/_/oidc/audience", "audience", self._audience)
        route("POST", "/_/oidc/mint-token", "mint-token", self._mint_token)
        route("POST", "/_/oidc/burn-token", "burn-token", self._burn_token)
        route("POST", "/legacy/", "upload", self._upload)
        self._server.route_prefix("GET", "/simple/", "simple", self._simple)
        self._server.route_prefix("GET", "/files/", "files", self._file)
        self._server.route_prefix("GET", "/pypi/", "json", self._json_api)
        self._server.route_prefix("GET", "/integrity/", "integrity", self._integrity)

    @classmethod
    def start(cls, sigstore: LocalSigstore, *, directory: Path | None = None) -> LocalIndex:
        """Makes a CA and certificate, and starts serving.

        Tokens are verified against `sigstore`'s issuers and attestations against
        its trusted root. Certificates go to `directory`, or to a temporary
        directory that `stop()` removes.
        """
        index = cls(sigstore, directory=directory)
        index._server.start()
        index._proxy.start()
        return index

    def stop(self) -> None:
        """Stops serving, releases hung requests and joins every thread."""
        self._proxy.close()
        self._server.close()
        if self._own_directory:
            shutil.rmtree(self._directory, ignore_errors=True)

    # --- Configuration -------------------------------------------------------------

    def add_publisher(self, project: str, publisher: TrustedPublisher) -> None:
        """Registers `publisher` as a Trusted Publisher of `project`."""
        with self._lock:
            self._publishers.append((canonicalize_name(project), publisher))

    def api_token(self) -> str:
        """A new API token (the password for `__token__`) that may upload any project."""
        token = f"pypi-{secrets.token_urlsafe(32)}"
        with self._lock:
            self._tokens[token] = _UploadToken(None, frozenset(), None)
        return token

    def client_env(self) -> dict[str, str]:
        """What an uploader's environment needs to reach this index as PyPI.

        `HTTPS_PROXY` sends `upload.pypi.org` (and `test.pypi.org`, `pypi.org`)
        to this index; `NO_PROXY` keeps the loopback services (the GitHub token
        endpoint) direct; `REQUESTS_CA_BUNDLE` (twine, `id`) and `SSL_CERT_FILE`
        (uv) trust the index's CA.
        """
        ca = str(self.ca_path)
        proxy = self._proxy.url
        return {
            "HTTPS_PROXY": proxy,
            "https_proxy": proxy,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "REQUESTS_CA_BUNDLE": ca,
            "SSL_CERT_FILE": ca,
        }

    # --- Read-back -----------------------------------------------------------------

    def files(self, project: str | None = None) -> list[UploadedFile]:
        """The accepted files, in upload order; only `project`'s when given."""
        with self._lock:
            files = list(self._files)
        if project is None:
            return files
        return [f for f in files if canonicalize_name(f.project) == canonicalize_name(project)]

    def add_file(
        self,
        project: str,
        version: str,
        filename: str,
        content: bytes,
        *,
        provenance: dict[str, Any] | None = None,
        sha256: str | None = None,
    ) -> UploadedFile:
        """Publishes `filename` as if uploaded, with `provenance` as the Integrity API's answer.

        Nothing is checked: this is for provenance made elsewhere (real public-good
        attestations) and for many synthetic files. `sha256` defaults to the
        content's; give it to serve a file whose bytes are not kept (a benchmark).
        """
        uploaded = UploadedFile(
            project=project,
            version=version,
            filename=filename,
            sha256=sha256 or hashlib.sha256(content).hexdigest(),
            content=content,
            trusted_publisher=None,
            attestations=(),
            provenance=provenance,
        )
        with self._lock:
            self._files.append(uploaded)
        return uploaded

    def refusals(self) -> list[Refusal]:
        """The uploads and token exchanges refused so far, in order, with their reasons."""
        with self._lock:
            return list(self._refusals)

    # --- Faults and counts ---------------------------------------------------------

    def inject(self, endpoint: str, fault: Fault, *, times: int | None = None) -> None:
        """Makes `endpoint` misbehave: a transport `Fault` on every request or the next `times`."""
        self._server.faults.set(endpoint, fault, times)

    def reset(self) -> None:
        """Clears faults, counts, files and publishers; the CA and tokens stay."""
        self._server.reset()
        with self._lock:
            self._files.clear()
            self._publishers.clear()
            self._refusals.clear()

    # --- Trusted Publishing --------------------------------------------------------

    def _audience(self, request: Request, fault: Fault | None) -> Reply:
        return json_reply(200, {"audience": _AUDIENCE})

    def _mint_token(self, request: Request, fault: Fault | None) -> Reply:
        reply = self._exchange(request)
        if reply.status != 200:
            try:
                [error] = json.loads(reply.body)["errors"]
                message = f"{error['code']}: {error['description']}"
            except (ValueError, KeyError, TypeError):
                message = reply.body.decode(errors="replace")
            with self._lock:
                self._refusals.append(Refusal("mint-token", reply.status, message))
        return reply

    def _exchange(self, request: Request) -> Reply:
        """warehouse `mint_token_from_oidc`, with its error codes and descriptions."""
        try:
            document = json.loads(request.body)
        except ValueError as e:
            return _token_failure("invalid-payload", f"invalid JSON: {e}")
        token = document.get("token") if isinstance(document, dict) else None
        if not isinstance(token, str):
            return _token_failure("invalid-payload", "the payload has no string `token`")
        try:
            unverified = json.loads(_unb64url(token.split(".")[1]))
            issuer = unverified["iss"]
        except (ValueError, IndexError, KeyError, TypeError, binascii.Error):
            return _token_failure("invalid-payload", "malformed JWT")
        if issuer not in (GITHUB_ISSUER, GITLAB_ISSUER, GOOGLE_ISSUER):
            return _token_failure("invalid-payload", "unknown trusted publishing issuer")
        try:
            claims = self._sigstore.verify_id_token(token, audience=_AUDIENCE)
        except TokenError:
            return _token_failure("invalid-token", "malformed or invalid token")
        try:
            publisher, projects = self._find_publisher(claims)
        except _InvalidPublisherError as e:
            return _token_failure(
                "invalid-publisher", f"valid token, but no corresponding publisher ({e})"
            )
        jti = claims.get("jti")
        upload_token = f"pypi-{secrets.token_urlsafe(32)}"
        expires = int(time.time()) + _TOKEN_LIFETIME
        with self._lock:
            if jti is not None and jti in self._used_jti:
                return _token_failure("invalid-reuse-token", "invalid token: already used")
            if jti is not None:
                self._used_jti.add(str(jti))
            self._tokens[upload_token] = _UploadToken(publisher, projects, expires)
        return json_reply(200, {"success": True, "token": upload_token, "expires": expires})

    def _burn_token(self, request: Request, fault: Fault | None) -> Reply:
        try:
            token = json.loads(request.body).get("token")
        except (ValueError, AttributeError):
            token = None
        with self._lock:
            if not isinstance(token, str) or self._tokens.pop(token, None) is None:
                return json_reply(422, {"message": "Token burn failed"})
        return json_reply(200, {"success": True})

    def _find_publisher(self, claims: Claims) -> tuple[TrustedPublisher, frozenset[str]]:
        """warehouse `find_publisher`: lookup by claims, then `verify_claims`."""
        with self._lock:
            registered = list(self._publishers)
        publisher: TrustedPublisher
        if claims.get("iss") == GITHUB_ISSUER:
            publisher = _github_lookup(claims, [p for _, p in registered])
        elif claims.get("iss") == GITLAB_ISSUER:
            publisher = _gitlab_lookup(claims, [p for _, p in registered])
        else:
            publisher = _google_lookup(claims, [p for _, p in registered])
        projects = frozenset(name for name, p in registered if p == publisher)
        return publisher, projects

    # --- Upload --------------------------------------------------------------------

    def _upload(self, request: Request, fault: Fault | None) -> Reply:
        try:
            self._accept(request)
        except _UploadError as e:
            try:
                content = _parse_form(request).get("content")
            except _UploadError:
                content = None
            filename = None if content is None else content.filename
            with self._lock:
                self._refusals.append(Refusal("upload", e.status, str(e), filename))
            return _error(e.status, str(e))
        return Reply(200, b"OK", "text/plain")

    def _accept(self, request: Request) -> None:
        """warehouse `file_upload`, the steps that concern attestations, in its order."""
        token = self._authenticate(request)
        form = _parse_form(request)
        if _text(form, ":action") != "file_upload":
            raise _UploadError(400, "Unknown action.")
        if _text(form, "protocol_version", "1") != "1":
            raise _UploadError(400, "Unknown protocol version.")
        for field in ("name", "version", "filetype"):
            if not _text(form, field):
                raise _UploadError(
                    400, f"Invalid value for {field}. Error: This field is required."
                )
        name, version = _text(form, "name"), _text(form, "version")
        content = form.get("content")
        if content is None or content.filename is None:
            raise _UploadError(400, "Upload payload does not have a file.")

        project = canonicalize_name(name)
        if token.publisher is not None and project not in token.projects:
            raise _UploadError(
                403,
                f"The given token isn't allowed to upload to project {name!r}. "
                f"See {_HELP}#project-name for more information.",
            )
        filename = content.filename
        _check_filename(filename, name, version)

        sha256 = hashlib.sha256(content.value).hexdigest()
        supplied = _text(form, "sha256_digest").lower()
        if supplied and supplied != sha256:
            raise _UploadError(
                400,
                "The digest supplied does not match a digest calculated from the uploaded file.",
            )
        if self._already_stored(filename, content.value):
            return  # warehouse answers a re-upload of the same file with 200

        attestations: list[Attestation] = []
        if "attestations" in form:
            try:
                attestations = self._parse_attestations(
                    token, form["attestations"].value, Distribution(name=filename, digest=sha256)
                )
            except _UploadError as e:
                raise _UploadError(
                    400, f"Invalid attestations supplied during upload: {e}"
                ) from None

        provenance = None
        if attestations and token.publisher is not None:  # only Trusted Publishing may attest
            bundle = AttestationBundle(publisher=token.publisher, attestations=attestations)
            provenance = Provenance(attestation_bundles=[bundle]).model_dump(mode="json")
        uploaded = UploadedFile(
            project=name,
            version=version,
            filename=filename,
            sha256=sha256,
            content=content.value,
            trusted_publisher=token.publisher,
            attestations=tuple(attestations),
            provenance=provenance,
        )
        with self._lock:
            # Checked again: another upload of this name may have landed meanwhile.
            if not self._already_stored(filename, content.value, locked=True):
                self._files.append(uploaded)

    def _already_stored(self, filename: str, content: bytes, *, locked: bool = False) -> bool:
        """True for the same file again; `_UploadError` for another file of that name."""
        if not locked:
            with self._lock:
                return self._already_stored(filename, content, locked=True)
        existing = next((f for f in self._files if f.filename == filename), None)
        if existing is None:
            return False
        if existing.content == content:
            return True
        blake2 = hashlib.blake2b(content, digest_size=32).hexdigest()
        raise _UploadError(
            400,
            f"File already exists ({filename!r}, with blake2_256 hash {blake2!r}). "
            f"See {_HELP}#file-name-reuse for more information.",
        )

    def _authenticate(self, request: Request) -> _UploadToken:
        scheme, _, credentials = (request.headers.get("Authorization") or "").partition(" ")
        password = None
        if scheme.lower() == "basic":
            try:
                username, _, password = base64.b64decode(credentials).decode().partition(":")
            except (ValueError, binascii.Error):
                username = ""
            if username != "__token__":
                password = None
        with self._lock:
            token = self._tokens.get(password or "")
        if token is None or (token.expires is not None and token.expires < time.time()):
            raise _UploadError(
                403,
                "Invalid or non-existent authentication information. "
                f"See {_HELP}#invalid-auth for more information.",
            )
        return token

    def _parse_attestations(
        self, token: _UploadToken, raw: bytes, dist: Distribution
    ) -> list[Attestation]:
        """warehouse `IntegrityService.parse_attestations`, with its messages."""
        publisher = token.publisher
        if publisher is None:
            raise _UploadError(400, "Attestations are only supported when using Trusted Publishing")
        try:
            attestations = TypeAdapter(list[Attestation]).validate_json(raw)
        except ValidationError as e:
            raise _UploadError(400, f"Malformed attestations: {e}") from None
        if not attestations:
            raise _UploadError(
                400, "Malformed attestations: an empty attestation set is not permitted"
            )
        if len(attestations) > len(_SUPPORTED_ATTESTATION_TYPES):
            raise _UploadError(
                400,
                f"A maximum of {len(_SUPPORTED_ATTESTATION_TYPES)} attestations "
                "per file are supported",
            )
        verifier = Verifier(trusted_root=self._trusted_root)
        seen: set[str] = set()
        for attestation in attestations:
            try:
                predicate_type, _ = verify_attestation(attestation, dist, publisher, verifier)
            except _Rejected as e:
                raise _UploadError(400, e.pypi_message) from None
            except VerificationError as e:
                raise _UploadError(
                    400, f"Unknown error while trying to verify included attestations: {e}"
                ) from None
            if predicate_type not in {t.value for t in _SUPPORTED_ATTESTATION_TYPES}:
                raise _UploadError(
                    400, f"Attestation with unsupported predicate type: {predicate_type}"
                )
            if predicate_type in seen:
                raise _UploadError(
                    400,
                    "Multiple attestations for the same file with the same predicate type "
                    f"({predicate_type}) are not supported",
                )
            seen.add(predicate_type)
        return attestations

    # --- Read-back over HTTP ------------------------------------------------------

    def _simple(self, request: Request, fault: Fault | None) -> Reply:
        project = canonicalize_name(unquote(request.path.removeprefix("/simple/").strip("/")))
        files = self.files(project)
        if not files:
            return _error(404, f"No project {project!r}")
        entries = [
            {
                "filename": f.filename,
                "url": f"{self.url}/files/{quote(f.filename)}",
                "hashes": {"sha256": f.sha256},
                "provenance": None if f.provenance is None else self.provenance_url(f),
            }
            for f in files
        ]
        if _SIMPLE_JSON in (request.headers.get("Accept") or ""):
            document = {
                "meta": {"api-version": "1.4"},
                "name": project,
                "versions": sorted({f.version for f in files}),
                "files": entries,
            }
            return Reply(200, json.dumps(document).encode(), _SIMPLE_JSON)
        links = []
        for f in files:
            url = html.escape(f"{self.url}/files/{quote(f.filename)}#sha256={f.sha256}")
            provenance = (
                ""
                if f.provenance is None
                else f' data-provenance="{html.escape(self.provenance_url(f))}"'
            )
            links.append(f'<a href="{url}"{provenance}>{html.escape(f.filename)}</a><br/>')
        page = (
            "<!DOCTYPE html>\n<html><head>"
            '<meta name="pypi:repository-version" content="1.4">'
            f"<title>Links for {html.escape(project)}</title></head>\n"
            f"<body><h1>Links for {html.escape(project)}</h1>\n"
            + "\n".join(links)
            + "\n</body></html>\n"
        )
        return Reply(200, page.encode(), "text/html")

    def _file(self, request: Request, fault: Fault | None) -> Reply:
        filename = unquote(request.path.removeprefix("/files/"))
        found = next((f for f in self.files() if f.filename == filename), None)
        if found is None:
            return _error(404, f"No file {filename!r}")
        return Reply(200, found.content, "application/octet-stream")

    def _release_files(self, project: str, version: str) -> list[UploadedFile]:
        return [
            f
            for f in self.files(project)
            if canonicalize_version(f.version) == canonicalize_version(version)
        ]

    def _json_api(self, request: Request, fault: Fault | None) -> Reply:
        """warehouse's JSON API for one release: `GET /pypi/<project>/<version>/json`."""
        parts = unquote(request.path.removeprefix("/pypi/")).split("/")
        if len(parts) != 3 or parts[2] != "json":
            return _error(404, "Not Found")
        if isinstance(fault, Oversized):
            return _oversized(fault)
        files = self._release_files(canonicalize_name(parts[0]), parts[1])
        if not files:
            return json_reply(404, {"message": "Not Found"})
        urls = [
            {
                "filename": f.filename,
                "packagetype": "bdist_wheel" if f.filename.endswith(".whl") else "sdist",
                "digests": {
                    # Tampered: the bytes served changed after upload (their digest too).
                    "sha256": hashlib.sha256(f.sha256.encode() + b"tampered").hexdigest()
                    if isinstance(fault, Tampered)
                    else f.sha256
                },
                "url": f"{self.url}/files/{quote(f.filename)}",
            }
            for f in files
        ]
        info = {"name": files[0].project, "version": files[0].version}
        return json_reply(200, {"info": info, "urls": urls})

    def _integrity(self, request: Request, fault: Fault | None) -> Reply:
        """warehouse `provenance_for_file`."""
        parts = unquote(request.path.removeprefix("/integrity/")).split("/")
        if len(parts) != 4 or parts[3] != "provenance":
            return _error(404, "Not Found")
        project, version, filename = canonicalize_name(parts[0]), parts[1], parts[2]
        found = next(
            (
                f
                for f in self.files(project)
                if f.filename == filename
                and canonicalize_version(f.version) == canonicalize_version(version)
            ),
            None,
        )
        if found is None:
            return _error(404, "Not Found")
        if isinstance(fault, Oversized):
            return _oversized(fault)
        if isinstance(fault, ProvenanceOf):
            found = next((f for f in self.files() if f.filename == fault.filename), found)
        if found.provenance is None:
            return json_reply(404, {"message": f"No provenance available for {filename}"})
        content_type = (
            "application/json"
            if "application/json" in (request.headers.get("Accept") or "")
            and _INTEGRITY_TYPE not in (request.headers.get("Accept") or "")
            else _INTEGRITY_TYPE
        )
        return Reply(200, json.dumps(found.provenance).encode(), content_type)

    def provenance_url(self, file: UploadedFile) -> str:
        """The Integrity API URL of `file`'s provenance."""
        return (
            f"{self.url}/integrity/{canonicalize_name(file.project)}/{quote(file.version)}/"
            f"{quote(file.filename)}/provenance"
        )


# --- Trusted Publisher matching (warehouse oidc/models) ------------------------------


def _require(claims: Claims, names: tuple[str, ...]) -> None:
    for name in names:
        if claims.get(name) is None:
            msg = f"Missing claim {name!r}"
            raise _InvalidPublisherError(msg)


def _by_environment(candidates: list[Any], environment: str | None, *, fold: bool) -> Any:
    """warehouse `_get_publisher_for_environment`: an environment-bound publisher first."""

    def same(configured: str | None) -> bool:
        if configured is None or environment is None:
            return False
        return configured.lower() == environment.lower() if fold else configured == environment

    specific = next((p for p in candidates if environment and same(p.environment)), None)
    general = next((p for p in candidates if not p.environment), None)
    publisher = specific or general
    if publisher is None:
        msg = "Publisher with matching claims was not found"
        raise _InvalidPublisherError(msg)
    return publisher


def _github_lookup(claims: Claims, registered: list[TrustedPublisher]) -> GitHubPublisher:
    _require(
        claims,
        ("repository", "repository_owner", "repository_owner_id", "job_workflow_ref", "jti",
         "event_name", "ref", "sha"),
    )  # fmt: skip
    repository: str = claims["repository"]
    match = _GITHUB_WORKFLOW.search(claims["job_workflow_ref"])
    if match is None:
        msg = "Could not job extract workflow filename from OIDC claims"
        raise _InvalidPublisherError(msg)
    candidates = [
        p
        for p in registered
        if isinstance(p, GitHubPublisher)
        and p.repository == repository
        and p.workflow == match.group(0)
    ]
    publisher: GitHubPublisher = _by_environment(candidates, claims.get("environment"), fold=True)
    # verify_claims, in warehouse's order.
    if repository.lower() != publisher.repository.lower():
        msg = "Check failed for required claim 'repository'"
        raise _InvalidPublisherError(msg)
    if claims["repository_owner"] != publisher.repository.split("/", 1)[0]:
        msg = "Check failed for required claim 'repository_owner'"
        raise _InvalidPublisherError(msg)
    expected = sorted(
        f"{publisher.repository}/.github/workflows/{publisher.workflow}@{ref}"
        for ref in (claims.get("ref"), claims.get("sha"))
        if ref
    )
    if claims["job_workflow_ref"] not in expected:
        msg = (
            "The job_workflow_ref claim does not match, expecting one of "
            f"{expected!r}, got {claims['job_workflow_ref']!r}"
        )
        raise _InvalidPublisherError(msg)
    if claims["event_name"] == "pull_request_target":
        msg = "Publishing from a workflow invoked via 'pull_request_target' is not supported."
        raise _InvalidPublisherError(msg)
    return publisher


def _google_lookup(claims: Claims, registered: list[TrustedPublisher]) -> GooglePublisher:
    """warehouse's Google publisher: looked up by `email`; `email_verified` must be true."""
    _require(claims, ("email", "sub", "jti"))
    candidates = [
        p for p in registered if isinstance(p, GooglePublisher) and p.email == claims["email"]
    ]
    if not candidates:
        msg = "Publisher with matching claims was not found"
        raise _InvalidPublisherError(msg)
    if claims.get("email_verified") is not True:
        msg = "Check failed for required claim 'email_verified'"
        raise _InvalidPublisherError(msg)
    return candidates[0]


def _gitlab_lookup(claims: Claims, registered: list[TrustedPublisher]) -> GitLabPublisher:
    _require(claims, ("sub", "project_path", "ci_config_ref_uri", "jti", "ref_path", "sha"))
    project_path: str = claims["project_path"]
    match = _GITLAB_WORKFLOW.search(claims["ci_config_ref_uri"])
    if match is None:
        msg = "Could not extract workflow filename from OIDC claims"
        raise _InvalidPublisherError(msg)
    candidates = [
        p
        for p in registered
        if isinstance(p, GitLabPublisher)
        and p.repository.lower() == project_path.lower()
        and p.workflow_filepath == match.group(0)
    ]
    publisher: GitLabPublisher = _by_environment(candidates, claims.get("environment"), fold=False)
    namespace, _, rest = str(claims["sub"]).partition(":")
    if (
        f"{namespace}:{rest.split(':', 1)[0]}".lower()
        != f"project_path:{publisher.repository}".lower()
    ):
        msg = "Check failed for required claim 'sub'"
        raise _InvalidPublisherError(msg)
    if project_path.lower() != publisher.repository.lower():
        msg = "Check failed for required claim 'project_path'"
        raise _InvalidPublisherError(msg)
    ground_truth = f"gitlab.com/{publisher.repository}//{publisher.workflow_filepath}"
    expected = sorted(f"{ground_truth}@{ref}" for ref in (claims["ref_path"], claims["sha"]))
    if claims["ci_config_ref_uri"] not in expected:
        msg = (
            "The ci_config_ref_uri claim does not match, expecting one of "
            f"{expected!r}, got {claims['ci_config_ref_uri']!r}"
        )
        raise _InvalidPublisherError(msg)
    return publisher


# --- HTTP details ------------------------------------------------------------------


def _token_failure(code: str, description: str) -> Reply:
    """warehouse `_invalid`: 422 with the errors twine and uv print."""
    return json_reply(
        422,
        {"message": "Token request failed", "errors": [{"code": code, "description": description}]},
    )


def _error(status: int, message: str) -> Reply:
    """warehouse `_exc_with_message`: the message is the status line's reason, and in the body."""
    title, explanation = _EXPLANATIONS.get(
        status, ("Not Found", "The resource could not be found.")
    )
    body = f"{status} {title}\n\n{explanation}\n\n{message}\n\n"
    return Reply(status, body.encode(), "text/plain; charset=UTF-8", reason=message)


def _oversized(fault: Oversized) -> Reply:
    """A syntactically valid JSON document of `fault.size` bytes."""
    padding = max(0, fault.size - len(b'{"padding": ""}'))
    return Reply(200, b'{"padding": "' + b"x" * padding + b'"}')


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _parse_form(request: Request) -> dict[str, _Part]:
    """The fields of a `multipart/form-data` body; the first of repeated fields."""
    content_type = request.headers.get("Content-Type") or ""
    if not content_type.startswith("multipart/form-data"):
        raise _UploadError(400, "Upload payload is not multipart/form-data.")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    fields: dict[str, _Part] = {}
    if not message.is_multipart():
        raise _UploadError(400, "Upload payload is not multipart/form-data.")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or name in fields:
            continue
        payload = part.get_payload(decode=True)
        filename = part.get_filename()
        fields[name] = _Part(
            payload if isinstance(payload, bytes) else b"",
            filename,
            part.get_content_type() if part.get("Content-Type") else None,
        )
    return fields


def _text(form: dict[str, _Part], name: str, default: str = "") -> str:
    part = form.get(name)
    return default if part is None else part.value.decode("utf-8", "replace")


def _check_filename(filename: str, name: str, version: str) -> None:
    """The file name rules of warehouse that decide which project and version a file is."""
    if "/" in filename or "\\" in filename:
        raise _UploadError(400, "Cannot upload a file with '/' or '\\' in the name.")
    try:
        if filename.endswith(".whl"):
            file_name, file_version, _, _ = parse_wheel_filename(filename)
        elif filename.endswith(".tar.gz"):
            file_name, file_version = parse_sdist_filename(filename)
        else:
            raise _UploadError(400, "Invalid file extension: Use .tar.gz or .whl")
    except (InvalidWheelFilename, InvalidSdistFilename) as e:
        raise _UploadError(400, f"Invalid distribution file. {e}") from None
    if file_name != canonicalize_name(name):
        raise _UploadError(
            400, f"Start filename for {name!r} with {canonicalize_name(name).replace('-', '_')!r}."
        )
    if canonicalize_version(file_version) != canonicalize_version(version):
        raise _UploadError(
            400, f"Version in filename should be {version!r} not {str(file_version)!r}."
        )
