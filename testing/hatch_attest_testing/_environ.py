"""The environment of a process that is in no CI job: the starting point of every emulated job.

A test suite that itself runs in CI (or on a developer's machine with a token
exported) would otherwise leak that job's identity, trust config or mode into
the job a test emulates.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# Variables through which `id` or hatch-attest detect an identity, describe a CI
# job, or change what hatch-attest does.
_PREFIXES = (
    "GITHUB_",
    "GITLAB_",
    "ACTIONS_",
    "RUNNER_",
    "CI_",
    "BUILDKITE",
    "CIRCLE",
    "SIGSTORE_",
    "HATCH_ATTEST_",
)
_NAMES = frozenset(
    {"CI", "GOOGLE_SERVICE_ACCOUNT_NAME", "PIP_BUILD_TRACKER", "PIP_REQ_TRACKER", "CIBUILDWHEEL"}
)


def is_ci_variable(name: str) -> bool:
    """Whether ``name`` could give a process a CI identity or change hatch-attest's behaviour."""
    return name.startswith(_PREFIXES) or name in _NAMES


def outside_ci(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``environ`` (default: this process's) with every CI variable removed."""
    source = os.environ if environ is None else environ
    return {name: value for name, value in source.items() if not is_ci_variable(name)}
