"""What ``pdm publish`` does with attestations in dist/, against the local index.

pdm (2.29) has no attestation support: it treats every file of its upload folder
as a distribution (``PackageFile.from_filename``) and stops at the first
``.attestation`` with "Unknown distribution file type", before uploading anything.
Nothing on hatch-attest's side can make pdm send them (the files must sit next to
the distributions for twine and uv); the README says to build with pdm and upload
with ``uv publish``, ``twine upload --attestations`` or ``hatch publish -p attest``.
These tests pin that down, so that a pdm that learns attestations is noticed.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from pypi_attestations import GitHubPublisher

from hatch_attest_testing import GitHubIdentity, LocalIndex, LocalSigstore

from .._shared import logged_run, masked, trusted_github, upload_env
from .frontends import BIN, BUILD_TIMEOUT, EnvFactory, Upload, publish
from .test_upload import PROJECT, assert_accepted_with_attestations, built, env_for

__all__ = ["env_for"]  # the fixture, shared with test_upload

pytestmark = pytest.mark.slow


def pdm_publish(project: Path, env: Mapping[str, str], index: LocalIndex, *args: str) -> Upload:
    """``pdm publish --no-build`` (upload dist/ as built), with Trusted Publishing in a job."""
    run_env = upload_env(
        env,
        PDM_CHECK_UPDATE="false",  # no version check against PyPI
        # This interpreter, as in a CI step: no project virtualenv to create.
        PDM_PYTHON=sys.executable,
        PDM_USE_VENV="false",
        PDM_PUBLISH_CA_CERTS=str(index.ca_path),
    )
    # pdm prints the minted upload token as a GitHub `::add-mask::` command (the runner
    # hides it); kept out of this test's log all the same (`logged_run` masks it).
    argv = [str(BIN / "pdm"), "publish", "--no-build", *args]
    return Upload(*logged_run(argv, project, run_env, BUILD_TIMEOUT, scrub=masked))


@pytest.fixture
def job(
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    local_index: LocalIndex,
    sigstore_github_identity: GitHubIdentity,
    env_for: EnvFactory,
) -> tuple[Path, dict[str, str], GitHubPublisher]:
    """An attested dist/ of the test project, and the publish step's environment."""
    publisher = trusted_github(local_index, PROJECT, sigstore_github_identity)
    project = built(tmp_path, env_for(local_sigstore.github_env(sigstore_github_identity)))
    return project, env_for(local_sigstore.github_env(sigstore_github_identity)), publisher


def test_pdm_publish_stops_at_the_attestations_before_uploading(
    job: tuple[Path, dict[str, str], GitHubPublisher], local_index: LocalIndex
) -> None:
    project, env, _ = job

    result = pdm_publish(project, env, local_index)

    assert result.returncode != 0
    assert result.says("Unknown distribution file type: ")
    assert result.says(".publish.attestation")
    assert local_index.counts()["upload"] == 0
    assert local_index.files() == []


def test_pdm_publish_of_the_distributions_alone_drops_the_attestations(
    tmp_path: Path, job: tuple[Path, dict[str, str], GitHubPublisher], local_index: LocalIndex
) -> None:
    """`-d` a folder without them: accepted, over Trusted Publishing, but unattested."""
    project, env, publisher = job
    alone = project / "dists-only"
    alone.mkdir()
    for artifact in (project / "dist").iterdir():
        if artifact.name.endswith((".whl", ".tar.gz")):
            (alone / artifact.name).write_bytes(artifact.read_bytes())

    result = pdm_publish(project, env, local_index, "-d", "dists-only")

    assert result.returncode == 0, result.output
    stored = local_index.files(PROJECT)
    assert len(stored) == 2
    assert [f.attestations for f in stored] == [(), ()]
    assert [f.trusted_publisher for f in stored] == [publisher, publisher]


def test_pdm_built_dist_uploads_its_attestations_with_uv(
    job: tuple[Path, dict[str, str], GitHubPublisher], local_index: LocalIndex
) -> None:
    """What the README tells pdm users: upload the same dist/ with `uv publish`."""
    project, env, publisher = job

    result = publish("uv", project, env)

    assert result.returncode == 0, result.output
    assert_accepted_with_attestations(local_index, project, publisher)
