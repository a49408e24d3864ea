"""Buildkite: a CI job with an ambient identity, but no PyPI publisher kind (yet).

Its token comes from ``buildkite-agent oidc request-token --audience sigstore`` (the
argv ``id`` uses). PyPI has no Buildkite Trusted Publisher, so without a
``publisher`` its identity signs only on a private Sigstore instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from hatch_attest.identity import AUDIENCE, Probe
from hatch_attest.kinds._agent import agent_token, probe_tool
from hatch_attest.kinds.base import Ambient

__all__ = ["Buildkite"]


class Buildkite(Ambient):
    """A Buildkite job, whose agent issues its token."""

    source: ClassVar[str] = "Buildkite"

    @classmethod
    def runs_here(cls, env: Mapping[str, str]) -> bool:
        return env.get("BUILDKITE") == "true"

    @classmethod
    def probe(cls, env: Mapping[str, str]) -> Probe:
        return probe_tool(
            cls.source,
            "buildkite-agent",
            env,
            "this Buildkite job has no `buildkite-agent` on PATH",
            "run the build where the Buildkite agent is available",
        )

    @classmethod
    def fetch_token(cls, env: Mapping[str, str]) -> str:
        argv = ["buildkite-agent", "oidc", "request-token", "--audience", AUDIENCE]
        return agent_token(cls.source, argv, env)
