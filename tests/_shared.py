"""Helpers shared by test modules: one copy of a setup that several tests repeat.

Standard library and pytest only at import time, so that any test module may import it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pypi_attestations import GitHubPublisher, GitLabPublisher

    from hatch_attest_testing import GitHubIdentity, GitLabIdentity, LocalIndex

# `github_job_as` (tests/conftest.py): start a GitHub job of the identity fields given.
GitHubJobAs = Callable[..., "GitHubIdentity"]

# What a local Sigstore instance counted: nothing asked for, or the identity token alone.
NO_REQUESTS = {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}
TOKEN_ONLY = {"oidc": 1, "fulcio": 0, "rekor": 0, "tsa": 0}

# GitHub workflow texts for the tests that read them. A job is written once, by `gha_job`,
# so that the workflows of many tests state only what sets them apart.
RELEASE_ON_TAGS = 'name: Release\non: {push: {tags: ["v*"]}}\n'
UPLOAD_DIST = "uses: actions/upload-artifact@v4\n        with: {name: dist, path: dist/}"
BUILD_STEPS = ("uses: actions/checkout@v4", "run: uv build", UPLOAD_DIST)


def gha_job(name: str, *steps: str, permissions: str = "{id-token: write}", **keys: str) -> str:
    """Job ``name`` of a GitHub workflow (the text under `jobs:`), on ubuntu-latest.

    ``keys`` are the job's other keys (``environment="pypi"``), before its permissions;
    ``permissions=""`` leaves them out. Each step is the text after its ``- ``.
    """
    lines = [f"  {name}:", "    runs-on: ubuntu-latest"]
    lines += [f"    {key}: {value}" for key, value in keys.items()]
    lines += [f"    permissions: {permissions}"] if permissions else []
    lines += ["    steps:", *(f"      - {step}" for step in steps)]
    return "\n".join(lines) + "\n"


def write(root: Path, relative: str, text: str) -> Path:
    """Write ``text`` to ``root / relative`` (its folders made as needed); the path."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def trusted_github(index: LocalIndex, project: str, identity: GitHubIdentity) -> GitHubPublisher:
    """Register ``identity``'s workflow as ``project``'s Trusted Publisher on ``index``."""
    from pypi_attestations import GitHubPublisher

    publisher = GitHubPublisher(repository=identity.repository, workflow=identity.workflow)
    index.add_publisher(project, publisher)
    return publisher


def trusted_gitlab(index: LocalIndex, project: str, identity: GitLabIdentity) -> GitLabPublisher:
    """Register ``identity``'s CI file as ``project``'s Trusted Publisher on ``index``."""
    from pypi_attestations import GitLabPublisher

    publisher = GitLabPublisher(
        repository=identity.project_path, workflow_filepath=identity.ci_config_path
    )
    index.add_publisher(project, publisher)
    return publisher


def upload_env(env: Mapping[str, str], **extra: str) -> dict[str, str]:
    """An upload step's environment: ``env`` and ``extra``, with the index reachable.

    No UV_OFFLINE (the upload talks to the index), no keyring lookups (twine and hatch
    try one before Trusted Publishing), no colours, and wide lines so messages stay whole.
    """
    quiet = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "NO_COLOR": "1"}
    kept = {name: value for name, value in env.items() if name != "UV_OFFLINE"}
    return kept | {"COLUMNS": "300"} | quiet | extra


def masked(output: str) -> str:
    """``output`` with the value of every GitHub ``::add-mask::`` command hidden."""
    return re.sub(r"(::add-mask::)\S+", r"\1***", output)


def logged_run(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    scrub: Callable[[str], str] = masked,
) -> tuple[int, str]:
    """Run ``argv``; its exit status and its combined output, scrubbed, then printed.

    Printed so that pytest captures it: the credential leak scan reads it.
    """
    from hatch_attest_testing import run_bounded  # not at import time (see the module's doc)

    # On timeout the whole process group is killed (a frontend's backend with it).
    proc = run_bounded(argv, cwd=cwd, env=env, timeout=timeout, merge_stderr=True)
    output = scrub(proc.stdout)
    print(output)
    return proc.returncode, output


def session_cache(
    request: pytest.FixtureRequest, factory: pytest.TempPathFactory, name: str
) -> Path:
    """A folder kept across sessions in pytest's cache (a fresh one when there is none)."""
    store = getattr(request.config, "cache", None)
    return Path(store.mkdir(name)) if store is not None else factory.mktemp(name)
