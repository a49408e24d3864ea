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
    """The hatch-attest table, an environment variable or a CLI flag is invalid.

    Carries every problem found, each prefixed with its full TOML path.
    """

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


class TrustConfigError(AttestError):
    """The Sigstore trust configuration could not be loaded."""


class RefusalError(AttestError):
    """``mode = "always"``, and this run will not attest; ``reason`` says why.

    The same reasons are a one-line skip in ``auto`` mode: no identity, a frontend
    that discards side files, a job that is not the expected publisher, a private
    repository, an identity PyPI cannot accept, a missing signing stack.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"cannot attest (mode = always): {reason}")


class IdentityError(AttestError):
    """No usable identity token (missing, no permission, expired, wrong publisher)."""


class NoIdentityError(IdentityError):
    """The environment looked like it has an identity, but there is none to be had.

    A provider was detected and asked, and said there is no token for this job
    (no metadata server, a VM without a service account, an agent that cannot
    issue one). Not an outage: in ``auto`` mode this is a skip, like a laptop.
    """


class SigningError(AttestError):
    """Fulcio, Rekor or the timestamp authority failed, or the network did."""


class VerificationError(AttestError):
    """An attestation does not verify, or would be rejected by PyPI."""


class DistributionError(AttestError):
    """A distribution file is missing, unreadable, or has a name PyPI rejects."""


class BundleError(AttestError):
    """Sigstore bundles that cannot become PEP 740 attestations PyPI accepts.

    Carries one line per refused bundle (or output), each starting with its path.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class PredicateError(AttestError):
    """The chosen predicate cannot be made for this identity, or it contradicts the certificate."""


class IndexServiceError(AttestError):
    """A package index failed, or answered what its JSON or Integrity API never does."""


class LockFileError(AttestError):
    """A lock file cannot be read or rewritten."""


class PublishError(AttestError):
    """``hatch publish -p attest`` refused to upload, or the upload failed; says why."""
