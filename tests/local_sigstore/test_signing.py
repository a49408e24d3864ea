"""Attestations made against the local instance verify like PyPI verifies them."""

from __future__ import annotations

import base64
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from pypi_attestations import Attestation, GitHubPublisher, GitLabPublisher
from pypi_attestations import VerificationError as AttestationVerificationError
from sigstore.errors import VerificationError
from sigstore.models import Bundle, ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import Verifier, policy

from hatch_attest_testing import GitHubIdentity, GitLabIdentity, LocalSigstore
from hatch_attest_testing.pytest_plugin import CIJob

from .conftest import Attest, Verify


def test_github_attestation_verifies_with_the_publisher_policy(
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    trust_config: ClientTrustConfig,
    sigstore_github_job: GitHubIdentity,
    attest: Attest,
    wheel: Path,
) -> None:
    attestation = attest(wheel)

    verifier = Verifier(trusted_root=trust_config.trusted_root)
    publisher = GitHubPublisher(
        repository=sigstore_github_identity.repository, workflow="release.yml"
    )
    payload_type, payload = verifier.verify_dsse(attestation.to_bundle(), publisher._as_policy())

    assert payload_type == "application/vnd.in-toto+json"
    (subject,) = json.loads(payload)["subject"]
    assert subject == {
        "name": wheel.name,
        "digest": {"sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()},
    }
    assert local_sigstore.counts() == {"oidc": 1, "fulcio": 1, "rekor": 1, "tsa": 0}


def test_gitlab_attestation_verifies_with_the_publisher_policy(
    local_sigstore: LocalSigstore,
    sigstore_gitlab_job: GitLabIdentity,
    attest: Attest,
    verify: Verify,
    wheel: Path,
) -> None:
    attestation = attest(wheel)

    publisher = GitLabPublisher(
        repository=sigstore_gitlab_job.project_path, workflow_filepath=".gitlab-ci.yml"
    )
    verify(attestation, wheel, publisher)
    # GitLab hands the token over in the environment: no token request.
    assert local_sigstore.counts()["oidc"] == 0


def test_tag_builds_and_reusable_workflows_verify_against_the_top_level_workflow(
    local_sigstore: LocalSigstore,
    sigstore_ci_job: CIJob,
    attest: Attest,
    verify: Verify,
    wheel: Path,
) -> None:
    identity = GitHubIdentity(
        repository="octo-org/tagged",
        ref="refs/tags/v1.0.0",
        job_workflow_ref="octo-org/shared/.github/workflows/build.yml@refs/heads/main",
    )
    sigstore_ci_job(local_sigstore.github_env(identity))
    attestation = attest(wheel)

    verify(
        attestation, wheel, GitHubPublisher(repository="octo-org/tagged", workflow="release.yml")
    )
    certificate = attestation.to_bundle().signing_certificate
    policy.Identity(
        identity="https://github.com/octo-org/shared/.github/workflows/build.yml@refs/heads/main",
        issuer="https://token.actions.githubusercontent.com",
    ).verify(certificate)


def test_github_certificate_carries_fulcio_claims(
    local_sigstore: LocalSigstore, sigstore_ci_job: CIJob, attest: Attest, wheel: Path
) -> None:
    identity = GitHubIdentity(repository="octo-org/claims", visibility="private", run_id="42")
    sigstore_ci_job(local_sigstore.github_env(identity))
    certificate = attest(wheel).to_bundle().signing_certificate

    repository = "https://github.com/octo-org/claims"
    policy.AllOf(
        [
            policy.OIDCIssuer("https://token.actions.githubusercontent.com"),
            policy.GitHubWorkflowRepository("octo-org/claims"),
            policy.GitHubWorkflowRef("refs/heads/main"),
            policy.OIDCIssuerV2("https://token.actions.githubusercontent.com"),
            policy.OIDCBuildSignerURI(
                f"{repository}/.github/workflows/release.yml@refs/heads/main"
            ),
            policy.OIDCBuildSignerDigest(identity.sha),
            policy.OIDCRunnerEnvironment("github-hosted"),
            policy.OIDCSourceRepositoryURI(repository),
            policy.OIDCSourceRepositoryDigest(identity.sha),
            policy.OIDCSourceRepositoryRef("refs/heads/main"),
            policy.OIDCSourceRepositoryIdentifier(identity.repository_id),
            policy.OIDCSourceRepositoryOwnerURI("https://github.com/octo-org"),
            policy.OIDCSourceRepositoryOwnerIdentifier(identity.owner_id),
            policy.OIDCBuildConfigURI(
                f"{repository}/.github/workflows/release.yml@refs/heads/main"
            ),
            policy.OIDCBuildConfigDigest(identity.sha),
            policy.OIDCBuildTrigger("push"),
            policy.OIDCRunInvocationURI(f"{repository}/actions/runs/42/attempts/1"),
        ]
    ).verify(certificate)
    # sigstore-python has no policy for Source Repository Visibility At Signing.
    visibility = certificate.extensions.get_extension_for_oid(
        x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.22")
    ).value
    assert isinstance(visibility, x509.UnrecognizedExtension)
    assert visibility.value == b"\x0c\x07private"  # DER UTF8String


def test_hashedrekord_signature_verifies(
    local_sigstore: LocalSigstore,
    trust_config: ClientTrustConfig,
    sigstore_github_job: GitHubIdentity,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    token = IdentityToken(local_sigstore.mint_github_token(sigstore_github_identity))
    with SigningContext.from_trust_config(trust_config).signer(token) as signer:
        bundle = signer.sign_artifact(b"release notes")

    verifier = Verifier(trusted_root=trust_config.trusted_root)
    identity = policy.Identity(
        identity=f"https://github.com/{sigstore_github_identity.workflow_ref}",
        issuer="https://token.actions.githubusercontent.com",
    )
    verifier.verify_artifact(b"release notes", bundle, identity)
    with pytest.raises(VerificationError):
        verifier.verify_artifact(b"release notes!", bundle, identity)


def test_one_changed_byte_fails_verification(
    sigstore_github_identity: GitHubIdentity,
    sigstore_github_job: GitHubIdentity,
    attest: Attest,
    verify: Verify,
    wheel: Path,
) -> None:
    attestation = attest(wheel)
    content = bytearray(wheel.read_bytes())
    content[7] ^= 0x01
    wheel.write_bytes(bytes(content))

    publisher = GitHubPublisher(
        repository=sigstore_github_identity.repository, workflow="release.yml"
    )
    with pytest.raises(AttestationVerificationError, match="digest"):
        verify(attestation, wheel, publisher)


@pytest.mark.parametrize(
    ("repository", "workflow"),
    [("octo-org/someone-else", "release.yml"), (None, "other.yml")],
    ids=["repository", "workflow"],
)
def test_another_publisher_fails_verification(
    sigstore_github_identity: GitHubIdentity,
    sigstore_github_job: GitHubIdentity,
    attest: Attest,
    verify: Verify,
    wheel: Path,
    repository: str | None,
    workflow: str,
) -> None:
    attestation = attest(wheel)

    publisher = GitHubPublisher(
        repository=repository or sigstore_github_identity.repository, workflow=workflow
    )
    with pytest.raises(AttestationVerificationError):
        verify(attestation, wheel, publisher)


def _flipped(encoded: str) -> str:
    """A base64 value with its first bit inverted."""
    raw = base64.b64decode(encoded)
    return base64.b64encode(bytes([raw[0] ^ 0x80]) + raw[1:]).decode()


def _edited(attestation: Attestation, edit: str) -> Bundle:
    """The attestation's bundle with one field of its log entry altered."""
    document = json.loads(attestation.to_bundle().to_json())
    entry = document["verificationMaterial"]["tlogEntries"][0]
    if edit == "checkpoint":
        proof = entry["inclusionProof"]
        proof["checkpoint"]["envelope"] = proof["checkpoint"]["envelope"].replace(
            f"\n{proof['treeSize']}\n", f"\n{int(proof['treeSize']) + 1}\n"
        )
    elif edit == "inclusion proof":
        proof = entry["inclusionProof"]
        if proof["hashes"]:
            proof["hashes"][0] = _flipped(proof["hashes"][0])
        else:  # The only leaf of a one-entry log has an empty path.
            proof["rootHash"] = _flipped(proof["rootHash"])
    elif edit == "SET":
        entry["integratedTime"] = str(int(entry["integratedTime"]) + 1)
    return Bundle.from_json(json.dumps(document))


@pytest.mark.parametrize("edit", ["checkpoint", "inclusion proof", "SET"])
def test_edited_log_entry_fails_verification(
    sigstore_github_identity: GitHubIdentity,
    trust_config: ClientTrustConfig,
    sigstore_github_job: GitHubIdentity,
    attest: Attest,
    wheel: Path,
    edit: str,
) -> None:
    bundle = _edited(attest(wheel), edit)

    verifier = Verifier(trusted_root=trust_config.trusted_root)
    publisher = GitHubPublisher(
        repository=sigstore_github_identity.repository, workflow="release.yml"
    )
    with pytest.raises(VerificationError, match=edit):
        verifier.verify_dsse(bundle, publisher._as_policy())


def test_concurrent_signers_all_verify(
    local_sigstore: LocalSigstore, trust_config: ClientTrustConfig
) -> None:
    """Parallel builds (sdist and wheel jobs) share one log; each proof stays valid."""
    context = SigningContext.from_trust_config(trust_config)
    token = IdentityToken(local_sigstore.mint_github_token())

    def sign(index: int) -> Bundle:
        with context.signer(token) as signer:
            return signer.sign_artifact(b"artifact %d" % index)

    with ThreadPoolExecutor(max_workers=8) as pool:
        bundles = list(pool.map(sign, range(16)))

    verifier = Verifier(trusted_root=trust_config.trusted_root)
    issuer = policy.OIDCIssuer("https://token.actions.githubusercontent.com")
    for index, bundle in enumerate(bundles):
        verifier.verify_artifact(b"artifact %d" % index, bundle, issuer)
    assert local_sigstore.counts()["rekor"] == 16
