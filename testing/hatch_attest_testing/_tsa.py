"""An RFC 3161 timestamp authority, like Sigstore's timestamp-authority service.

Implements `POST /api/v1/timestamp` (a DER TimeStampReq in, a DER TimeStampResp
out). The token is a CMS SignedData over a TSTInfo, signed by a leaf certificate
with the critical timeStamping EKU under a root listed in the trusted root's
`timestampAuthorities`. sigstore-python asks for a nonce but no certificates;
both are honoured.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hatch_attest_testing import _der, _x509
from hatch_attest_testing._faults import Fault
from hatch_attest_testing._http import Reply, Request

_LIFETIME = datetime.timedelta(days=3650)
_SIGNED_DATA = "1.2.840.113549.1.7.2"
_TST_INFO = "1.2.840.113549.1.9.16.1.4"
_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
_SHA256 = "2.16.840.1.101.3.4.2.1"
_ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"
# Sigstore's timestamping policy.
_POLICY = "1.3.6.1.4.1.57264.2"
_INTEGER, _BOOLEAN, _OID = 0x02, 0x01, 0x06
_GRANTED = 0


class _BadRequest(ValueError):
    """A body that is not a TimeStampReq."""


def _algorithm(dotted: str) -> bytes:
    return _der.sequence(_der.oid(dotted))


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePublicKey,
    signer: ec.EllipticCurvePrivateKey,
    not_before: datetime.datetime,
    *,
    ca: bool,
) -> x509.Certificate:
    builder = (
        _x509.builder(subject, issuer, key, not_before, not_before + _LIFETIME)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_x509.key_usage(ca=ca), critical=True)
    )
    if not ca:
        # RFC 3161, section 2.3: the only purpose, and critical.
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    return builder.sign(signer, hashes.SHA256())


class TimestampAuthority:
    """Signs timestamps with a leaf certificate under its own root."""

    def __init__(self, not_before: datetime.datetime) -> None:
        root_key = ec.generate_private_key(ec.SECP256R1())
        self._key = ec.generate_private_key(ec.SECP256R1())
        root_name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigstore.local"),
                x509.NameAttribute(NameOID.COMMON_NAME, "sigstore-tsa-root"),
            ]
        )
        leaf_name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigstore.local"),
                x509.NameAttribute(NameOID.COMMON_NAME, "sigstore-tsa"),
            ]
        )
        root = _certificate(
            root_name, root_name, root_key.public_key(), root_key, not_before, ca=True
        )
        self._leaf = _certificate(
            leaf_name, root_name, self._key.public_key(), root_key, not_before, ca=False
        )
        self.chain = [self._leaf, root]
        """Leaf then root: the order of a trusted root's `certChain`."""

    def timestamp(self, request: Request, fault: Fault | None) -> Reply:
        """`POST /api/v1/timestamp`."""
        try:
            imprint, nonce, want_certificates = _parse_request(request.body)
        except (_BadRequest, IndexError, ValueError):
            return Reply(400, b"error parsing timestamp request\n", "text/plain")
        token = self._token(imprint, nonce, want_certificates)
        response = _der.sequence(_der.sequence(_der.integer(_GRANTED)), token)
        return Reply(200, response, "application/timestamp-reply")

    def _token(self, imprint: bytes, nonce: int | None, want_certificates: bool) -> bytes:
        now = datetime.datetime.now(datetime.timezone.utc)
        tst_info = _der.sequence(
            _der.integer(1),
            _der.oid(_POLICY),
            imprint,
            _der.integer(secrets.randbits(64)),
            _der.generalized_time(now),
            *([] if nonce is None else [_der.integer(nonce)]),
        )
        leaf_der = self._leaf.public_bytes(serialization.Encoding.DER)
        signed_attributes = _der.set_of(
            _der.sequence(_der.oid(_CONTENT_TYPE), _der.set_of(_der.oid(_TST_INFO))),
            _der.sequence(
                _der.oid(_MESSAGE_DIGEST),
                _der.set_of(_der.octet_string(hashlib.sha256(tst_info).digest())),
            ),
            # ESS signing-certificate-v2 (RFC 5816) binds the signature to the
            # leaf; its hash algorithm defaults to SHA-256 and is omitted.
            _der.sequence(
                _der.oid(_SIGNING_CERTIFICATE_V2),
                _der.set_of(
                    _der.sequence(
                        _der.sequence(
                            _der.sequence(_der.octet_string(hashlib.sha256(leaf_der).digest()))
                        )
                    )
                ),
            ),
        )
        # CMS signs the DER of the attributes as a SET, then stores them [0] IMPLICIT.
        signature = self._key.sign(signed_attributes, ec.ECDSA(hashes.SHA256()))
        issuer = self._leaf.issuer.public_bytes()
        signer_info = _der.sequence(
            _der.integer(1),
            _der.sequence(issuer, _der.integer(self._leaf.serial_number)),
            _algorithm(_SHA256),
            _der.implicit(0, signed_attributes),
            _algorithm(_ECDSA_WITH_SHA256),
            _der.octet_string(signature),
        )
        certificates = [_der.implicit(0, _der.set_of(leaf_der))] if want_certificates else []
        signed_data = _der.sequence(
            _der.integer(3),
            _der.set_of(_algorithm(_SHA256)),
            _der.sequence(_der.oid(_TST_INFO), _der.explicit(0, _der.octet_string(tst_info))),
            *certificates,
            _der.set_of(signer_info),
        )
        return _der.sequence(_der.oid(_SIGNED_DATA), _der.explicit(0, signed_data))


def _parse_request(body: bytes) -> tuple[bytes, int | None, bool]:
    """The message imprint (encoded, echoed as is), nonce and certReq of a TimeStampReq."""
    if not body or body[0] != 0x30:
        msg = "not a DER SEQUENCE"
        raise _BadRequest(msg)
    version, imprint, *optional = _der.children(body)
    if _der.content(version) != b"\x01" or imprint[0] != 0x30:
        msg = "not a version 1 TimeStampReq"
        raise _BadRequest(msg)
    nonce = None
    want_certificates = False
    for item in optional:
        if item[0] == _INTEGER:
            nonce = int.from_bytes(_der.content(item), "big", signed=True)
        elif item[0] == _BOOLEAN:
            want_certificates = _der.content(item) != b"\x00"
        elif item[0] != _OID:
            msg = "TimeStampReq extensions are not supported"
            raise _BadRequest(msg)
    return imprint, nonce, want_certificates
