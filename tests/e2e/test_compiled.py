"""Compiled wheels, attested after repair: the README "Compiled wheels" recipe, step by step.

A GitHub release workflow with a cibuildwheel matrix, emulated with the real
tools: the build inside cibuildwheel (``CIBUILDWHEEL=1``, a ``built_wheel``
folder) must not sign; the real ``auditwheel`` (with ``patchelf``) repairs the
wheel into a manylinux one under a new name; ``hatch-attest sign`` signs the
repaired wheel in the same job; the publish job collects every job's files and
uploads them with ``uv publish`` over Trusted Publishing to the local index,
which applies PyPI's rules.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import NamedTuple

import pytest
from packaging.utils import parse_wheel_filename
from pypi_attestations import Provenance

from hatch_attest_testing import (
    GitHubIdentity,
    LocalIndex,
    LocalSigstore,
    run_bounded,
    verify_as_pypi,
)

from .._shared import trusted_github
from ..local_index.client import request
from .frontends import BIN, EnvFactory, make_host_project, make_project, publish, run

pytestmark = pytest.mark.slow
needs_gcc_on_linux = pytest.mark.skipif(
    sys.platform != "linux"
    or shutil.which("gcc") is None
    or not (Path(sysconfig.get_paths()["include"]) / "Python.h").is_file(),
    reason="auditwheel repairs Linux wheels; the C extension needs gcc and Python's headers",
)

NO_REQUESTS = {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}
SKIP = (
    "Not attesting: cibuildwheel will repair this wheel and keep only the repaired copy, so an "
    "attestation made here would be lost; sign the wheels cibuildwheel writes with "
    '`hatch-attest sign` in a step after it (see README "Compiled wheels")'
)
PROJECT = "cext-pkg"
RECIPE = Path(__file__).resolve().parents[2] / "docs" / "recipes" / "compiled-wheels.yml"


def readme_recipe() -> str:
    """The README's "Compiled wheels" recipe (included verbatim), as the job's own workflow."""
    return RECIPE.read_text()


# How cibuildwheel runs each frontend: the wheel only, into its temporary `built_wheel`.
WHEEL_ONLY = {
    "build": [sys.executable, "-m", "build", "--wheel", "--outdir", "{out}", "."],
    "uv": [str(BIN / "uv"), "build", "--wheel", "--out-dir", "{out}"],
}


def cibuildwheel_build(frontend: str, project: Path, out: Path, env: dict[str, str]) -> str:
    """The build step inside cibuildwheel; its output, after checking it succeeded."""
    returncode, output = run([arg.format(out=out) for arg in WHEEL_ONLY[frontend]], project, env)
    assert returncode == 0, output
    return output


class GitHubJob(NamedTuple):
    """A GitHub job of the tests here: the local Sigstore, the job's identity, its env."""

    sigstore: LocalSigstore
    identity: GitHubIdentity
    env_for: EnvFactory


@pytest.fixture
def compiled_job(request: pytest.FixtureRequest) -> GitHubJob:
    """The fixtures of `GitHubJob`, in one (each test unpacks them)."""
    names = ("local_sigstore", "sigstore_github_identity", "env_for")
    return GitHubJob(*(request.getfixturevalue(name) for name in names))


@pytest.mark.parametrize(
    ("host", "frontend", "mode"),
    [("hook", "uv", "auto"), ("wrapper", "build", "auto"), ("hook", "build", "always")],
)
def test_a_build_inside_cibuildwheel_is_not_signed(
    host: str, frontend: str, mode: str, tmp_path: Path, compiled_job: GitHubJob
) -> None:
    """In any mode: `always` belongs to the step that signs the repaired wheels."""
    local_sigstore, sigstore_github_identity, env_for = compiled_job
    project = make_host_project(tmp_path, host)
    built_wheel = tmp_path / "cibw" / "built_wheel"
    env = env_for(
        local_sigstore.github_env(sigstore_github_identity),
        CIBUILDWHEEL="1",
        HATCH_ATTEST_MODE=mode,
    )

    output = cibuildwheel_build(frontend, project, built_wheel, env)

    # (uv build also writes a .gitignore there)
    written = [p.name for p in built_wheel.iterdir() if not p.name.startswith(".")]
    assert written == ["simple_pkg-1.0.0-py3-none-any.whl"]
    assert output.count(SKIP) == 1, output
    assert local_sigstore.counts() == NO_REQUESTS


