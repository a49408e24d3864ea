"""The ``attest`` hook in Google Cloud, Buildkite and CircleCI jobs, against the local Sigstore.

One build per identity (see ``tests/test_identities.py`` for the cases through
``hatch-attest sign``). Google Cloud reaches the build through
``GoogleCloud.environ()``: a ``sitecustomize`` on PYTHONPATH, which isolated
``python -m build`` clears, so those builds run ``--no-isolation``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography import x509
from pypi_attestations import Attestation, Distribution, GooglePublisher
from sigstore.verify.policy import Identity

from hatch_attest._files import attestation_path
from hatch_attest._trust import load_trust_config, verifier_for
from hatch_attest._verify import verify_attestation
from hatch_attest_testing import (
    PUBLISH_V1,
    BuildkiteIdentity,
    CircleCIIdentity,
    GoogleIdentity,
    LocalSigstore,
    verify_as_pypi,
)

from .frontends import BIN, EnvFactory, build, make_project

pytestmark = pytest.mark.slow

#: The runner's PATH in the jobs: the test environment's tools first.
RUNNER_PATH = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"


def test_google_vm_attests_as_the_configured_service_account(
    tmp_path: Path, local_sigstore: LocalSigstore, env_for: EnvFactory
) -> None:
    account = GoogleIdentity(email=f"release@{tmp_path.name}.iam.gserviceaccount.com")
    project = make_project(
        tmp_path, f'publisher = {{ kind = "google", email = "{account.email}" }}\n'
    )
    cloud = local_sigstore.google_cloud(tmp_path / "gce", account)

    result = build("build-no-isolation", project, env_for(cloud.environ()))

    assert result.returncode == 0, result.output
    artifacts = result.artifacts()
    assert len(artifacts) == 2
    assert result.attestations() == [attestation_path(p) for p in artifacts]
    for artifact in artifacts:
        assert f"Attested {artifact.name} as {account.email} (Rekor log index " in result.output
        publisher = GooglePublisher(email=account.email)
        verdict = verify_as_pypi(artifact, publisher, local_sigstore.trust_config_path)
        assert verdict.predicate_type == PUBLISH_V1
    # One identity token per artifact process, from the VM's metadata server.
    assert local_sigstore.counts() == {"oidc": 2, "fulcio": 2, "rekor": 2, "tsa": 0}


def test_laptop_with_google_service_account_name_builds_and_says_why_not(
    tmp_path: Path, local_sigstore: LocalSigstore, env_for: EnvFactory
) -> None:
    project = make_project(tmp_path)
    cloud = local_sigstore.google_cloud(
        tmp_path / "gce", on_compute_engine=False, metadata_server=False
    )
    env = env_for(
        cloud.environ(), GOOGLE_SERVICE_ACCOUNT_NAME="release@demo.iam.gserviceaccount.com"
    )

    result = build("build-no-isolation", project, env)

    assert result.returncode == 0, result.output
    assert len(result.artifacts()) == 2
    assert result.attestations() == []
    line = (
        "Not attesting: GOOGLE_SERVICE_ACCOUNT_NAME is set, but no Google Cloud metadata "
        "server answered, so there is no Google Cloud identity here"
    )
    assert result.output.count(line) == 2  # sdist, wheel
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


def _verify_own_identity(artifact: Path, san: str, issuer: str, trust_config: Path) -> None:
    """Signature, log and subject, for the certificate identity PyPI cannot accept yet."""
    attestation = Attestation.model_validate_json(attestation_path(artifact).read_bytes())
    verifier = verifier_for(load_trust_config("production", trust_config))
    policy = Identity(identity=san, issuer=issuer)
    found = verify_attestation(attestation, Distribution.from_file(artifact), policy, verifier)
    assert found == (PUBLISH_V1, None)
    certificate = x509.load_der_x509_certificate(attestation.verification_material.certificate)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == [san]


def test_buildkite_job_attests_with_its_own_trust_config(
    tmp_path: Path, local_sigstore: LocalSigstore, env_for: EnvFactory
) -> None:
    job = BuildkiteIdentity(pipeline_slug=f"demo-{tmp_path.name}")
    project = make_project(tmp_path)
    ci = local_sigstore.buildkite_env(tmp_path / "agent", job, path=RUNNER_PATH)

    result = build("build", project, env_for(ci))

    assert result.returncode == 0, result.output
    artifacts = result.artifacts()
    assert len(artifacts) == 2
    pipeline = f"https://buildkite.com/octo-org/{job.pipeline_slug}"
    for artifact in artifacts:
        assert f"Attested {artifact.name} as {pipeline} (Rekor log index " in result.output
        _verify_own_identity(
            artifact, pipeline, "https://agent.buildkite.com", local_sigstore.trust_config_path
        )
    assert local_sigstore.counts() == {"oidc": 2, "fulcio": 2, "rekor": 2, "tsa": 0}


def test_buildkite_agent_without_a_token_builds_and_says_why_not(
    tmp_path: Path, local_sigstore: LocalSigstore, env_for: EnvFactory
) -> None:
    project = make_project(tmp_path)
    ci = local_sigstore.buildkite_env(tmp_path / "agent", path=RUNNER_PATH, access_token=False)

    result = build("build", project, env_for(ci))

    assert result.returncode == 0, result.output
    assert len(result.artifacts()) == 2
    assert result.attestations() == []
    line = (
        "Not attesting: Buildkite was detected, but `buildkite-agent` could not issue an OIDC "
        "token (exit status 1: fatal: missing agent access token (BUILDKITE_AGENT_ACCESS_TOKEN))"
    )
    assert result.output.count(line) == 2
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


def test_circleci_job_attests_with_its_own_trust_config(
    tmp_path: Path, local_sigstore: LocalSigstore, env_for: EnvFactory
) -> None:
    job = CircleCIIdentity(vcs_origin=f"github.com/octo-org/demo-{tmp_path.name}")
    project = make_project(tmp_path)
    ci = local_sigstore.circleci_env(tmp_path / "cli", job, path=RUNNER_PATH)

    result = build("hatch", project, env_for(ci))

    assert result.returncode == 0, result.output
    artifacts = result.artifacts()
    assert len(artifacts) == 2
    build_signer = (
        f"https://circleci.com/api/v2/projects/{job.project_id}"
        f"/pipeline-definitions/{job.pipeline_definition_id}"
    )
    for artifact in artifacts:
        assert f"Attested {artifact.name} as {build_signer} (Rekor log index " in result.output
        _verify_own_identity(
            artifact, build_signer, "https://oidc.circleci.com", local_sigstore.trust_config_path
        )
    assert local_sigstore.counts() == {"oidc": 2, "fulcio": 2, "rekor": 2, "tsa": 0}
