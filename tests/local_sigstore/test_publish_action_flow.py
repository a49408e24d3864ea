"""Build-time attestations and pypa/gh-action-pypi-publish, in one emulated GitHub job.

The build step is the one pipeline every host calls (:func:`hatch_attest._attest.attest`,
as the hook runs it after building) at the default configuration, ``predicate = "auto"``
unless a test says otherwise; then the action's own flow runs
(``tests/gh_action_pypi_publish.py``) and uploads to an index that records the form
fields twine sends.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hatchling.builders.sdist import SdistBuilder
from hatchling.builders.wheel import WheelBuilder
from pypi_attestations import GitHubPublisher
from sigstore.models import ClientTrustConfig
from sigstore.verify import Verifier

from hatch_attest._attest import attest
from hatch_attest._config import load_config
from hatch_attest._verify import verify_attestation
from hatch_attest_testing import PUBLISH_V1, SLSA_PROVENANCE_V1, GitHubIdentity, LocalSigstore
from hatch_attest_testing.pytest_plugin import CIJob

from ..gh_action_pypi_publish import (
    ActionFailed,
    Upload,
    run_action,
    twine_upload,
    upload_recorder,
    uv_publish,
)

WORKFLOW = """\
name: Release
on:
  push:
    tags: ["v*"]
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - uses: actions/checkout@v4
      - run: pipx run build   # hatch-attest signs here
      - uses: actions/upload-artifact@v4
        with: {name: dist, path: dist/}
  publish:
    needs: build
    runs-on: ubuntu-latest
    environment: pypi
    permissions:
      id-token: write
    steps:
      - uses: actions/download-artifact@v4
        with: {name: dist, path: dist/}
      - uses: pypa/gh-action-pypi-publish@release/v1
WITH
"""


@pytest.fixture
def job(
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    sigstore_ci_job: CIJob,
    tmp_path: Path,
) -> Path:
    """A GitHub job whose checkout (GITHUB_WORKSPACE) is returned; write its workflow there."""
    workspace = tmp_path / "workspace"
    (workspace / ".github" / "workflows").mkdir(parents=True)
    sigstore_ci_job(
        {**local_sigstore.github_env(sigstore_github_identity), "GITHUB_WORKSPACE": str(workspace)}
    )
    return workspace


def write_workflow(workspace: Path, with_: str = "", workflow: str = WORKFLOW) -> None:
    text = workflow.replace("WITH\n", with_)
    (workspace / ".github" / "workflows" / "release.yml").write_text(text, encoding="utf-8")


@pytest.fixture
def demo_dist(tmp_path: Path) -> Path:
    """A real sdist and wheel (twine checks and reads their metadata), in ``dist/``."""
    project = tmp_path / "project"
    (project / "demo_pkg").mkdir(parents=True)
    (project / "demo_pkg" / "__init__.py").write_text("")
    (project / "README.md").write_text("# demo-pkg\n")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "demo-pkg"\nversion = "0.1.0"\ndescription = "A demo"\n'
        'readme = "README.md"\n'
    )
    dist = tmp_path / "dist"
    list(SdistBuilder(str(project)).build(directory=str(dist)))
    list(WheelBuilder(str(project)).build(directory=str(dist)))
    return dist


class _Log:
    """A reporter that keeps the build log's lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def display_info(self, message: str) -> None:
        self.lines.append(message)

    def display_warning(self, message: str) -> None:
        self.lines.append(f"warning: {message}")


def build_step(sigstore: LocalSigstore, dist: Path, predicate: str | None = None) -> list[str]:
    """What the hook does after building, at the default configuration; the build log."""
    table = {} if predicate is None else {"predicate": predicate}
    env = {**os.environ, "HATCH_ATTEST_TRUST_CONFIG": str(sigstore.trust_config_path)}
    log = _Log()
    written = attest(sorted(dist.iterdir()), load_config(table, root=dist, env=env), env, log)
    assert written, log.lines
    return log.lines


def predicate_types(upload: Upload) -> list[str]:
    return sorted(json.loads(a.envelope.statement)["predicateType"] for a in upload.attestations())


