"""Distribution files for tests: the right names, with random bytes.

An attestation only hashes the file it names, so a wheel or sdist needs no real
contents; random bytes make every file's digest, and so every signed statement
and Rekor entry, unique, even across tests that share the session's log.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["fake_sdist", "fake_wheel"]


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
