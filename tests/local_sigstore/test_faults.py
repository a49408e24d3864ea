"""Injected faults make the real clients fail the way real outages would."""

from __future__ import annotations

import threading
from pathlib import Path

import id
import pytest
import requests
from pypi_attestations import GitHubPublisher
from sigstore._internal.fulcio.client import FulcioClientError
from sigstore._internal.rekor import RekorClientError
from sigstore.errors import CertValidationError, VerificationError
from sigstore.models import ClientTrustConfig
from sigstore.verify import Verifier

from hatch_attest_testing import Fault, GitHubIdentity, LocalSigstore

from .conftest import Attest

# Long enough for a loopback answer, short enough to keep the suite fast.
_SHORT_TIMEOUT = 0.3


@pytest.mark.usefixtures("sigstore_github_job")
def test_fulcio_error_status_fails_signing_then_recovers(
    local_sigstore: LocalSigstore, attest: Attest, wheel: Path
) -> None:
    local_sigstore.inject("fulcio", Fault.status(503), times=1)

    with pytest.raises(FulcioClientError):
        attest(wheel)
    attest(wheel)
    assert local_sigstore.counts()["fulcio"] == 2


@pytest.mark.usefixtures("sigstore_github_job")
def test_rekor_error_status_carries_the_message(
    local_sigstore: LocalSigstore, attest: Attest, wheel: Path
) -> None:
    body = '{"code": 500, "message": "log is read-only"}'
    local_sigstore.inject("rekor", Fault.status(500, body=body))

    with pytest.raises(RekorClientError, match="500: log is read-only"):
        attest(wheel)


@pytest.mark.usefixtures("sigstore_github_job")
def test_token_endpoint_error_status_is_an_ambient_credential_error(
    local_sigstore: LocalSigstore,
) -> None:
    local_sigstore.inject("oidc", Fault.status(500, body="upstream failure"), times=2)

    for _ in range(2):
        with pytest.raises(id.AmbientCredentialError, match="code=500"):
            id.detect_credential("sigstore")
    assert id.detect_credential("sigstore") is not None


@pytest.mark.usefixtures("sigstore_github_job")
@pytest.mark.parametrize("endpoint", ["fulcio", "rekor"])
def test_malformed_answer_fails_signing(
    local_sigstore: LocalSigstore, attest: Attest, wheel: Path, endpoint: str
) -> None:
    local_sigstore.inject(endpoint, Fault.malformed())

    with pytest.raises(requests.JSONDecodeError):
        attest(wheel)


@pytest.mark.usefixtures("sigstore_github_job")
def test_malformed_token_answer_is_an_ambient_credential_error(
    local_sigstore: LocalSigstore,
) -> None:
    local_sigstore.inject("oidc", Fault.malformed())

    with pytest.raises(id.AmbientCredentialError, match="malformed"):
        id.detect_credential("sigstore")


@pytest.mark.usefixtures("sigstore_github_job")
def test_sct_from_an_unknown_log_fails_signing(
    local_sigstore: LocalSigstore, attest: Attest, wheel: Path
) -> None:
    local_sigstore.inject("fulcio", Fault.wrong_sct_key())

    with pytest.raises(VerificationError, match="SCT verify failed"):
        attest(wheel)
    assert local_sigstore.counts()["rekor"] == 0


@pytest.mark.parametrize(
    ("endpoint", "fault", "reason"),
    [
        ("fulcio", Fault.untrusted_ca(), "certificate chain"),
        ("rekor", Fault.bad_inclusion_proof(), "inclusion proof"),
        ("rekor", Fault.bad_set(), "SET"),
        ("rekor", Fault.bad_checkpoint(), "checkpoint"),
    ],
    ids=["untrusted-ca", "bad-inclusion-proof", "bad-set", "bad-checkpoint"],
)
def test_corrupt_answer_signs_but_fails_verification(
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
    trust_config: ClientTrustConfig,
    attest: Attest,
    wheel: Path,
    endpoint: str,
    fault: Fault,
    reason: str,
) -> None:
    local_sigstore.inject(endpoint, fault)
    attestation = attest(wheel)

    verifier = Verifier(trusted_root=trust_config.trusted_root)
    publisher = GitHubPublisher(repository=sigstore_github_job.repository, workflow="release.yml")
    with pytest.raises(VerificationError, match=reason) as failure:
        verifier.verify_dsse(attestation.to_bundle(), publisher._as_policy())
    assert isinstance(failure.value, CertValidationError) == (endpoint == "fulcio")


def test_status_fault_sends_retry_after(local_sigstore: LocalSigstore) -> None:
    local_sigstore.inject("rekor", Fault.status(429, retry_after=7), times=1)

    response = requests.post(f"{local_sigstore.url}/api/v1/log/entries", json={}, timeout=5)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "7")
    again = requests.post(f"{local_sigstore.url}/api/v1/log/entries", json={}, timeout=5)
    assert again.status_code == 400


def test_delay_fault_answers_late(local_sigstore: LocalSigstore) -> None:
    local_sigstore.inject("rekor", Fault.delay(1.0), times=1)

    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{local_sigstore.url}/api/v1/log/entries", json={}, timeout=_SHORT_TIMEOUT)
    response = requests.post(f"{local_sigstore.url}/api/v1/log/entries", json={}, timeout=5)
    assert response.status_code == 400


def test_hang_fault_never_answers(local_sigstore: LocalSigstore) -> None:
    local_sigstore.inject("fulcio", Fault.hang())

    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{local_sigstore.url}/api/v2/signingCert", json={}, timeout=_SHORT_TIMEOUT)
    assert local_sigstore.counts()["fulcio"] == 1


def test_stop_releases_hung_requests() -> None:
    instance = LocalSigstore.start()
    instance.inject("rekor", Fault.hang())
    outcome: list[BaseException] = []

    def client() -> None:
        try:
            requests.post(f"{instance.url}/api/v1/log/entries", json={}, timeout=30)
        except requests.RequestException as e:
            outcome.append(e)

    thread = threading.Thread(target=client)
    thread.start()
    for _ in range(100):  # until the request is in, at most ~5 s
        if instance.counts()["rekor"]:
            break
        threading.Event().wait(0.05)
    instance.stop()
    thread.join(timeout=5)

    assert not thread.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], requests.ConnectionError)


@pytest.mark.parametrize(
    ("endpoint", "fault", "times"),
    [
        ("oidc", Fault.wrong_sct_key(), None),
        ("tsa", Fault.bad_set(), None),
        ("fulcio", Fault.bad_checkpoint(), None),
        ("ctlog", Fault.hang(), None),
        ("rekor", Fault.hang(), 0),
    ],
)
def test_inject_rejects_faults_that_cannot_apply(
    local_sigstore: LocalSigstore, endpoint: str, fault: Fault, times: int | None
) -> None:
    with pytest.raises(ValueError, match=endpoint if times is None else "times"):
        local_sigstore.inject(endpoint, fault, times=times)


@pytest.mark.usefixtures("sigstore_github_job")
def test_reset_clears_faults_and_counts(
    local_sigstore: LocalSigstore, attest: Attest, wheel: Path
) -> None:
    local_sigstore.inject("rekor", Fault.status(503))
    with pytest.raises(RekorClientError):
        attest(wheel)
    assert local_sigstore.counts() == {"oidc": 1, "fulcio": 1, "rekor": 1, "tsa": 0}

    local_sigstore.reset()

    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}
    attest(wheel)
