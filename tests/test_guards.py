"""Who may sign: guards that hold in every CI (issue: hardening, round two, items 1-4, 9).

Each test runs ``hatch-attest sign`` in-process (the same pipeline the build hook
and the wrapper backend call) in an emulated job against the local Sigstore, and
asserts what a user sees: the exit status, the one line that says why, the files
on disk, and how many requests each service received.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest
import sigstore

from hatch_attest._files import attestation_path
from hatch_attest_testing import (
    Cli,
    Fault,
    GitHubIdentity,
    GitLabIdentity,
    LocalSigstore,
    fake_wheel,
    unsigned_jwt,
)
from hatch_attest_testing.pytest_plugin import CIJob

from ._shared import GitHubJobAs

NO_REQUESTS = {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}
TOKEN_ONLY = {"oidc": 1, "fulcio": 0, "rekor": 0, "tsa": 0}


# No CI identity here; the conftest starts each test in an empty folder.
pytestmark = pytest.mark.usefixtures("sigstore_no_ci")


def _wheel(tmp_path: Path) -> Path:
    return fake_wheel(tmp_path / "dist", "guarded_pkg")


def _project_urls(url: str) -> None:
    Path("pyproject.toml").write_text(f'[project]\nname = "guarded-pkg"\nurls.Source = "{url}"\n')


def _auto_sign_in_project(url: str, tmp_path: Path, local_sign: Cli) -> tuple[str, Path]:
    """`sign --mode auto` of a wheel, in a project whose [project.urls] names ``url``.

    It ends with status 0; what it printed on stderr, and the wheel."""
    _project_urls(url)
    wheel = _wheel(tmp_path)
    status, _, err = local_sign("--mode", "auto", wheel)
    assert status == 0
    return err, wheel


def _public_good_trust_config(instance: LocalSigstore, tmp_path: Path) -> Path:
    """The local trust config, but signing at sigstore.dev: where the signature would go."""
    document = json.loads(instance.trust_config_path.read_text())
    for key in ("caUrls", "rekorTlogUrls"):
        for service in document["signingConfig"][key]:
            service["url"] = (
                "https://fulcio.sigstore.dev" if key == "caUrls" else ("https://rekor.sigstore.dev")
            )
    path = tmp_path / "public-good-trust-config.json"
    path.write_text(json.dumps(document))
    return path


# --- 1. Private means "not provably public" -------------------------------------


@pytest.mark.parametrize("visibility", ["private", "internal", "Private", "PUBLIC", None])
@pytest.mark.parametrize("mode", ["auto", "always"])
def test_a_repository_not_provably_public_never_reaches_the_public_instance(
    tmp_path: Path,
    github_job_as: GitHubJobAs,
    cli: Cli,
    local_sigstore: LocalSigstore,
    visibility: str | None,
    mode: str,
) -> None:
    github_job_as(repository="octo-org/guarded-pkg", visibility=visibility)
    trust = _public_good_trust_config(local_sigstore, tmp_path)
    wheel = _wheel(tmp_path)

    status, _, err = cli("sign", "--mode", mode, "--trust-config", trust, wheel)

    found = (
        "the repository is private"
        if visibility == "private"
        else "the repository is not provably public (the token has "
        + (
            "no visibility claim"
            if visibility is None
            else f"repository_visibility = '{visibility}'"
        )
        + ")"
    )
    assert found in err
    assert "set `allow-private-repository = true` if that is acceptable" in err
    assert status == (0 if mode == "auto" else 1)
    assert not attestation_path(wheel).exists()
    assert local_sigstore.counts() == TOKEN_ONLY


def test_the_named_public_instances_are_public_good_too(
    tmp_path: Path,
    github_job_as: GitHubJobAs,
    cli: Cli,
    local_sigstore: LocalSigstore,
) -> None:
    github_job_as(repository="octo-org/guarded-pkg", visibility="internal")

    status, _, err = cli("sign", "--mode", "auto", "--instance", "staging", _wheel(tmp_path))

    assert status == 0
    assert err.startswith("Not attesting: the repository is not provably public")
    assert local_sigstore.counts() == TOKEN_ONLY


def _embedded_trusted_root(repository: str) -> dict[str, Any]:
    """The public-good trusted root sigstore-python ships for ``repository``'s TUF host."""
    store = Path(sigstore.__file__).parent / "_store" / f"https%3A%2F%2F{repository}"
    document: dict[str, Any] = json.loads((store / "trusted_root.json").read_text())
    return document


