"""What a new user hits in the first hour, as they see it (issue 11, section 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hatch_attest.files import attestation_path
from hatch_attest_testing import Cli, GitHubIdentity, LocalSigstore, fake_wheel

NO_REQUESTS = {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


# No CI identity here; the conftest starts each test in an empty folder.
pytestmark = pytest.mark.usefixtures("sigstore_no_ci")


@pytest.fixture
def sigstore_github_identity() -> GitHubIdentity:
    """`sigstore_github_job` runs in the repository that the tests' pyproject.toml files name."""
    return GitHubIdentity(repository="octo-org/first-hour")


def _wheel(tmp_path: Path) -> Path:
    return fake_wheel(tmp_path / "dist", "first_hour", size=64)


def test_a_typo_in_the_workflow_is_a_warning_that_says_what_differs(
    tmp_path: Path,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    Path("pyproject.toml").write_text(
        "[tool.hatch.build.hooks.attest]\n"
        'publisher = { kind = "github", repository = "octo-org/first-hour", '
        'workflow = "relase.yml" }\n'
    )
    wheel = _wheel(tmp_path)

    status, _, err = local_sign("--mode", "auto", wheel)

    assert status == 0
    assert err == (
        "hatch-attest: warning: Not attesting: expected workflow relase.yml, found release.yml "
        "(GITHUB_WORKFLOW_REF): this job of the project's own repository is not the Trusted "
        "Publisher, and PyPI would reject its attestations. Build in the publishing workflow, "
        "or correct `publisher`\n"
    )
    assert "somebody else" not in err
    assert not attestation_path(wheel).exists()
    assert local_sigstore.counts() == NO_REQUESTS


def test_another_repository_is_an_info_line_about_somebody_elses_ci(
    tmp_path: Path,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    wheel = _wheel(tmp_path)

    status, _, err = local_sign(
        "--mode", "auto", "--publisher", "github:octo-org/the-original@release.yml", wheel
    )

    assert status == 0
    assert err == (
        "Not attesting: expected GitHub repository octo-org/the-original, found "
        "octo-org/first-hour (GITHUB_REPOSITORY); not signing as somebody else's CI\n"
    )
    assert local_sigstore.counts() == NO_REQUESTS


def test_a_relative_trust_config_variable_is_refused_before_any_request(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: Cli,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    monkeypatch.setenv("HATCH_ATTEST_TRUST_CONFIG", "ci/trust.json")
    wheel = _wheel(tmp_path)

    status, _, err = cli("sign", wheel)

    assert status == 2
    assert err == (
        "hatch-attest: error: HATCH_ATTEST_TRUST_CONFIG: must be an absolute path, not "
        '"ci/trust.json": build frontends run each build step in a folder of their own, so a '
        'relative path names a different file in each; use e.g. "$PWD/ci/trust.json"\n'
    )
    assert local_sigstore.counts() == NO_REQUESTS


def test_an_unreadable_trust_config_is_found_before_the_token_is_requested(
    tmp_path: Path,
    cli: Cli,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    wheel = _wheel(tmp_path)

    status, _, err = cli("sign", "--trust-config", tmp_path / "missing.json", wheel)

    assert status == 1
    assert err.startswith("hatch-attest: error: cannot read the Sigstore trust config")
    assert local_sigstore.counts() == NO_REQUESTS
