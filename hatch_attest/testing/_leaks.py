"""Finding credentials, or pieces of them, in text and files.

A leak is rarely a whole token: a server's error text is cut at a few hundred
characters, a header is quoted from its middle, a claims segment is shown on
its own. So a credential is searched for as pieces: each secret segment is cut
into 16-character pieces (plus its last 16 characters), and a text leaks when
any 16 consecutive base64url characters in it are one of those pieces. Any
contiguous 31 characters of a secret segment contain a whole piece.

Which segments are secret:

- an ID token's claims and signature segments. Its header segment is *not*
  searched: it is the same for every token of an issuer
  (``{"alg": "ES256", "typ": "JWT", "kid": "github-1"}``), says nothing about the
  job and cannot be used for anything; it may appear wherever a token format is
  shown. (hatch-attest's redaction removes it all the same.)
- a GitHub request token, whole (it is not a JWT here), which includes its
  first 16 characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PIECE = 16

_RUN = re.compile(rf"[A-Za-z0-9_-]{{{PIECE},}}")
_SEGMENTS_OF_A_JWT = 3


def pieces(credential: str) -> set[str]:
    """The 16-character pieces of ``credential``'s secret segments."""
    segments = credential.strip().split(".")
    if len(segments) == _SEGMENTS_OF_A_JWT:
        segments = segments[1:]  # the header is shared by every token of an issuer
    found: set[str] = set()
    for segment in segments:
        if len(segment) < PIECE:
            continue
        found.update(segment[i : i + PIECE] for i in range(0, len(segment) - PIECE + 1, PIECE))
        found.add(segment[-PIECE:])
    return found


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
