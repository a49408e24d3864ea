"""Session fixtures for the end-to-end tests (see :mod:`tests.e2e.frontends`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .frontends import BUILD_TIMEOUT, REPO


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of this checkout, for isolated build environments to install."""
    out = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=BUILD_TIMEOUT,
    )
    return out


@pytest.fixture(scope="session")
def tool_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Private data/cache folders for hatch and uv (shared by the session, for speed)."""
    return tmp_path_factory.mktemp("tool-home")
