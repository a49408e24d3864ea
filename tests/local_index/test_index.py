"""The local index: Trusted Publishing, warehouse's attestation rules, read-back, faults."""

from __future__ import annotations

import hashlib
import http.client
import json
import ssl
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pypi_attestations import (
    Attestation,
    Distribution,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
    Provenance,
)
from pypi_attestations import VerificationError as AttestationVerificationError
from sigstore.models import ClientTrustConfig
from sigstore.verify import Verifier

from hatch_attest._verify import check_distribution
from hatch_attest_testing import (
    PUBLISH_V1,
    Fault,
    GitHubIdentity,
    GitLabIdentity,
    GoogleIdentity,
    LocalIndex,
    LocalSigstore,
)

from .client import PROJECT, mint, request, upload
from .conftest import WHEEL, Sign

INVALID = "Invalid attestations supplied during upload: "


def publisher_of(job: GitHubIdentity) -> GitHubPublisher:
    return GitHubPublisher(repository=job.repository, workflow=job.workflow)


@pytest.fixture
def job(sigstore_github_identity: GitHubIdentity) -> GitHubIdentity:
    """The release job, registered as the project's Trusted Publisher."""
    return sigstore_github_identity


@pytest.fixture
def index(local_index: LocalIndex, job: GitHubIdentity) -> LocalIndex:
    local_index.add_publisher(PROJECT, publisher_of(job))
    return local_index


@pytest.fixture
def tp_token(index: LocalIndex, local_sigstore: LocalSigstore, job: GitHubIdentity) -> str:
    """An upload token minted over Trusted Publishing for `job`."""
    answer = mint(index, local_sigstore.mint_github_token(job, audience="pypi"))
    assert answer.status == 200, answer.body
    token: str = answer.json()["token"]
    return token


# --- Trusted Publishing -----------------------------------------------------------


def test_audience_is_pypi(local_index: LocalIndex) -> None:
    answer = request(local_index, "/_/oidc/audience")
    assert (answer.status, answer.json()) == (200, {"audience": "pypi"})
    assert local_index.counts()["audience"] == 1


def test_mint_token_for_the_registered_workflow(
    index: LocalIndex, local_sigstore: LocalSigstore, job: GitHubIdentity
) -> None:
    answer = mint(index, local_sigstore.mint_github_token(job, audience="pypi"))

    assert answer.status == 200
    document = answer.json()
    assert document["success"] is True
    assert document["token"].startswith("pypi-")
    assert isinstance(document["expires"], int)


def test_mint_token_for_a_gitlab_project(
    local_index: LocalIndex, local_sigstore: LocalSigstore, sigstore_gitlab_identity: GitLabIdentity
) -> None:
    local_index.add_publisher(
        PROJECT,
        GitLabPublisher(
            repository=sigstore_gitlab_identity.project_path,
            workflow_filepath=sigstore_gitlab_identity.ci_config_path,
        ),
    )
    answer = mint(
        local_index, local_sigstore.mint_gitlab_token(sigstore_gitlab_identity, audience="pypi")
    )
    assert answer.status == 200, answer.body


def test_mint_token_for_a_google_service_account(
    local_index: LocalIndex, local_sigstore: LocalSigstore
) -> None:
    account = GoogleIdentity(email="release@index-project.iam.gserviceaccount.com")
    local_index.add_publisher(PROJECT, GooglePublisher(email=account.email))

    accepted = mint(local_index, local_sigstore.mint_token(account, audience="pypi"))
    stranger = GoogleIdentity(email="someone@else-project.iam.gserviceaccount.com")
    refused = mint(local_index, local_sigstore.mint_token(stranger, audience="pypi"))

    assert accepted.status == 200, accepted.body
    assert refused.status == 422
    assert refused.json() == refusal(
        "valid token, but no corresponding publisher "
        "(Publisher with matching claims was not found)",
        "invalid-publisher",
    )


