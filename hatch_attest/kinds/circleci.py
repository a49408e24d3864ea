"""CircleCI: a CI job with an ambient identity, but no PyPI publisher kind (yet).

Its token comes from ``circleci run oidc get --claims '{"aud": "sigstore"}'
--root-issuer`` (the argv ``id`` uses). PyPI has no CircleCI Trusted Publisher yet,
so without a ``publisher`` its identity signs only on a private Sigstore instance.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import ClassVar

from hatch_attest.identity import AUDIENCE, Probe
from hatch_attest.kinds._agent import agent_token, probe_tool
from hatch_attest.kinds.base import Ambient

__all__ = ["CircleCI"]


class CircleCI(Ambient):
    """A CircleCI job, whose ``circleci`` CLI issues its token."""

    source: ClassVar[str] = "CircleCI"

    @classmethod
    def runs_here(cls, env: Mapping[str, str]) -> bool:
        return env.get("CIRCLECI") == "true"

    @classmethod
    def probe(cls, env: Mapping[str, str]) -> Probe:
        return probe_tool(
            cls.source,
            "circleci",
            env,
            "this CircleCI job has no `circleci` tool on PATH",
            "use a CircleCI image that ships the `circleci` CLI",
        )

    @classmethod
    def fetch_token(cls, env: Mapping[str, str]) -> str:
        claims = json.dumps({"aud": AUDIENCE})
        argv = ["circleci", "run", "oidc", "get", "--claims", claims, "--root-issuer"]
        return agent_token(cls.source, argv, env)