@pytest.fixture
def verified(
    sigstore_github_identity: GitHubIdentity, trust_config: ClientTrustConfig
) -> Callable[[Upload], None]:
    """Check that every attestation of an upload passes PyPI's checks for the job's publisher."""
    publisher = GitHubPublisher(
        repository=sigstore_github_identity.repository, workflow="release.yml"
    )
    verifier = Verifier(trusted_root=trust_config.trusted_root)

    def check(upload: Upload) -> None:
        for attestation in upload.attestations():
            verify_attestation(attestation, upload.distribution, publisher, verifier)

    return check


ATTESTATIONS_OFF = "        with:\n          attestations: false\n"
WITHOUT_THE_ACTION = WORKFLOW.replace(
    "pypa/gh-action-pypi-publish@release/v1", "astral-sh/setup-uv@v5"
).replace("WITH\n", "      - run: uv build && uv publish\n")


@pytest.mark.parametrize(
    ("with_", "workflow", "says"),
    [
        (
            "",
            WORKFLOW,
            "Predicate (auto): SLSA provenance, to sit beside the action's own: job `publish` of "
            ".github/workflows/release.yml uses pypa/gh-action-pypi-publish@release/v1, which "
            "signs its own publish attestations (`attestations` is on by default)",
        ),
        (
            ATTESTATIONS_OFF,
            WORKFLOW,
            "Predicate (auto): a publish attestation: job `publish` of "
            ".github/workflows/release.yml uses pypa/gh-action-pypi-publish@release/v1 with "
            "`attestations: false`",
        ),
        (
            "",
            WITHOUT_THE_ACTION,
            "Predicate (auto): a publish attestation: .github/workflows/release.yml does not use "
            "pypa/gh-action-pypi-publish",
        ),
    ],
    ids=["beside-the-action", "attestations-false", "without-the-action"],
)
def test_the_build_log_says_what_auto_chose_and_why(
    local_sigstore: LocalSigstore, job: Path, demo_dist: Path, with_: str, workflow: str, says: str
) -> None:
    write_workflow(job, with_, workflow)

    assert says in build_step(local_sigstore, demo_dist)


def test_default_beside_the_action_gives_two_attestations_per_file(
    local_sigstore: LocalSigstore,
    trust_config: ClientTrustConfig,
    job: Path,
    demo_dist: Path,
    verified: Callable[[Upload], None],
) -> None:
    write_workflow(job)
    build_step(local_sigstore, demo_dist)

    with upload_recorder() as index:
        run_action(demo_dist, trust_config=trust_config, repository_url=index.url)

    assert sorted(u.filename for u in index.uploads) == [
        "demo_pkg-0.1.0-py2.py3-none-any.whl",
        "demo_pkg-0.1.0.tar.gz",
    ]
    for upload in index.uploads:
        assert predicate_types(upload) == [PUBLISH_V1, SLSA_PROVENANCE_V1]
        verified(upload)


def test_a_publish_attestation_from_the_build_makes_the_action_fail(
    local_sigstore: LocalSigstore, trust_config: ClientTrustConfig, job: Path, demo_dist: Path
) -> None:
    """Why `auto` exists: what `predicate = "publish"` would do beside the action."""
    write_workflow(job)
    build_step(local_sigstore, demo_dist, "publish")

    with upload_recorder() as index, pytest.raises(ActionFailed) as failure:
        run_action(demo_dist, trust_config=trust_config, repository_url=index.url)

    assert str(failure.value).startswith(
        "The following distributions already have publish attestations: * "
    )
    assert index.uploads == []


def test_with_attestations_false_the_build_s_own_attestation_is_a_publish_one(
    local_sigstore: LocalSigstore, trust_config: ClientTrustConfig, job: Path, demo_dist: Path
) -> None:
    """The action neither signs nor uploads attestations; it must still succeed."""
    write_workflow(job, ATTESTATIONS_OFF)
    build_step(local_sigstore, demo_dist)

    with upload_recorder() as index:
        run_action(
            demo_dist,
            trust_config=trust_config,
            repository_url=index.url,
            inputs={"attestations": "false"},
        )

    assert len(index.uploads) == 2
    # twine without --attestations sends none, though the files are there.
    assert [u.attestations() for u in index.uploads] == [[], []]
    assert sorted(p.name for p in demo_dist.glob("*.publish.attestation")) == [
        "demo_pkg-0.1.0-py2.py3-none-any.whl.publish.attestation",
        "demo_pkg-0.1.0.tar.gz.publish.attestation",
    ]


