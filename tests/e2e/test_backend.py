"""The wrapper backend ``hatch_attest.backend`` under real frontends, against the local Sigstore.

The cases both hosts share (idle builds, ``mode = "always"``, stale attestations,
a stranger's CI, faults) run for the hook and the wrapper in ``test_hook.py``;
this module covers what only the wrapper has: other backends, ``setup.py``,
in-tree backends, editable installs, and the artifacts' contents.
"""

from __future__ import annotations

import shutil
import sys
import tarfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest
from pypi_attestations import GitLabPublisher

from hatch_attest_testing import GitHubIdentity, GitLabIdentity, LocalSigstore, run_bounded

from .frontends import (
    BIN,
    PUBLISH_V1,
    REPO,
    Build,
    EnvFactory,
    JobEnv,
    assert_attested_by,
    base_env,
    build,
    make_project,
    run,
    verified_subjects,
)

pytestmark = pytest.mark.slow

SETUPTOOLS_PROJECTS = ("wrapped-setuptools", "wrapped-setup-py")
FRONTENDS_NO_HATCH = ("build", "build-no-isolation", "uv")
WRAPPED = '\nbuild-backend = "setuptools.build_meta"\n'
"""The ``[tool.hatch-attest]`` line of the setuptools test projects."""
QUIET = {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


@pytest.fixture
def env_for(wheelhouse: Path, tool_home: Path, local_sigstore: LocalSigstore) -> EnvFactory:
    """Build the environment of a job: CI variables plus the local trust config."""

    def make(ci: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
        variables = {
            "HATCH_ATTEST_TRUST_CONFIG": str(local_sigstore.trust_config_path),
            "SOURCE_DATE_EPOCH": "1700000000",
        }
        variables.update(ci or {})
        variables.update(extra)
        return base_env(wheelhouse, tool_home, variables)

    return make


def _assert_attested(result: Build) -> list[Path]:
    assert result.returncode == 0, result.output
    artifacts = result.artifacts()
    assert [p.name for p in artifacts] == [
        "simple_pkg-1.0.0-py3-none-any.whl",
        "simple_pkg-1.0.0.tar.gz",
    ]
    assert result.attestations() == [
        p.with_name(p.name + ".publish.attestation") for p in artifacts
    ]
    for artifact in artifacts:
        assert f"Attested {artifact.name} as https://" in result.output
    return artifacts


# setuptools with every frontend; the other backends with the isolated ones.
GITHUB_JOB_BUILDS = [
    *((package, frontend) for package in SETUPTOOLS_PROJECTS for frontend in FRONTENDS_NO_HATCH),
    *(
        (package, frontend)
        for package in ("wrapped-flit", "wrapped-pdm", "wrapped-poetry")
        for frontend in ("build", "uv")
    ),
]


@pytest.mark.parametrize(("package", "frontend"), GITHUB_JOB_BUILDS)
def test_wrapped_backends_in_a_github_job(
    package: str,
    frontend: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    github_job_env: JobEnv,
) -> None:
    project = make_project(tmp_path, name=package)
    result = build(frontend, project, github_job_env())

    artifacts = _assert_attested(result)
    assert_attested_by(artifacts, sigstore_github_identity, local_sigstore.trust_config_path)
    assert local_sigstore.counts()["rekor"] == 2


@pytest.mark.parametrize("frontend", ["build", "build-no-isolation", "uv"])
@pytest.mark.parametrize("package", SETUPTOOLS_PROJECTS)
def test_setuptools_in_a_gitlab_job(
    package: str,
    frontend: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_gitlab_identity: GitLabIdentity,
    env_for: EnvFactory,
) -> None:
    project = make_project(tmp_path, name=package)
    ci = local_sigstore.gitlab_env(sigstore_gitlab_identity)
    result = build(frontend, project, env_for(ci))

    artifacts = _assert_attested(result)
    publisher = GitLabPublisher(
        repository=sigstore_gitlab_identity.project_path,
        workflow_filepath=sigstore_gitlab_identity.ci_config_path,
    )
    for artifact in artifacts:
        assert verified_subjects(artifact, publisher, local_sigstore.trust_config_path) == (
            PUBLISH_V1
        )
    assert ci["SIGSTORE_ID_TOKEN"] not in result.output


def _members(artifact: Path) -> dict[str, bytes]:
    """Each member's bytes (timestamps and archive framing left out)."""
    if artifact.suffix == ".whl":
        with zipfile.ZipFile(artifact) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    with tarfile.open(artifact) as archive:
        members = {}
        for member in archive.getmembers():
            content = archive.extractfile(member) if member.isfile() else None
            members[member.name] = content.read() if content is not None else b""
        return members


@pytest.mark.parametrize("frontend", ["build-no-isolation", "uv"])
@pytest.mark.parametrize("package", SETUPTOOLS_PROJECTS)
def test_the_wrapper_changes_nothing_inside_the_artifacts(
    package: str,
    frontend: str,
    tmp_path: Path,
    env_for: EnvFactory,
    github_job_env: JobEnv,
) -> None:
    """Attested through the wrapper, or built by plain setuptools: the same files, byte for byte.

    Only the sdist's own ``pyproject.toml`` differs, in the one line that was changed.
    """
    wrapped = make_project(tmp_path / "wrapped", name=package)
    plain = make_project(tmp_path / "plain", name=package)
    pyproject = plain / "pyproject.toml"
    ours = 'build-backend = "hatch_attest.backend"'
    pyproject.write_text(
        pyproject.read_text().replace(ours, 'build-backend = "setuptools.build_meta"', 1)
    )

    attested = build(frontend, wrapped, github_job_env())
    baseline = build(frontend, plain, env_for())

    assert len(_assert_attested(attested)) == 2
    assert baseline.returncode == 0, baseline.output
    for mine, theirs in zip(attested.artifacts(), baseline.artifacts(), strict=True):
        assert mine.name == theirs.name
        members, expected = _members(mine), _members(theirs)
        assert sorted(members) == sorted(expected)
        for name, content in members.items():
            if name.endswith("/pyproject.toml") and name.count("/") == 1:
                plain_line = b'build-backend = "setuptools.build_meta"'
                assert content.replace(ours.encode(), plain_line, 1) == expected[name]
            else:
                assert content == expected[name], name


@pytest.fixture(scope="session")
def idle_wheelhouse(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheelhouse without the signing stack: an idle build that asked for it fails."""
    out = tmp_path_factory.mktemp("idle-wheelhouse")
    for wheel in wheelhouse.glob("*.whl"):
        if not wheel.name.startswith(("sigstore", "pypi_attestations")):
            shutil.copy2(wheel, out)
    return out


@pytest.mark.parametrize("frontend", ["build", "uv"])
def test_idle_build_installs_nothing_more(
    frontend: str,
    tmp_path: Path,
    idle_wheelhouse: Path,
    tool_home: Path,
    local_sigstore: LocalSigstore,
) -> None:
    project = make_project(tmp_path, name="wrapped-setuptools")
    env = base_env(idle_wheelhouse, tool_home, {"UV_CACHE_DIR": str(tmp_path / "uv-cache")})
    result = build(frontend, project, env)

    assert result.returncode == 0, result.output
    assert len(result.artifacts()) == 2
    assert result.attestations() == []
    ours = ("Not attesting", "Attested ", "hatch-attest:")
    lines = [line for line in result.output.splitlines() if line.startswith(ours)]
    assert len(lines) == 2, lines  # one line per artifact, each the reason
    assert all(line.startswith("Not attesting: no CI identity found") for line in lines)
    assert local_sigstore.counts() == QUIET


INTREE_BACKEND = '''\
"""An in-tree backend: setuptools, with a build_wheel that fails on request."""

import os

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    if os.environ.get("INTREE_FAIL"):
        raise RuntimeError("the wrapped backend failed: no compiler found")
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
'''


def _intree_project(root: Path) -> Path:
    project = make_project(root, name="wrapped-setuptools")
    (project / "_build").mkdir()
    (project / "_build" / "intree.py").write_text(INTREE_BACKEND)
    (project / "MANIFEST.in").write_text("recursive-include _build *.py\n")
    pyproject = project / "pyproject.toml"
    table = '\nbuild-backend = "intree"\nbackend-path = ["_build"]\n'
    pyproject.write_text(pyproject.read_text().replace(WRAPPED, table))
    return project


@pytest.mark.parametrize("frontend", ["build", "uv"])
def test_in_tree_backend_through_backend_path(
    frontend: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    github_job_env: JobEnv,
) -> None:
    project = _intree_project(tmp_path)
    result = build(frontend, project, github_job_env())

    artifacts = _assert_attested(result)
    assert_attested_by(artifacts, sigstore_github_identity, local_sigstore.trust_config_path)


def test_a_failing_wrapped_backend_shows_its_own_error(
    tmp_path: Path, local_sigstore: LocalSigstore, env_for: EnvFactory
) -> None:
    project = _intree_project(tmp_path)
    result = build("build-no-isolation", project, env_for(INTREE_FAIL="1"))

    assert result.returncode != 0
    assert "RuntimeError: the wrapped backend failed: no compiler found" in result.output
    assert "hatch-attest:" not in result.output
    assert [p.name for p in result.artifacts()] == ["simple_pkg-1.0.0.tar.gz"]
    assert result.attestations() == []


@pytest.mark.parametrize("frontend", ["build-no-isolation", "uv"])
@pytest.mark.parametrize(
    ("table", "messages"),
    [
        pytest.param(
            '\nmdoe = "always"\ntimeout = "soon"\nbuild-backend = 3\n',
            [
                'tool.hatch-attest.mdoe: unknown option; did you mean "mode"?',
                "tool.hatch-attest.timeout: must be a number of seconds, more than 0 and at most "
                '3600, not "soon"',
                'tool.hatch-attest.build-backend: must be a string "module" or "module:object", '
                'such as "setuptools.build_meta", not 3',
            ],
            id="misspelled",
        ),
        pytest.param(
            "\n",
            [
                "tool.hatch-attest.build-backend: missing; name the backend that really builds, "
                'e.g. build-backend = "setuptools.build_meta"'
            ],
            id="missing",
        ),
        pytest.param(
            '\nbuild-backend = "setuptools.build_mtea"\n',
            [
                "tool.hatch-attest.build-backend: cannot import 'setuptools.build_mtea' "
                "(ModuleNotFoundError: No module named 'setuptools.build_mtea'); add the package "
                "that provides it to [build-system] requires",
            ],
            id="unimportable",
        ),
    ],
)
def test_bad_configuration_fails_before_building(
    table: str,
    messages: list[str],
    frontend: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    github_job_env: JobEnv,
) -> None:
    project = make_project(tmp_path, name="wrapped-setuptools")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(WRAPPED, table))

    result = build(frontend, project, github_job_env())

    assert result.returncode != 0
    assert "hatch-attest: invalid configuration in pyproject.toml [tool.hatch-attest]:" in (
        result.output
    )
    for message in messages:
        assert message in result.output
    assert result.artifacts() == []
    assert local_sigstore.counts() == QUIET


@pytest.fixture
def target_venv(tmp_path: Path, wheelhouse: Path, tool_home: Path) -> Path:
    """An empty virtual environment to install into; returns its interpreter."""
    venv = tmp_path / "venv"
    env = base_env(wheelhouse, tool_home, {})
    run_bounded(
        [BIN / "uv", "venv", "-q", "--python", sys.executable, venv],
        env=env,
        check=True,
        timeout=60,
    )
    return venv / "bin" / "python"


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_editable_install_works_and_attests_nothing(
    installer: str,
    tmp_path: Path,
    target_venv: Path,
    local_sigstore: LocalSigstore,
    github_job_env: JobEnv,
) -> None:
    project = make_project(tmp_path, name="wrapped-setuptools")
    command = {
        "pip": [sys.executable, "-m", "pip", "--python", str(target_venv), "install", "-e", "."],
        "uv": [str(BIN / "uv"), "pip", "install", "--python", str(target_venv), "-e", "."],
    }[installer]
    env = github_job_env()
    returncode, output = run(command, project, env)

    assert returncode == 0, output
    (project / "src" / "simple_pkg" / "__init__.py").write_text('__version__ = "edited"\n')
    imported = run_bounded(
        [target_venv, "-c", "import simple_pkg; print(simple_pkg.__version__)"],
        check=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert imported.stdout == "edited\n"  # editable: the source tree, not a copy
    assert list(tmp_path.rglob("*.attestation")) == []
    assert local_sigstore.counts() == QUIET


def test_the_setuptools_example_attests_in_its_own_workflow(
    tmp_path: Path, local_sigstore: LocalSigstore, env_for: EnvFactory
) -> None:
    """examples/setuptools as a user copies it: its configured publisher, its release workflow."""
    project = tmp_path / "example"
    shutil.copytree(REPO / "examples" / "setuptools", project)
    job = GitHubIdentity(repository="octo-org/demo-setuptools-pkg", workflow="release.yml")
    result = build("uv", project, env_for(local_sigstore.github_env(job)))

    assert result.returncode == 0, result.output
    artifacts = result.artifacts()
    assert [p.name for p in artifacts] == [
        "demo_setuptools_pkg-0.1.0-py3-none-any.whl",
        "demo_setuptools_pkg-0.1.0.tar.gz",
    ]
    assert_attested_by(artifacts, job, local_sigstore.trust_config_path)
