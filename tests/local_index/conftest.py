"""Attested files to upload to the local index."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pypi_attestations import Attestation, Distribution
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext

from hatch_attest_testing import GitHubIdentity, LocalSigstore

WHEEL = "demo_pkg-0.1.0-py3-none-any.whl"
SDIST = "demo_pkg-0.1.0.tar.gz"


Sign = Callable[[Path, GitHubIdentity], dict[str, Any]]


@pytest.fixture
def sign(local_sigstore: LocalSigstore) -> Sign:
    """A publish attestation of a file, signed as a GitHub job, in upload (JSON) form."""
    config = ClientTrustConfig.from_json(local_sigstore.trust_config_path.read_text())
    config.force_tlog_version = 1

    def make(path: Path, job: GitHubIdentity) -> dict[str, Any]:
        token = IdentityToken(local_sigstore.mint_github_token(job))
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
