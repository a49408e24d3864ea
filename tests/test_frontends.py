"""Which frontends throw away what a build writes beside the wheel, and which wheels are replaced.

The paths and variables are the ones pip 26.3 and uv 0.13.9 actually passed to
a logging in-tree backend (see ``hatch_attest._frontends``).
"""

# The /tmp paths are data (folder names frontends use), never opened or created.
# ruff: noqa: S108

from __future__ import annotations

from pathlib import PurePath, PurePosixPath, PureWindowsPath

import pytest

from hatch_attest._frontends import discarding_frontend, repaired_later

# What uv puts in every backend's environment, `uv build` included.
UV_ENV = {
    "UV": "/usr/local/bin/uv",
    "UV_INTERNAL__BUILD_DIR": "/home/me/proj",
    "VIRTUAL_ENV": "/home/me/.cache/uv/builds-v0/.tmp9353fA",
}
PIP_ENV = {"PIP_BUILD_TRACKER": "/tmp/pip-build-tracker-ms5gkdmv", "PYTHONNOUSERSITE": "1"}

FIX = (
    "build with `python -m build`, `uv build` or `hatch build` to attest, "
    "or attest a built wheel with `hatch-attest sign`"
)
PIP_REASON = (
    f"pip builds in a temporary folder and keeps only the wheel, so an attestation would be "
    f"lost; {FIX}"
)
UV_REASON = (
    "uv (`uv pip install`, `uv tool install`, `uv sync`, ...) builds in its cache and keeps "
    f"only the wheel, so an attestation would be lost; {FIX}"
)


@pytest.mark.parametrize(
    ("output_dir", "env"),
    [
        # pip install / pip wheel / pip install -e: hatchling hides its metadata hooks from
        # pip, so the one wheel build goes to the metadata folder.
        ("/tmp/pip-modern-metadata-9x3q9ewp", PIP_ENV),
        # The hook's dependencies(): no folder yet, the variable is enough.
        (None, PIP_ENV),
        (None, {"PIP_REQ_TRACKER": "/tmp/pip-req-tracker-abcd1234"}),  # pip < 22.1
        # pip 26 builds other backends' wheels in its cache (or the -w folder).
        ("/home/me/.cache/pip/wheels/ab/cd/ef/tmpq1w2e3r4", PIP_ENV),
        # Without the variable, pip's own temporary folder names still tell.
        ("/tmp/pip-modern-metadata-9x3q9ewp", {}),
        ("/tmp/pip-wheel-k2_h8zq1", {}),  # pip < 25
        ("/tmp/pip-ephem-wheel-cache-0a_bc9de/wheels/12/34/56/tmpq1w2e3r4", {}),
    ],
)
def test_pip_discards(output_dir: str | None, env: dict[str, str]) -> None:
    folder = None if output_dir is None else PurePosixPath(output_dir)
    assert discarding_frontend(folder, env) == PIP_REASON


@pytest.mark.parametrize(
    "output_dir",
    [
        # uv pip install, uv pip install -e, uv tool install, uv sync --no-editable, uvx --from
        PurePosixPath("/home/me/.cache/uv/builds-v0/.tmp7qeLFF"),
        PurePosixPath("/tmp/fe-probe/uvcache/builds-v0/.tmpJJNGkh"),  # UV_CACHE_DIR
        PurePosixPath("/tmp/.tmpeFUNKg/builds-v0/.tmpb8uN87"),  # --no-cache
        PureWindowsPath(r"C:\Users\me\AppData\Local\uv\cache\builds-v0\.tmpAbC123"),
        # uv < 0.5 built straight into a cache shard.
        PurePosixPath("/home/me/.cache/uv/sdists-v5/path/5b7a3c/AbCdEf12"),
        PurePosixPath("/home/me/.cache/uv/built-wheels-v3/pypi/simple-pkg/1.0.0"),
    ],
)
def test_uv_cache_builds_discard(output_dir: PurePath) -> None:
    assert discarding_frontend(output_dir, UV_ENV) == UV_REASON


@pytest.mark.parametrize(
    ("output_dir", "env"),
    [
        # python -m build, uv build, hatch build into the project's dist/, even under /tmp
        # (where pytest builds), and with uv's own variables set.
        ("/tmp/pytest-of-root/pytest-3/test_github_job0/simple/dist", {}),
        ("/tmp/fe-probe/proj/dist", UV_ENV),
        # ... or into any -o folder: a tempfile.mkdtemp(), a `mktemp -d`, a folder of uv's name
        ("/tmp/tmpab12cd_4", {}),
        ("/tmp/tmp.AbCdEf1234", UV_ENV),
        ("/tmp/.tmpAbC123", UV_ENV),
        ("/tmp/.tmpAbC123/dist", UV_ENV),
        ("/srv/builds-v0/dist", UV_ENV),
        # Folders that merely start like pip's or uv's.
        ("/home/me/pip-wheel-cache-tool/dist", {}),
        ("/home/me/pip-modern-metadata-is-neat/dist", {}),
        ("/home/me/sdists-v5-mirror/dist", {}),
        # pip's variable, but empty: not pip.
        ("/home/me/proj/dist", {"PIP_BUILD_TRACKER": ""}),
    ],
)
def test_frontends_that_keep_the_output_dir_are_not_matched(
    output_dir: str, env: dict[str, str]
) -> None:
    assert discarding_frontend(PurePosixPath(output_dir), env) is None


def test_no_folder_and_no_marker_is_not_matched() -> None:
    """Under uv the hook's dependencies() cannot know yet: it must not skip."""
    assert discarding_frontend(None, UV_ENV) is None


CIBUILDWHEEL_REASON = (
    "cibuildwheel will repair this wheel and keep only the repaired copy, so an attestation "
    "made here would be lost; sign the wheels cibuildwheel writes with `hatch-attest sign` "
    'in a step after it (see README "Compiled wheels")'
)


@pytest.mark.parametrize(
    "env",
    [
        {"CIBUILDWHEEL": "1"},
        # cibuildwheel's default frontend on Linux is pip: its own line is more precise.
        {"CIBUILDWHEEL": "1", **PIP_ENV},
        {"CIBUILDWHEEL": "1", **UV_ENV},
    ],
)
def test_cibuildwheel_builds_are_repaired_later(env: dict[str, str]) -> None:
    assert repaired_later(env) == CIBUILDWHEEL_REASON


@pytest.mark.parametrize("value", ["0", "", "true"])
def test_only_cibuildwheels_own_value_means_cibuildwheel(value: str) -> None:
    """cibuildwheel sets exactly "1"; projects set CIBUILDWHEEL=0 to mean "not under it"."""
    assert repaired_later({"CIBUILDWHEEL": value}) is None
    assert repaired_later({}) is None
