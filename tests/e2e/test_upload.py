"""From dist/ to the index: build with the hook in an emulated CI job, then upload with
the real ``twine upload --attestations`` and ``uv publish`` over Trusted Publishing to
the local index, which applies PyPI's rules."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest
from pypi_attestations import GitHubPublisher, GitLabPublisher, Provenance

from hatch_attest_testing import (
    PUBLISH_V1,
    Fault,
    GitHubIdentity,
    GitLabIdentity,
    LocalIndex,
    LocalSigstore,
)

from ..local_index.client import request
from .frontends import (
    UPLOADERS,
    EnvFactory,
    JobEnv,
    build,
    env_factory,
    make_project,
    publish,
)

pytestmark = pytest.mark.slow

PROJECT = "simple-pkg"
INVALID = "Invalid attestations supplied during upload: "


@pytest.fixture
def env_for(
    tmp_path: Path, tool_home: Path, local_sigstore: LocalSigstore, local_index: LocalIndex
) -> EnvFactory:
    """A job's environment: CI variables, the local trust config, and the way to the index.

    Builds here run without isolation (the hook of this checkout, nothing to
    install), so no wheelhouse is needed: an empty one keeps every index off.
    """
    no_wheels = tmp_path / "no-wheels"
    no_wheels.mkdir()
    return env_factory(
        no_wheels, tool_home, local_sigstore.trust_config_path, **local_index.client_env()
    )


@pytest.fixture
def github_publisher(
    local_index: LocalIndex, sigstore_github_identity: GitHubIdentity
) -> GitHubPublisher:
    """The job's workflow, registered on the index as the project's Trusted Publisher."""
    publisher = GitHubPublisher(
        repository=sigstore_github_identity.repository, workflow=sigstore_github_identity.workflow
    )
    local_index.add_publisher(PROJECT, publisher)
    return publisher


def built(tmp_path: Path, env: Mapping[str, str]) -> Path:
    """The test project, built and attested by the hook in the job ``env`` describes."""
    project = make_project(tmp_path)
    result = build("build-no-isolation", project, env)
    assert result.returncode == 0, result.output
    assert len(result.attestations()) == len(result.artifacts()) == 2
    return project


def assert_accepted_with_attestations(index: LocalIndex, project: Path, publisher: object) -> None:
    """Every artifact landed with exactly its attestation, and the Integrity API serves it."""
    dist = project / "dist"
    artifacts = sorted(p for p in dist.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    files = {f.filename: f for f in index.files(PROJECT)}
    assert sorted(files) == [a.name for a in artifacts]
    for artifact in artifacts:
        stored = files[artifact.name]
        assert stored.content == artifact.read_bytes()
        assert stored.trusted_publisher == publisher
        on_disk = json.loads((dist / f"{artifact.name}.publish.attestation").read_text())

        answer = request(index, f"/integrity/{PROJECT}/{stored.version}/{artifact.name}/provenance")
        assert answer.status == 200
        [bundle] = Provenance.model_validate_json(answer.body).attestation_bundles
        assert bundle.publisher == publisher
        assert [json.loads(a.model_dump_json()) for a in bundle.attestations] == [on_disk]


@pytest.mark.parametrize("uploader", UPLOADERS)
def test_github_job_uploads_with_trusted_publishing(
    uploader: str,
    tmp_path: Path,
    local_index: LocalIndex,
    github_publisher: GitHubPublisher,
    github_job_env: JobEnv,
) -> None:
    project = built(tmp_path, github_job_env())

    # A fresh request token: the publish step of the same job.
    result = publish(uploader, project, github_job_env())

    assert result.returncode == 0, result.output
    assert_accepted_with_attestations(local_index, project, github_publisher)
    assert local_index.counts()["mint-token"] == 1
    assert local_index.counts()["upload"] == 2


@pytest.mark.parametrize("uploader", UPLOADERS)
def test_gitlab_job_uploads_with_trusted_publishing(
    uploader: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    local_index: LocalIndex,
    sigstore_gitlab_identity: GitLabIdentity,
    env_for: EnvFactory,
) -> None:
    publisher = GitLabPublisher(
        repository=sigstore_gitlab_identity.project_path,
        workflow_filepath=sigstore_gitlab_identity.ci_config_path,
    )
    local_index.add_publisher(PROJECT, publisher)
    project = built(tmp_path, env_for(local_sigstore.gitlab_env(sigstore_gitlab_identity)))

    # `id_tokens: PYPI_ID_TOKEN: aud: pypi` in .gitlab-ci.yml, as PyPI documents it.
    pypi_token = local_sigstore.mint_gitlab_token(sigstore_gitlab_identity, audience="pypi")
    env = env_for(local_sigstore.gitlab_env(sigstore_gitlab_identity), PYPI_ID_TOKEN=pypi_token)
    result = publish(uploader, project, env)

    assert result.returncode == 0, result.output
    assert_accepted_with_attestations(local_index, project, publisher)


@pytest.mark.parametrize("uploader", UPLOADERS)
def test_api_token_upload_with_attestations_is_refused(
    uploader: str,
    tmp_path: Path,
    local_index: LocalIndex,
    env_for: EnvFactory,
    github_job_env: JobEnv,
) -> None:
    project = built(tmp_path, github_job_env())
    token = local_index.api_token()
    # A token user's publish step, outside any job with an identity.
    credentials = {
        "twine": {"TWINE_USERNAME": "__token__", "TWINE_PASSWORD": token},
        "uv": {"UV_PUBLISH_TOKEN": token},
    }[uploader]
    env = env_for(None, **credentials)

    # uv sends the attestations by default, whatever the login method.
    result = publish(uploader, project, env, trusted_publishing=False)

    assert result.returncode != 0
    assert result.says(INVALID + "Attestations are only supported when using Trusted Publishing")
    assert local_index.files() == []

    # What the README tells a token user: upload without the attestations.
    retry = publish(uploader, project, env, attestations=False, trusted_publishing=False)
    assert retry.returncode == 0, retry.output
    assert [f.attestations for f in local_index.files(PROJECT)] == [(), ()]


@pytest.mark.parametrize("uploader", UPLOADERS)
def test_attestation_from_another_workflow_is_refused(
    uploader: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    local_index: LocalIndex,
    sigstore_github_identity: GitHubIdentity,
    env_for: EnvFactory,
    github_publisher: GitHubPublisher,
    github_job_env: JobEnv,
) -> None:
    """The build ran in build.yml; PyPI knows release.yml as the Trusted Publisher."""
    build_job = GitHubIdentity(repository=sigstore_github_identity.repository, workflow="build.yml")
    project = built(tmp_path, env_for(local_sigstore.github_env(build_job)))

    result = publish(uploader, project, github_job_env())

    assert result.returncode != 0
    assert result.says(
        INVALID + "Could not verify the uploaded artifact using the included attestation: "
        "Verification failed: "
        "Certificate's Build Config URI ("
    )
    assert result.says(
        "does not match expected Trusted Publisher "
        f"({sigstore_github_identity.workflow} @ {sigstore_github_identity.repository})"
    )
    assert local_index.files() == []


@pytest.mark.parametrize("uploader", UPLOADERS)
def test_two_publish_attestations_for_one_file_are_refused(
    uploader: str,
    tmp_path: Path,
    local_index: LocalIndex,
    github_publisher: GitHubPublisher,
    github_job_env: JobEnv,
) -> None:
    project = built(tmp_path, github_job_env())
    dist = project / "dist"
    # A second publish attestation beside the first (both uploaders send every
    # `<dist>.<kind>.attestation`).
    for attestation in sorted(dist.glob("*.publish.attestation")):
        shutil.copy(
            attestation, attestation.with_name(attestation.name.replace(".publish.", ".copy."))
        )

    result = publish(uploader, project, github_job_env())

    assert result.returncode != 0
    assert result.says(
        INVALID + "Multiple attestations for the same file with the same predicate type "
        f"({PUBLISH_V1}) are not supported"
    )
    assert local_index.files() == []


@pytest.mark.parametrize("uploader", UPLOADERS)
def test_index_outage_at_token_exchange_uploads_nothing(
    uploader: str,
    tmp_path: Path,
    local_index: LocalIndex,
    github_publisher: GitHubPublisher,
    github_job_env: JobEnv,
) -> None:
    project = built(tmp_path, github_job_env())
    local_index.inject("mint-token", Fault.status(503, body="<html>Service Unavailable</html>"))

    result = publish(uploader, project, github_job_env())

    assert result.returncode != 0
    assert result.says(
        {
            "twine": "The token-minting request returned invalid JSON",
            "uv": "Failed to obtain token for trusted publishing",
        }[uploader]
    )
    assert local_index.counts()["mint-token"] >= 1
    assert local_index.counts()["upload"] == 0
    assert local_index.files() == []