@pytest.mark.parametrize(
    ("repository", "kind"),
    [
        ("tuf-repo-cdn.sigstore.dev", "tlogs"),
        ("tuf-repo-cdn.sigstore.dev", "certificateAuthorities"),
        ("tuf-repo-cdn.sigstore.dev", "ctlogs"),
        ("tuf-repo-cdn.sigstage.dev", "tlogs"),
    ],
    ids=["production Rekor", "production Fulcio CA", "production CT log", "staging Rekor"],
)
@pytest.mark.parametrize("mode", ["auto", "always"])
def test_a_trust_root_holding_public_good_keys_is_public_whatever_the_urls(
    tmp_path: Path,
    github_job_as: GitHubJobAs,
    cli: Cli,
    local_sigstore: LocalSigstore,
    repository: str,
    kind: str,
    mode: str,
) -> None:
    """A proxy or mirror in front of sigstore.dev: local URLs, the public instance's keys."""
    github_job_as(repository="octo-org/guarded-pkg", visibility="private")
    document = json.loads(local_sigstore.trust_config_path.read_text())
    public = _embedded_trusted_root(repository)[kind][-1]
    document["trustedRoot"][kind].append(public)
    trust = tmp_path / "mirror-trust-config.json"
    trust.write_text(json.dumps(document))
    urls = [s["url"] for key in ("caUrls", "rekorTlogUrls") for s in document["signingConfig"][key]]
    assert all(url.startswith("http://127.0.0.1:") for url in urls)
    wheel = _wheel(tmp_path)

    status, _, err = cli("sign", "--mode", mode, "--trust-config", trust, wheel)

    assert "the repository is private, and signing on the public Sigstore instance" in err
    assert "set `allow-private-repository = true` if that is acceptable" in err
    assert status == (0 if mode == "auto" else 1)
    assert not attestation_path(wheel).exists()
    assert local_sigstore.counts() == TOKEN_ONLY


@pytest.mark.parametrize("visibility", ["internal", None])
def test_a_private_instance_signs_whatever_the_visibility(
    tmp_path: Path,
    github_job_as: GitHubJobAs,
    local_sign: Cli,
    visibility: str | None,
) -> None:
    github_job_as(repository="octo-org/guarded-pkg", visibility=visibility)
    wheel = _wheel(tmp_path)

    status, _, err = local_sign(wheel)

    assert status == 0, err
    assert attestation_path(wheel).is_file()


# --- 2 and 3. Sign only in a job that provably is the project's own ----------------


@pytest.mark.parametrize(
    ("changes", "job"),
    [
        ({"GITHUB_WORKFLOW_REF": ""}, "a GitHub Actions job in octo-org/guarded-pkg"),
        (
            {"GITHUB_SERVER_URL": "https://github.example.com"},
            "a GitHub Actions job in octo-org/guarded-pkg",
        ),
    ],
    ids=["no GITHUB_WORKFLOW_REF", "GitHub Enterprise Server"],
)
def test_a_github_job_that_cannot_be_shown_to_be_ours_does_not_sign(
    tmp_path: Path,
    sigstore_ci_job: CIJob,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
    changes: dict[str, str],
    job: str,
) -> None:
    identity = GitHubIdentity(repository="octo-org/guarded-pkg")
    sigstore_ci_job(local_sigstore.github_env(identity) | changes)
    err, wheel = _auto_sign_in_project(
        "https://github.com/octo-org/guarded-pkg", tmp_path, local_sign
    )

    assert err == (
        "Not attesting: [project.urls] names github repository octo-org/guarded-pkg, and "
        f"{job} cannot be shown to build it (its CI environment does not name a repository "
        "and workflow on a server PyPI trusts); not signing a build that may be somebody "
        "else's (set `publisher` to sign from this job)\n"
    )
    assert not attestation_path(wheel).exists()
    assert local_sigstore.counts() == NO_REQUESTS


