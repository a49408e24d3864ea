"""CircleCI: a CI job with an ambient identity, but no PyPI publisher kind (yet).

Its token comes from ``circleci run oidc get --claims '{"aud": "sigstore"}'
--root-issuer`` (the argv ``id`` uses). PyPI has no CircleCI Trusted Publisher yet,
so without a ``publisher`` its identity signs only on a private Sigstore instance.
"""

from __future__ import annotations

import json
from typing import ClassVar

from hatch_attest._identity import AUDIENCE
from hatch_attest._kinds._agent import AgentAmbient

__all__ = ["CircleCI"]


class CircleCI(AgentAmbient):
    """A CircleCI job, whose ``circleci`` CLI issues its token."""

    source: ClassVar[str] = "CircleCI"
    variable: ClassVar[str] = "CIRCLECI"
    argv: ClassVar[tuple[str, ...]] = (
        *("circleci", "run", "oidc", "get", "--claims", json.dumps({"aud": AUDIENCE})),
        "--root-issuer",
    )
    missing: ClassVar[str] = "`circleci` tool"
    missing_fix: ClassVar[str] = "use a CircleCI image that ships the `circleci` CLI"
