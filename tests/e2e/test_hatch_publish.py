"""``hatch publish -p attest`` with the real hatch CLI, against the local index.

hatch is installed the way the README tells users to, ``uv tool install hatch --with
'hatch-attest[cli]'``: into its own tool environment, offline, from a wheel of this
checkout and wheels fetched once (the only registry contact, cached by pytest), so
that hatch finds the plugin through the entry point of a package installed beside it.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import pytest
from pypi_attestations import GitHubPublisher, GitLabPublisher

from hatch_attest_testing import (
    GitHubIdentity,
    GitLabIdentity,
    LocalIndex,
    LocalSigstore,
    run_bounded,
)

from .._shared import logged_run, session_cache, trusted_github, trusted_gitlab, upload_env
from .frontends import BIN, BUILD_TIMEOUT, EnvFactory, Upload, build, make_project
from .test_upload import PROJECT, assert_accepted_with_attestations, built, env_for

__all__ = ["env_for"]  # the fixture, shared with test_upload

pytestmark = pytest.mark.slow


HATCH_TOOL_REQUIREMENTS = ("hatch", "hatch-attest[cli]")


@pytest.fixture(scope="session")
def hatch_tool(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    wheelhouse: Path,
) -> Path:
    """``hatch``, from ``uv tool install hatch --with 'hatch-attest[cli] @ <this checkout>'``."""
    cache = session_cache(request, tmp_path_factory, "hatch-tool-wheels")
    [ours] = wheelhouse.glob("hatch_attest-*.whl")
    done = cache / "complete"
    key = f"{sys.version_info[:2]}"
    if not done.is_file() or done.read_text() != key:
        # hatch and the cli extra's requirements (not hatch-attest: it is not on PyPI).
        metadata = run_bounded(
            [sys.executable, "-c", _CLI_REQUIREMENTS, ours], timeout=60, check=True
        ).stdout.split()
        run_bounded(
            [sys.executable, "-m", "pip", "download", "-q", "-d", cache, "hatch", *metadata],
            timeout=BUILD_TIMEOUT,
            check=True,
        )
        done.write_text(key)
    root = tmp_path_factory.mktemp("uv-tools")
    env = {
        **os.environ,
        "UV_TOOL_DIR": str(root / "tools"),
        "UV_TOOL_BIN_DIR": str(root / "bin"),
        "UV_CACHE_DIR": str(root / "cache"),
        "UV_OFFLINE": "1",
        "UV_FIND_LINKS": f"{cache},{wheelhouse}",
    }
    run_bounded(
        [BIN / "uv", "tool", "install", "hatch", "--with", f"hatch-attest[cli] @ {ours.as_uri()}"],
        env=env,
        timeout=BUILD_TIMEOUT,
        check=True,
    )
    return root / "bin" / "hatch"


_CLI_REQUIREMENTS = """
import sys, zipfile
from email.parser import Parser
from packaging.requirements import Requirement
with zipfile.ZipFile(sys.argv[1]) as wheel:
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = Parser().parsestr(wheel.read(name).decode())
for line in metadata.get_all("Requires-Dist") or []:
    requirement = Requirement(line)
    if requirement.marker is None or requirement.marker.evaluate({"extra": "cli"}):
        if requirement.name != "hatch-attest":
            print(str(requirement).split(";")[0].replace(" ", ""))
"""


class HatchJob(NamedTuple):
    """What every test here works with: the local services, the job's env, and hatch."""

    sigstore: LocalSigstore
    local_index: LocalIndex
    env_for: EnvFactory
    hatch: Path


@pytest.fixture
def hatch_job(request: pytest.FixtureRequest) -> HatchJob:
    """The fixtures of `HatchJob`, in one (each test unpacks the ones it reads)."""
    names = ("local_sigstore", "local_index", "env_for", "hatch_tool")
    return HatchJob(*(request.getfixturevalue(name) for name in names))


def hatch_publish(hatch: Path, project: Path, env: Mapping[str, str], *args: str) -> Upload:
    """Run ``hatch publish -p attest --no-prompt`` in ``project``, as a CI step would."""
    argv = [str(hatch), "publish", "-p", "attest", "--no-prompt", *args]
    return Upload(*logged_run(argv, project, upload_env(env), BUILD_TIMEOUT))


