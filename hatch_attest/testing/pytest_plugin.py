"""Pytest fixtures for the local Sigstore instance.

Enable with `pytest_plugins = ["hatch_attest.testing.pytest_plugin"]` in a
conftest. One instance serves the whole session (starting one is cheap, but a
shared log also exercises inclusion proofs in a growing tree); each test gets it
back with faults, counts and latency cleared.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest

from hatch_attest.testing import GitHubIdentity, GitLabIdentity, LocalSigstore


@pytest.fixture(scope="session")
def local_sigstore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSigstore]:
    """The session's instance; prefer `sigstore_instance`, which resets it per test."""
    with LocalSigstore.start(directory=tmp_path_factory.mktemp("local-sigstore")) as instance:
        yield instance


@pytest.fixture
def sigstore_instance(local_sigstore: LocalSigstore) -> Iterator[LocalSigstore]:
    """The session's instance with no faults, zero counts and no latency."""
    local_sigstore.reset()
    local_sigstore.latency = 0.0
    yield local_sigstore
    # A fault left behind must not break the next test that uses `local_sigstore`.
    local_sigstore.reset()
    local_sigstore.latency = 0.0


def _unique_name(request: pytest.FixtureRequest) -> str:
    """A repository name of this test's own: readable, and unique per test id."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", request.node.name).strip("-.")[:60]
    digest = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:8]
    return f"{readable}-{digest}"


@pytest.fixture
def github_identity(request: pytest.FixtureRequest) -> GitHubIdentity:
    """A GitHub Actions job in a repository no other test uses."""
    return GitHubIdentity(repository=f"octo-org/{_unique_name(request)}")


@pytest.fixture
def gitlab_identity(request: pytest.FixtureRequest) -> GitLabIdentity:
    """A GitLab CI job in a project no other test uses."""
    return GitLabIdentity(project_path=f"octo-group/{_unique_name(request)}")
