"""The generic pieces of an OIDC identity: what a probe found, and the token itself.

Where a token comes from is each kind's business (:mod:`hatch_attest._kinds`): the
registry's ``probe`` looks at the environment only (no import of sigstore or ``id``,
no network) and says whether this job *can* have an identity, and its
``obtain_token`` asks the source it found. The token is wrapped in :class:`Token`,
whose ``repr`` and ``str`` never show it; it only leaves as a sigstore
``IdentityToken``.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from hatch_attest._redact import redact
from hatch_attest.errors import IdentityError

if TYPE_CHECKING:
    from sigstore.oidc import IdentityToken

AUDIENCE = "sigstore"
EXPLICIT_TOKEN_VARIABLE = "SIGSTORE_IDENTITY_TOKEN"  # noqa: S105 - a variable name
# sigstore's own leeway for clock skew between the runner and the issuer.
_LEEWAY = 5


@dataclass(frozen=True)
class Probe:
    """What the environment says about an identity, without asking for one.

    ``source`` is set when a token can be requested: the CI provider that issues
    it (``"GitHub Actions"``, ``"GitLab CI"``, ``"Google Cloud"``, ``"Buildkite"``,
    ``"CircleCI"``), or :data:`EXPLICIT_TOKEN_VARIABLE` when the token is given
    explicitly. Otherwise ``reason`` says why not and ``fix`` (if any) what would
    make it possible.
    """

    source: str | None
    reason: str = ""
    fix: str = ""

    @property
    def available(self) -> bool:
        return self.source is not None

    def explain(self) -> str:
        """One line: why there is no identity, and what to do about it."""
        return f"{self.reason}; to attest, {self.fix}" if self.fix else self.reason


@dataclass(frozen=True)
class Token:
    """An identity token that never prints itself."""

    raw: str = field(repr=False)
    source: str
    """Where it came from: a :attr:`Probe.source`."""

    def __str__(self) -> str:
        return f"<identity token from {self.source}>"

    @cached_property
    def claims(self) -> dict[str, Any]:
        """The token's claims, *unverified* (Fulcio verifies; we only read)."""
        return unverified_claims(self.raw)

    def check(self) -> None:
        """Check audience and validity period from the claims alone (no import, no network).

        sigstore reports every problem as "malformed or missing claims"; the common
        ones are told apart here, so the message can say what to do, and before the
        trust root is loaded.
        """
        claims = self.claims
        now = time.time()
        audience = claims.get("aud")
        if audience != AUDIENCE and not (isinstance(audience, list) and AUDIENCE in audience):
            msg = (
                f"the identity token from {self.source} is for audience {audience!r}; "
                f"Sigstore needs a token for {AUDIENCE!r}"
            )
            raise IdentityError(msg)
        if isinstance(claims.get("exp"), (int, float)) and claims["exp"] < now - _LEEWAY:
            msg = (
                f"the identity token from {self.source} has expired. Tokens live for "
                "minutes: obtain it in the step that builds, and check the runner's clock."
            )
            raise IdentityError(msg)
        if isinstance(claims.get("nbf"), (int, float)) and claims["nbf"] > now + _LEEWAY:
            msg = (
                f"the identity token from {self.source} is not valid yet; check the runner's clock"
            )
            raise IdentityError(msg)

    def to_sigstore(self) -> IdentityToken:
        """The sigstore ``IdentityToken``, after :meth:`check`."""
        from sigstore.oidc import IdentityError as SigstoreIdentityError
        from sigstore.oidc import IdentityToken

        self.check()
        try:
            return IdentityToken(self.raw)
        except SigstoreIdentityError as e:
            reason = redact(str(e), [self.raw])
            msg = f"the identity token from {self.source} is not usable: {reason}"
            raise IdentityError(msg) from None


def unverified_claims(raw: str) -> dict[str, Any]:
    """Decode a JWT's payload without verifying it. Errors never include the token."""
    try:
        payload = raw.split(".")[1]
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        msg = "the identity token is not a JWT"
        raise IdentityError(msg) from None
    if not isinstance(decoded, dict):
        msg = "the identity token's payload is not a JSON object"
        raise IdentityError(msg)
    return decoded
