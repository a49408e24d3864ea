"""hatch-attest: PEP 740 attestations for every hatchling build.

The build hook lives in :mod:`hatch_attest.build_hook`; the command line in
:mod:`hatch_attest.cli`. Importing this package is cheap: nothing here imports
sigstore, so an idle build (no CI identity) pays nothing for it.
"""

from hatch_attest.errors import (
    AttestError,
    ConfigError,
    DistributionError,
    IdentityError,
    NoIdentityError,
    SigningError,
    TrustConfigError,
    VerificationError,
)

__version__ = "0.1.0"

__all__ = [
    "AttestError",
    "ConfigError",
    "DistributionError",
    "IdentityError",
    "NoIdentityError",
    "SigningError",
    "TrustConfigError",
    "VerificationError",
    "__version__",
]
