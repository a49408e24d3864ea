"""hatch-attest: PEP 740 attestations for every Python build.

The public surface, for use from Python (the build hook, the wrapper backend
``hatch_attest.backend`` and the ``hatch-attest`` command are the other doors)::

    from hatch_attest import StderrReporter, attest, read_pyproject

    project = read_pyproject(Path("."))
    written = attest(dists, project.config(os.environ), os.environ, StderrReporter(),
                     project_urls=project.project_urls)

- :func:`attest` signs built distributions and writes their attestations, all or
  nothing; :func:`verify_paths`, :func:`inspect_paths` and :func:`convert_paths`
  are the ``verify``, ``inspect`` and ``convert`` commands; :func:`verify_release`
  verifies a release as an index serves it.
- :func:`read_pyproject` reads ``[tool.hatch.build.hooks.attest]`` (or
  ``[tool.hatch-attest]``) and ``[project.urls]``; :func:`load_config` validates a
  table into an :class:`AttestConfig`, with the environment and flags on top.
- Every error a user can see is an :class:`AttestError`; the subclasses say what
  failed.

Everything else lives in underscored modules and may change without notice.
Importing this package is cheap: the names above are imported on first use, so an
idle build (no CI identity) never imports sigstore.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hatch_attest.errors import (
    AttestError,
    BundleError,
    ConfigError,
    DistributionError,
    IdentityError,
    IndexServiceError,
    LockFileError,
    NoIdentityError,
    PredicateError,
    PublishError,
    RefusalError,
    SigningError,
    TrustConfigError,
    VerificationError,
)

if TYPE_CHECKING:
    from hatch_attest._attest import Reporter, StderrReporter, Written, attest
    from hatch_attest._config import AttestConfig, Pyproject, load_config, read_pyproject
    from hatch_attest._convert import convert_paths
    from hatch_attest._index_verify import verify_release
    from hatch_attest._inspection import inspect_paths
    from hatch_attest._verify import VerifyReport, verify_paths

__version__ = "0.1.0"

# Where each lazily imported name lives.
_LAZY = {
    "attest": "_attest",
    "Reporter": "_attest",
    "StderrReporter": "_attest",
    "Written": "_attest",
    "AttestConfig": "_config",
    "Pyproject": "_config",
    "load_config": "_config",
    "read_pyproject": "_config",
    "convert_paths": "_convert",
    "inspect_paths": "_inspection",
    "verify_paths": "_verify",
    "VerifyReport": "_verify",
    "verify_release": "_index_verify",
}

__all__ = [
    "AttestConfig",
    "AttestError",
    "BundleError",
    "ConfigError",
    "DistributionError",
    "IdentityError",
    "IndexServiceError",
    "LockFileError",
    "NoIdentityError",
    "PredicateError",
    "PublishError",
    "Pyproject",
    "RefusalError",
    "Reporter",
    "SigningError",
    "StderrReporter",
    "TrustConfigError",
    "VerificationError",
    "VerifyReport",
    "Written",
    "__version__",
    "attest",
    "convert_paths",
    "inspect_paths",
    "load_config",
    "read_pyproject",
    "verify_paths",
    "verify_release",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'hatch_attest' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f"hatch_attest.{module}"), name)
    globals()[name] = value
    return value
