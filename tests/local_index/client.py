"""A minimal client of the local index: requests over its TLS, and the legacy upload API.

The end-to-end tests use the real twine and uv; the index's own tests need precise
control over every form field (attestation lists twine and uv would never send),
so they talk HTTP themselves.
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hatch_attest_testing import LocalIndex

PROJECT = "demo-pkg"
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
