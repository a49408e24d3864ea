"""SLSA provenance through the one pipeline, as ``hatch-attest sign`` (and so the hook) writes it.

The predicate's format and its checks against the certificate are tested in
``tests/local_sigstore/test_predicates.py``; here: the files a user gets, that each
verifies with PyPI's publisher policy, and what the pipeline refuses, and when.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from pypi_attestations import Attestation, Distribution, GitHubPublisher, GitLabPublisher
from sigstore.models import ClientTrustConfig
from sigstore.verify import Verifier

from hatch_attest._verify import verify_attestation
from hatch_attest_testing import (
    PUBLISH_V1,
    SLSA_PROVENANCE_V1,
    Cli,
    GitHubIdentity,
    GitLabIdentity,
    LocalSigstore,
    fake_wheel,
    unsigned_jwt,
)
from hatch_attest_testing.pytest_plugin import CIJob

from ._shared import GitHubJobAs

# No CI identity until a test enters a job.
pytestmark = pytest.mark.usefixtures("sigstore_no_ci")


def _wheel(tmp_path: Path) -> Path:
    return fake_wheel(tmp_path / "dist", "slsa_pkg")


def _verified(path: Path, dist: Path, publisher: Any, instance: LocalSigstore) -> dict[str, Any]:
    """PyPI's checks on one attestation file; returns its statement."""
    config = ClientTrustConfig.from_json(instance.trust_config_path.read_text())
    attestation = Attestation.model_validate_json(path.read_bytes())
    verifier = Verifier(trusted_root=config.trusted_root)
    verify_attestation(attestation, Distribution.from_file(dist), publisher, verifier)
    statement: dict[str, Any] = json.loads(attestation.envelope.statement)
    return statement


def test_a_github_job_writes_github_s_provenance_that_pypi_accepts(
    tmp_path: Path,
    github_job_as: GitHubJobAs,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
) -> None:
    identity = github_job_as(repository="octo-org/slsa-pkg", ref="refs/tags/v1.0", run_id="42")
    wheel = _wheel(tmp_path)

    status, _, err = local_sign("--predicate", "slsa-provenance", wheel)

    assert status == 0, err
    assert sorted(p.name for p in wheel.parent.iterdir()) == [
        wheel.name,
        f"{wheel.name}.slsa.attestation",
    ]
    publisher = GitHubPublisher(repository=identity.repository, workflow=identity.workflow)
    statement = _verified(
        wheel.with_name(f"{wheel.name}.slsa.attestation"), wheel, publisher, local_sigstore
    )
    assert statement["predicateType"] == SLSA_PROVENANCE_V1
    assert statement["predicate"] == identity.slsa_provenance()


def test_a_gitlab_job_writes_provenance_from_its_token(
    tmp_path: Path,
    sigstore_ci_job: CIJob,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
) -> None:
    identity = GitLabIdentity(project_path="octo-group/slsa-pkg", job_id="7007", sha="a" * 40)
    sigstore_ci_job(local_sigstore.gitlab_env(identity))
    wheel = _wheel(tmp_path)

    status, _, err = local_sign("--predicate", "both", wheel)

    assert status == 0, err
    publisher = GitLabPublisher(
        repository=identity.project_path, workflow_filepath=".gitlab-ci.yml"
    )
    publish = _verified(
        wheel.with_name(f"{wheel.name}.publish.attestation"), wheel, publisher, local_sigstore
    )
    slsa = _verified(
        wheel.with_name(f"{wheel.name}.slsa.attestation"), wheel, publisher, local_sigstore
    )
    assert (publish["predicateType"], slsa["predicateType"]) == (PUBLISH_V1, SLSA_PROVENANCE_V1)
    text = json.dumps(slsa["predicate"])
    for claim in (identity.project_path, identity.sha, identity.job_id, identity.pipeline_id):
        assert claim in text


def test_auto_beside_the_action_writes_provenance_and_says_why(
    tmp_path: Path,
    sigstore_ci_job: CIJob,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
) -> None:
    workflow = (
        "jobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: pypa/gh-action-pypi-publish@release/v1\n"
    )
    identity = GitHubIdentity(repository="octo-org/slsa-auto")
    sigstore_ci_job(local_sigstore.github_env(identity, workflow=workflow))
    wheel = _wheel(tmp_path)

    status, _, err = local_sign(wheel)

    assert status == 0, err
    assert err.startswith("Predicate (auto): SLSA provenance, to sit beside the action's own")
    assert [p.name for p in wheel.parent.glob("*.attestation")] == [
        f"{wheel.name}.slsa.attestation"
    ]


def test_provenance_for_a_google_identity_is_refused_before_fulcio(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
) -> None:
    email = "release@slsa-project.iam.gserviceaccount.com"
    claims = {"iss": "https://accounts.google.com", "aud": "sigstore", "email": email}
    monkeypatch.setenv("SIGSTORE_IDENTITY_TOKEN", unsigned_jwt(claims | {"exp": time.time() + 60}))
    wheel = _wheel(tmp_path)

    status, _, err = local_sign(
        "--predicate", "slsa-provenance", "--publisher", f"google:{email}", wheel
    )

    assert status == 1
    assert err.startswith("hatch-attest: error: ")
    assert 'use `predicate = "publish"` instead' in err
    assert local_sigstore.counts()["fulcio"] == 0
    assert list(wheel.parent.glob("*.attestation")) == []


def test_inspect_shows_what_the_provenance_states(
    tmp_path: Path,
    github_job_as: GitHubJobAs,
    cli: Cli,
    local_sigstore: LocalSigstore,
) -> None:
    identity = github_job_as(repository="octo-org/slsa-inspect", run_id="4242")
    wheel = _wheel(tmp_path)
    trust = ["--trust-config", str(local_sigstore.trust_config_path)]
    assert cli("sign", "--predicate", "slsa-provenance", *trust, wheel).status == 0

    status, out, _ = cli("inspect", str(wheel.with_name(f"{wheel.name}.slsa.attestation")))

    assert status == 0
    repository = f"https://github.com/{identity.repository}"
    assert "Predicate:\n" in out
    for label, value in [
        ("Build type", "https://actions.github.io/buildtypes/workflow/v1"),
        ("Repository", repository),
        ("Workflow", f".github/workflows/{identity.workflow}"),
        ("Ref", identity.ref),
        ("Commit", identity.sha),
        ("Builder", f"https://github.com/{identity.workflow_ref}"),
        ("Run", f"{repository}/actions/runs/4242/attempts/1"),
    ]:
        assert any(
            line.strip().startswith(f"{label}:") and line.split()[-1] == value
            for line in out.splitlines()
        ), (label, value, out)
