"""Helpers: real frontends building real projects, in emulated CI jobs, against the local Sigstore.

Isolated builds install ``hatch-attest`` from a wheel of this checkout, and
everything else from wheels downloaded once (see ``conftest.py``), offered
through ``PIP_FIND_LINKS``/``UV_FIND_LINKS`` with the package index turned off.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pypi_attestations import Publisher

# An explicit re-export: e2e modules written before hatch_attest_testing had it import it here.
from hatch_attest_testing import PUBLISH_V1 as PUBLISH_V1  # noqa: PLC0414
from hatch_attest_testing import GitHubIdentity, outside_ci, run_bounded, verify_as_pypi

REPO = Path(__file__).resolve().parents[2]
PACKAGES = Path(__file__).resolve().parents[1] / "packages"
BIN = Path(sys.executable).parent
# What one frontend run (a build or an upload) may take: 10-60 s on a quiet machine;
# the rest is room for a loaded one. On timeout the frontend's whole process group
# (its build backend included) is killed and the test fails with what it printed.
BUILD_TIMEOUT = 240

FRONTENDS = ("hatch", "build", "build-no-isolation", "uv")

HOSTS = ("hook", "wrapper")
"""The two build-time doors to the pipeline: the hatchling hook and the PEP 517 wrapper."""
_HOST_PACKAGES = {"hook": "simple", "wrapper": "wrapped-setuptools"}


class EnvFactory(Protocol):
    """Makes a job's environment: its CI variables plus overrides."""

    def __call__(self, ci: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]: ...


JobEnv = Callable[[], dict[str, str]]
"""What `github_job_env` returns: call it for the environment of a step of the job."""


@dataclass(frozen=True)
class Build:
    """The outcome of one frontend run, as a user would see it."""

    returncode: int
    output: str
    dist: Path

    def artifacts(self) -> list[Path]:
        if not self.dist.is_dir():
            return []
        return sorted(p for p in self.dist.iterdir() if p.name.endswith((".whl", ".tar.gz")))

    def attestations(self) -> list[Path]:
        if not self.dist.is_dir():
            return []
        return sorted(self.dist.glob("*.attestation"))


