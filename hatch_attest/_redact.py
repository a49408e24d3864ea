"""Take credentials out of any text a server or a library wrote, before it is shown.

Fulcio, Rekor and the OIDC endpoints answer errors with text of their own, and a
server (or a proxy in front of it) may echo the request: headers, body, or both.
``requests`` puts a whole header value in some of its exceptions. Any of that
text can hold an identity token or the GitHub request token, whole or cut short,
so every message that quotes such text passes through :func:`redact` first.

Removed, each replaced by :data:`REDACTED`:

* every credential the run knows, and every run of 16 or more base64url
  characters that shares 16 characters with one (a truncated or partly echoed
  token). Known: what :func:`remember` was given (each token the run obtained),
  and the values of :data:`CREDENTIAL_VARIABLES` in the environment;
* anything JWT-shaped: three dot-separated base64url segments whose first one
  decodes to a JSON object, and any single base64url run that decodes to JSON
  (a token's header or claims on their own, possibly cut short);
* what follows ``bearer`` or ``Authorization:``.

Importing it is cheap (standard library only).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import threading
from collections.abc import Iterable, Mapping

__all__ = ["CREDENTIAL_VARIABLES", "REDACTED", "redact", "remember", "remember_environment"]

REDACTED = "[redacted]"

CREDENTIAL_VARIABLES = (
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "SIGSTORE_ID_TOKEN",
    "SIGSTORE_IDENTITY_TOKEN",
)
"""Environment variables whose values are credentials."""

# Shorter runs are ordinary words, hashes and identifiers; a credential fragment
# that short does not let anyone use or reconstruct the credential.
FRAGMENT = 16

_SHORTEST = 8

# Replaced, never changed in place (copy on write): `redact` reads them without a
# lock and without copying, however many credentials a long process has seen.
_known: tuple[str, ...] = ()  # longest first, so a value inside another goes with it
_windows: frozenset[str] = frozenset()
_lock = threading.Lock()

# A header value, however it is quoted: `Authorization: bearer X`, `'authorization': 'X'`.
_AUTHORIZATION = re.compile(
    r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?|\bbearer\s+)"
    r"[A-Za-z0-9._~+/=-]{8,}"
)
_JWT = re.compile(r"[A-Za-z0-9_-]{4,}={0,2}\.[A-Za-z0-9_-]{4,}={0,2}\.[A-Za-z0-9_-]*={0,2}")
_RUN = re.compile(r"[A-Za-z0-9_-]{8,}={0,2}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def remember(*credentials: str) -> None:
    """Add credentials the run holds (surrounding whitespace ignored) to what is redacted."""
    with _lock:
        for credential in credentials:
            _add(credential)


def remember_environment(env: Mapping[str, str]) -> None:
    """Remember the values of :data:`CREDENTIAL_VARIABLES` in ``env``."""
    remember(*(env[name] for name in CREDENTIAL_VARIABLES if env.get(name)))


def _add(credential: str) -> None:
    """Remember one credential; the caller holds ``_lock``."""
    global _known, _windows  # noqa: PLW0603 - the module's one registry, copy on write
    value = credential.strip()
    # Replacing a value this short everywhere would garble the message; no real
    # credential is that short.
    if len(value) < _SHORTEST or value in _known:
        return
    _known = tuple(sorted((*_known, value), key=len, reverse=True))
    # Every 16-character window of every base64url part: a fragment that long of
    # any of them is recognised wherever it is cut.
    _windows = _windows.union(
        part[i : i + FRAGMENT]
        for part in _BASE64URL.findall(value)
        for i in range(len(part) - FRAGMENT + 1)
    )


def redact(text: str, credentials: Iterable[str] = ()) -> str:
    """``text`` without any credential or fragment of one (see the module docstring)."""
    remember(*credentials, *(os.environ.get(n, "") for n in CREDENTIAL_VARIABLES))
    known, windows = _known, _windows
    for value in known:
        text = text.replace(value, REDACTED)
    text = _AUTHORIZATION.sub(lambda m: f"{m[1]}{REDACTED}", text)
    text = _JWT.sub(lambda m: REDACTED if _decodes_to_json(m[0].split(".")[0]) else m[0], text)
    return _RUN.sub(lambda m: REDACTED if _secret_run(m[0], windows) else m[0], text)


def _secret_run(run: str, windows: frozenset[str]) -> bool:
    if _decodes_to_json(run):
        return True
    core = run.rstrip("=")
    return any(core[i : i + FRAGMENT] in windows for i in range(len(core) - FRAGMENT + 1))


def _decodes_to_json(segment: str) -> bool:
    """True when ``segment`` (or its start, if cut short) is base64url of a JSON object."""
    core = segment.rstrip("=")
    # A cut-short segment still decodes up to its last whole 4-character group.
    core = core[: len(core) // 4 * 4]
    if len(core) < 4:  # one base64 group
        return False
    try:
        decoded = base64.urlsafe_b64decode(core)
    except (binascii.Error, ValueError):
        return False
    start = decoded.lstrip(b" \t\r\n")
    return start.startswith(b"{") and (len(start) == 1 or start[1:].lstrip()[:1] in {b'"', b"}"})
