"""The few DER encodings the local services build by hand.

cryptography builds certificates, but three things it does not build are needed
here: Fulcio's claim extensions (UTF8String values), the RFC 6962 SCT list
extension, and the CMS structures of an RFC 3161 timestamp. Each needs only a
handful of universal types, so a tiny encoder is clearer than a new dependency.
"""

from __future__ import annotations

import datetime

_SEQUENCE = 0x30
_SET = 0x31


def tlv(tag: int, content: bytes) -> bytes:
    """Encodes one tag-length-value with a definite (DER) length."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def sequence(*items: bytes) -> bytes:
    """SEQUENCE of already encoded items."""
    return tlv(_SEQUENCE, b"".join(items))


def set_of(*items: bytes) -> bytes:
    """SET OF: DER orders the encoded elements."""
    return tlv(_SET, b"".join(sorted(items)))


def integer(value: int) -> bytes:
    """INTEGER, two's complement, minimal length."""
    length = value.bit_length() // 8 + 1
    return tlv(0x02, value.to_bytes(length, "big", signed=True))


def boolean(value: bool) -> bytes:
    """BOOLEAN (DER: TRUE is 0xFF)."""
    return tlv(0x01, b"\xff" if value else b"\x00")


def null() -> bytes:
    """NULL."""
    return b"\x05\x00"


def octet_string(value: bytes) -> bytes:
    """OCTET STRING."""
    return tlv(0x04, value)


def utf8_string(value: str) -> bytes:
    """UTF8String, the encoding of Fulcio's v2 claim extensions."""
    return tlv(0x0C, value.encode())


def oid(dotted: str) -> bytes:
    """OBJECT IDENTIFIER from its dotted form."""
    first, second, *rest = (int(arc) for arc in dotted.split("."))
    body = bytearray((40 * first + second,))
    for arc in rest:
        # Base 128, most significant group first, high bit set on all but the last.
        groups = [arc & 0x7F]
        remaining = arc >> 7
        while remaining:
            groups.append(0x80 | (remaining & 0x7F))
            remaining >>= 7
        body.extend(reversed(groups))
    return tlv(0x06, bytes(body))


def generalized_time(moment: datetime.datetime) -> bytes:
    """GeneralizedTime in UTC with whole seconds, as RFC 5280 requires."""
    text = moment.astimezone(datetime.timezone.utc).strftime("%Y%m%d%H%M%SZ")
    return tlv(0x18, text.encode())


def explicit(number: int, content: bytes) -> bytes:
    """A context-specific, constructed (EXPLICIT) tag around `content`."""
    return tlv(0xA0 | number, content)


def implicit(number: int, encoded: bytes) -> bytes:
    """Re-tags an encoded constructed value as context-specific [number] IMPLICIT."""
    return bytes((0xA0 | number,)) + encoded[1:]


def children(encoded: bytes) -> list[bytes]:
    """The encoded elements inside one constructed TLV (e.g. a SEQUENCE)."""
    _, start, end = _header(encoded, 0)
    items = []
    offset = start
    while offset < end:
        end_of_item = _header(encoded, offset)[2]
        items.append(encoded[offset:end_of_item])
        offset = end_of_item
    return items


def content(encoded: bytes) -> bytes:
    """The content octets of one TLV (e.g. the bytes of an OCTET STRING)."""
    _, start, end = _header(encoded, 0)
    return encoded[start:end]


def _header(data: bytes, offset: int) -> tuple[int, int, int]:
    """Returns (tag, content start, content end) of the TLV at `offset`."""
    tag = data[offset]
    first = data[offset + 1]
    if first < 0x80:
        return tag, offset + 2, offset + 2 + first
    count = first & 0x7F
    size = int.from_bytes(data[offset + 2 : offset + 2 + count], "big")
    start = offset + 2 + count
    return tag, start, start + size