def base_env(wheelhouse: Path, tool_home: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The runner's environment without any CI identity, plus ``extra``.

    Package indexes are off: frontends install only from ``wheelhouse``.
    """
    env = outside_ci()
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(wheelhouse),
            "UV_OFFLINE": "1",
            "UV_FIND_LINKS": str(wheelhouse),
            "UV_CACHE_DIR": str(tool_home / "uv-cache"),
            "HATCH_DATA_DIR": str(tool_home / "hatch-data"),
            "HATCH_CACHE_DIR": str(tool_home / "hatch-cache"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(extra)
    return env


def env_factory(wheelhouse: Path, tool_home: Path, trust_config: Path, **fixed: str) -> EnvFactory:
    """Makes jobs' environments: `base_env` with the local trust config, `fixed`, then the job's."""

    def make(ci: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
        variables = {"HATCH_ATTEST_TRUST_CONFIG": str(trust_config), **fixed}
        variables.update(ci or {})
        variables.update(extra)
        return base_env(wheelhouse, tool_home, variables)

    return make


def make_project(root: Path, hook_table: str = "", *, name: str = "simple") -> Path:
    """Copy ``tests/packages/<name>`` to ``root`` and fill in the hook table."""
    project = root / name
    shutil.copytree(PACKAGES / name, project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + hook_table)
    return project


def make_host_project(root: Path, host: str, table: str = "") -> Path:
    """The same project (``simple-pkg`` 1.0.0) built through ``host``, its table filled in.

    ``hook``: hatchling with ``[tool.hatch.build.hooks.attest]``; ``wrapper``:
    setuptools through ``hatch_attest.backend`` with ``[tool.hatch-attest]``. Both
    make ``simple_pkg-1.0.0.tar.gz`` and ``simple_pkg-1.0.0-py3-none-any.whl``.
    """
    return make_project(root, table, name=_HOST_PACKAGES[host])


def build(frontend: str, project: Path, env: Mapping[str, str]) -> Build:
    """Run ``frontend`` on ``project``; artifacts land in ``project/dist``."""
    dist = project / "dist"
    commands = {
        "hatch": [str(BIN / "hatch"), "build"],
        "hatch-clean": [str(BIN / "hatch"), "build", "--clean"],
        "build": [sys.executable, "-m", "build", "--outdir", str(dist), "."],
        "build-no-isolation": [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "--outdir",
            str(dist),
            ".",
        ],
        "uv": [
            str(BIN / "uv"),
            "build",
            "--out-dir",
            str(dist),
        ],
        "pip-wheel": [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-v",
            "--no-deps",
            "-w",
            str(dist),
            ".",
        ],
    }
    returncode, output = run(commands[frontend], project, env)
    return Build(returncode, output, dist)


def run(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> tuple[int, str]:
    """Run a frontend command; its exit status and its combined output.

    Bounded by `BUILD_TIMEOUT`; on timeout the command and everything it started are
    killed (see `run_bounded`).
    """
    proc = run_bounded(argv, cwd=cwd, env=env, timeout=BUILD_TIMEOUT, merge_stderr=True)
    # Printed so that pytest captures it: the credential leak scan reads it.
    print(proc.stdout)
    return proc.returncode, proc.stdout


def verified_subjects(dist: Path, publisher: Publisher, trust_config: Path) -> str:
    """``dist``'s publish attestation, checked by `verify_as_pypi`; its predicate type."""
    return verify_as_pypi(dist, publisher, trust_config).predicate_type


def assert_attested_by(artifacts: Sequence[Path], job: GitHubIdentity, trust_config: Path) -> None:
    """Each artifact has a publish attestation that PyPI would accept from ``job``'s workflow."""
    assert artifacts
    for artifact in artifacts:
        assert verify_as_pypi(artifact, job, trust_config).predicate_type == PUBLISH_V1


UPLOADERS = ("twine", "uv")


@dataclass(frozen=True)
class Upload:
    """The outcome of one uploader run, as a user would see it."""

    returncode: int
    output: str

    def says(self, text: str) -> bool:
        """Whether the output says ``text``, however the terminal wrapped its lines."""
        return " ".join(text.split()) in " ".join(self.output.split())


def publish(
    uploader: str,
    project: Path,
    env: Mapping[str, str],
    *args: str,
    attestations: bool = True,
    trusted_publishing: bool = True,
) -> Upload:
    """Upload ``project/dist/*`` with the real ``twine upload --attestations`` or ``uv publish``.

    ``env`` must reach the local index (``LocalIndex.client_env()``); both upload to
    their default, PyPI's upload URL. ``args`` are added to the command line. With
    ``trusted_publishing``, uv gets ``--trusted-publishing always`` (twine uses it
    when ``env`` has no credentials). Without ``attestations``, twine gets only the
    distributions and uv gets ``--no-attestations``.
    """
    files = sorted((project / "dist").iterdir())
    uv = ["--trusted-publishing", "always"] if trusted_publishing else []
    if attestations:
        twine = ["--attestations", *map(str, files)]
    else:
        twine = [str(p) for p in files if p.name.endswith((".whl", ".tar.gz"))]
        uv.append("--no-attestations")
    commands = {
        "twine": [str(BIN / "twine"), "upload", "--non-interactive", *twine],
        "uv": [str(BIN / "uv"), "publish", *uv],
    }
    run_env = {name: value for name, value in env.items() if name != "UV_OFFLINE"}
    # No keyring lookups (twine tries one before Trusted Publishing), no colours,
    # and wide lines so that messages stay whole.
    run_env.update({"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "NO_COLOR": "1"})
    run_env.setdefault("COLUMNS", "300")
    returncode, output = run([*commands[uploader], *args], project, run_env)
    return Upload(returncode, output)
