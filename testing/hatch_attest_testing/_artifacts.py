"""Distribution files and tokens for tests: the right shapes, nothing real.

An attestation only hashes the file it names, so a wheel or sdist needs no real
contents; random bytes make every file's digest, and so every signed statement
and Rekor entry, unique, even across tests that share the session's log.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["fake_sdist", "fake_wheel", "unsigned_jwt"]


def fake_wheel(
    directory: Path, name: str = "demo_pkg", version: str = "1.0", *, size: int = 256
) -> Path:
    """Write ``<directory>/<name>-<version>-py3-none-any.whl`` with ``size`` random bytes.

    ``name`` is used as given (the default is already normalised), so that a test
    can make a file name that PyPI would refuse. ``directory`` is created if missing.
    """
    return _write(directory / f"{name}-{version}-py3-none-any.whl", size)


def fake_sdist(
    directory: Path, name: str = "demo_pkg", version: str = "1.0", *, size: int = 256
) -> Path:
    """Write ``<directory>/<name>-<version>.tar.gz`` with ``size`` random bytes.

    As `fake_wheel`: ``name`` is used as given, ``directory`` is created if missing.
    """
    return _write(directory / f"{name}-{version}.tar.gz", size)


def _write(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    return path


def unsigned_jwt(claims: Mapping[str, object]) -> str:
    """A JWT with ``claims`` and a junk signature: for identities the local issuers do not mint.

    hatch-attest reads a token's claims before Fulcio sees it, so tests of what is
    refused before Fulcio can use tokens of any issuer. Nothing will verify it.
    """

    def part(value: Mapping[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'ES256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"