def test_without_the_action_twine_uploads_the_publish_attestation(
    local_sigstore: LocalSigstore, job: Path, demo_dist: Path, verified: Callable[[Upload], None]
) -> None:
    write_workflow(job, workflow=WITHOUT_THE_ACTION)
    build_step(local_sigstore, demo_dist)

    with upload_recorder() as index:
        twine_upload(demo_dist, index.url)

    for upload in index.uploads:
        assert predicate_types(upload) == [PUBLISH_V1]
        verified(upload)


@pytest.mark.parametrize("upload", [twine_upload, uv_publish], ids=["twine", "uv"])
def test_both_predicates_are_uploaded(
    local_sigstore: LocalSigstore,
    job: Path,
    demo_dist: Path,
    verified: Callable[[Upload], None],
    upload: Callable[[Path, str], str],
) -> None:
    """`predicate = both`, for uploaders other than the action."""
    build_step(local_sigstore, demo_dist, "both")

    with upload_recorder() as index:
        upload(demo_dist, index.url)

    assert len(index.uploads) == 2
    for item in index.uploads:
        assert predicate_types(item) == [PUBLISH_V1, SLSA_PROVENANCE_V1]
        verified(item)


def _skipped_build(sigstore: LocalSigstore, dist: Path) -> list[str]:
    """The build step where it must not sign: nothing written, the build log returned."""
    env = {**os.environ, "HATCH_ATTEST_TRUST_CONFIG": str(sigstore.trust_config_path)}
    log = _Log()
    assert attest(sorted(dist.iterdir()), load_config({}, root=dist, env=env), env, log) == []
    assert list(dist.glob("*.attestation")) == []
    assert sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}
    return log.lines


def test_the_action_with_an_api_token_makes_the_build_skip(
    local_sigstore: LocalSigstore, job: Path, demo_dist: Path
) -> None:
    """PyPI answers 400 to attestations on a token upload: sign nothing, spend no log entry."""
    write_workflow(job, "        with:\n          password: ${{ secrets.PYPI_API_TOKEN }}\n")

    log = _skipped_build(local_sigstore, demo_dist)

    assert log == [
        "warning: Not attesting: job `publish` of .github/workflows/release.yml uploads with "
        "pypa/gh-action-pypi-publish@release/v1 without Trusted Publishing (`password:` is "
        'set), and PyPI answers 400 "Attestations are only supported when using Trusted '
        'Publishing" to attestations on such an upload. Publish with Trusted Publishing from '
        ".github/workflows/release.yml to attest"
    ]


def test_the_action_in_a_called_reusable_workflow_makes_the_build_skip(
    local_sigstore: LocalSigstore, job: Path, demo_dist: Path
) -> None:
    """The upload job's job_workflow_ref names publish.yml; the certificate, release.yml."""
    workflows = job / ".github" / "workflows"
    caller = WORKFLOW[: WORKFLOW.index("  publish:")] + (
        "  publish:\n    needs: build\n    uses: ./.github/workflows/publish.yml\n"
    )
    (workflows / "release.yml").write_text(caller, encoding="utf-8")
    reusable = "on: workflow_call\njobs:\n" + WORKFLOW[WORKFLOW.index("  publish:") :].replace(
        "WITH\n", ""
    )
    (workflows / "publish.yml").write_text(reusable, encoding="utf-8")

    log = _skipped_build(local_sigstore, demo_dist)

    assert len(log) == 1
    assert log[0].startswith(
        "warning: Not attesting: the upload to PyPI (pypa/gh-action-pypi-publish@release/v1 "
        "in job `publish` of .github/workflows/publish.yml) runs inside the reusable workflow "
        ".github/workflows/publish.yml, and PyPI cannot accept attestations from such an upload"
    )
    assert "(warehouse issue 11096)" in log[0]