def test_github_job_publishes_attested_files(
    tmp_path: Path, hatch_job: HatchJob, sigstore_github_identity: GitHubIdentity
) -> None:
    local_sigstore, local_index, env_for, hatch_tool = hatch_job
    publisher = trusted_github(local_index, PROJECT, sigstore_github_identity)
    project = built(tmp_path, env_for(local_sigstore.github_env(sigstore_github_identity)))

    result = hatch_publish(
        hatch_tool, project, env_for(local_sigstore.github_env(sigstore_github_identity))
    )

    assert result.returncode == 0, result.output
    assert result.says(
        "Uploading 2 distribution(s) and 2 checked attestation(s) with Trusted Publishing as "
        f"GitHub repository {sigstore_github_identity.repository}, workflow "
        f"{sigstore_github_identity.workflow}"
    )
    assert_accepted_with_attestations(local_index, project, publisher)
    assert local_index.counts()["mint-token"] == 1
    assert local_index.counts()["upload"] == 2


def test_gitlab_job_publishes_attested_files(
    tmp_path: Path, hatch_job: HatchJob, sigstore_gitlab_identity: GitLabIdentity
) -> None:
    local_sigstore, local_index, env_for, hatch_tool = hatch_job
    project = built(tmp_path, env_for(local_sigstore.gitlab_env(sigstore_gitlab_identity)))
    publisher = trusted_gitlab(
        local_index, PROJECT, sigstore_gitlab_identity
    )  # the build needs none

    # `id_tokens: PYPI_ID_TOKEN: aud: pypi` in .gitlab-ci.yml, as PyPI documents it.
    pypi_token = local_sigstore.mint_gitlab_token(sigstore_gitlab_identity, audience="pypi")
    env = env_for(local_sigstore.gitlab_env(sigstore_gitlab_identity), PYPI_ID_TOKEN=pypi_token)
    result = hatch_publish(hatch_tool, project, env)

    assert result.returncode == 0, result.output
    assert result.says("with Trusted Publishing as GitLab")
    assert_accepted_with_attestations(local_index, project, publisher)


@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_job_without_attestations_publishes_the_distributions(
    forge: str,
    tmp_path: Path,
    hatch_job: HatchJob,
    sigstore_github_identity: GitHubIdentity,
    sigstore_gitlab_identity: GitLabIdentity,
) -> None:
    """A project that does not attest (or a laptop build): Trusted Publishing all the same."""
    local_sigstore, local_index, env_for, hatch_tool = hatch_job
    if forge == "github":
        publisher: GitHubPublisher | GitLabPublisher = trusted_github(
            local_index, PROJECT, sigstore_github_identity
        )
        job = local_sigstore.github_env(sigstore_github_identity)
        named = "GitHub"
    else:
        publisher = trusted_gitlab(local_index, PROJECT, sigstore_gitlab_identity)
        pypi_token = local_sigstore.mint_gitlab_token(sigstore_gitlab_identity, audience="pypi")
        job = local_sigstore.gitlab_env(sigstore_gitlab_identity) | {"PYPI_ID_TOKEN": pypi_token}
        named = "GitLab"
    project = make_project(tmp_path)
    unattested = build("build-no-isolation", project, env_for(None))  # outside CI: idle
    assert unattested.returncode == 0, unattested.output
    assert len(unattested.artifacts()) == 2
    assert unattested.attestations() == []

    result = hatch_publish(hatch_tool, project, env_for(job))

    assert result.returncode == 0, result.output
    assert result.says(f"Uploading 2 distribution(s) with Trusted Publishing as {named}")
    stored = local_index.files(PROJECT)
    assert [f.attestations for f in stored] == [(), ()]
    assert [f.trusted_publisher for f in stored] == [publisher, publisher]


def test_attestation_from_another_workflow_is_refused_before_the_first_upload(
    tmp_path: Path, hatch_job: HatchJob, sigstore_github_identity: GitHubIdentity
) -> None:
    """The build ran in build.yml; PyPI knows release.yml as the Trusted Publisher."""
    local_sigstore, local_index, env_for, hatch_tool = hatch_job
    build_job = GitHubIdentity(repository=sigstore_github_identity.repository, workflow="build.yml")
    trusted_github(local_index, PROJECT, sigstore_github_identity)
    project = built(tmp_path, env_for(local_sigstore.github_env(build_job)))

    result = hatch_publish(
        hatch_tool, project, env_for(local_sigstore.github_env(sigstore_github_identity))
    )

    assert result.returncode == 1, result.output
    assert result.says("hatch-attest: not uploading: PyPI would reject 2 of 2 distribution(s)")
    assert result.says("build.yml")
    assert local_index.counts()["upload"] == 0
    assert local_index.counts()["mint-token"] == 0
    assert local_index.files() == []


