"""Helpers: real frontends building real projects, in emulated CI jobs, against the local Sigstore.

Isolated builds install ``hatch-attest`` from a wheel of this checkout, and
everything else from wheels downloaded once (see ``conftest.py``), offered
through ``PIP_FIND_LINKS``/``UV_FIND_LINKS`` with the package index turned off.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pypi_attestations import Attestation, Distribution, GitHubPublisher, Publisher
from sigstore.models import ClientTrustConfig
from sigstore.verify import Verifier

from hatch_attest.testing import GitHubIdentity, outside_ci

REPO = Path(__file__).resolve().parents[2]
PACKAGES = Path(__file__).resolve().parents[1] / "packages"
BIN = Path(sys.executable).parent
BUILD_TIMEOUT = 600
PUBLISH_V1 = "https://docs.pypi.org/attestations/publish/v1"

FRONTENDS = ("hatch", "build", "build-no-isolation", "uv")

HOSTS = ("hook", "wrapper")
"""The two build-time doors to the pipeline: the hatchling hook and the PEP 517 wrapper."""
_HOST_PACKAGES = {"hook": "simple", "wrapper": "wrapped-setuptools"}


class EnvFactory(Protocol):
    """Makes a job's environment: its CI variables plus overrides."""

    def __call__(self, ci: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]: ...


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
    proc = subprocess.run(
        commands[frontend],
        cwd=project,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    # Printed so that pytest captures it: the credential leak scan reads it.
    print(proc.stdout)
    return Build(proc.returncode, proc.stdout, dist)


def verified_subjects(dist: Path, publisher: Publisher, trust_config: Path) -> str:
    """Verify ``dist``'s publish attestation as PyPI would; return its predicate type.

    Deliberately independent of hatch_attest.verify: sigstore's verifier with the
    local trusted root, pypi-attestations' own publisher policy, then the subject
    checks of ``Attestation.verify``.
    """
    config = ClientTrustConfig.from_json(trust_config.read_text())
    attestation = Attestation.model_validate_json(
        (dist.parent / f"{dist.name}.publish.attestation").read_bytes()
    )
    verifier = Verifier(trusted_root=config.trusted_root)
    _, payload = verifier.verify_dsse(attestation.to_bundle(), publisher._as_policy())
    statement = json.loads(payload)
    assert [s["name"] for s in statement["subject"]] == [dist.name]
    assert statement["subject"][0]["digest"]["sha256"] == Distribution.from_file(dist).digest
    return str(statement["predicateType"])


def assert_attested_by(artifacts: Sequence[Path], job: GitHubIdentity, trust_config: Path) -> None:
    """Each artifact has a publish attestation that PyPI would accept from ``job``'s workflow."""
    assert artifacts
    publisher = GitHubPublisher(repository=job.repository, workflow=job.workflow)
    for artifact in artifacts:
        assert verified_subjects(artifact, publisher, trust_config) == PUBLISH_V1
