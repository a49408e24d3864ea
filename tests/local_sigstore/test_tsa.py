"""The optional RFC 3161 timestamp authority."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from rfc3161_client import TimestampRequestBuilder, VerifierBuilder, decode_timestamp_response
from sigstore.errors import VerificationError
from sigstore.models import Bundle, ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import Verifier, policy

from hatch_attest_testing import Fault, LocalSigstore

_GITHUB = policy.OIDCIssuer("https://token.actions.githubusercontent.com")


@pytest.fixture(scope="module")
def tsa_instance() -> Iterator[LocalSigstore]:
    with LocalSigstore.start(tsa=True) as instance:
        yield instance


@pytest.fixture
def tsa_trust_config(tsa_instance: LocalSigstore) -> ClientTrustConfig:
    tsa_instance.reset()
    config = ClientTrustConfig.from_json(tsa_instance.trust_config_path.read_text())
    config.force_tlog_version = 1
    return config


def _sign(instance: LocalSigstore, config: ClientTrustConfig, data: bytes) -> Bundle:
    token = IdentityToken(instance.mint_github_token())
    with SigningContext.from_trust_config(config).signer(token) as signer:
        return signer.sign_artifact(data)


def _timestamps(bundle: Bundle) -> list[str]:
    material = json.loads(bundle.to_json())["verificationMaterial"]
    timestamps: list[str] = [
        ts["signedTimestamp"]
        for ts in material.get("timestampVerificationData", {}).get("rfc3161Timestamps", [])
    ]
    return timestamps


def test_signature_is_timestamped_and_verifies(
    tsa_instance: LocalSigstore, tsa_trust_config: ClientTrustConfig
) -> None:
    bundle = _sign(tsa_instance, tsa_trust_config, b"artifact")

    assert len(_timestamps(bundle)) == 1
    Verifier(trusted_root=tsa_trust_config.trusted_root).verify_artifact(
        b"artifact", bundle, _GITHUB
    )
    assert tsa_instance.counts()["tsa"] == 1


def test_timestamp_needs_the_tsa_in_the_trusted_root(
    tsa_instance: LocalSigstore, tsa_trust_config: ClientTrustConfig
) -> None:
    bundle = _sign(tsa_instance, tsa_trust_config, b"artifact")
    document = json.loads(tsa_instance.trust_config_path.read_text())
    document["trustedRoot"]["timestampAuthorities"] = []
    without_tsa = ClientTrustConfig.from_json(json.dumps(document))

    with pytest.raises(VerificationError, match="Timestamp Authorities"):
        Verifier(trusted_root=without_tsa.trusted_root).verify_artifact(
            b"artifact", bundle, _GITHUB
        )


def test_failing_tsa_leaves_the_signature_untimestamped(
    tsa_instance: LocalSigstore, tsa_trust_config: ClientTrustConfig
) -> None:
    tsa_instance.inject("tsa", Fault.status(503))

    bundle = _sign(tsa_instance, tsa_trust_config, b"artifact")

    assert _timestamps(bundle) == []


def test_tsa_embeds_its_certificate_on_request(
    tsa_instance: LocalSigstore, tsa_trust_config: ClientTrustConfig
) -> None:
    query = TimestampRequestBuilder().data(b"message").cert_request(cert_request=True).build()
    (url,) = [tsa.url for tsa in tsa_trust_config.signing_config.get_tsas()]

    answer = requests.post(
        url,
        data=query.as_bytes(),
        headers={"Content-Type": "application/timestamp-query"},
        timeout=5,
    )

    response = decode_timestamp_response(answer.content)
    assert len(response.signed_data.certificates) == 1
    (authority,) = tsa_trust_config.trusted_root.get_timestamp_authorities()
    leaf, root = authority.certificates(allow_expired=False)
    verifier = (
        VerifierBuilder.from_request(query).tsa_certificate(leaf).add_root_certificate(root).build()
    )
    assert verifier.verify_message(response, b"message")


def test_tsa_rejects_garbage(tsa_instance: LocalSigstore) -> None:
    answer = requests.post(f"{tsa_instance.url}/api/v1/timestamp", data=b"\x30\x00", timeout=5)

    assert answer.status_code == 400