def test_api_token_with_attestations_is_refused_and_can_upload_without_them(
    tmp_path: Path, hatch_job: HatchJob, sigstore_github_identity: GitHubIdentity
) -> None:
    local_sigstore, local_index, env_for, hatch_tool = hatch_job
    project = built(tmp_path, env_for(local_sigstore.github_env(sigstore_github_identity)))
    # A token user's publish step, outside any job with an identity: hatch's own flags.
    env = env_for(None, HATCH_INDEX_USER="__token__", HATCH_INDEX_AUTH=local_index.api_token())

    result = hatch_publish(hatch_tool, project, env)

    assert result.returncode == 1, result.output
    assert result.says(
        "hatch-attest: not uploading: 2 attestation file(s) are next to the distributions, "
        "and PyPI accepts attestations only from a Trusted Publisher, but a password or API "
        "token was given"
    )
    assert local_index.counts()["upload"] == 0

    retry = hatch_publish(hatch_tool, project, env, "-o", "attestations=false")
    assert retry.returncode == 0, retry.output
    assert retry.says(
        "Uploading 2 distribution(s), leaving out 2 attestation(s) (attestations = false), "
        "with the given password or API token"
    )
    assert [f.attestations for f in local_index.files(PROJECT)] == [(), ()]


def test_repo_flag_and_plugin_table_are_honoured(
    tmp_path: Path, hatch_job: HatchJob, sigstore_github_identity: GitHubIdentity
) -> None:
    """`-r` names a repository of `[tool.hatch.publish.attest.repos]`; a bad one is refused."""
    local_sigstore, local_index, env_for, hatch_tool = hatch_job
    project = built(tmp_path, env_for(local_sigstore.github_env(sigstore_github_identity)))
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + '\n[tool.hatch.publish.attest.repos]\nmirror = "https://upload.pypi.org/legacy/"\n'
    )
    publisher = trusted_github(local_index, PROJECT, sigstore_github_identity)
    env = env_for(local_sigstore.github_env(sigstore_github_identity))

    unknown = hatch_publish(hatch_tool, project, env, "-r", "nowhere")
    assert unknown.returncode == 1
    assert unknown.says("hatch-attest: unknown repository 'nowhere': use one of main, test, mirror")

    result = hatch_publish(hatch_tool, project, env, "-r", "mirror")
    assert result.returncode == 0, result.output
    assert_accepted_with_attestations(local_index, project, publisher)


def test_changed_files_of_a_published_version_fail_with_the_index_reason(
    tmp_path: Path, hatch_job: HatchJob, sigstore_github_identity: GitHubIdentity
) -> None:
    """PyPI takes an identical file again, and refuses a different one under the same name."""
    local_sigstore, local_index, env_for, hatch_tool = hatch_job
    trusted_github(local_index, PROJECT, sigstore_github_identity)
    job = local_sigstore.github_env
    project = built(tmp_path, env_for(job(sigstore_github_identity)))
    first = hatch_publish(hatch_tool, project, env_for(job(sigstore_github_identity)))
    assert first.returncode == 0, first.output
    # The same version, rebuilt from changed sources.
    module = project / "src" / "simple_pkg" / "__init__.py"
    module.write_text(module.read_text() + "\nCHANGED = True\n")
    shutil.rmtree(project / "dist")
    rebuilt = build("build-no-isolation", project, env_for(job(sigstore_github_identity)))
    assert rebuilt.returncode == 0, rebuilt.output

    again = hatch_publish(hatch_tool, project, env_for(job(sigstore_github_identity)))
    assert again.returncode == 1
    assert again.says("File already exists")
    assert again.says("hatch-attest: upload to https://upload.pypi.org/legacy/ failed: ")
    assert len(local_index.files(PROJECT)) == 2
