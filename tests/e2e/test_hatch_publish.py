"""``hatch publish -p attest`` with the real hatch CLI, against the local index.

hatch finds the plugin the way a user's hatch does once hatch-attest is installed
beside it (``uv tool install hatch --with hatch-attest``, ``pipx inject hatch
hatch-attest``): through the ``hatch`` entry point of a package in hatch's own
environment. Here that environment is the test venv, where this checkout is
installed (editable), and ``hatch`` is the venv's.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest
from pypi_attestations import GitHubPublisher, GitLabPublisher

from hatch_attest.testing import GitHubIdentity, GitLabIdentity, LocalIndex, LocalSigstore

from .frontends import BIN, BUILD_TIMEOUT, EnvFactory, Upload
from .test_upload import PROJECT, assert_accepted_with_attestations, built, env_for

__all__ = ["env_for"]  # the fixture, shared with test_upload

pytestmark = pytest.mark.slow


def hatch_publish(project: Path, env: Mapping[str, str], *args: str) -> Upload:
    """Run ``hatch publish -p attest --no-prompt`` in ``project``, as a CI step would."""
    run_env = {name: value for name, value in env.items() if name != "UV_OFFLINE"}
    run_env.update(
        {
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            "NO_COLOR": "1",
            "COLUMNS": "300",
        }
    )
    proc = subprocess.run(
        [str(BIN / "hatch"), "publish", "-p", "attest", "--no-prompt", *args],
        cwd=project,
        env=run_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    # Printed so that pytest captures it: the credential leak scan reads it.
    print(proc.stdout)
    return Upload(proc.returncode, proc.stdout)


def test_github_job_publishes_attested_files(
    tmp_path: Path,
    sigstore_instance: LocalSigstore,
    local_index: LocalIndex,
    github_identity: GitHubIdentity,
    env_for: EnvFactory,
) -> None:
    publisher = GitHubPublisher(
        repository=github_identity.repository, workflow=github_identity.workflow
    )
    local_index.add_publisher(PROJECT, publisher)
    project = built(tmp_path, env_for(sigstore_instance.github_env(github_identity)))

    result = hatch_publish(project, env_for(sigstore_instance.github_env(github_identity)))

    assert result.returncode == 0, result.output
    assert result.says(
        "Uploading 2 distribution(s) and 2 checked attestation(s) with Trusted Publishing as "
        f"GitHub repository {github_identity.repository}, workflow {github_identity.workflow}"
    )
    assert_accepted_with_attestations(local_index, project, publisher)
    assert local_index.counts()["mint-token"] == 1
    assert local_index.counts()["upload"] == 2
