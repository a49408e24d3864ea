"""Frontends that build in a folder of their own and keep only the wheel: never sign there.

In an emulated GitHub job with an identity, each build succeeds, says in one
line why it did not attest, and the local Sigstore hears nothing: no token, no
certificate, no Rekor entry for an attestation that would be thrown away.
(``uv pip wheel`` does not exist in uv 0.13; ``python -m build``, ``uv build``
and ``hatch build`` into a ``dist/`` under ``/tmp`` do attest: see
``test_hook.py``.)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hatch_attest_testing import GitHubIdentity, LocalSigstore

from .frontends import BIN, EnvFactory, make_project, run

pytestmark = pytest.mark.slow

UV = str(BIN / "uv")
PIP = [sys.executable, "-m", "pip"]
PIP_SKIP = "Not attesting: pip builds in a temporary folder and keeps only the wheel"
UV_SKIP = (
    "Not attesting: uv (`uv pip install`, `uv tool install`, `uv sync`, ...) builds in its cache"
)
FIX = "or attest a built wheel with `hatch-attest sign`"


def _installed(out: Path) -> bool:
    return (out / "simple_pkg" / "__init__.py").is_file()


def _one_wheel(out: Path) -> bool:
    return [p.suffix for p in out.iterdir()] == [".whl"]


def _tool(out: Path) -> bool:
    return (out / "bin" / "simple-hello").is_file()


# frontend -> (command writing to `out`, its skip line, what it leaves in `out`)
CASES: dict[str, tuple[list[str], str, Callable[[Path], bool]]] = {
    "pip install": (
        [*PIP, "install", "-v", "--no-deps", "--target", "{out}", "."],
        PIP_SKIP,
        _installed,
    ),
    "pip wheel": ([*PIP, "wheel", "-v", "--no-deps", "-w", "{out}", "."], PIP_SKIP, _one_wheel),
    "uv pip install": (
        [
            UV,
            "pip",
            "install",
            "-v",
            "--no-deps",
            "--python",
            sys.executable,
            "--target",
            "{out}",
            ".",
        ],
        UV_SKIP,
        _installed,
    ),
    "uv tool install": (
        [UV, "tool", "install", "-v", "--python", sys.executable, "."],
        UV_SKIP,
        _tool,
    ),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project for every frontend (they build in-tree but write nothing into it)."""
    project = make_project(
        tmp_path_factory.mktemp("discard"),
        '\n[project.scripts]\nsimple-hello = "simple_pkg:main"\n',
    )
    init = project / "src" / "simple_pkg" / "__init__.py"
    init.write_text(init.read_text() + "\n\ndef main() -> None:\n    print('hello')\n")
    return project


@pytest.mark.parametrize("frontend", CASES)
def test_frontend_that_discards_side_files_never_signs(
    frontend: str,
    project: Path,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    env_for: EnvFactory,
) -> None:
    command, skip_line, left_behind = CASES[frontend]
    out = tmp_path / "out"
    env = env_for(
        local_sigstore.github_env(sigstore_github_identity),
        # A fresh uv cache: a wheel uv built in an earlier test would be reused unbuilt.
        UV_CACHE_DIR=str(tmp_path / "uv-cache"),
        UV_TOOL_DIR=str(out / "tools"),
        UV_TOOL_BIN_DIR=str(out / "bin"),
    )

    returncode, output = run([arg.format(out=out) for arg in command], project, env)

    assert returncode == 0, output
    assert left_behind(out), output
    assert skip_line in output
    assert FIX in output
    assert [p for p in (*out.rglob("*"), *project.rglob("*")) if "attestation" in p.name] == []
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}
