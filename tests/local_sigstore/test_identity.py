"""The emulated CI environments give `id` and Fulcio what real runners give them."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import id
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sigstore.oidc import IdentityError, IdentityToken

from hatch_attest._kinds import obtain_token
from hatch_attest_testing import (
    BuildkiteIdentity,
    CircleCIIdentity,
    GitHubIdentity,
    GitLabIdentity,
    GoogleIdentity,
    LocalSigstore,
    run_bounded,
)
from hatch_attest_testing.pytest_plugin import CIJob


def test_github_job_environment_matches_a_runner(local_sigstore: LocalSigstore) -> None:
    identity = GitHubIdentity(
        repository="octo-org/env", workflow="publish.yml", ref="refs/tags/v1/rc"
    )

    env = local_sigstore.github_env(identity)

    expected = {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "octo-org/env",
        "GITHUB_REPOSITORY_OWNER": "octo-org",
        "GITHUB_WORKFLOW_REF": "octo-org/env/.github/workflows/publish.yml@refs/tags/v1/rc",
        "GITHUB_REF": "refs/tags/v1/rc",
        "GITHUB_REF_NAME": "v1/rc",
        "GITHUB_REF_TYPE": "tag",
        "GITHUB_SHA": identity.sha,
        "GITHUB_EVENT_NAME": "push",
        "RUNNER_ENVIRONMENT": "github-hosted",
    }
    assert {name: env.get(name) for name in expected} == expected
    assert env["ACTIONS_ID_TOKEN_REQUEST_URL"].startswith(local_sigstore.url)
    assert env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]


def test_id_detects_the_github_token(
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    sigstore_github_job: GitHubIdentity,
) -> None:
    token = id.detect_credential("sigstore")

    assert token is not None
    identity = IdentityToken(token)
    assert identity.issuer == "https://token.actions.githubusercontent.com"
    assert identity.identity == f"repo:{sigstore_github_identity.repository}:ref:refs/heads/main"
    assert local_sigstore.counts()["oidc"] == 1


def test_github_token_has_the_requested_audience(
    sigstore_github_job: GitHubIdentity,
) -> None:
    token = id.detect_credential("pypi")

    assert token is not None
    IdentityToken(token, client_id="pypi")
    with pytest.raises(IdentityError):
        IdentityToken(token)  # audience "sigstore" expected


def test_github_job_without_id_token_permission(
    local_sigstore: LocalSigstore, sigstore_ci_job: CIJob
) -> None:
    sigstore_ci_job(local_sigstore.github_env(id_token_permission=False))

    with pytest.raises(id.GitHubOidcPermissionCredentialError):
        id.detect_credential("sigstore")
    assert local_sigstore.counts()["oidc"] == 0


@pytest.mark.parametrize(
    ("authorization", "status"), [(None, 401), ("bearer not-issued", 403)], ids=["none", "unknown"]
)
def test_token_endpoint_checks_the_request_token(
    local_sigstore: LocalSigstore, authorization: str | None, status: int
) -> None:
    url = local_sigstore.github_env()["ACTIONS_ID_TOKEN_REQUEST_URL"]
    headers = {} if authorization is None else {"Authorization": authorization}

    response = requests.get(url, params={"audience": "sigstore"}, headers=headers, timeout=5)

    assert response.status_code == status


def test_gitlab_job_environment_and_token(
    local_sigstore: LocalSigstore, sigstore_ci_job: CIJob
) -> None:
    identity = GitLabIdentity(project_path="octo-group/sub/proj", ref="v2", ref_type="tag")
    env = local_sigstore.gitlab_env(identity)
    sigstore_ci_job(env)

    expected = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_SERVER_URL": "https://gitlab.com",
        "CI_PROJECT_PATH": "octo-group/sub/proj",
        "CI_PROJECT_NAMESPACE": "octo-group/sub",
        "CI_CONFIG_PATH": ".gitlab-ci.yml",
        "CI_COMMIT_SHA": identity.sha,
        "CI_COMMIT_REF_NAME": "v2",
        "CI_COMMIT_TAG": "v2",
    }
    assert {name: env.get(name) for name in expected} == expected
    assert "CI_COMMIT_BRANCH" not in env
    token = id.detect_credential("sigstore")
    assert token == env["SIGSTORE_ID_TOKEN"]
    assert IdentityToken(token).identity == "project_path:octo-group/sub/proj:ref_type:tag:ref:v2"


def test_gitlab_job_without_id_token(local_sigstore: LocalSigstore, sigstore_ci_job: CIJob) -> None:
    sigstore_ci_job(local_sigstore.gitlab_env(with_token=False))

    with pytest.raises(id.AmbientCredentialError, match="SIGSTORE_ID_TOKEN"):
        id.detect_credential("sigstore")


def test_the_google_vm_token_comes_from_the_metadata_server(
    tmp_path: Path, local_sigstore: LocalSigstore, sigstore_ci_job: CIJob
) -> None:
    """hatch-attest's Google token path (`id`'s own is not pointed at the emulation)."""
    sigstore_ci_job({})
    account = GoogleIdentity(email="builder@octo-project.iam.gserviceaccount.com")

    with local_sigstore.google_cloud(tmp_path / "gce", account).patched():
        token = obtain_token().raw

    identity = IdentityToken(token)
    assert identity.issuer == "https://accounts.google.com"
    assert identity.identity == account.email  # sigstore signs for the email claim
    assert local_sigstore.counts()["oidc"] == 1


def test_id_runs_the_stand_in_buildkite_agent(
    tmp_path: Path, local_sigstore: LocalSigstore, sigstore_ci_job: CIJob
) -> None:
    job = BuildkiteIdentity(pipeline_slug="octo-pipeline")
    sigstore_ci_job(local_sigstore.buildkite_env(tmp_path / "agent", job))

    token = id.detect_credential("sigstore")

    assert token is not None
    identity = IdentityToken(token)
    assert identity.issuer == "https://agent.buildkite.com"
    assert identity.identity == job.claims()["sub"]
    assert local_sigstore.counts()["oidc"] == 1


def test_id_runs_the_stand_in_circleci_cli(
    tmp_path: Path, local_sigstore: LocalSigstore, sigstore_ci_job: CIJob
) -> None:
    job = CircleCIIdentity()
    sigstore_ci_job(local_sigstore.circleci_env(tmp_path / "cli", job))

    token = id.detect_credential("sigstore")

    assert token is not None
    identity = IdentityToken(token)
    assert identity.issuer == "https://oidc.circleci.com"  # id asks for the root issuer
    assert identity.identity == job.claims()["sub"]
    assert local_sigstore.counts()["oidc"] == 1


@pytest.mark.parametrize(
    ("tool", "argv"),
    [
        ("buildkite-agent", ["oidc", "request-token"]),
        ("buildkite-agent", ["oidc", "request-token", "--audience", "sigstore", "--lifetime", "5"]),
        ("circleci", ["run", "oidc", "get", "--claims", '{"aud": "sigstore"}', "--org-issuer"]),
    ],
)
def test_stand_in_agents_accept_only_what_id_runs(
    tool: str, argv: list[str], tmp_path: Path, local_sigstore: LocalSigstore
) -> None:
    env = (
        local_sigstore.buildkite_env(tmp_path / "bin")
        if tool == "buildkite-agent"
        else local_sigstore.circleci_env(tmp_path / "bin")
    )

    done = run_bounded([str(tmp_path / "bin" / tool), *argv], env=env, timeout=30)

    assert done.returncode == 2
    assert done.stderr.startswith(f"{tool}: unexpected arguments")
    assert local_sigstore.counts()["oidc"] == 0


def _csr(*, proves_possession: bool = True) -> str:
    """A CSR as sigstore-python sends it: base64 of the PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
    der = bytearray(builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
    if not proves_possession:
        der[-1] ^= 0x01  # The last byte of the signature.
    pem = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    return base64.b64encode(pem).decode()


def test_fulcio_rejects_tokens_it_cannot_trust(local_sigstore: LocalSigstore) -> None:
    with LocalSigstore.start() as stranger:
        forged = stranger.mint_github_token()
    tokens = {
        "forged": forged,
        "audience": local_sigstore.mint_github_token(audience="pypi"),
        "expired": local_sigstore.mint_github_token(issued_at=time.time() - 600),
        "garbage": "not.a.jwt",
    }

    for name, token in tokens.items():
        response = requests.post(
            f"{local_sigstore.url}/api/v2/signingCert",
            json={"certificateSigningRequest": _csr()},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert (name, response.status_code, response.json()["code"]) == (name, 401, 16)


def test_fulcio_rejects_a_csr_without_proof_of_possession(
    local_sigstore: LocalSigstore,
) -> None:
    response = requests.post(
        f"{local_sigstore.url}/api/v2/signingCert",
        json={"certificateSigningRequest": _csr(proves_possession=False)},
        headers={"Authorization": f"Bearer {local_sigstore.mint_github_token()}"},
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": 3,
        "message": "The signature supplied in the request could not be verified",
        "details": [],
    }
