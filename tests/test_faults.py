"""The fault matrix: every fault the local instance can inject, at every endpoint, in both modes.

Each scenario runs ``hatch-attest sign`` (the same attest path as the build hook)
in an emulated GitHub Actions job against real faults served over HTTP, and
asserts what a release engineer would see: the exit status, the class of the
one-line message, that the time stayed within the configured budget, that no
attestation (or temporary file) was left behind, and that no credential appears
in the output. ``tests/conftest.py`` prints the matrix at the end of the run.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypi_attestations import Attestation, Distribution, GitHubPublisher
from sigstore.models import ClientTrustConfig
from sigstore.verify import Verifier

from hatch_attest.cli import main
from hatch_attest.testing import Fault, GitHubIdentity, LocalSigstore

from .matrix import FAULT_MATRIX, MatrixRow

BUDGET = 2.0
# The budget bounds network time; interpreter work and sigstore's crypto come on top.
SLACK = 6.0


@dataclass(frozen=True)
class Scenario:
    endpoint: str
    fault: Fault
    label: str
    # What the one-line error names; None means the run must succeed.
    message: str | None


def _transport(endpoint: str, service: str) -> list[Scenario]:
    return [
        Scenario(endpoint, Fault.status(500), "HTTP 500", service),
        Scenario(endpoint, Fault.status(503), "HTTP 503", service),
        Scenario(endpoint, Fault.status(429, retry_after=1), "HTTP 429 + Retry-After", service),
        Scenario(
            endpoint, Fault.status(400, body='{"message": "bad request"}'), "HTTP 400", service
        ),
        Scenario(
            endpoint, Fault.status(401, body='{"message": "unauthorized"}'), "HTTP 401", service
        ),
        Scenario(endpoint, Fault.delay(0.3), "delay 0.3 s", None),
        Scenario(endpoint, Fault.hang(), "hang", service),
        Scenario(endpoint, Fault.malformed(), "malformed body", service),
        # A server that echoes the request (token included) in its error body.
        Scenario(endpoint, Fault.echo(400), "echo request (JSON)", service),
        Scenario(endpoint, Fault.echo(502, json=False), "echo request (text)", service),
    ]


SCENARIOS = [
    *_transport("oidc", "GitHub Actions"),
    *_transport("fulcio", "Fulcio"),
    Scenario("fulcio", Fault.wrong_sct_key(), "SCT by unknown log", "Fulcio"),
    Scenario("fulcio", Fault.untrusted_ca(), "CA not trusted", "does not verify"),
    *_transport("rekor", "Rekor"),
    Scenario("rekor", Fault.bad_inclusion_proof(), "bad inclusion proof", "does not verify"),
    Scenario("rekor", Fault.bad_set(), "bad SET", "does not verify"),
    Scenario("rekor", Fault.bad_checkpoint(), "bad checkpoint", "does not verify"),
]


@pytest.fixture
def github_job(
    no_ci: pytest.MonkeyPatch, sigstore_instance: LocalSigstore, github_identity: GitHubIdentity
) -> GitHubIdentity:
    """This process, as a GitHub Actions job with `id-token: write`."""
    for name, value in sigstore_instance.github_env(github_identity).items():
        no_ci.setenv(name, value)
    return github_identity


def _wheel(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "matrix_pkg-1.0-py3-none-any.whl"
    path.write_bytes(os.urandom(512))
    return path


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.endswith(".whl"))


@pytest.mark.parametrize("mode", ["auto", "always"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.endpoint}-{s.label}")
def test_fault(
    scenario: Scenario,
    mode: str,
    tmp_path: Path,
    sigstore_instance: LocalSigstore,
    github_job: GitHubIdentity,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dist = tmp_path / "dist"
    wheel = _wheel(dist)
    sigstore_instance.inject(scenario.endpoint, scenario.fault)
    trust_config = str(sigstore_instance.trust_config_path)

    started = time.monotonic()
    status = main(
        [
            "sign",
            "--mode",
            mode,
            "--timeout",
            str(BUDGET),
            "--trust-config",
            trust_config,
            str(dist),
        ]
    )
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()

    leaked = sigstore_instance.credential_scan().found_in(out + err)
    leftovers = _leftovers(dist)
    outcome = "attested" if status == 0 else err.strip().splitlines()[-1][:90]
    FAULT_MATRIX.append(
        MatrixRow(
            scenario.endpoint, scenario.label, mode, status, outcome, elapsed, leftovers, leaked
        )
    )

    assert not leaked
    assert elapsed < BUDGET + SLACK
    if scenario.message is None:
        assert status == 0, err
        assert leftovers == [f"{wheel.name}.publish.attestation"]
        config = ClientTrustConfig.from_json(sigstore_instance.trust_config_path.read_text())
        attestation = Attestation.model_validate_json((dist / leftovers[0]).read_bytes())
        publisher = GitHubPublisher(repository=github_job.repository, workflow=github_job.workflow)
        Verifier(trusted_root=config.trusted_root).verify_dsse(
            attestation.to_bundle(), publisher._as_policy()
        )
        assert json.loads(attestation.envelope.statement)["subject"][0]["digest"]["sha256"] == (
            Distribution.from_file(wheel).digest
        )
    else:
        assert status == 1, (out, err)
        assert leftovers == []
        [line] = [line for line in err.splitlines() if line.startswith("hatch-attest: error:")]
        assert scenario.message in line
        assert "Traceback" not in err


@pytest.mark.parametrize("endpoint", ["oidc", "fulcio", "rekor"])
def test_one_transient_failure_is_survived_by_a_retry(
    endpoint: str,
    tmp_path: Path,
    sigstore_instance: LocalSigstore,
    github_job: GitHubIdentity,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dist = tmp_path / "dist"
    _wheel(dist)
    sigstore_instance.inject(endpoint, Fault.status(503), times=1)

    status = main(["sign", "--trust-config", str(sigstore_instance.trust_config_path), str(dist)])

    assert status == 0, capsys.readouterr().err
    assert len(list(dist.glob("*.publish.attestation"))) == 1
    expected = {"oidc": 1, "fulcio": 1, "rekor": 1, "tsa": 0}
    expected[endpoint] += 1  # the 503, then the retry
    assert sigstore_instance.counts() == expected


def test_retry_after_is_honoured(
    tmp_path: Path,
    sigstore_instance: LocalSigstore,
    github_job: GitHubIdentity,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dist = tmp_path / "dist"
    _wheel(dist)
    sigstore_instance.inject("rekor", Fault.status(429, retry_after=1), times=1)

    started = time.monotonic()
    status = main(["sign", "--trust-config", str(sigstore_instance.trust_config_path), str(dist)])

    assert status == 0, capsys.readouterr().err
    assert time.monotonic() - started >= 1.0  # waited as told, then succeeded
    assert sigstore_instance.counts()["rekor"] == 2
