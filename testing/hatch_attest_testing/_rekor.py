"""Rekor v1: a transparency log of `hashedrekord` and `dsse` entries.

Implements `POST /api/v1/log/entries` as sigstore-python calls it, and
`GET /api/v1/log/entries/<uuid>` as cosign and sigstore-js call it. Entries are
integrated synchronously, so every answer carries both an inclusion proof (with
a signed checkpoint over the current tree) and an inclusion promise (SET). The
body stored and returned is the canonical entry the real Rekor stores, which
sigstore-python's verifier compares with the bundle.

Like Rekor v1 (sigstore/rekor `pkg/api/entries.go`), the log remembers every
entry: proposing one whose canonical body is already logged (a retried POST
that had landed) gets 409, the message naming the existing entry's UUID, and a
`Location` header pointing at it. A UUID is the hex leaf hash, optionally
prefixed by the 16-hex-digit tree ID; answers use the prefixed form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from hatch_attest_testing._ctlog import key_id
from hatch_attest_testing._faults import BadCheckpoint, BadInclusionProof, BadSET, Fault
from hatch_attest_testing._http import Reply, Request, json_reply
from hatch_attest_testing._merkle import MerkleTree, leaf_hash

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_ENTRIES_PATH = "/api/v1/log/entries"
_LEAF_HEX = 64
_TREE_ID_HEX = 16


class _BadEntry(ValueError):
    """A proposed entry the log refuses (HTTP 400)."""


def canonical_json(document: Any) -> bytes:
    """RFC 8785 canonical form, for the documents this log writes.

    Sorted keys and no whitespace is RFC 8785 as long as values are ASCII
    strings and integers, which is all an entry or SET payload holds.
    """
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _b64decode(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        msg = f"{what} must be a base64 string"
        raise _BadEntry(msg)
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as e:
        msg = f"{what} is not valid base64"
        raise _BadEntry(msg) from e


def _verifier_key(encoded_pem: object) -> ec.EllipticCurvePublicKey:
    try:
        certificate = x509.load_pem_x509_certificate(_b64decode(encoded_pem, "verifier"))
    except ValueError as e:
        msg = "verifier is not a PEM certificate"
        raise _BadEntry(msg) from e
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        msg = "only ECDSA verifiers are supported here"
        raise _BadEntry(msg)
    return key


def _hashedrekord_body(spec: dict[str, Any]) -> dict[str, Any]:
    digest_hex = spec["data"]["hash"]["value"]
    if spec["data"]["hash"]["algorithm"] != "sha256":
        msg = "only sha256 hashedrekord entries are supported here"
        raise _BadEntry(msg)
    signature_b64 = spec["signature"]["content"]
    verifier_b64 = spec["signature"]["publicKey"]["content"]
    try:
        _verifier_key(verifier_b64).verify(
            _b64decode(signature_b64, "signature"),
            bytes.fromhex(digest_hex),
            ec.ECDSA(Prehashed(hashes.SHA256())),
        )
    except (InvalidSignature, ValueError) as e:
        msg = "verifying signature: invalid signature when validating ASN.1 encoded signature"
        raise _BadEntry(msg) from e
    return {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": digest_hex}},
            "signature": {"content": signature_b64, "publicKey": {"content": verifier_b64}},
        },
    }


def _pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def _dsse_body(spec: dict[str, Any]) -> dict[str, Any]:
    proposed = spec["proposedContent"]
    envelope_json: str = proposed["envelope"]
    envelope = json.loads(envelope_json)
    payload = _b64decode(envelope["payload"], "payload")
    pae = _pae(envelope["payloadType"], payload)
    keys = {verifier: _verifier_key(verifier) for verifier in proposed["verifiers"]}
    signatures = []
    # Like Rekor: every signature must verify with one of the verifiers, and the
    # entry records which one did.
    for signature in envelope["signatures"]:
        raw = _b64decode(signature["sig"], "signature")
        for verifier, key in keys.items():
            try:
                key.verify(raw, pae, _ECDSA_SHA256)
            except InvalidSignature:
                continue
            signatures.append({"signature": signature["sig"], "verifier": verifier})
            break
        else:
            msg = "could not verify envelope signature with any of the verifiers"
            raise _BadEntry(msg)
    return {
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            # Rekor hashes the envelope as proposed; clients cannot recompute
            # it (the envelope JSON is not canonical), so none checks it.
            "envelopeHash": {
                "algorithm": "sha256",
                "value": hashlib.sha256(envelope_json.encode()).hexdigest(),
            },
            "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
            "signatures": sorted(signatures, key=lambda s: s["signature"]),
        },
    }


@dataclass(frozen=True)
class _Logged:
    """What the log keeps of an entry: enough to answer for it again."""

    index: int
    body: bytes
    integrated_time: int


class Rekor:
    """One log shard: its key, its tree and its entries."""

    entries_path = _ENTRIES_PATH
    """Where entries are created (POST) and, below it, read (GET)."""

    def __init__(self, url: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.log_id = key_id(self.key.public_key())
        self._tree_id = secrets.randbits(63)
        # Like "rekor.sigstore.dev": the name in checkpoint signatures.
        self._name = urlsplit(url).netloc
        self._origin = f"{self._name} - {self._tree_id}"
        self._tree = MerkleTree()
        self._logged: dict[bytes, _Logged] = {}
        self._lock = threading.Lock()

    def create_entry(self, request: Request, fault: Fault | None) -> Reply:
        """`POST /api/v1/log/entries`."""
        try:
            canonical = canonical_json(self._canonical_entry(json.loads(request.body)))
        except _BadEntry as e:
            return json_reply(400, {"code": 400, "message": str(e)})
        except (ValueError, KeyError, TypeError, AttributeError):
            return json_reply(400, {"code": 400, "message": "unable to parse proposed entry"})

        leaf = leaf_hash(canonical)
        with self._lock:
            existing = self._logged.get(leaf)
            if existing is None:
                index = self._tree.append(leaf)
                self._logged[leaf] = _Logged(index, canonical, int(time.time()))
        entry_id = self._entry_id(leaf)
        location = {"Location": f"{_ENTRIES_PATH}/{entry_id}"}
        if existing is not None:
            message = (
                f"an equivalent entry already exists in the transparency log with UUID {entry_id}"
            )
            return json_reply(409, {"code": 409, "message": message}, headers=location)
        return json_reply(201, self._answer(leaf, fault), headers=location)

    def get_entry(self, request: Request, fault: Fault | None) -> Reply:
        """`GET /api/v1/log/entries/<uuid>`: the entry as its POST answered, with a
        fresh inclusion proof and checkpoint over the current tree."""
        given = request.path.removeprefix(_ENTRIES_PATH + "/")
        entry_id = given.lower()
        tree_id, leaf_hex = entry_id[:-_LEAF_HEX], entry_id[-_LEAF_HEX:]
        if len(entry_id) not in {_LEAF_HEX, _TREE_ID_HEX + _LEAF_HEX} or any(
            c not in "0123456789abcdef" for c in entry_id
        ):
            message = f"incorrectly formatted uuid {given}"
            return json_reply(400, {"code": 400, "message": message})
        leaf = bytes.fromhex(leaf_hex)
        if (tree_id and int(tree_id, 16) != self._tree_id) or leaf not in self._logged:
            # Rekor answers an unknown entry with an empty 404.
            return Reply(404, b"")
        return json_reply(200, self._answer(leaf, fault))

    def _answer(self, leaf: bytes, fault: Fault | None) -> dict[str, Any]:
        """`{uuid: LogEntry}` for a logged leaf, proven against the current tree."""
        with self._lock:
            logged = self._logged[leaf]
            size = len(self._tree)
            root = self._tree.root(size)
            proof = self._tree.inclusion_proof(logged.index, size)
        encoded_body = base64.b64encode(logged.body).decode()
        # Rekor signs the promise afresh for every answer; its content never changes.
        promise = canonical_json(
            {
                "body": encoded_body,
                "integratedTime": logged.integrated_time,
                "logID": self.log_id.hex(),
                "logIndex": logged.index,
            }
        )
        if isinstance(fault, BadSET):
            promise += b" "
        signed_root = root
        if isinstance(fault, BadInclusionProof):
            if proof:
                proof[0] = bytes([proof[0][0] ^ 1]) + proof[0][1:]
            else:
                root = bytes([root[0] ^ 1]) + root[1:]
        entry = {
            "body": encoded_body,
            "integratedTime": logged.integrated_time,
            "logID": self.log_id.hex(),
            "logIndex": logged.index,
            "verification": {
                "inclusionProof": {
                    "checkpoint": self._checkpoint(
                        size, signed_root, corrupt=isinstance(fault, BadCheckpoint)
                    ),
                    "hashes": [h.hex() for h in proof],
                    "logIndex": logged.index,
                    "rootHash": root.hex(),
                    "treeSize": size,
                },
                "signedEntryTimestamp": base64.b64encode(
                    self.key.sign(promise, _ECDSA_SHA256)
                ).decode(),
            },
        }
        return {self._entry_id(leaf): entry}

    def _entry_id(self, leaf: bytes) -> str:
        # Rekor's entry ID: the shard's tree ID, then the leaf hash.
        return f"{self._tree_id:016x}{leaf.hex()}"

    @staticmethod
    def _canonical_entry(proposed: dict[str, Any]) -> dict[str, Any]:
        kind, version, spec = proposed["kind"], proposed["apiVersion"], proposed["spec"]
        if (kind, version) == ("hashedrekord", "0.0.1"):
            return _hashedrekord_body(spec)
        if (kind, version) == ("dsse", "0.0.1"):
            return _dsse_body(spec)
        msg = f"unsupported entry kind {kind}/{version}"
        raise _BadEntry(msg)

    def _checkpoint(self, size: int, root: bytes, *, corrupt: bool) -> str:
        """A signed note (transparency-dev checkpoint format) over the tree head."""
        note = f"{self._origin}\n{size}\n{base64.b64encode(root).decode()}\n"
        signed = note.encode() + (b" " if corrupt else b"")
        signature = self.key.sign(signed, _ECDSA_SHA256)
        # The key hint is the first four bytes of the log ID, as Rekor v1 writes it.
        encoded = base64.b64encode(self.log_id[:4] + signature).decode()
        return f"{note}\n\u2014 {self._name} {encoded}\n"
