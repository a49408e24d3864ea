"""SLSA provenance signed on the local instance: from the token, checked by the certificate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from pypi_attestations import Attestation, Distribution, GitHubPublisher, GitLabPublisher
from sigstore.models import ClientTrustConfig
from sigstore.verify import Verifier

from hatch_attest._claims import certificate_claims
from hatch_attest._kinds import obtain_token
from hatch_attest._kinds.gitlab import GITLAB_BUILD_TYPE
from hatch_attest._predicates import (
    PUBLISH,
    SLSA_PROVENANCE,
    check_attestation,
    sign_statement,
)
from hatch_attest._signing import AttestationSigner, Signed
from hatch_attest._verify import verify_attestation
from hatch_attest.errors import PredicateError
from hatch_attest_testing import (
    SLSA_PROVENANCE_V1,
    Fault,
    GitHubIdentity,
    GitLabIdentity,
    LocalSigstore,
)
from hatch_attest_testing.pytest_plugin import CIJob

from .conftest import Verify


def sign(trust_config: ClientTrustConfig, dist: Path, predicate: Any = SLSA_PROVENANCE) -> Signed:
    """Sign `dist` as the ambient CI job, as the build hook does."""
    signer = AttestationSigner(trust_config, obtain_token(), timeout=30)
    return signer.sign(dist, timeout=30, predicate=predicate)


def signed_claims(trust_config: ClientTrustConfig, dist: Path) -> dict[str, str]:
    """The Fulcio claims of the certificate that signed `dist` as the ambient CI job."""
    signed = sign(trust_config, dist)
    return certificate_claims(
        x509.load_der_x509_certificate(signed.attestation.verification_material.certificate)
    )


def statement(attestation: Attestation) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(attestation.envelope.statement)
    return document


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"ref": "refs/tags/v1.0.0", "run_id": "77", "run_attempt": "3"},
        {"job_workflow_ref": "octo-org/shared/.github/workflows/build.yml@refs/heads/main"},
        {"event_name": "workflow_dispatch", "runner_environment": "self-hosted"},
    ],
    ids=["branch", "tag-and-rerun", "reusable-workflow", "dispatch-self-hosted"],
)
def test_github_provenance_is_github_s_format_from_the_token(
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    trust_config: ClientTrustConfig,
    sigstore_ci_job: CIJob,
    verify: Verify,
    wheel: Path,
    variant: dict[str, str],
) -> None:
    identity = GitHubIdentity(repository=sigstore_github_identity.repository, **variant)
    sigstore_ci_job(local_sigstore.github_env(identity))

    signed = sign(trust_config, wheel)

    publisher = GitHubPublisher(repository=identity.repository, workflow="release.yml")
    verify(signed.attestation, wheel, publisher)  # pypi-attestations' own checks
    predicate_type, predicate = verify_attestation(
        signed.attestation,
        Distribution.from_file(wheel),
        publisher,
        Verifier(trusted_root=trust_config.trusted_root),
    )
    assert predicate_type == SLSA_PROVENANCE_V1
    assert predicate == identity.slsa_provenance()
    assert signed.predicate.file_name(wheel.name) == f"{wheel.name}.slsa.attestation"
    assert check_attestation(signed.attestation) is None


def test_gitlab_provenance_comes_from_the_token(
    local_sigstore: LocalSigstore,
    sigstore_gitlab_identity: GitLabIdentity,
    trust_config: ClientTrustConfig,
    sigstore_ci_job: CIJob,
    verify: Verify,
    wheel: Path,
) -> None:
    identity = GitLabIdentity(
        project_path=sigstore_gitlab_identity.project_path,
        ci_config_path="ci/release.gitlab-ci.yml",
        ref="v2.1",
        ref_type="tag",
        pipeline_source="web",
        job_id="7000000042",
    )
    sigstore_ci_job(local_sigstore.gitlab_env(identity))

    signed = sign(trust_config, wheel)

    publisher = GitLabPublisher(
        repository=identity.project_path, workflow_filepath="ci/release.gitlab-ci.yml"
    )
    verify(signed.attestation, wheel, publisher)
    source = f"https://gitlab.com/{identity.project_path}"
    assert statement(signed.attestation)["predicateType"] == SLSA_PROVENANCE_V1
    assert statement(signed.attestation)["predicate"] == {
        "buildDefinition": {
            "buildType": GITLAB_BUILD_TYPE,
            "externalParameters": {
                "source": source,
                "entryPoint": "ci/release.gitlab-ci.yml",
                "variables": {"CI_COMMIT_REF_NAME": "v2.1", "CI_PIPELINE_SOURCE": "web"},
            },
            "internalParameters": {
                "gitlab": {
                    "project_id": identity.project_id,
                    "namespace_id": identity.namespace_id,
                    "pipeline_id": identity.pipeline_id,
                    "job_id": "7000000042",
                    "runner_id": "1",
                    "runner_environment": "gitlab-hosted",
                },
            },
            "resolvedDependencies": [
                {"uri": f"git+{source}@refs/tags/v2.1", "digest": {"gitCommit": identity.sha}}
            ],
        },
        "runDetails": {
            "builder": {"id": f"{source}/-/runners/1"},
            "metadata": {"invocationId": f"{source}/-/jobs/7000000042"},
        },
    }
    assert check_attestation(signed.attestation) is None


def test_the_predicate_follows_the_token_not_the_environment(
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    trust_config: ClientTrustConfig,
    sigstore_ci_job: CIJob,
    wheel: Path,
) -> None:
    """Variables anyone in the job can set must not reach the provenance."""
    impostor = GitHubIdentity(
        repository="octo-org/impostor",
        workflow="other.yml",
        ref="refs/heads/evil",
        sha="0" * 40,
        run_id="1",
        run_attempt="9",
    )
    env = local_sigstore.github_env(sigstore_github_identity)
    token_variables = {k: v for k, v in env.items() if k.startswith("ACTIONS_ID_TOKEN")}
    sigstore_ci_job({**impostor.environ(), **token_variables})

    signed = sign(trust_config, wheel)

    assert statement(signed.attestation)["predicate"] == sigstore_github_identity.slsa_provenance()
    assert check_attestation(signed.attestation) is None


def test_check_catches_a_predicate_that_contradicts_the_certificate(
    sigstore_github_identity: GitHubIdentity,
    trust_config: ClientTrustConfig,
    sigstore_github_job: GitHubIdentity,
    wheel: Path,
) -> None:
    """A correctly signed statement whose provenance names another repository and commit."""
    other = GitHubIdentity(repository="octo-org/other", sha="1" * 40)
    lie = SLSA_PROVENANCE.build(other.claims())
    signer = AttestationSigner(trust_config, obtain_token(), timeout=30)

    attestation = sign_statement(
        signer._signer,  # the signer's own certificate: only the predicate lies
        Distribution.from_file(wheel),
        SLSA_PROVENANCE_V1,
        lie,
    )

    repository = f"https://github.com/{sigstore_github_identity.repository}"
    assert check_attestation(attestation) == "; ".join(
        [
            "the provenance's workflow.repository is 'https://github.com/octo-org/other', but "
            f"the certificate's source_repository_uri says {repository!r}",
            "the provenance's workflow.path ('.github/workflows/release.yml') is not certified "
            "(certificate: build_config_uri)",
            "the provenance's resolvedDependencies[0].uri is "
            "'git+https://github.com/octo-org/other@refs/heads/main', but the certificate's "
            "source_repository_uri and source_repository_ref says "
            f"'git+{repository}@refs/heads/main'",
            f"the provenance's resolvedDependencies[0].digest.gitCommit is {'1' * 40!r}, but "
            f"the certificate's source_repository_digest says {sigstore_github_identity.sha!r}",
            "the provenance's builder.id is "
            "'https://github.com/octo-org/other/.github/workflows/release.yml@refs/heads/main', "
            "but the certificate's build_signer_uri says "
            f"'{repository}/.github/workflows/release.yml@refs/heads/main'",
            "the provenance's invocationId is "
            "'https://github.com/octo-org/other/actions/runs/10000000001/attempts/1', but the "
            "certificate's run_invocation_uri says "
            f"'{repository}/actions/runs/10000000001/attempts/1'",
        ]
    )


@pytest.mark.parametrize(
    ("field", "value", "claim"),
    [
        (("externalParameters", "workflow", "ref"), "refs/heads/other", "source_repository_ref"),
        (("internalParameters", "github", "event_name"), "schedule", "build_trigger"),
        (("internalParameters", "github", "repository_id"), "1", "source_repository_identifier"),
        (
            ("internalParameters", "github", "repository_owner_id"),
            "2",
            "source_repository_owner_identifier",
        ),
        (("internalParameters", "github", "runner_environment"), "x", "runner_environment"),
    ],
)
def test_check_names_each_contradicted_field(
    sigstore_github_identity: GitHubIdentity,
    trust_config: ClientTrustConfig,
    sigstore_github_job: GitHubIdentity,
    wheel: Path,
    field: tuple[str, ...],
    value: str,
    claim: str,
) -> None:
    claims = signed_claims(trust_config, wheel)
    predicate = sigstore_github_identity.slsa_provenance()
    node = predicate["buildDefinition"]
    for key in field[:-1]:
        node = node[key]
    node[field[-1]] = value

    problem = SLSA_PROVENANCE.check(predicate, claims)

    assert problem is not None
    assert problem.startswith(f"the provenance's {'.'.join(field[1:])} is {value!r}, ")
    assert f"the certificate's {claim} says" in problem
    assert "; " not in problem


def test_a_gitlab_predicate_under_a_github_certificate_is_refused(
    trust_config: ClientTrustConfig,
    sigstore_github_job: GitHubIdentity,
    wheel: Path,
) -> None:
    claims = signed_claims(trust_config, wheel)
    gitlab = SLSA_PROVENANCE.build(GitLabIdentity().claims())

    assert SLSA_PROVENANCE.check(gitlab, claims) == (
        f"the provenance has buildType {GITLAB_BUILD_TYPE}, but the certificate was issued "
        "for 'https://token.actions.githubusercontent.com', not https://gitlab.com"
    )
    assert PUBLISH.check(gitlab, claims) == (
        "a publish attestation's predicate must be empty; PyPI rejects any other"
    )


def test_publish_stays_the_default(
    trust_config: ClientTrustConfig,
    sigstore_github_job: GitHubIdentity,
    wheel: Path,
) -> None:
    signer = AttestationSigner(trust_config, obtain_token(), timeout=30)

    results = signer.sign_all([(wheel, PUBLISH)], jobs=1, timeout=30)

    (signed,) = results
    assert isinstance(signed, Signed)
    assert signed.predicate is PUBLISH
    assert statement(signed.attestation)["predicateType"] == (
        "https://docs.pypi.org/attestations/publish/v1"
    )
    assert statement(signed.attestation)["predicate"] is None
    assert check_attestation(signed.attestation) is None


def test_sign_all_with_provenance(
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    trust_config: ClientTrustConfig,
    sigstore_github_job: GitHubIdentity,
    tmp_path: Path,
) -> None:
    dists = [tmp_path / "demo_pkg-0.1.0.tar.gz", tmp_path / "demo_pkg-0.1.0-py3-none-any.whl"]
    for dist in dists:
        dist.write_bytes(dist.name.encode())
    signer = AttestationSigner(trust_config, obtain_token(), timeout=30)

    results = signer.sign_all([(d, SLSA_PROVENANCE) for d in dists], jobs=2, timeout=30)

    assert [r.dist for r in results if isinstance(r, Signed)] == dists
    for result in results:
        assert isinstance(result, Signed)
        assert statement(result.attestation)["subject"][0]["name"] == result.dist.name
        assert (
            statement(result.attestation)["predicate"] == sigstore_github_identity.slsa_provenance()
        )
    assert local_sigstore.counts()["rekor"] == 2


def test_a_certificate_that_contradicts_the_token_stops_provenance_before_the_log(
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    trust_config: ClientTrustConfig,
    sigstore_github_job: GitHubIdentity,
    wheel: Path,
) -> None:
    """A Fulcio that certifies another commit than the token's (1.13, Source Repository Digest)."""
    local_sigstore.inject("fulcio", Fault.certified_claim(13, "f" * 40))
    signer = AttestationSigner(trust_config, obtain_token(), timeout=30)

    with pytest.raises(PredicateError) as error:
        signer.sign_all([(wheel, SLSA_PROVENANCE)], jobs=1, timeout=30)

    assert str(error.value) == (
        "the slsa-provenance predicate made from the identity token contradicts the "
        "certificate Fulcio issued for it: the provenance's "
        f"resolvedDependencies[0].digest.gitCommit is {sigstore_github_identity.sha!r}, but the "
        f"certificate's source_repository_digest says {'f' * 40!r}. Nothing was signed. "
        'Retry the job; if it happens again, use `predicate = "publish"` and report it'
    )
    with pytest.raises(PredicateError):
        signer.sign(wheel, timeout=30, predicate=SLSA_PROVENANCE)
    assert local_sigstore.counts()["rekor"] == 0
    # A publish attestation states nothing about the commit: nothing to contradict.
    assert isinstance(signer.sign(wheel, timeout=30, predicate=PUBLISH), Signed)
    assert local_sigstore.counts()["rekor"] == 1