def refusal(description: str, code: str) -> dict[str, Any]:
    return {
        "message": "Token request failed",
        "errors": [{"code": code, "description": description}],
    }


def test_mint_token_refuses_another_workflow_of_the_same_repository(
    index: LocalIndex, local_sigstore: LocalSigstore, job: GitHubIdentity
) -> None:
    other = GitHubIdentity(repository=job.repository, workflow="build.yml")
    answer = mint(index, local_sigstore.mint_github_token(other, audience="pypi"))

    assert answer.status == 422
    assert answer.json() == refusal(
        "valid token, but no corresponding publisher "
        "(Publisher with matching claims was not found)",
        "invalid-publisher",
    )


def test_mint_token_checks_the_ref_in_job_workflow_ref(
    index: LocalIndex, local_sigstore: LocalSigstore, job: GitHubIdentity
) -> None:
    """A reusable workflow of another repository, called from the right file name, fails."""
    caller = GitHubIdentity(
        repository=job.repository,
        job_workflow_ref=f"{job.repository}/.github/workflows/{job.workflow}@refs/heads/other",
    )
    answer = mint(index, local_sigstore.mint_github_token(caller, audience="pypi"))

    expected = sorted(
        f"{job.repository}/.github/workflows/{job.workflow}@{ref}" for ref in (job.ref, job.sha)
    )
    assert answer.json() == refusal(
        "valid token, but no corresponding publisher (The job_workflow_ref claim does not "
        f"match, expecting one of {expected!r}, got "
        f"'{job.repository}/.github/workflows/{job.workflow}@refs/heads/other')",
        "invalid-publisher",
    )


@pytest.mark.parametrize(
    ("token", "code", "description"),
    [
        ("not-a-jwt", "invalid-payload", "malformed JWT"),
        ("sigstore-audience", "invalid-token", "malformed or invalid token"),
        ("expired", "invalid-token", "malformed or invalid token"),
    ],
)
def test_mint_token_refuses_bad_tokens(
    index: LocalIndex,
    local_sigstore: LocalSigstore,
    job: GitHubIdentity,
    token: str,
    code: str,
    description: str,
) -> None:
    id_token = {
        "not-a-jwt": "not-a-jwt",
        "sigstore-audience": local_sigstore.mint_github_token(job),
        "expired": local_sigstore.mint_github_token(
            job, audience="pypi", issued_at=1_000_000, lifetime=300
        ),
    }[token]
    answer = mint(index, id_token)
    assert (answer.status, answer.json()) == (422, refusal(description, code))


def test_mint_token_refuses_a_token_used_twice(
    index: LocalIndex, local_sigstore: LocalSigstore, job: GitHubIdentity
) -> None:
    id_token = local_sigstore.mint_github_token(job, audience="pypi")
    assert mint(index, id_token).status == 200

    answer = mint(index, id_token)
    assert answer.json() == refusal("invalid token: already used", "invalid-reuse-token")


# --- Uploads ---------------------------------------------------------------------


def test_trusted_publishing_upload_keeps_the_file_and_its_provenance(
    index: LocalIndex, tp_token: str, wheel: Path, sign: Sign, job: GitHubIdentity
) -> None:
    attestation = sign(wheel, job)

    answer = upload(index, tp_token, wheel, [attestation])

    assert answer.status == 200, answer.reason
    [stored] = index.files(PROJECT)
    assert (stored.filename, stored.content) == (WHEEL, wheel.read_bytes())
    assert stored.trusted_publisher == publisher_of(job)

    provenance = request(index, f"/integrity/{PROJECT}/0.1.0/{WHEEL}/provenance")
    assert provenance.status == 200
    parsed = Provenance.model_validate_json(provenance.body)
    [bundle] = parsed.attestation_bundles
    assert bundle.publisher == publisher_of(job)
    assert [json.loads(a.model_dump_json()) for a in bundle.attestations] == [attestation]

    simple = request(index, f"/simple/{PROJECT}/")
    assert simple.status == 200
    assert f'data-provenance="{index.provenance_url(stored)}"' in simple.body.decode()
    assert request(index, f"/files/{WHEEL}").body == wheel.read_bytes()