@pytest.mark.parametrize(
    "identity",
    [
        GitLabIdentity(project_path="octo-group/guarded-pkg"),
        GitLabIdentity(
            project_path="octo-group/guarded-pkg",
            ci_config_path="templates/python.yml",
            ci_config_project="stranger/ci-templates",
        ),
    ],
    ids=["self-managed GitLab", "CI config of another project"],
)
def test_a_gitlab_job_that_cannot_be_shown_to_be_ours_does_not_sign(
    tmp_path: Path,
    sigstore_ci_job: CIJob,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
    identity: GitLabIdentity,
) -> None:
    env = local_sigstore.gitlab_env(identity)
    if identity.ci_config_project is None:
        env |= {
            "CI_SERVER_HOST": "gitlab.example.com",
            "CI_SERVER_URL": "https://gitlab.example.com",
        }
    sigstore_ci_job(env)
    err, _ = _auto_sign_in_project(
        "https://gitlab.com/octo-group/guarded-pkg", tmp_path, local_sign
    )

    assert err.startswith(
        "Not attesting: [project.urls] names gitlab repository octo-group/guarded-pkg, and "
        "a GitLab CI job in octo-group/guarded-pkg cannot be shown to build it"
    )
    assert local_sigstore.counts() == NO_REQUESTS


