"""The certificate transparency log that countersigns Fulcio's precertificates.

Fulcio embeds one SCT (RFC 6962) in every certificate it issues, and
sigstore-python refuses a certificate whose SCT does not verify against a
`ctlogs` key of the trusted root. This log only signs; it has no public CT API.
"""

from __future__ import annotations

import hashlib
import struct
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hatch_attest_testing import _der

_POISON = _der.oid(x509.oid.ExtensionOID.PRECERT_POISON.dotted_string)
_TBS_EXTENSIONS_TAG = 0xA3
_SCT_V1 = 0
_CERTIFICATE_TIMESTAMP = 0
_PRECERT_ENTRY = 1
_SHA256 = 4
_ECDSA = 3


def key_id(key: ec.EllipticCurvePublicKey) -> bytes:
    """RFC 6962 key ID: SHA-256 of the DER SubjectPublicKeyInfo (also Rekor's log ID)."""
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).digest()


def _u24(size: int) -> bytes:
    return size.to_bytes(3, "big")


def _strip_poison(tbs: bytes) -> bytes:
    """The precertificate's TBSCertificate without its poison extension.

    That is what the final certificate's TBS is without its SCT list, so the
    signature made here is what a verifier rebuilds (RFC 6962, section 3.2).
    """
    fields = []
    for item in _der.children(tbs):
        if item[0] != _TBS_EXTENSIONS_TAG:
            fields.append(item)
            continue
        (extensions,) = _der.children(item)
        kept = [ext for ext in _der.children(extensions) if _der.children(ext)[0] != _POISON]
        fields.append(_der.explicit(3, _der.sequence(*kept)))
    return _der.sequence(*fields)


class CTLog:
    """Signs SCTs over precertificates with one P-256 key."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.log_id = key_id(self.key.public_key())

    def sct_list_extension(
        self, precertificate: x509.Certificate, issuer: x509.Certificate
    ) -> x509.UnrecognizedExtension:
        """The SCT list extension that makes `precertificate` a final certificate."""
        issuer_key = issuer.public_key()
        if not isinstance(issuer_key, ec.EllipticCurvePublicKey):
            msg = "the local CA uses EC keys only"
            raise TypeError(msg)
        tbs = _strip_poison(precertificate.tbs_certificate_bytes)
        timestamp = int(time.time() * 1000)
        signed = (
            struct.pack("!BBQH", _SCT_V1, _CERTIFICATE_TIMESTAMP, timestamp, _PRECERT_ENTRY)
            + key_id(issuer_key)
            + _u24(len(tbs))
            + tbs
            + struct.pack("!H", 0)  # no CT extensions
        )
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        sct = (
            struct.pack("!B", _SCT_V1)
            + self.log_id
            + struct.pack("!QH", timestamp, 0)
            + struct.pack("!BBH", _SHA256, _ECDSA, len(signature))
            + signature
        )
        sct_list = struct.pack("!H", len(sct) + 2) + struct.pack("!H", len(sct)) + sct
        # The extension value is a DER OCTET STRING wrapping the TLS-encoded list.
        return x509.UnrecognizedExtension(
            x509.oid.ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS,
            _der.octet_string(sct_list),
        )
