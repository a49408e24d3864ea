"""Session fixtures for the end-to-end tests (see :mod:`tests.e2e.frontends`).

Isolated builds need hatchling and, when they sign, the signing stack. Those
wheels are downloaded once into pytest's cache (the suite's only contact with
the package index, skipped on later runs) and every frontend then runs with the
index switched off, so the builds under test talk to nothing but 127.0.0.1.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from hatch_attest._attest import SIGNING_REQUIREMENTS
from hatch_attest_testing import GitHubIdentity, LocalSigstore, run_bounded

from .frontends import BUILD_TIMEOUT, REPO, EnvFactory, JobEnv, env_factory

BUILD_REQUIREMENTS = (
    "hatchling",
    "build",
    *SIGNING_REQUIREMENTS,
    # The backends the wrapper (hatch_attest.backend) is tested with.
    "setuptools>=77",
    "wheel",
    "flit-core",
    "pdm-backend",
    "poetry-core",
)


@pytest.fixture(scope="session")
def requirement_wheels(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Wheels of everything an isolated build may install, fetched once and kept."""
    store = getattr(request.config, "cache", None)  # None with `-p no:cacheprovider`
    cache = (
        Path(store.mkdir("build-requirement-wheels"))
        if store is not None
        else tmp_path_factory.mktemp("build-requirement-wheels")
    )
    key = f"{sys.version_info[:2]} {' '.join(BUILD_REQUIREMENTS)}"
    done = cache / "complete"
    if not done.is_file() or done.read_text() != key:
        # The index may be slow: a download gets more time than a local build.
        run_bounded(
            [sys.executable, "-m", "pip", "download", "-q", "-d", cache, *BUILD_REQUIREMENTS],
            check=True,
            timeout=3 * BUILD_TIMEOUT,
        )
        done.write_text(key)
    return cache


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory, requirement_wheels: Path) -> Path:
    """A wheel of this checkout beside the build requirements: all a frontend may install."""
    out = tmp_path_factory.mktemp("wheelhouse")
    for wheel in requirement_wheels.glob("*.whl"):
        shutil.copy2(wheel, out)
    # hatch-attest's own wheel (without the local Sigstore: that is hatch-attest-testing,
    # which no build installs).
    run_bounded(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", out, REPO],
        check=True,
        timeout=BUILD_TIMEOUT,
    )
    return out


@pytest.fixture(scope="session")
def tool_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Private data/cache folders for hatch and uv (shared by the session, for speed)."""
    return tmp_path_factory.mktemp("tool-home")


@pytest.fixture
def env_for(wheelhouse: Path, tool_home: Path, local_sigstore: LocalSigstore) -> EnvFactory:
    """Build the environment of a job: CI variables plus the local trust config."""
    return env_factory(wheelhouse, tool_home, local_sigstore.trust_config_path)


@pytest.fixture
def github_job_env(
    env_for: EnvFactory, local_sigstore: LocalSigstore, sigstore_github_identity: GitHubIdentity
) -> JobEnv:
    """A step of `sigstore_github_identity`'s GitHub Actions job: its environment.

    Each call is a new step (a fresh request token), as a build step and the publish
    step of one job are.
    """
    return lambda: env_for(local_sigstore.github_env(sigstore_github_identity))
