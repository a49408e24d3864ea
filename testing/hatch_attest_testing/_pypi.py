"""Verify an attestation as PyPI does, independently of `hatch_attest._verify`.

Why independent: `hatch-attest verify` is itself under test. Were a test to judge
what `sign` or the hook wrote with our own verifier, a bug shared by the signer and
the verifier (a wrong subject, the wrong policy) would pass unseen. So this runs
the code PyPI runs: pypi-attestations' `Attestation.verify`, with the publisher
policy of its own `Publisher` classes, on the local instance's trusted root.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from unittest import mock

from pypi_attestations import Attestation, Distribution, GitHubPublisher, Publisher
from sigstore.models import ClientTrustConfig
from sigstore.verify import Verifier

from hatch_attest._predicates import PUBLISH_PREDICATE_TYPE, SLSA_PROVENANCE_PREDICATE_TYPE
from hatch_attest_testing._identity import GitHubIdentity

__all__ = ["PUBLISH_V1", "SLSA_PROVENANCE_V1", "PyPIVerdict", "log_index", "verify_as_pypi"]

PUBLISH_V1 = PUBLISH_PREDICATE_TYPE
"""PyPI's publish attestation predicate type (`https://docs.pypi.org/attestations/publish/v1`)."""

SLSA_PROVENANCE_V1 = SLSA_PROVENANCE_PREDICATE_TYPE
"""SLSA build provenance's predicate type (`https://slsa.dev/provenance/v1`)."""

_KINDS = {"publish": PUBLISH_V1, "slsa": SLSA_PROVENANCE_V1}
"""Each attestation file kind (``<dist>.<kind>.attestation``) and its predicate type."""


@dataclass(frozen=True)
class PyPIVerdict:
    """An attestation PyPI accepts, and what `Attestation.verify` returned for it."""

    attestation: Attestation
    predicate_type: str
    predicate: dict[str, Any] | None

    @property
    def found(self) -> tuple[str, dict[str, Any] | None]:
        """``(predicate_type, predicate)``, as `Attestation.verify` returns them."""
        return self.predicate_type, self.predicate

    @property
    def log_index(self) -> int:
        """The Rekor log index of the attestation's transparency entry."""
        return log_index(self.attestation)


def log_index(attestation: Attestation) -> int:
    """The Rekor log index of ``attestation``'s (first) transparency entry."""
    entry: Any = attestation.verification_material.transparency_entries[0]
    return int(entry["logIndex"])


def verify_as_pypi(
    dist: Path,
    publisher: Publisher | GitHubIdentity,
    trust_config: Path,
    *,
    kind: Literal["publish", "slsa"] = "publish",
    attestation: Path | None = None,
) -> PyPIVerdict:
    """Assert that PyPI would accept ``dist``'s ``kind`` attestation from ``publisher``.

    The attestation is ``<dist>.<kind>.attestation`` (``kind`` is "publish" or
    "slsa"), or the file ``attestation``. A `GitHubIdentity` stands for the
    `GitHubPublisher` of its repository and workflow. `Attestation.verify` always
    builds `Verifier.production()`; pointed at ``trust_config``'s trusted root it
    runs every one of its checks (signature, log, publisher policy, exactly one
    subject, its name and digest). On top, the subject must name ``dist`` exactly,
    and the predicate type must be ``kind``'s. Raises what `Attestation.verify`
    raises, or AssertionError.
    """
    if isinstance(publisher, GitHubIdentity):
        publisher = GitHubPublisher(repository=publisher.repository, workflow=publisher.workflow)
    path = attestation or dist.with_name(f"{dist.name}.{kind}.attestation")
    parsed = Attestation.model_validate_json(path.read_bytes())
    config = ClientTrustConfig.from_json(trust_config.read_text())
    local = Verifier(trusted_root=config.trusted_root)
    with mock.patch.object(Verifier, "production", return_value=local):
        predicate_type, predicate = parsed.verify(publisher, Distribution.from_file(dist))
    # `Attestation.verify` compares parsed file names; the statement names the file itself.
    names = [s["name"] for s in json.loads(parsed.envelope.statement)["subject"]]
    if names != [dist.name]:
        raise AssertionError(f"{path}: the subject is {names}, not [{dist.name!r}]")
    if predicate_type != _KINDS[kind]:
        raise AssertionError(f"{path}: a {predicate_type} predicate, not {_KINDS[kind]}")
    return PyPIVerdict(parsed, predicate_type, predicate)
