"""What the environment says about an identity (no network, no sigstore import)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hatch_attest._identity import Token, unverified_claims
from hatch_attest._kinds import obtain_token, probe
from hatch_attest.errors import IdentityError, NoIdentityError


@pytest.fixture(autouse=True)
def product_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The DMI product name file probe() reads, as on an ordinary PC (not the host's)."""
    path = tmp_path / "product_name"
    path.write_text("Standard PC (Q35 + ICH9, 2009)\n")
    monkeypatch.setattr("hatch_attest._kinds.google.GCP_PRODUCT_NAME_FILE", str(path))
    return path


@pytest.mark.parametrize(
    ("env", "provider"),
    [
        ({"SIGSTORE_IDENTITY_TOKEN": "x.y.z"}, "SIGSTORE_IDENTITY_TOKEN"),
        (
            {
                "GITHUB_ACTIONS": "true",
                "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1/t",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "r",
            },
            "GitHub Actions",
        ),
        ({"GITLAB_CI": "true", "SIGSTORE_ID_TOKEN": "x.y.z"}, "GitLab CI"),
        ({"GOOGLE_SERVICE_ACCOUNT_NAME": "sa@p.iam.gserviceaccount.com"}, "Google Cloud"),
    ],
)
def test_available(env: dict[str, str], provider: str) -> None:
    assert probe(env).source == provider


@pytest.mark.parametrize(
    ("env", "explanation"),
    [
        (
            {"GITHUB_ACTIONS": "true"},
            "this GitHub Actions job has no OIDC permission (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN "
            "are not set); to attest, add `permissions: id-token: write` to the job (or "
            "workflow) that builds, in the same workflow file that publishes",
        ),
        (
            {"GITLAB_CI": "true"},
            "this GitLab CI job has no SIGSTORE_ID_TOKEN; to attest, add `id_tokens: "
            "SIGSTORE_ID_TOKEN: aud: sigstore` to the job in .gitlab-ci.yml",
        ),
        (
            {"BUILDKITE": "true", "PATH": ""},
            "this Buildkite job has no `buildkite-agent` on PATH; to attest, run the build "
            "where the Buildkite agent is available",
        ),
        (
            {"CIRCLECI": "true", "PATH": ""},
            "this CircleCI job has no `circleci` tool on PATH; to attest, use a CircleCI image "
            "that ships the `circleci` CLI",
        ),
    ],
)
def test_ci_without_identity_names_the_fix(env: dict[str, str], explanation: str) -> None:
    found = probe(env)
    assert not found.available
    assert found.explain() == explanation


def test_buildkite_agent_on_path(tmp_path: Path) -> None:
    agent = tmp_path / "buildkite-agent"
    agent.write_text("#!/bin/sh\n")
    agent.chmod(0o755)
    assert probe({"BUILDKITE": "true", "PATH": str(tmp_path)}).source == "Buildkite"


@pytest.mark.parametrize("name", ["Google", "Google Compute Engine"])
def test_compute_engine_vm_is_google_cloud(product_name: Path, name: str) -> None:
    product_name.write_text(f"{name}\n")
    assert probe({}).source == "Google Cloud"


def test_laptop_has_no_identity() -> None:
    found = probe({})
    assert not found.available
    assert found.explain().startswith("no CI identity found")


def test_obtaining_without_identity_says_why() -> None:
    with pytest.raises(NoIdentityError, match="no OIDC permission"):
        obtain_token({"GITHUB_ACTIONS": "true"})


def test_token_never_shows_itself() -> None:
    token = Token("header.payload.signature", "GitHub Actions")
    assert "payload" not in repr(token)
    assert "payload" not in str(token)
    assert "payload" not in f"{token!s} {token!r}"


@pytest.mark.parametrize("raw", ["", "abc", "a.!!!.c", "a.WzFd.c"])
def test_claims_of_a_broken_token_do_not_echo_it(raw: str) -> None:
    with pytest.raises(IdentityError) as excinfo:
        unverified_claims(raw)
    if raw:
        assert raw not in str(excinfo.value)
