"""Attestation files no tool wrote: what a stale ``<dist>.<kind>.attestation`` may hold.

Shared by the ``sign``, ``inspect``, ``verify`` and build hook tests: whatever such a file
holds, each says so in one line and carries on (or removes it), never a traceback.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

_REAL = Path(__file__).parent / "fixtures" / "real-attestations"
_DEPTH = 100_000


def _deep_statement() -> bytes:
    # A well-formed attestation whose signed statement is a deeply nested array.
    document = json.loads(
        (_REAL / "pypi_attestations-0.0.19.tar.gz.publish.attestation").read_text()
    )
    nested = b"[" * _DEPTH + b"]" * _DEPTH
    document["envelope"]["statement"] = base64.b64encode(nested).decode()
    return json.dumps(document).encode()


HOSTILE: dict[str, bytes] = {
    "deep-array": b"[" * _DEPTH + b"]" * _DEPTH,
    "deep-object": b'{"a":' * _DEPTH + b"1" + b"}" * _DEPTH,
    "deep-statement": _deep_statement(),
    "binary": bytes(range(256)) * 64,
    "huge": b'{"version": 1, "padding": "' + b"A" * (4 << 20) + b'"}',
    "utf-16": json.dumps({"version": 1, "envelope": {}}).encode("utf-16"),
    "latin-1": '{"version": 1, "note": "d\xe9j\xe0 vu"}'.encode("latin-1"),
}
"""File contents by name."""
