"""Sign only where PyPI can accept the job's attestations (issue 15, 1 and 5), through the CLI.

Each test runs ``hatch-attest sign`` in-process in an emulated CI job whose
checkout holds the CI configuration, against the local Sigstore, and asserts
what a user sees: the one line that says why, the exit status, the files on disk
and that a skip spends no request at all (no token, no certificate, no log entry).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import pytest

from hatch_attest._attest import SIGNING_REQUIREMENTS, requirements_for
from hatch_attest._cli import main
from hatch_attest._config import load_config
from hatch_attest._files import attestation_path
from hatch_attest_testing import GitHubIdentity, GitLabIdentity, LocalSigstore, fake_wheel
from hatch_attest_testing.pytest_plugin import CIJob

from ._shared import BUILD_STEPS, RELEASE_ON_TAGS, gha_job

NO_REQUESTS = {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}

pytestmark = pytest.mark.usefixtures("sigstore_no_ci")

ONLY_BUILDS = "name: CI\non: [push, pull_request]\njobs:\n" + gha_job("build", *BUILD_STEPS)
CALLS_PUBLISH = (
    f"{RELEASE_ON_TAGS}jobs:\n{gha_job('build', 'run: uv build')}"
    "  publish:\n    needs: build\n    uses: ./.github/workflows/publish.yml\n"
)
PUBLISH_REUSABLE = "on: workflow_call\njobs:\n" + gha_job(
    "upload", "uses: pypa/gh-action-pypi-publish@release/v1", environment="pypi"
)
TOKEN_UPLOAD = RELEASE_ON_TAGS + "jobs:\n" + gha_job("release", "run: uv build", """\
run: twine upload dist/*
        env:
          TWINE_USERNAME: __token__
          TWINE_PASSWORD: ${{ secrets.PYPI_API_TOKEN }}""")  # fmt: skip


class Sign(Protocol):
    def __call__(self, *argv: str | Path) -> tuple[int, str]: ...


@pytest.fixture
def sign(capsys: pytest.CaptureFixture[str], local_sigstore: LocalSigstore) -> Sign:
    """``hatch-attest sign --trust-config <local> ARGV``, in-process: its status and stderr."""

    def run(*argv: str | Path) -> tuple[int, str]:
        capsys.readouterr()
        trust = ("--trust-config", local_sigstore.trust_config_path)
        status = main(["sign", *map(str, trust), *map(str, argv)])
        return status, capsys.readouterr().err

    return run


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    """A wheel in dist/, as a build leaves it."""
    return fake_wheel(tmp_path / "dist")


class Enter(Protocol):
    def __call__(
        self,
        workflow: str,
        extra: Mapping[str, str] | None = None,
        identity: GitHubIdentity | None = None,
    ) -> Path: ...


@pytest.fixture
def enter(
    sigstore_ci_job: CIJob, local_sigstore: LocalSigstore, sigstore_github_identity: GitHubIdentity
) -> Enter:
    """Enter a GitHub job running ``identity.workflow`` with the text ``workflow``.

    ``extra`` adds other workflow files (by name) to the checkout, which it returns.
    """

    def run(
        workflow: str,
        extra: Mapping[str, str] | None = None,
        identity: GitHubIdentity | None = None,
    ) -> Path:
        env = local_sigstore.github_env(identity or sigstore_github_identity, workflow=workflow)
        sigstore_ci_job(env)
        checkout = Path(env["GITHUB_WORKSPACE"])
        for name, text in (extra or {}).items():
            (checkout / ".github" / "workflows" / name).write_text(text)
        return checkout

    return run


REUSABLE_SKIP = (
    "Not attesting: the upload to PyPI (pypa/gh-action-pypi-publish@release/v1 in job "
    "`upload` of .github/workflows/publish.yml) runs inside the reusable workflow "
    ".github/workflows/publish.yml, and PyPI cannot accept attestations from such an upload: "
    "it looks the Trusted Publisher up by the upload job's job_workflow_ref, which never "
    "matches the certificate's workflow .github/workflows/release.yml (warehouse issue "
    "11096). Move the upload step into .github/workflows/release.yml to attest"
)
TOKEN_SKIP = (
    "Not attesting: job `release` of .github/workflows/release.yml uploads with twine upload "
    "without Trusted Publishing (TWINE_PASSWORD is set for twine upload), and PyPI answers "
    '400 "Attestations are only supported when using Trusted Publishing" to attestations on '
    "such an upload. Publish with Trusted Publishing from .github/workflows/release.yml to "
    "attest"
)
NO_UPLOAD_SKIP = (
    "Not attesting: .github/workflows/release.yml shows no upload to PyPI (no "
    "gh-action-pypi-publish, twine upload, uv publish, ... step), and PyPI accepts "
    "attestations only from the workflow that uploads. Sign in that workflow, or set "
    "`publisher` to sign here anyway"
)


@pytest.mark.parametrize(
    ("workflow", "extra", "line"),
    [
        (CALLS_PUBLISH, {"publish.yml": PUBLISH_REUSABLE}, REUSABLE_SKIP),
        (TOKEN_UPLOAD, {}, TOKEN_SKIP),
        (ONLY_BUILDS, {}, NO_UPLOAD_SKIP),
    ],
    ids=["upload-in-reusable-workflow", "token-upload", "no-upload"],
)
def test_a_job_whose_attestations_pypi_would_reject_skips_without_a_request(
    workflow: str,
    extra: dict[str, str],
    line: str,
    enter: Enter,
    sign: Sign,
    wheel: Path,
    local_sigstore: LocalSigstore,
) -> None:
    enter(workflow, extra)

    status, err = sign("--mode", "auto", wheel)

    assert status == 0, err
    warning = "hatch-attest: warning: " if line is not NO_UPLOAD_SKIP else ""
    assert err == warning + line + "\n"
    assert not attestation_path(wheel).exists()
    assert local_sigstore.counts() == NO_REQUESTS

    # mode = always: the same finding fails, still before any request.
    status, err = sign("--mode", "always", wheel)

    assert status == 1
    assert "cannot attest (mode = always): " + line.removeprefix("Not attesting: ") in err
    assert not attestation_path(wheel).exists()
    assert local_sigstore.counts() == NO_REQUESTS


# The release workflow (and the other workflow files) of each case, by its test id.
CASES = {
    "no-upload": (ONLY_BUILDS, {}),
    "token-upload": (TOKEN_UPLOAD, {}),
    "upload-in-reusable-workflow": (CALLS_PUBLISH, {"publish.yml": PUBLISH_REUSABLE}),
}


@pytest.mark.parametrize(
    ("case", "signs"),
    [
        ("no-upload", True),  # "no upload visible" is not a skip with `publisher`
        ("token-upload", False),  # a provable token upload still is
        ("upload-in-reusable-workflow", False),  # and so is a reusable one
    ],
    ids=["no-upload", "token-upload", "upload-in-reusable-workflow"],
)
def test_a_configured_publisher_signs_unless_pypi_provably_rejects(
    case: str,
    signs: bool,
    enter: Enter,
    sign: Sign,
    wheel: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    enter(*CASES[case])
    publisher = f"github:{sigstore_github_identity.repository}@{sigstore_github_identity.workflow}"

    status, err = sign("--mode", "auto", "--publisher", publisher, wheel)

    assert status == 0, err
    assert attestation_path(wheel).is_file() is signs
    if not signs:
        assert "Not attesting: " in err
        assert local_sigstore.counts() == NO_REQUESTS


def test_the_job_of_the_uploading_workflow_signs(
    sigstore_ci_job: CIJob,
    sign: Sign,
    wheel: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    # The emulated job's default workflow builds and runs `uv publish` with Trusted Publishing.
    sigstore_ci_job(local_sigstore.github_env(sigstore_github_identity))

    status, err = sign(wheel)

    assert status == 0, err
    assert attestation_path(wheel).is_file()
    assert local_sigstore.counts()["rekor"] == 1


def test_a_workflow_run_release_skips_the_build_in_the_triggering_workflow(
    enter: Enter, sign: Sign, wheel: Path, local_sigstore: LocalSigstore
) -> None:
    # ci.yml builds; release.yml (on: workflow_run) downloads its artifacts and uploads.
    release = (
        "on: {workflow_run: {workflows: [CI], types: [completed]}}\n"
        "jobs:\n  publish:\n    runs-on: ubuntu-latest\n    permissions: {id-token: write}\n"
        "    steps:\n      - uses: pypa/gh-action-pypi-publish@release/v1\n"
    )
    identity = GitHubIdentity(repository="octo-org/run-pkg", workflow="ci.yml")
    enter(ONLY_BUILDS, {"release.yml": release}, identity)

    status, err = sign("--mode", "auto", wheel)

    assert status == 0
    assert err.startswith("Not attesting: .github/workflows/ci.yml shows no upload to PyPI")
    assert not attestation_path(wheel).exists()
    assert local_sigstore.counts() == NO_REQUESTS


def test_a_stale_checkout_keeps_today_s_behaviour(enter: Enter, sign: Sign, wheel: Path) -> None:
    # The checkout's workflow only builds, but it is another commit than the one running.
    checkout = enter(ONLY_BUILDS)
    (checkout / ".git").mkdir()
    (checkout / ".git" / "HEAD").write_text("f" * 40 + "\n")

    status, err = sign(wheel)

    assert status == 0, err
    assert "Predicate (auto): SLSA provenance, to sit beside the action's own: the checkout" in err
    assert attestation_path(wheel, "slsa").is_file()


def test_a_gitlab_pipeline_that_only_builds_skips_without_a_request(
    tmp_path: Path,
    sigstore_ci_job: CIJob,
    sign: Sign,
    wheel: Path,
    local_sigstore: LocalSigstore,
    sigstore_gitlab_identity: GitLabIdentity,
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".gitlab-ci.yml").write_text("build:\n  script:\n    - python -m build\n")
    sigstore_ci_job(
        {**local_sigstore.gitlab_env(sigstore_gitlab_identity), "CI_PROJECT_DIR": str(project)}
    )

    status, err = sign("--mode", "auto", wheel)

    assert status == 0, err
    assert err == (
        "Not attesting: .gitlab-ci.yml shows no upload to PyPI (no twine upload, uv publish, "
        "... in a script), and PyPI accepts attestations only from the CI configuration that "
        "uploads. Sign in the pipeline that uploads, or set `publisher` to sign here anyway\n"
    )
    assert not attestation_path(wheel).exists()
    assert local_sigstore.counts() == NO_REQUESTS

    # The same pipeline with a Trusted Publishing upload signs.
    (project / ".gitlab-ci.yml").write_text(
        "build:\n  script: [python -m build]\npublish:\n  script: [uv publish]\n"
    )
    status, err = sign(wheel)

    assert status == 0, err
    assert attestation_path(wheel).is_file()


def test_verify_without_publisher_asks_for_one_when_the_upload_runs_elsewhere(
    sigstore_ci_job: CIJob,
    capsys: pytest.CaptureFixture[str],
    wheel: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    env = local_sigstore.github_env(
        sigstore_github_identity
    )  # its workflow uploads with `uv publish`
    sigstore_ci_job(env)
    trust = ("--trust-config", str(local_sigstore.trust_config_path))
    assert main(["sign", *trust, str(wheel)]) == 0
    capsys.readouterr()
    assert main(["verify", *trust, str(wheel)]) == 0
    assert capsys.readouterr().err.endswith("the distribution passes PyPI's attestation checks\n")

    # Now the upload runs in a reusable workflow: release.yml is not what PyPI checks.
    workflows = Path(env["GITHUB_WORKSPACE"]) / ".github" / "workflows"
    (workflows / "release.yml").write_text(CALLS_PUBLISH)
    (workflows / "publish.yml").write_text(PUBLISH_REUSABLE)

    status = main(["verify", *trust, str(wheel)])

    captured = capsys.readouterr()
    assert (status, captured.out) == (2, "")
    assert captured.err == (
        "hatch-attest: error: cannot tell which Trusted Publisher PyPI will check "
        "(.github/workflows/release.yml does not itself upload to PyPI with Trusted "
        "Publishing): pass --publisher naming the workflow that uploads, e.g. --publisher "
        f"github:{sigstore_github_identity.repository}@release.yml if it is this job's\n"
    )
    publisher = f"github:{sigstore_github_identity.repository}@release.yml"
    assert main(["verify", "--publisher", publisher, *trust, str(wheel)]) == 0


def test_before_pyyaml_is_installed_the_frontend_is_asked_for_it(
    enter: Enter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`get_requires_for_build_*` runs before the build's requirements are installed."""
    enter(ONLY_BUILDS)
    config = load_config({}, root=Path.cwd(), env=os.environ)

    # With PyYAML the workflow is read: it does not upload, so nothing is needed.
    assert requirements_for(config, os.environ) == []
    # Without it the answer is unknown: the signing stack and PyYAML are requested, and
    # the build itself (with them installed) gives the real answer.
    monkeypatch.setitem(sys.modules, "yaml", None)  # `import yaml` fails, as if not installed
    assert requirements_for(config, os.environ) == list(SIGNING_REQUIREMENTS)
    assert "pyyaml>=6" in SIGNING_REQUIREMENTS


def test_an_upload_to_another_index_by_url_variable_skips(
    enter: Enter, sign: Sign, wheel: Path, local_sigstore: LocalSigstore
) -> None:
    workflow = TOKEN_UPLOAD.replace(
        "TWINE_PASSWORD: ${{ secrets.PYPI_API_TOKEN }}",
        "TWINE_REPOSITORY_URL: https://nexus.example.com/repository/pypi/",
    )
    enter(workflow)

    status, err = sign("--mode", "auto", wheel)

    assert status == 0
    assert (
        "(twine upload uploads to https://nexus.example.com/repository/pypi/, not to PyPI)" in err
    )
    assert not attestation_path(wheel).exists()
    assert local_sigstore.counts() == NO_REQUESTS