def test_upload_without_attestations_has_no_provenance(
    index: LocalIndex, tp_token: str, wheel: Path
) -> None:
    assert upload(index, tp_token, wheel).status == 200

    answer = request(index, f"/integrity/{PROJECT}/0.1.0/{WHEEL}/provenance")
    assert (answer.status, answer.json()) == (
        404,
        {"message": f"No provenance available for {WHEEL}"},
    )


def test_same_file_again_is_accepted_and_another_file_of_that_name_refused(
    index: LocalIndex, tp_token: str, wheel: Path
) -> None:
    assert upload(index, tp_token, wheel).status == 200
    assert upload(index, tp_token, wheel).status == 200
    original = wheel.read_bytes()
    wheel.write_bytes(b"PK\x03\x04 rebuilt")

    answer = upload(index, tp_token, wheel)

    blake2 = hashlib.blake2b(wheel.read_bytes(), digest_size=32).hexdigest()
    assert (answer.status, answer.reason) == (
        400,
        f"File already exists ({WHEEL!r}, with blake2_256 hash {blake2!r}). "
        "See https://pypi.org/help/#file-name-reuse for more information.",
    )
    assert [f.content for f in index.files()] == [original]


def test_upload_without_credentials_is_forbidden(index: LocalIndex, wheel: Path) -> None:
    answer = upload(index, None, wheel)
    assert (answer.status, answer.reason) == (
        403,
        "Invalid or non-existent authentication information. "
        "See https://pypi.org/help/#invalid-auth for more information.",
    )
    assert index.files() == []


def test_trusted_publisher_uploads_only_its_own_projects(
    index: LocalIndex, tp_token: str, tmp_path: Path
) -> None:
    other = tmp_path / "other_pkg-1.0-py3-none-any.whl"
    other.write_bytes(b"PK")
    answer = upload(index, tp_token, other, name="other-pkg", version="1.0")
    assert (answer.status, answer.reason) == (
        403,
        "The given token isn't allowed to upload to project 'other-pkg'. "
        "See https://pypi.org/help/#project-name for more information.",
    )


def test_api_token_upload_with_attestations_is_refused(
    index: LocalIndex, wheel: Path, sign: Sign, job: GitHubIdentity
) -> None:
    answer = upload(index, index.api_token(), wheel, [sign(wheel, job)])

    assert (answer.status, answer.reason) == (
        400,
        INVALID + "Attestations are only supported when using Trusted Publishing",
    )
    assert index.files() == []
    # The same upload without attestations is accepted.
    assert upload(index, index.api_token(), wheel).status == 200


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("{}", "Malformed attestations: 1 validation error for list[Attestation]"),
        ("[]", "Malformed attestations: an empty attestation set is not permitted"),
    ],
)
def test_malformed_attestation_fields(
    index: LocalIndex, tp_token: str, wheel: Path, field: str, reason: str
) -> None:
    answer = upload(index, tp_token, wheel, field)
    assert answer.status == 400
    assert answer.reason.startswith(INVALID + reason)


def test_at_most_two_attestations(
    index: LocalIndex, tp_token: str, wheel: Path, sign: Sign, job: GitHubIdentity
) -> None:
    attestation = sign(wheel, job)
    answer = upload(index, tp_token, wheel, [attestation] * 3)
    assert (answer.status, answer.reason) == (
        400,
        INVALID + "A maximum of 2 attestations per file are supported",
    )


def test_one_attestation_per_predicate_type(
    index: LocalIndex, tp_token: str, wheel: Path, sign: Sign, job: GitHubIdentity
) -> None:
    answer = upload(index, tp_token, wheel, [sign(wheel, job), sign(wheel, job)])
    assert (answer.status, answer.reason) == (
        400,
        INVALID + "Multiple attestations for the same file with the same predicate type "
        f"({PUBLISH_V1}) are not supported",
    )