def test_a_buildkite_job_rebuilding_the_sdist_does_not_sign(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
) -> None:
    # An agent that would hand out a token, and records that it was asked.
    agent_dir = tmp_path / "bin"
    agent_dir.mkdir()
    asked = tmp_path / "agent-was-asked"
    agent = agent_dir / "buildkite-agent"
    agent.write_text(f"#!/bin/sh\ntouch {asked}\nexit 1\n")
    agent.chmod(agent.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("BUILDKITE", "true")
    monkeypatch.setenv("PATH", f"{agent_dir}{os.pathsep}{os.environ['PATH']}")
    err, _ = _auto_sign_in_project("https://github.com/octo-org/guarded-pkg", tmp_path, local_sign)

    assert err.startswith(
        "Not attesting: [project.urls] names github repository octo-org/guarded-pkg, and "
        "a Buildkite job cannot be shown to build it"
    )
    assert not asked.exists()
    assert local_sigstore.counts() == NO_REQUESTS


def test_project_urls_in_another_letter_case_still_name_our_repository(
    tmp_path: Path,
    github_job_as: GitHubJobAs,
    cli: Cli,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
) -> None:
    github_job_as(repository="octo-org/guarded-pkg")
    _project_urls("https://github.com/Octo-Org/Guarded-Pkg")
    wheel = _wheel(tmp_path)

    status, _, err = local_sign(wheel)

    assert status == 0, err
    # The policy keeps the job's exact spelling: `verify` passes for it.
    verified, _, err = cli(
        "verify",
        "--trust-config",
        str(local_sigstore.trust_config_path),
        "--publisher",
        "github:octo-org/guarded-pkg@release.yml",
        str(wheel),
    )
    assert verified == 0


# --- 4. Identities PyPI cannot accept ------------------------------------------------


def test_an_identity_no_index_accepts_does_not_sign_on_the_public_instance(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: Cli,
    local_sigstore: LocalSigstore,
) -> None:
    token = unsigned_jwt(
        {
            "iss": "https://agent.buildkite.com",
            "aud": "sigstore",
            "exp": int(time.time()) + 300,
            "sub": "organization:acme:pipeline:release:ref:refs/heads/main",
        }
    )
    monkeypatch.setenv("SIGSTORE_IDENTITY_TOKEN", token)
    trust = _public_good_trust_config(local_sigstore, tmp_path)
    wheel = _wheel(tmp_path)

    status, _, err = cli("sign", "--mode", "auto", "--trust-config", trust, wheel)

    assert status == 0
    assert err == (
        "Not attesting: the identity from SIGSTORE_IDENTITY_TOKEN (issuer "
        "https://agent.buildkite.com) is not a Trusted Publisher that PyPI can accept "
        "attestations from (GitHub, GitLab.com or Google), so a signature would only add a "
        "public log entry; set `publisher` or a `trust-config` of your own to sign anyway\n"
    )
    assert token not in err
    assert not attestation_path(wheel).exists()
    assert local_sigstore.counts()["fulcio"] == 0


@pytest.mark.parametrize(
    ("token_identity", "message"),
    [
        (
            GitLabIdentity(
                project_path="octo-group/guarded-pkg",
                ci_config_path="templates/python.yml",
                ci_config_project="stranger/ci-templates",
            ),
            "refusing to sign: the token's CI config templates/python.yml belongs to project "
            "stranger/ci-templates, not to octo-group/guarded-pkg; expected GitLab project "
            "octo-group/guarded-pkg, CI config .gitlab-ci.yml",
        ),
        (
            GitHubIdentity(repository="octo-group/guarded-pkg"),
            "refusing to sign: the token is from "
            "'https://token.actions.githubusercontent.com', but GitLab project "
            "octo-group/guarded-pkg, CI config .gitlab-ci.yml is expected",
        ),
        (
            GitLabIdentity(project_path="octo-group/guarded-pkg", ci_config_path="ci/other.yml"),
            "refusing to sign: the token is for CI config ci/other.yml, expected .gitlab-ci.yml",
        ),
    ],
    ids=["another project's CI config", "another issuer", "another CI config"],
)
def test_a_gitlab_token_is_checked_before_fulcio_as_a_github_token_is(
    tmp_path: Path,
    sigstore_ci_job: CIJob,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
    token_identity: GitLabIdentity | GitHubIdentity,
    message: str,
) -> None:
    # The job's environment is the expected publisher's; only the token differs.
    job = GitLabIdentity(project_path="octo-group/guarded-pkg")
    env = local_sigstore.gitlab_env(job)
    if isinstance(token_identity, GitLabIdentity):
        env["SIGSTORE_ID_TOKEN"] = local_sigstore.mint_gitlab_token(token_identity)
    else:
        env["SIGSTORE_ID_TOKEN"] = local_sigstore.mint_github_token(token_identity)
    sigstore_ci_job(env)
    local_sigstore.reset()
    wheel = _wheel(tmp_path)

    status, _, err = local_sign(
        "--mode", "auto", "--publisher", "gitlab:octo-group/guarded-pkg@.gitlab-ci.yml", wheel
    )

    assert status == 1
    assert err == f"hatch-attest: error: {message}\n"
    assert local_sigstore.counts()["fulcio"] == 0
    assert local_sigstore.counts()["rekor"] == 0


# --- 9. One deadline per artifact ----------------------------------------------------


def test_the_timeout_covers_token_certificate_and_log_entry_together(
    tmp_path: Path,
    github_job_as: GitHubJobAs,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
) -> None:
    github_job_as(repository="octo-org/guarded-pkg")
    for endpoint in ("oidc", "fulcio", "rekor"):
        local_sigstore.inject(endpoint, Fault.delay(2.5))
    wheel = _wheel(tmp_path)

    started = time.monotonic()
    status, _, err = local_sign("--timeout", "3", wheel)
    elapsed = time.monotonic() - started

    assert status == 1
    assert "did not answer within the time budget" in err
    assert not attestation_path(wheel).exists()
    # Each phase alone would fit in 3 s; together they do not. The slack covers
    # one attempt's own timeout rounding and the process's work.
    assert elapsed < 3 + 2, elapsed
