"""Fixtures for exercising the local Sigstore instance with the real clients."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import id
import pytest
from pypi_attestations import Attestation, Distribution, Publisher
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import Verifier

from hatch_attest_testing import LocalSigstore, fake_wheel

Attest = Callable[[Path], Attestation]
Verify = Callable[[Attestation, Path, Publisher], None]


@pytest.fixture
def trust_config(local_sigstore: LocalSigstore) -> ClientTrustConfig:
    """The instance's trust config, read the way a client reads it."""
    config = ClientTrustConfig.from_json(local_sigstore.trust_config_path.read_text())
    config.force_tlog_version = 1
    return config


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    """A distribution file to attest (only its name and bytes matter)."""
    return fake_wheel(tmp_path, "demo_pkg", "0.1.0")


@pytest.fixture
def attest(trust_config: ClientTrustConfig) -> Attest:
    """Attests a file with the ambient identity, as a build job would."""

    def sign(path: Path) -> Attestation:
        token = id.detect_credential("sigstore")
        assert token is not None, "no ambient identity; call sigstore_ci_job() first"
        context = SigningContext.from_trust_config(trust_config)
        with context.signer(IdentityToken(token)) as signer:
            return Attestation.sign(signer, Distribution.from_file(path))

    return sign


@pytest.fixture
def verify(trust_config: ClientTrustConfig, monkeypatch: pytest.MonkeyPatch) -> Verify:
    """pypi-attestations' own `Attestation.verify`, against this instance's trusted root.

    The library always builds `Verifier.production()`; pointing that at the local
    trusted root keeps every one of its checks (signature, publisher policy,
    exactly one subject, name and digest).
    """
    local = Verifier(trusted_root=trust_config.trusted_root)
    monkeypatch.setattr(Verifier, "production", lambda *_, **__: local)

    def check(attestation: Attestation, path: Path, publisher: Publisher) -> None:
        attestation.verify(publisher, Distribution.from_file(path))

    return check
