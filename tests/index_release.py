"""Releases on the local index, published over Trusted Publishing with real attestations."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from pypi_attestations import (
    Attestation,
    AttestationBundle,
    Distribution,
    GitHubPublisher,
    GitLabPublisher,
    Provenance,
)
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext

from hatch_attest._cli import main
from hatch_attest_testing import CliResult, GitHubIdentity, LocalIndex, LocalSigstore

from .local_index.client import mint, upload

PROJECT = "demo-pkg"
FIXTURES = Path(__file__).parent / "fixtures" / "real-attestations"


def wheel_name(version: str) -> str:
    return f"demo_pkg-{version}-py3-none-any.whl"


def sdist_name(version: str) -> str:
    return f"demo_pkg-{version}.tar.gz"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> CliResult:
    """Runs ``main(argv)`` in-process and captures what it printed."""
    capsys.readouterr()
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return CliResult(status, out, err)


class Publisher:
    """Publishes files to the local index as a GitHub job, with attestations it signs."""

    def __init__(self, sigstore: LocalSigstore, index: LocalIndex, directory: Path) -> None:
        self.sigstore = sigstore
        self.index = index
        self.directory = directory
        config = ClientTrustConfig.from_json(sigstore.trust_config_path.read_text())
        config.force_tlog_version = 1
        self._context = SigningContext.from_trust_config(config)

    def make(self, filename: str, content: bytes | None = None) -> Path:
        path = self.directory / filename
        path.write_bytes(content if content is not None else f"bytes of {filename}".encode())
        return path

    def sign(self, path: Path, job: GitHubIdentity) -> list[dict[str, Any]]:
        token = IdentityToken(self.sigstore.mint_github_token(job))
        with self._context.signer(token) as signer:
            attestation = Attestation.sign(signer, Distribution.from_file(path))
        document: dict[str, Any] = json.loads(attestation.model_dump_json())
        return [document]

    def publish(
        self, job: GitHubIdentity, version: str, *filenames: str, attest: bool = True
    ) -> list[Path]:
        """Uploads the files as ``job`` (registered as a Trusted Publisher here)."""
        self.index.add_publisher(
            PROJECT, GitHubPublisher(repository=job.repository, workflow=job.workflow)
        )
        answer = mint(self.index, self.sigstore.mint_github_token(job, audience="pypi"))
        assert answer.status == 200, answer.body
        token: str = answer.json()["token"]
        paths = []
        for filename in filenames:
            path = self.make(filename)
            attestations = self.sign(path, job) if attest else None
            answer = upload(self.index, token, path, attestations, version=version)
            assert answer.status == 200, answer.reason
            paths.append(path)
        return paths

    def publish_unattested(self, version: str, *filenames: str) -> list[Path]:
        """Uploads the files with an API token: the index keeps no provenance."""
        token = self.index.api_token()
        paths = []
        for filename in filenames:
            path = self.make(filename)
            answer = upload(self.index, token, path, None, version=version)
            assert answer.status == 200, answer.reason
            paths.append(path)
        return paths


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hand_lock(project: str, version: str, wheel: Path, sdist: Path | None = None) -> str:
    """A PEP 751 lock of one release, as short as a person writes it by hand."""

    def locked(path: Path) -> str:
        return f'{{ name = "{path.name}", hashes = {{ sha256 = "{sha256(path)}" }} }}'

    lines = ['lock-version = "1.0"', 'created-by = "hand"', "", "[[packages]]"]
    lines += [f'name = "{project}"', f'version = "{version}"']
    lines += [f"sdist = {locked(sdist)}"] if sdist is not None else []
    return "\n".join([*lines, f"wheels = [{locked(wheel)}]", ""])


@pytest.fixture
def index(local_index: LocalIndex, monkeypatch: pytest.MonkeyPatch) -> LocalIndex:
    """The local index, trusted by requests (as a user's CA bundle would be)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(local_index.ca_path))
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    return local_index


def serve_real_attestations(index: LocalIndex) -> None:
    """Publishes the public-good fixtures with Integrity API answers built from them."""
    releases = (
        (
            "pypi-attestations",
            "0.0.19",
            "pypi_attestations-0.0.19.tar.gz",
            GitHubPublisher(repository="trailofbits/pypi-attestations", workflow="release.yml"),
        ),
        (
            "gitlab-oidc-project",
            "0.0.3",
            "gitlab_oidc_project-0.0.3.tar.gz",
            GitLabPublisher(
                repository="facutuesca/gitlab-oidc-project", workflow_filepath=".gitlab-ci.yml"
            ),
        ),
    )
    for project, version, filename, publisher in releases:
        attestations = [
            Attestation.model_validate_json(path.read_bytes())
            for path in sorted(FIXTURES.glob(f"{filename}.*.attestation"))
        ]
        bundle = AttestationBundle(publisher=publisher, attestations=attestations)
        provenance = Provenance(attestation_bundles=[bundle]).model_dump(mode="json")
        index.add_file(
            project, version, filename, (FIXTURES / filename).read_bytes(), provenance=provenance
        )