def test_attestation_from_another_workflow_is_refused(
    index: LocalIndex, tp_token: str, wheel: Path, sign: Sign, job: GitHubIdentity
) -> None:
    build_job = GitHubIdentity(repository=job.repository, workflow="build.yml")
    answer = upload(index, tp_token, wheel, [sign(wheel, build_job)])
    assert answer.status == 400
    # pypi-attestations' own words, as PyPI relays them: the "URI" it shows is the
    # certificate extension's repr, which holds the signing workflow's URI as DER.
    prefix = (
        INVALID + "Could not verify the uploaded artifact using the included attestation: "
        "Verification failed: "
        "Certificate's Build Config URI (<Extension("
    )
    suffix = f"does not match expected Trusted Publisher (release.yml @ {job.repository})"
    assert answer.reason.startswith(prefix), answer.reason
    assert answer.reason.endswith(suffix), answer.reason
    assert "/.github/workflows/build.yml@refs/heads/main" in answer.reason
    assert index.files() == []


def test_attestation_for_another_file_is_refused(
    index: LocalIndex, tp_token: str, wheel: Path, sdist: Path, sign: Sign, job: GitHubIdentity
) -> None:
    answer = upload(index, tp_token, wheel, [sign(sdist, job)])
    assert (answer.status, answer.reason) == (
        400,
        INVALID + "Could not verify the uploaded artifact using the included attestation: "
        "Verification failed: "
        f"subject does not match distribution name: {sdist.name} != {wheel.name}",
    )


# --- Faults and counts -------------------------------------------------------------


def test_injected_fault_reaches_the_uploader_and_is_counted(
    index: LocalIndex, tp_token: str, wheel: Path
) -> None:
    index.inject("upload", Fault.status(503, body="maintenance"), times=1)

    first = upload(index, tp_token, wheel)
    second = upload(index, tp_token, wheel)

    assert (first.status, first.body) == (503, b"maintenance")
    assert second.status == 200
    assert index.counts()["upload"] == 2
    assert len(index.files()) == 1


def test_inject_rejects_unknown_endpoints_and_sigstore_only_faults(local_index: LocalIndex) -> None:
    with pytest.raises(ValueError, match="unknown endpoint 'fulcio'"):
        local_index.inject("fulcio", Fault.hang())
    with pytest.raises(ValueError, match="applies to rekor"):
        local_index.inject("upload", Fault.bad_set())


# --- Parity with `hatch-attest verify` --------------------------------------------------


@pytest.fixture
def local_verifier(local_sigstore: LocalSigstore) -> Verifier:
    """A verifier that trusts the local Sigstore instance's root."""
    config = ClientTrustConfig.from_json(local_sigstore.trust_config_path.read_text())
    return Verifier(trusted_root=config.trusted_root)


@pytest.fixture
def signed_as(
    wheel: Path, sdist: Path, sign: Sign, job: GitHubIdentity
) -> Callable[[str], dict[str, Any]]:
    """An attestation for the wheel, signed as a case says: by the release job ("good"), by
    another workflow of the repository, for another file, or for other bytes of the same name."""

    def signed(case: str) -> dict[str, Any]:
        if case == "good":
            return sign(wheel, job)
        if case == "other-workflow":
            return sign(wheel, GitHubIdentity(repository=job.repository, workflow="build.yml"))
        if case == "other-file":
            return sign(sdist, job)
        assert case == "tampered-digest", case
        # The same name with other bytes: a file changed after signing.
        earlier = wheel.parent / "earlier" / wheel.name
        earlier.parent.mkdir()
        earlier.write_bytes(b"the bytes that were signed")
        return sign(earlier, job)

    return signed


PARITY_CASES = ["good", "other-workflow", "other-file", "same-type-twice", "three", "tampered"]