@needs_gcc_on_linux
def test_compiled_wheel_is_repaired_signed_collected_and_accepted_by_the_index(
    tmp_path: Path, local_index: LocalIndex, compiled_job: GitHubJob
) -> None:
    local_sigstore, sigstore_github_identity, env_for = compiled_job
    publisher = trusted_github(local_index, PROJECT, sigstore_github_identity)
    trust = local_sigstore.trust_config_path
    recipe = readme_recipe()
    assert "hatch-attest sign wheelhouse" in recipe

    def job(**extra: str) -> dict[str, str]:
        # Every step of the README's workflow (which `predicate = "auto"` reads): the
        # same job identity, and the way to the local index.
        ci = local_sigstore.github_env(sigstore_github_identity, workflow=recipe)
        return env_for(ci, **local_index.client_env(), **extra)

    # --- the wheels job (one leg of the matrix) ---
    project = make_project(tmp_path / "wheels-job", name="cext")
    # cibuildwheel's `before-all`: the native library the extension links to.
    native = project / "native"
    gcc = ["gcc", "-shared", "-fPIC", "-o", str(native / "libcexttwice.so")]
    run_bounded([*gcc, str(native / "twice.c")], timeout=120, check=True)

    # cibuildwheel's build step: the wrapper backend skips, nothing reaches Sigstore.
    built_wheel = tmp_path / "cibw" / "built_wheel"
    output = cibuildwheel_build("build", project, built_wheel, job(CIBUILDWHEEL="1"))
    [built] = built_wheel.iterdir()
    python = f"cp{sys.version_info.major}{sys.version_info.minor}"
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    assert built.name == f"cext_pkg-1.0.0-{python}-{python}-{platform}.whl"
    assert output.count(SKIP) == 1, output
    assert local_sigstore.counts() == NO_REQUESTS

    # cibuildwheel's repair step (its default on Linux), writing into wheelhouse/.
    wheelhouse = project / "wheelhouse"
    returncode, output = run(
        [str(BIN / "auditwheel"), "repair", "-w", str(wheelhouse), str(built)],
        project,
        job(CIBUILDWHEEL="1", LD_LIBRARY_PATH=str(native)),
    )
    assert returncode == 0, output
    [repaired] = wheelhouse.iterdir()
    *_, tags = parse_wheel_filename(repaired.name)
    assert all(tag.platform.startswith("manylinux") for tag in tags), repaired.name
    with zipfile.ZipFile(repaired) as wheel:  # grafted by auditwheel, its RPATH set by patchelf
        assert [n for n in wheel.namelist() if n.startswith("cext_pkg.libs/libcexttwice-")]

    # The step after cibuildwheel, in the same job (README: HATCH_ATTEST_MODE on this step).
    returncode, output = run(
        [str(BIN / "hatch-attest"), "sign", "wheelhouse"], project, job(HATCH_ATTEST_MODE="always")
    )
    assert returncode == 0, output
    attestation = repaired.with_name(repaired.name + ".publish.attestation")
    assert sorted(wheelhouse.iterdir()) == [repaired, attestation]
    verify_as_pypi(repaired, sigstore_github_identity, trust)
    assert local_sigstore.counts()["rekor"] == 1

    # What was attested is the repaired wheel that works: it carries the grafted library.
    target = tmp_path / "installed"
    install = [str(BIN / "uv"), "pip", "install", "--no-deps", "--python", sys.executable]
    returncode, output = run([*install, "--target", str(target), str(repaired)], project, job())
    assert returncode == 0, output
    check = "import cext_pkg; print(cext_pkg.add(2, 3), cext_pkg.twice(21))"
    returncode, output = run([sys.executable, "-c", check], project, job(PYTHONPATH=str(target)))
    assert (returncode, output.split()) == (0, ["5", "42"])

    # --- the sdist job: the wrapper signs at build time, as for a pure-Python project ---
    sdist_job = make_project(tmp_path / "sdist-job", name="cext")
    returncode, output = run(
        [str(BIN / "uv"), "build", "--sdist", "--out-dir", "dist"],
        sdist_job,
        job(HATCH_ATTEST_MODE="always"),
    )
    assert returncode == 0, output
    [sdist] = sdist_job.glob("dist/*.tar.gz")
    verify_as_pypi(sdist, sigstore_github_identity, trust)

    # --- the publish job: download-artifact with merge-multiple, then uv publish ---
    publish_job = tmp_path / "publish-job"
    dist = publish_job / "dist"
    dist.mkdir(parents=True)
    for item in [*wheelhouse.iterdir(), *(sdist_job / "dist").iterdir()]:
        shutil.copy2(item, dist)

    result = publish("uv", publish_job, job())

    assert result.returncode == 0, result.output
    files = {f.filename: f for f in local_index.files(PROJECT)}
    assert sorted(files) == sorted([repaired.name, sdist.name])
    for artifact in (repaired, sdist):
        stored = files[artifact.name]
        assert stored.content == artifact.read_bytes()
        assert stored.trusted_publisher == publisher
        path = f"/integrity/{PROJECT}/1.0.0/{artifact.name}/provenance"
        answer = request(local_index, path)
        assert answer.status == 200
        [bundle] = Provenance.model_validate_json(answer.body).attestation_bundles
        assert bundle.publisher == publisher
        assert len(bundle.attestations) == 1
