"""`pypa/gh-action-pypi-publish`, reproduced for tests, and an index that records uploads.

:func:`run_action` follows the action's ``twine-upload.sh`` and ``attestations.py``
(release/v1) step by step, with the same inputs, checks and messages:

1. ``attestations`` is turned off unless the upload uses Trusted Publishing and
   the repository URL matches ``pypi\\.org`` (an unanchored regex, so the
   recorder's URL carries ``/upload.pypi.org/`` in its path);
2. ``twine check dist/*`` (``verify-metadata``, on by default);
3. with attestations on, ``attestations.py``: collect ``*.tar.gz``, ``*.zip`` and
   ``*.whl``; refuse, before signing anything, when any
   ``<dist>.publish.attestation`` exists; then sign each with
   ``pypi_attestations.Attestation.sign`` and write it;
4. ``twine upload [--attestations] --disable-progress-bar dist/*``.

Two deliberate differences: the Trusted Publishing exchange (``oidc-exchange.py``)
is skipped, because the recorder takes any API token; and signing uses the local
instance's trust config instead of ``SigningContext.production()``.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import os
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pypi_attestations import Attestation, Distribution
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityError, IdentityToken, detect_credential
from sigstore.sign import SigningContext

from hatch_attest_testing import run_bounded

# action.yml's defaults for the inputs the flow reads.
_DEFAULT_INPUTS = {
    "user": "__token__",
    "password": "",
    "verify-metadata": "true",
    "skip-existing": "false",
    "attestations": "true",
}


class ActionFailed(Exception):
    """The action's `die()`: the step fails with this message."""


@dataclass(frozen=True)
class Upload:
    """One file upload the index received (twine's legacy multipart form)."""

    fields: dict[str, list[str]]
    filename: str
    content: bytes

    @property
    def distribution(self) -> Distribution:
        """The uploaded file, as PyPI verifies attestations against it."""
        return Distribution(name=self.filename, digest=hashlib.sha256(self.content).hexdigest())

    def attestations(self) -> list[Attestation]:
        """The `attestations` form field: a JSON array, absent without `--attestations`."""
        values = self.fields.get("attestations", [])
        assert len(values) <= 1, values
        if not values:
            return []
        return [Attestation.model_validate(a) for a in _json_list(values[0])]


def _json_list(text: str) -> list[object]:
    value = json.loads(text)
    assert isinstance(value, list), value
    return value


@dataclass
class UploadRecorder:
    """A package index on 127.0.0.1 that accepts every upload and keeps it."""

    url: str
    uploads: list[Upload] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    recorder: UploadRecorder
    timeout = 30

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {self.headers.get('Content-Type')}\r\n\r\n".encode() + body
        )
        fields: dict[str, list[str]] = {}
        filename, content = "", b""
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            assert isinstance(name, str)
            assert isinstance(payload, bytes)
            if part.get_filename():
                filename, content = str(part.get_filename()), payload
            else:
                fields.setdefault(name, []).append(payload.decode())
        self.recorder.uploads.append(Upload(fields, filename, content))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: pytest shows what matters."""


@contextmanager
def upload_recorder() -> Iterator[UploadRecorder]:
    """Serve an index that records uploads, for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    recorder = UploadRecorder(
        f"http://127.0.0.1:{server.server_address[1]}/upload.pypi.org/legacy/"
    )
    server.RequestHandlerClass = type("Handler", (_Handler,), {"recorder": recorder})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- attestations.py ---------------------------------------------------------------------


def _collect_dists(packages_dir: Path) -> list[Path]:
    dist_paths = [sdist.resolve() for sdist in packages_dir.glob("*.tar.gz")]
    dist_paths.extend(sdist.resolve() for sdist in packages_dir.glob("*.zip"))
    dist_paths.extend(whl.resolve() for whl in packages_dir.glob("*.whl"))
    if invalid := [path for path in dist_paths if not path.is_file()]:
        msg = (
            "The following paths look like distributions but are not actually files: "
            + ", ".join(map(str, invalid))
        )
        raise ActionFailed(msg)
    return dist_paths


