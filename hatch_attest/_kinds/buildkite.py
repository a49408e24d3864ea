"""Buildkite: a CI job with an ambient identity, but no PyPI publisher kind (yet).

Its token comes from ``buildkite-agent oidc request-token --audience sigstore`` (the
argv ``id`` uses). PyPI has no Buildkite Trusted Publisher, so without a
``publisher`` its identity signs only on a private Sigstore instance.
"""

from __future__ import annotations

from typing import ClassVar

from hatch_attest._identity import AUDIENCE
from hatch_attest._kinds._agent import AgentAmbient

__all__ = ["Buildkite"]


class Buildkite(AgentAmbient):
    """A Buildkite job, whose agent issues its token."""

    source: ClassVar[str] = "Buildkite"
    variable: ClassVar[str] = "BUILDKITE"
    argv: ClassVar[tuple[str, ...]] = (
        *("buildkite-agent", "oidc", "request-token", "--audience", AUDIENCE),
    )
    missing: ClassVar[str] = "`buildkite-agent`"
    missing_fix: ClassVar[str] = "run the build where the Buildkite agent is available"
