"""hatch-attest releases itself: its own release workflow's commands, in an emulated job.

The `run:` commands of `.github/workflows/release.yml` are read from the YAML (not
copied), and run in order: the build job's in a copy of this checkout, as
`hatch-attest/hatch-attest`'s `release.yml` job (the hook comes from the tree, through
hatch_build.py), then the publish job's in a fresh job that has only `dist/`, against
the local index with that Trusted Publisher.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from pypi_attestations import GitHubPublisher

from hatch_attest_testing import (
    GitHubIdentity,
    LocalIndex,
    LocalSigstore,
    run_bounded,
    verify_as_pypi,
)

from .frontends import REPO, EnvFactory, run

pytestmark = pytest.mark.slow

WORKFLOW = REPO / ".github" / "workflows" / "release.yml"
JOB = GitHubIdentity(repository="hatch-attest/hatch-attest", workflow="release.yml")


def run_steps(
    job: Mapping[str, Any],
    cwd: Path,
    env: Mapping[str, str],
    overrides: Mapping[str, str] | None = None,
) -> list[str]:
    """Run each `run:` step of ``job`` with bash, as the runner does; their outputs.

    A step's `env:` applies over ``env``; ``overrides`` replace values a user fills in.
    """
    outputs = []
    for step in job["steps"]:
        if "run" not in step:
            continue  # `uses:` steps: the checkout and artifact moves are done by the test
        step_env = {**env, **{k: str(v) for k, v in step.get("env", {}).items()}}
        step_env.update({k: v for k, v in (overrides or {}).items() if k in step_env})
        # `run` prints the output for the credential leak scan.
        returncode, output = run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd, step_env)
        assert returncode == 0, f"{step['run']!r} failed:\n{output}"
        outputs.append(output)
    return outputs


def checkout(target: Path) -> Path:
    """What actions/checkout gives the job: the repository's files, without .git."""
    listed = run_bounded(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        timeout=60,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_release_workflow_builds_attests_and_publishes_hatch_attest(
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    local_index: LocalIndex,
    env_for: EnvFactory,
) -> None:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    assert jobs["publish"]["needs"] == "build"
    publisher = GitHubPublisher(repository=JOB.repository, workflow=JOB.workflow)
    local_index.add_publisher("hatch-attest", publisher)

    workspace = checkout(tmp_path / "checkout")
    build_env = env_for(local_sigstore.github_env(JOB), GITHUB_WORKSPACE=str(workspace))
    run_steps(jobs["build"], workspace, build_env)

    dist = workspace / "dist"
    artifacts = sorted(p.name for p in dist.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    assert artifacts == ["hatch_attest-0.1.0-py3-none-any.whl", "hatch_attest-0.1.0.tar.gz"]
    for name in artifacts:
        assert verify_as_pypi(dist / name, publisher, local_sigstore.trust_config_path)

    # The publish job: a fresh job of the same workflow, with only the downloaded dist/.
    runner = tmp_path / "publish-job"
    shutil.copytree(dist, runner / "dist")
    publish_env = env_for(local_sigstore.github_env(JOB), **local_index.client_env())
    publish_env.pop("UV_OFFLINE")
    run_steps(jobs["publish"], runner, publish_env)

    stored = {f.filename: f for f in local_index.files("hatch-attest")}
    assert sorted(stored) == artifacts
    for name in artifacts:
        assert stored[name].trusted_publisher == publisher
        on_disk = json.loads((dist / f"{name}.publish.attestation").read_text())
        assert [json.loads(a.model_dump_json()) for a in stored[name].attestations] == [on_disk]