def _attestations_py(packages_dir: Path, trust_config: ClientTrustConfig) -> None:
    dist_to_attestation = {
        dist: dist.with_suffix(f"{dist.suffix}.publish.attestation")
        for dist in _collect_dists(packages_dir)
    }
    # "We are the publishing step, so there should be no pre-existing publish
    # attestation": checked for every file before anything is signed.
    existing = {
        f"* {dist!s} -> {attestation!s}"
        for dist, attestation in dist_to_attestation.items()
        if attestation.exists()
    }
    if existing:
        msg = "The following distributions already have publish attestations: " + "\n".join(
            existing
        )
        raise ActionFailed(msg)
    try:
        identity = IdentityToken(detect_credential())  # type: ignore[arg-type]
    except IdentityError as e:
        msg = f"OpenID Connect token retrieval failed: {e}"
        raise ActionFailed(msg) from None
    with SigningContext.from_trust_config(trust_config).signer(identity, cache=True) as signer:
        for dist, attestation in dist_to_attestation.items():
            signed = Attestation.sign(signer, Distribution.from_file(dist))
            attestation.write_text(signed.model_dump_json(), encoding="utf-8")


# --- twine-upload.sh ---------------------------------------------------------------------


def run_action(
    packages_dir: Path,
    *,
    trust_config: ClientTrustConfig,
    repository_url: str,
    inputs: Mapping[str, str] | None = None,
) -> str:
    """Run the action's upload step on ``packages_dir``; returns twine's output.

    ``inputs`` are the step's ``with:`` values, as strings (GitHub passes every
    input as a string). Raises :class:`ActionFailed` where the action fails.
    """
    given = {**_DEFAULT_INPUTS, **(inputs or {})}
    trusted_publishing = given["user"] == "__token__" and not given["password"]
    attestations = given["attestations"]
    if attestations != "false" and (
        not trusted_publishing or not re.search(r"pypi\.org", repository_url)
    ):
        attestations = "false"

    pattern = str(packages_dir).rstrip("/") + "/*"
    if given["verify-metadata"].lower() != "false":
        _twine("check", pattern)

    extra = ["--disable-progress-bar"]
    if given["skip-existing"].lower() != "false":
        extra.append("--skip-existing")
    if attestations.lower() != "false":
        _attestations_py(packages_dir, trust_config)
        extra.insert(0, "--attestations")

    return _twine(
        "upload",
        *extra,
        pattern,
        env={
            "TWINE_USERNAME": given["user"],
            # What oidc-exchange.py would mint; the recorder takes any token.
            "TWINE_PASSWORD": given["password"] or "pypi-trusted-publishing-token",
            "TWINE_REPOSITORY_URL": repository_url,
            "TWINE_NON_INTERACTIVE": "1",
        },
    )


def twine_upload(packages_dir: Path, repository_url: str) -> str:
    """`twine upload --attestations dist/*`, as a release job without the action runs it."""
    return _twine(
        "upload",
        "--attestations",
        "--disable-progress-bar",
        str(packages_dir).rstrip("/") + "/*",
        env={
            "TWINE_USERNAME": "__token__",
            "TWINE_PASSWORD": "pypi-api-token",
            "TWINE_REPOSITORY_URL": repository_url,
            "TWINE_NON_INTERACTIVE": "1",
        },
    )


def uv_publish(packages_dir: Path, repository_url: str) -> str:
    """`uv publish dist/*`: it uploads `<dist>.<kind>.attestation` files by default."""
    result = run_bounded([sys.executable, "-m", "uv", "publish", "--publish-url", repository_url,
         "--token", "pypi-api-token", str(packages_dir).rstrip("/") + "/*"],
        timeout=120)  # fmt: skip
    if result.returncode != 0:
        msg = f"uv publish failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        raise ActionFailed(msg)
    return result.stdout + result.stderr


def _twine(*args: str, env: Mapping[str, str] | None = None) -> str:
    """Run the twine CLI; `dist/*` is expanded as bash would (sorted, as given)."""
    expanded: list[str] = []
    for arg in args:
        if arg.endswith("/*"):
            expanded += sorted(str(p) for p in Path(arg[:-2]).iterdir())
        else:
            expanded.append(arg)
    result = run_bounded(
        [sys.executable, "-m", "twine", *expanded], timeout=120, env={**os.environ, **(env or {})}
    )
    if result.returncode != 0:
        msg = f"twine {args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        raise ActionFailed(msg)
    return result.stdout + result.stderr
