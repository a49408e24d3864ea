"""The local Rekor v1 log answers resubmissions and lookups the way sigstore/rekor does."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import NameOID
from sigstore._internal.merkle import verify_merkle_inclusion
from sigstore.models import TransparencyLogEntry

from hatch_attest_testing import Fault, LocalSigstore

_TIMEOUT = 10
_KEY = ec.generate_private_key(ec.SECP256R1())


def _certificate() -> bytes:
    """Rekor checks the signature with the certificate's key, not the certificate's chain."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "local-rekor-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(_KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(minutes=10))
        .sign(_KEY, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


_PEM = _certificate()


def _proposed(content: bytes) -> dict[str, Any]:
    """A hashedrekord entry, as a client proposes it."""
    digest = hashlib.sha256(content).digest()
    signature = _KEY.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    return {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
            "signature": {
                "content": base64.b64encode(signature).decode(),
                "publicKey": {"content": base64.b64encode(_PEM).decode()},
            },
        },
    }


def _post(sigstore: LocalSigstore, proposed: dict[str, Any]) -> requests.Response:
    return requests.post(f"{sigstore.url}/api/v1/log/entries", json=proposed, timeout=_TIMEOUT)


def _get(sigstore: LocalSigstore, path: str) -> requests.Response:
    return requests.get(f"{sigstore.url}{path}", timeout=_TIMEOUT)


def _statuses(sigstore: LocalSigstore) -> list[tuple[str, int | None]]:
    return [(e.method, e.status) for e in sigstore.exchanges("rekor")]


def test_an_identical_resubmission_is_a_conflict_that_names_the_entry(
    local_sigstore: LocalSigstore,
) -> None:
    proposed = _proposed(b"resubmitted")
    created = _post(local_sigstore, proposed)
    assert created.status_code == 201
    location = created.headers["Location"]
    [entry_id] = created.json()

    again = _post(local_sigstore, proposed)

    assert again.status_code == 409
    assert again.json() == {
        "code": 409,
        "message": (
            f"an equivalent entry already exists in the transparency log with UUID {entry_id}"
        ),
    }
    assert again.headers["Location"] == location == f"/api/v1/log/entries/{entry_id}"
    # The UUID is the tree ID, then the leaf hash of the canonical body.
    body = base64.b64decode(created.json()[entry_id]["body"])
    assert entry_id[16:] == hashlib.sha256(b"\x00" + body).hexdigest()
    assert len(entry_id) == 80


def test_a_logged_entry_is_served_with_a_proof_over_the_current_tree(
    local_sigstore: LocalSigstore,
) -> None:
    created = _post(local_sigstore, _proposed(b"looked up later"))
    [(entry_id, answered)] = created.json().items()
    _post(local_sigstore, _proposed(b"a later entry grows the tree"))

    for uuid in (entry_id, entry_id[16:], entry_id.upper()):
        found = _get(local_sigstore, f"/api/v1/log/entries/{uuid}")
        assert found.status_code == 200
        [(found_id, entry)] = found.json().items()
        assert found_id == entry_id
        for key in ("body", "integratedTime", "logID", "logIndex"):
            assert entry[key] == answered[key]
        proof = entry["verification"]["inclusionProof"]
        assert proof["treeSize"] > answered["verification"]["inclusionProof"]["treeSize"]
        verify_merkle_inclusion(TransparencyLogEntry._from_v1_response(found.json()))
    assert _statuses(local_sigstore) == [("POST", 201), ("POST", 201)] + [("GET", 200)] * 3


@pytest.mark.parametrize(
    ("uuid", "status", "body"),
    [
        ("ab" * 32, 404, b""),
        ("0000000000000000" + "ab" * 32, 404, b""),
        ("not-a-uuid", 400, b'{"code": 400, "message": "incorrectly formatted uuid not-a-uuid"}'),
    ],
    ids=["unknown", "other tree", "malformed"],
)
def test_unknown_and_malformed_uuids(
    local_sigstore: LocalSigstore, uuid: str, status: int, body: bytes
) -> None:
    answer = _get(local_sigstore, f"/api/v1/log/entries/{uuid}")

    assert (answer.status_code, answer.content) == (status, body)


def test_drop_after_processing_logs_the_entry_and_sends_nothing(
    local_sigstore: LocalSigstore,
) -> None:
    proposed = _proposed(b"answer lost")
    local_sigstore.inject("rekor", Fault.drop_after_processing(), times=1)

    with pytest.raises(requests.ConnectionError):
        _post(local_sigstore, proposed)
    retried = _post(local_sigstore, proposed)

    assert retried.status_code == 409
    assert _get(local_sigstore, retried.headers["Location"]).status_code == 200
    assert _statuses(local_sigstore) == [("POST", None), ("POST", 409), ("GET", 200)]
    assert local_sigstore.counts()["rekor"] == 3


def test_a_fault_for_one_method_leaves_the_other_alone(
    local_sigstore: LocalSigstore,
) -> None:
    local_sigstore.inject("rekor", Fault.status(503), method="GET")
    created = _post(local_sigstore, _proposed(b"reads are down"))

    assert created.status_code == 201
    assert _get(local_sigstore, created.headers["Location"]).status_code == 503
    with pytest.raises(ValueError, match="unknown method 'PUT'"):
        local_sigstore.inject("rekor", Fault.hang(), method="PUT")


def test_read_back_entries_carry_the_rekor_faults(local_sigstore: LocalSigstore) -> None:
    created = _post(local_sigstore, _proposed(b"read back corrupted"))
    local_sigstore.inject("rekor", Fault.bad_inclusion_proof(), method="GET")

    found = _get(local_sigstore, created.headers["Location"])

    assert found.status_code == 200
    entry = TransparencyLogEntry._from_v1_response(found.json())
    with pytest.raises(Exception, match="inclusion proof"):
        verify_merkle_inclusion(entry)
    assert json.loads(created.content) != found.json()
