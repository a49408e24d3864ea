"""A minimal uploader speaking the legacy upload API, and attested files to upload.

The end-to-end tests use the real twine and uv; these tests need precise control
over every form field (attestation lists twine and uv would never send), so they
talk HTTP themselves, over the index's TLS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypi_attestations import Attestation, Distribution
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext

from hatch_attest.testing import GitHubIdentity, LocalIndex, LocalSigstore

PROJECT = "demo-pkg"
WHEEL = "demo_pkg-0.1.0-py3-none-any.whl"
SDIST = "demo_pkg-0.1.0.tar.gz"
TIMEOUT = 30


@dataclass(frozen=True)
class Answer:
    """What an HTTP client sees of one answer."""

    status: int
    reason: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    index: LocalIndex,
    path: str,
    *,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request to the index at its address, trusting only its CA."""
    context = ssl.create_default_context(cafile=str(index.ca_path))
    req = urllib.request.Request(index.url + path, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT, context=context) as response:
            return Answer(response.status, response.reason, response.read())
    except urllib.error.HTTPError as e:
        with e:
            return Answer(e.code, e.reason, e.read())


def mint(index: LocalIndex, id_token: str) -> Answer:
    """`POST /_/oidc/mint-token`, as twine and uv send it."""
    body = json.dumps({"token": id_token}).encode()
    return request(
        index, "/_/oidc/mint-token", data=body, headers={"Content-Type": "application/json"}
    )


def upload(
    index: LocalIndex,
    password: str | None,
    dist: Path,
    attestations: list[Any] | str | None = None,
    *,
    name: str = PROJECT,
    version: str = "0.1.0",
) -> Answer:
    """`POST /legacy/` with the fields twine sends; `attestations` as given (JSON-encoded)."""
    content = dist.read_bytes()
    fields: list[tuple[str, str]] = [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("metadata_version", "2.4"),
        ("name", name),
        ("version", version),
        ("filetype", "bdist_wheel" if dist.name.endswith(".whl") else "sdist"),
        ("pyversion", "py3" if dist.name.endswith(".whl") else "source"),
        ("sha256_digest", hashlib.sha256(content).hexdigest()),
    ]
    if attestations is not None:
        text = attestations if isinstance(attestations, str) else json.dumps(attestations)
        fields.append(("attestations", text))
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="content"; '
        f'filename="{dist.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if password is not None:
        basic = base64.b64encode(f"__token__:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {basic}"
    return request(index, "/legacy/", data=body, headers=headers)


Sign = Callable[[Path, GitHubIdentity], dict[str, Any]]


@pytest.fixture
def sign(sigstore_instance: LocalSigstore) -> Sign:
    """A publish attestation of a file, signed as a GitHub job, in upload (JSON) form."""
    config = ClientTrustConfig.from_json(sigstore_instance.trust_config_path.read_text())
    config.force_tlog_version = 1

    def make(path: Path, job: GitHubIdentity) -> dict[str, Any]:
        token = IdentityToken(sigstore_instance.mint_github_token(job))
        with SigningContext.from_trust_config(config).signer(token) as signer:
            attestation = Attestation.sign(signer, Distribution.from_file(path))
        document: dict[str, Any] = json.loads(attestation.model_dump_json())
        return document

    return make


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    """A distribution file (the index checks names and digests, not contents)."""
    path = tmp_path / WHEEL
    path.write_bytes(b"PK\x03\x04 a wheel's bytes")
    return path


@pytest.fixture
def sdist(tmp_path: Path) -> Path:
    """A second distribution file of the same release."""
    path = tmp_path / SDIST
    path.write_bytes(b"\x1f\x8b an sdist's bytes")
    return path
