"""The README's recipe for using hatch-attest before it is on PyPI, run as written.

docs/recipes/hatch-attest-from-checkout.yml (included verbatim in the README) clones
hatch-attest at a commit, builds its wheel outside the project, and points the
isolated build at it. Its `run:` commands are read from the YAML and run in an
emulated GitHub job; `https://github.com/hatch-attest/hatch-attest` is redirected to
this repository with git's own `url.<base>.insteadOf` (no network), and the
placeholder commit is this repository's HEAD. The wheels the build may install
otherwise do not contain hatch-attest, so the hook can only come from the recipe.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from packaging.utils import canonicalize_name, parse_wheel_filename
from pypi_attestations import GitHubPublisher

from hatch_attest_testing import (
    GitHubIdentity,
    LocalIndex,
    LocalSigstore,
    run_bounded,
    verify_as_pypi,
)

from .frontends import REPO, base_env, make_project
from .test_self_release import run_steps

pytestmark = pytest.mark.slow


def simple_index(wheels: Path, root: Path) -> str:
    """A PEP 503 index of ``wheels`` at ``root``: the registry of this test, as a file:// URL.

    The recipe's own `--find-links` replaces uv's UV_FIND_LINKS (the way other e2e tests
    offer wheels), so the build requirements come from a default index instead.
    """
    for wheel in wheels.glob("*.whl"):
        folder = root / canonicalize_name(parse_wheel_filename(wheel.name)[0])
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "index.html").open("a") as page:
            page.write(f'<a href="{wheel.as_uri()}">{wheel.name}</a>\n')
    return root.as_uri()


RECIPE = REPO / "docs" / "recipes" / "hatch-attest-from-checkout.yml"
UPSTREAM = "https://github.com/hatch-attest/hatch-attest"


def test_recipe_builds_with_hatch_attest_from_a_commit_and_publishes(
    tmp_path: Path,
    tool_home: Path,
    requirement_wheels: Path,
    local_sigstore: LocalSigstore,
    local_index: LocalIndex,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    assert not list(requirement_wheels.glob("hatch_attest-*"))
    jobs = yaml.safe_load(RECIPE.read_text())["jobs"]
    project = make_project(tmp_path)
    workflow = project / ".github" / "workflows" / sigstore_github_identity.workflow
    workflow.parent.mkdir(parents=True)
    shutil.copy(RECIPE, workflow)
    head = run_bounded(["git", "rev-parse", "HEAD"], cwd=REPO, timeout=60, check=True).stdout
    head = head.strip()
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()

    index = simple_index(requirement_wheels, tmp_path / "simple")

    def job_env() -> dict[str, str]:
        env = base_env(
            requirement_wheels,
            tool_home,
            {
                **local_sigstore.github_env(sigstore_github_identity),
                "GITHUB_WORKSPACE": str(project),
                "RUNNER_TEMP": str(runner_temp),
                "HATCH_ATTEST_TRUST_CONFIG": str(local_sigstore.trust_config_path),
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": f"url.{REPO}.insteadOf",
                "GIT_CONFIG_VALUE_0": UPSTREAM,
                "UV_DEFAULT_INDEX": index,
            },
        )
        for name in ("UV_OFFLINE", "UV_FIND_LINKS"):
            del env[name]
        return env

    outputs = run_steps(jobs["build"], project, job_env(), {"HATCH_ATTEST_COMMIT": head})

    assert [p.name for p in (runner_temp / "wheels").glob("*.whl")] == [
        "hatch_attest-0.1.0-py3-none-any.whl"
    ]
    # hatch-attest's own hook, in the user's job: never signs there.
    assert "Not attesting: attestations are off (mode = never)" in outputs[0]
    publisher = GitHubPublisher(
        repository=sigstore_github_identity.repository, workflow=sigstore_github_identity.workflow
    )
    dist = project / "dist"
    artifacts = sorted(p for p in dist.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    assert len(artifacts) == 2
    for artifact in artifacts:
        assert verify_as_pypi(artifact, publisher, local_sigstore.trust_config_path)

    local_index.add_publisher("simple-pkg", publisher)
    runner = tmp_path / "publish-job"
    shutil.copytree(dist, runner / "dist")
    publish_env = job_env() | local_index.client_env()
    run_steps(jobs["publish"], runner, publish_env)
    stored = local_index.files("simple-pkg")
    assert sorted(f.filename for f in stored) == [a.name for a in artifacts]
    assert all(len(f.attestations) == 1 for f in stored)
