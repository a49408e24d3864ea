"""An isolated build under a hatchling older than the hook needs names the floor.

hatchling < 1.22 never asks a build hook for its dependencies, so the signing
stack is not installed in the isolated environment; the message must say which
hatchling is required, not blame a --no-isolation build.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from hatch_attest._attest import HATCHLING_FLOOR
from hatch_attest_testing import GitHubIdentity, LocalSigstore, run_bounded

from .._shared import session_cache
from .frontends import BUILD_TIMEOUT, base_env, build, make_project

pytestmark = pytest.mark.slow

OLD_HATCHLING = "1.21.0"


@pytest.fixture(scope="session")
def old_hatchling_wheelhouse(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path
) -> Path:
    """The session's wheelhouse plus hatchling 1.21.0 and its requirements (fetched once)."""
    cache = session_cache(request, tmp_path_factory, "old-hatchling-wheels")
    done = cache / "complete"
    if not done.is_file():
        pinned = f"hatchling=={OLD_HATCHLING}"
        run_bounded(
            [sys.executable, "-m", "pip", "download", "-q", "-d", cache, pinned],
            timeout=BUILD_TIMEOUT,
            check=True,
        )
        done.write_text(OLD_HATCHLING)
    out = tmp_path_factory.mktemp("old-hatchling-wheelhouse")
    for wheel in [*wheelhouse.glob("*.whl"), *cache.glob("*.whl")]:
        shutil.copy2(wheel, out)
    return out


@pytest.fixture
def always_job_env(
    old_hatchling_wheelhouse: Path,
    tool_home: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> dict[str, str]:
    """A GitHub job signing in `mode = always`, its builds offered the old hatchling."""
    variables = {
        "HATCH_ATTEST_TRUST_CONFIG": str(local_sigstore.trust_config_path),
        "HATCH_ATTEST_MODE": "always",
        **local_sigstore.github_env(sigstore_github_identity),
    }
    return base_env(old_hatchling_wheelhouse, tool_home, variables)


def test_old_hatchling_says_which_hatchling_is_required(
    tmp_path: Path, always_job_env: dict[str, str]
) -> None:
    project = make_project(tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'requires = ["hatchling", "hatch-attest"]',
            f'requires = ["hatchling=={OLD_HATCHLING}", "hatch-attest"]',
        )
    )

    result = build("uv", project, always_job_env)

    assert result.returncode != 0, result.output
    assert f"hatchling >= {HATCHLING_FLOOR} is required" in result.output
    assert f"this build runs hatchling {OLD_HATCHLING}" in result.output
    assert "--no-isolation" not in result.output
    assert result.artifacts() == []
