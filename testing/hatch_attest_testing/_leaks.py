"""Finding credentials, or pieces of them, in text and files.

A leak is rarely a whole token: a server's error text is cut at a few hundred
characters, a header is quoted from its middle, a claims segment is shown on
its own. So a credential is searched for as pieces: every 16 consecutive
characters of its secret parts, wherever a text holds 16 consecutive base64url
characters.

Which parts are secret:

- an ID token's signature segment, and every piece of its claims segment that
  covers part of the `jti` claim (a random id, unique to the token). A piece of a
  token always holds one of these or belongs to a part that is public anyway:
- the rest of the claims segment encodes claims that Fulcio writes into the
  certificate (issuer, repository, workflow, ...), and base64 of the same text
  at the same alignment is the same characters, so such pieces legitimately
  appear in every attestation and are not searched;
- the header segment is the same for every token of an issuer
  (``{"alg": "ES256", "typ": "JWT", "kid": "github-1"}``) and says nothing; not
  searched either. (hatch-attest's redaction removes all segments all the same.)
- a GitHub request token is opaque here: all of it, its first 16 characters
  included.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable

PIECE = 16

_RUN = re.compile(rf"[A-Za-z0-9_-]{{{PIECE},}}")
_SEGMENTS_OF_A_JWT = 3


def pieces(credential: str) -> set[str]:
    """Every 16-character piece of ``credential``'s secret parts (see the module docstring)."""
    value = credential.strip()
    segments = value.split(".")
    if len(segments) != _SEGMENTS_OF_A_JWT:
        return _windows(value, 0, len(value))
    _, claims, signature = segments
    return _windows(signature, 0, len(signature)) | _jti_windows(claims)


def _windows(text: str, first: int, last: int) -> set[str]:
    """The 16-character windows of ``text`` that overlap ``text[first:last]``."""
    begin = max(0, first - PIECE + 1)
    end = min(len(text) - PIECE, last - 1)
    return {text[i : i + PIECE] for i in range(begin, end + 1)}


def _jti_windows(claims: str) -> set[str]:
    try:
        document = base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4))
        jti = json.loads(document)["jti"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        return _windows(claims, 0, len(claims))  # not the shape we mint: all of it
    start = document.find(json.dumps(jti).encode())
    if start < 0:
        return _windows(claims, 0, len(claims))
    stop = start + len(json.dumps(jti))
    # Byte b is encoded by characters 4b/3 .. 4(b+1)/3.
    return _windows(claims, start * 4 // 3, -(-stop * 4 // 3))


class CredentialScan:
    """Answers "does this text hold a piece of any of these credentials?"."""

    def __init__(self, credentials: Iterable[str]) -> None:
        self._pieces: set[str] = set()
        for credential in credentials:
            self._pieces |= pieces(credential)

    def __bool__(self) -> bool:
        return bool(self._pieces)

    def __len__(self) -> int:
        return len(self._pieces)

    def found_in(self, text: str | bytes) -> bool:
        """True when ``text`` holds 16 consecutive characters of a secret segment."""
        if isinstance(text, bytes):
            text = text.decode("latin-1")
        for run in _RUN.finditer(text):
            found = run[0]
            if any(found[i : i + PIECE] in self._pieces for i in range(len(found) - PIECE + 1)):
                return True
        return False
