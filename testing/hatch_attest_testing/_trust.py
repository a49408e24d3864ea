"""The ClientTrustConfig a client needs to sign and verify against this deployment.

One JSON document holds both halves, exactly as sigstore-python reads them with
`ClientTrustConfig.from_json`: the trusted root (keys and certificates to verify
with) and the signing config (service URLs to sign with).
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hatch_attest_testing._ctlog import key_id

CLIENT_TRUST_CONFIG = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
TRUSTED_ROOT = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
SIGNING_CONFIG = "application/vnd.dev.sigstore.signingconfig.v0.2+json"
OPERATOR = "hatch-attest local sigstore"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _timestamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _log(url: str, key: ec.EllipticCurvePublicKey, start: str) -> dict[str, Any]:
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "baseUrl": url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": _b64(spki),
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "validFor": {"start": start},
        },
        "logId": {"keyId": _b64(key_id(key))},
    }


def _authority(url: str, chain: list[x509.Certificate], start: str) -> dict[str, Any]:
    root = chain[-1].subject
    (organization,) = root.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    (common_name,) = root.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return {
        "subject": {"organization": str(organization.value), "commonName": str(common_name.value)},
        "uri": url,
        "certChain": {
            "certificates": [
                {"rawBytes": _b64(cert.public_bytes(serialization.Encoding.DER))} for cert in chain
            ]
        },
        "validFor": {"start": start},
    }


def _service(url: str, start: str) -> dict[str, Any]:
    return {"url": url, "majorApiVersion": 1, "validFor": {"start": start}, "operator": OPERATOR}


def client_trust_config(
    *,
    url: str,
    not_before: datetime.datetime,
    ca_chain: list[x509.Certificate],
    ct_log_key: ec.EllipticCurvePublicKey,
    rekor_key: ec.EllipticCurvePublicKey,
    tsa_url: str | None,
    tsa_chain: list[x509.Certificate] | None,
) -> dict[str, Any]:
    """The ClientTrustConfig document of a deployment whose services share `url`.

    `oidcUrls` stays empty: there is no interactive (browser) issuer here, only
    the CI token endpoints, which clients find through the job's environment.
    """
    start = _timestamp(not_before)
    timestamp_authorities = []
    tsa_urls = []
    if tsa_url is not None and tsa_chain is not None:
        timestamp_authorities.append(_authority(tsa_url, tsa_chain, start))
        tsa_urls.append(_service(tsa_url, start))
    return {
        "mediaType": CLIENT_TRUST_CONFIG,
        "trustedRoot": {
            "mediaType": TRUSTED_ROOT,
            "tlogs": [_log(url, rekor_key, start)],
            "certificateAuthorities": [_authority(url, ca_chain, start)],
            "ctlogs": [_log(f"{url}/ct", ct_log_key, start)],
            "timestampAuthorities": timestamp_authorities,
        },
        "signingConfig": {
            "mediaType": SIGNING_CONFIG,
            "caUrls": [_service(url, start)],
            "oidcUrls": [],
            "rekorTlogUrls": [_service(url, start)],
            "tsaUrls": tsa_urls,
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"},
        },
    }