@pytest.mark.parametrize("case", PARITY_CASES)
def test_index_and_check_distribution_reach_the_same_verdict(
    case: str,
    index: LocalIndex,
    tp_token: str,
    local_verifier: Verifier,
    wheel: Path,
    signed_as: Callable[[str], dict[str, Any]],
    job: GitHubIdentity,
) -> None:
    """The same files, judged by the index (as PyPI) and by `check_distribution` (as `verify`)."""
    good = signed_as("good")
    tampered = json.loads(json.dumps(good))
    tampered["envelope"]["signature"] = tampered["envelope"]["signature"][::-1]
    documents = {
        "good": [good],
        "other-workflow": [signed_as("other-workflow")],
        "other-file": [signed_as("other-file")],
        "same-type-twice": [good, signed_as("good")],
        "three": [good, good, good],
        "tampered": [tampered],
    }[case]
    paths = []
    kinds = ("publish", "again", "third")[: len(documents)]
    for kind, document in zip(kinds, documents, strict=True):
        path = wheel.with_name(f"{wheel.name}.{kind}.attestation")
        path.write_text(json.dumps(document))
        paths.append(path)

    report = check_distribution(wheel, publisher_of(job), local_verifier, attestation_paths=paths)
    answer = upload(index, tp_token, wheel, [json.loads(p.read_text()) for p in paths])

    assert (answer.status == 200) == report.ok == (case == "good"), (answer.reason, report.render())


@pytest.mark.parametrize("case", ["other-workflow", "other-file", "tampered-digest"])
def test_index_words_verification_failures_as_pypi_attestations_does(
    case: str,
    index: LocalIndex,
    tp_token: str,
    wheel: Path,
    signed_as: Callable[[str], dict[str, Any]],
    job: GitHubIdentity,
    local_verifier: Verifier,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """warehouse relays the text of `Attestation.verify`'s error; so does the index.

    The library always builds `Verifier.production()`; pointed at the local trusted
    root it runs every one of its checks and raises its own words.
    """
    document = signed_as(case)
    monkeypatch.setattr(Verifier, "production", lambda *_, **__: local_verifier)
    with pytest.raises(AttestationVerificationError) as library:
        Attestation.model_validate(document).verify(
            publisher_of(job), Distribution.from_file(wheel)
        )

    answer = upload(index, tp_token, wheel, [document])

    assert answer.reason == (
        INVALID
        + "Could not verify the uploaded artifact using the included attestation: "
        + " ".join(str(library.value).split())
    )


# --- The way in ------------------------------------------------------------------------


def test_proxy_tunnels_only_pypi_hosts_to_the_index(local_index: LocalIndex) -> None:
    proxy = urlsplit(local_index.client_env()["HTTPS_PROXY"])
    assert proxy.hostname == "127.0.0.1"
    assert proxy.port is not None

    def connect(target: str) -> int:
        connection = http.client.HTTPConnection(proxy.hostname or "", proxy.port, timeout=10)
        try:
            connection.request("CONNECT", target)
            return connection.getresponse().status
        finally:
            connection.close()

    assert connect("upload.pypi.org:443") == 200
    assert connect("example.com:443") == 403
    assert connect("upload.pypi.org:80") == 403


def test_pypi_hosts_reach_the_index_through_the_proxy(local_index: LocalIndex) -> None:
    """What twine does: `https://upload.pypi.org/...` through HTTPS_PROXY, trusting the CA."""
    env = local_index.client_env()
    context = ssl.create_default_context(cafile=env["REQUESTS_CA_BUNDLE"])
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": env["HTTPS_PROXY"]}),
        urllib.request.HTTPSHandler(context=context),
    )
    with opener.open("https://upload.pypi.org/_/oidc/audience", timeout=10) as response:
        assert json.loads(response.read()) == {"audience": "pypi"}
    assert local_index.counts()["audience"] == 1
