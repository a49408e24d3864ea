"""The one error hierarchy of hatch-attest.

Every error a user can see is an :class:`AttestError`. Its message says what
failed, why, and what to do; library errors are wrapped with ``raise ... from``.
No message ever contains an identity token.
"""

from __future__ import annotations

from collections.abc import Sequence


class AttestError(Exception):
    """Base class of every error hatch-attest reports."""


class ConfigError(AttestError):
    """The ``[tool.hatch.build.hooks.attest]`` table (or a CLI flag) is invalid.

    Carries every problem found, each prefixed with its full TOML path.
    """

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


class TrustConfigError(AttestError):
    """The Sigstore trust configuration could not be loaded."""


class IdentityError(AttestError):
    """No usable identity token (missing, no permission, expired, wrong publisher)."""


class SigningError(AttestError):
    """Fulcio, Rekor or the timestamp authority failed, or the network did."""


class VerificationError(AttestError):
    """An attestation does not verify, or would be rejected by PyPI."""


class DistributionError(AttestError):
    """A distribution file is missing, unreadable, or has a name PyPI rejects."""


class PredicateError(AttestError):
    """The chosen predicate cannot be made for this identity, or it contradicts the certificate."""
