"""The ``attest`` hook under real frontends, in emulated CI jobs, against the local Sigstore."""

from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path

import pytest
from pypi_attestations import GitLabPublisher

from hatch_attest_testing import (
    PUBLISH_V1,
    Fault,
    GitHubIdentity,
    GitLabIdentity,
    LocalSigstore,
    run_bounded,
    run_bounded_all,
    verify_as_pypi,
)

from ..hostile import HOSTILE
from .frontends import (
    BUILD_TIMEOUT,
    FRONTENDS,
    HOSTS,
    EnvFactory,
    JobEnv,
    assert_attested_by,
    base_env,
    build,
    make_host_project,
    make_project,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_github_job_attests_wheel_and_sdist(
    frontend: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    github_job_env: JobEnv,
) -> None:
    project = make_project(tmp_path)
    env = github_job_env()

    result = build(frontend, project, env)

    assert result.returncode == 0, result.output
    artifacts = result.artifacts()
    assert sorted(p.suffix for p in artifacts) == [".gz", ".whl"]
    assert result.attestations() == [
        p.with_name(p.name + ".publish.attestation") for p in artifacts
    ]
    assert_attested_by(artifacts, sigstore_github_identity, local_sigstore.trust_config_path)
    for artifact in artifacts:
        workflow_uri = (
            f"https://github.com/{sigstore_github_identity.repository}/.github/workflows/release.yml"
            f"@{sigstore_github_identity.ref}"
        )
        assert f"Attested {artifact.name} as {workflow_uri} (Rekor log index " in result.output
    assert local_sigstore.counts()["fulcio"] == 2  # one certificate per artifact process
    assert local_sigstore.counts()["rekor"] == 2


@pytest.mark.parametrize("frontend", ["build", "hatch"])
def test_gitlab_job_attests_wheel_and_sdist(
    frontend: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_gitlab_identity: GitLabIdentity,
    env_for: EnvFactory,
) -> None:
    project = make_project(tmp_path)
    ci = local_sigstore.gitlab_env(sigstore_gitlab_identity)
    result = build(frontend, project, env_for(ci))

    assert result.returncode == 0, result.output
    publisher = GitLabPublisher(
        repository=sigstore_gitlab_identity.project_path,
        workflow_filepath=sigstore_gitlab_identity.ci_config_path,
    )
    artifacts = result.artifacts()
    assert len(artifacts) == 2
    for artifact in artifacts:
        verdict = verify_as_pypi(artifact, publisher, local_sigstore.trust_config_path)
        assert verdict.predicate_type == PUBLISH_V1
    token = ci["SIGSTORE_ID_TOKEN"]
    assert token not in result.output
    for path in project.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("host", HOSTS)
def test_no_identity_builds_as_before(
    host: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    env_for: EnvFactory,
) -> None:
    project = make_host_project(tmp_path, host)
    result = build("build", project, env_for())

    assert result.returncode == 0, result.output
    assert len(result.artifacts()) == 2
    assert result.attestations() == []
    assert result.output.count("Not attesting: no CI identity found") == 2  # sdist, wheel
    # An isolated idle build never asked the frontend for the signing stack.
    assert "sigstore" not in result.output.replace("hatch-attest", "")
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


@pytest.mark.parametrize("host", HOSTS)
def test_github_job_without_id_token_permission_skips_and_names_the_fix(
    host: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    env_for: EnvFactory,
) -> None:
    project = make_host_project(tmp_path, host)
    ci = local_sigstore.github_env(sigstore_github_identity, id_token_permission=False)
    result = build("build-no-isolation", project, env_for(ci))

    assert result.returncode == 0, result.output
    assert result.attestations() == []
    assert "Not attesting: this GitHub Actions job has no OIDC permission" in result.output
    assert "add `permissions: id-token: write`" in result.output
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize(
    ("permission", "message"),
    [
        (None, "cannot attest (mode = always): no CI identity found"),
        (False, "cannot attest (mode = always): this GitHub Actions job has no OIDC permission"),
    ],
)
def test_always_mode_fails_without_identity(
    host: str,
    permission: bool | None,
    message: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    env_for: EnvFactory,
) -> None:
    project = make_host_project(tmp_path, host, 'mode = "always"\n')
    ci = (
        {}
        if permission is None
        else local_sigstore.github_env(sigstore_github_identity, id_token_permission=permission)
    )
    result = build("build-no-isolation", project, env_for(ci))

    assert result.returncode != 0
    assert message in result.output
    assert result.artifacts() == []  # refused before anything was built
    assert local_sigstore.counts()["fulcio"] == 0


def test_environment_override_turns_attestation_off(
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    env_for: EnvFactory,
) -> None:
    project = make_project(tmp_path, 'mode = "always"\n')
    ci = local_sigstore.github_env(sigstore_github_identity)
    result = build("build-no-isolation", project, env_for(ci, HATCH_ATTEST_MODE="never"))

    assert result.returncode == 0, result.output
    assert result.attestations() == []
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


@pytest.mark.parametrize("host", HOSTS)
def test_publisher_mismatch_skips_without_any_request(
    host: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    github_job_env: JobEnv,
) -> None:
    table = (
        'publisher = { kind = "github", repository = "upstream/simple-pkg", '
        'workflow = "release.yml" }\n'
    )
    project = make_host_project(tmp_path, host, table)
    result = build("build-no-isolation", project, github_job_env())

    assert result.returncode == 0, result.output
    assert result.attestations() == []
    assert "Not attesting:" in result.output
    assert "upstream/simple-pkg" in result.output
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


def _stale_attestation(path: Path) -> None:
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": path.name.split(".publish")[0], "digest": {"sha256": "0" * 64}}],
        "predicateType": PUBLISH_V1,
        "predicate": {},
    }
    body = {"envelope": {"statement": base64.b64encode(json.dumps(statement).encode()).decode()}}
    path.write_text(json.dumps(body))


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("with_identity", [False, True])
def test_stale_attestation_is_never_left_wrong(
    host: str,
    with_identity: bool,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    env_for: EnvFactory,
) -> None:
    project = make_host_project(tmp_path, host)
    dist = project / "dist"
    dist.mkdir()
    stale = [
        dist / "simple_pkg-1.0.0.tar.gz.publish.attestation",
        dist / "simple_pkg-1.0.0-py3-none-any.whl.slsa.attestation",
    ]
    for path in stale:
        _stale_attestation(path)
    ci = local_sigstore.github_env(sigstore_github_identity) if with_identity else {}

    result = build("build-no-isolation", project, env_for(ci))

    assert result.returncode == 0, result.output
    for path in stale:
        assert f"removed stale {path.name}" in result.output
    assert not stale[1].exists()
    if with_identity:
        assert_attested_by(
            result.artifacts(), sigstore_github_identity, local_sigstore.trust_config_path
        )
    else:
        assert result.attestations() == []


def test_hatch_clean_removes_attestations(
    tmp_path: Path,
    env_for: EnvFactory,
    github_job_env: JobEnv,
) -> None:
    project = make_project(tmp_path)
    first = build("hatch", project, github_job_env())
    assert first.returncode == 0, first.output
    assert len(first.attestations()) == 2

    second = build("hatch-clean", project, env_for())

    assert second.returncode == 0, second.output
    assert second.attestations() == []
    assert len(second.artifacts()) == 2


def test_invalid_configuration_fails_before_building(
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    env_for: EnvFactory,
) -> None:
    table = 'mdoe = "always"\ntimeout = "soon"\npublisher = { kind = "githbu" }\n'
    project = make_project(tmp_path, table)
    result = build("build-no-isolation", project, env_for())

    assert result.returncode != 0
    # The same header as the wrapper backend's (issue 17, first-hour defect 7).
    header = "hatch-attest: invalid configuration in pyproject.toml [tool.hatch.build.hooks.attest]"
    assert f"{header}:\n" in result.output
    assert 'tool.hatch.build.hooks.attest.mdoe: unknown option; did you mean "mode"?' in (
        result.output
    )
    assert "tool.hatch.build.hooks.attest.timeout:" in result.output
    assert "tool.hatch.build.hooks.attest.publisher.kind:" in result.output
    assert result.artifacts() == []


@pytest.mark.parametrize("fault", [Fault.hang(), Fault.trickle(0.25)], ids=["hang", "trickle"])
@pytest.mark.parametrize("host", HOSTS)
def test_hung_or_trickling_rekor_fails_the_build_within_the_budget(
    host: str,
    fault: Fault,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    env_for: EnvFactory,
) -> None:
    """Once an identity was obtained, `auto` fails rather than ship an unattested release.

    A trickling Rekor sends a byte before any read times out: only a deadline on the
    whole exchange ends it (it once made a `timeout = 10` build take 269 s).
    """
    project = make_host_project(tmp_path, host)
    local_sigstore.inject("rekor", fault)
    ci = local_sigstore.github_env(sigstore_github_identity)

    started = time.monotonic()
    result = build("build-no-isolation", project, env_for(ci, HATCH_ATTEST_TIMEOUT="3"))
    elapsed = time.monotonic() - started

    assert result.returncode != 0
    assert "hatch-attest: Rekor did not answer within the time budget" in result.output
    assert "the deadline (3 s, option `timeout`) ran out" in result.output
    assert "HATCH_ATTEST_TIMEOUT" in result.output
    assert result.attestations() == []
    # A whole Rekor answer is thousands of bytes; at the deadline, a few hundred went out.
    assert local_sigstore.bytes_sent()["rekor"] < 400
    assert elapsed < 3 + 30  # the budget, plus interpreter start-up and one sdist build


@pytest.mark.parametrize("host", HOSTS)
def test_transient_failures_are_retried_in_a_real_build(
    host: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    github_job_env: JobEnv,
) -> None:
    project = make_host_project(tmp_path, host)
    local_sigstore.inject("fulcio", Fault.status(503), times=1)
    result = build("build-no-isolation", project, github_job_env())

    assert result.returncode == 0, result.output
    assert len(result.attestations()) == 2
    assert local_sigstore.counts()["fulcio"] == 3  # two artifacts, one retry


def test_a_rekor_answer_lost_after_the_entry_landed_still_attests(
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    github_job_env: JobEnv,
) -> None:
    """The retried POST gets 409; the hook reads the logged entry back and uses it."""
    project = make_project(tmp_path)
    local_sigstore.inject("rekor", Fault.drop_after_processing(), times=1)
    result = build("build-no-isolation", project, github_job_env())

    assert result.returncode == 0, result.output
    artifacts = result.artifacts()
    assert len(result.attestations()) == len(artifacts) == 2
    assert_attested_by(artifacts, sigstore_github_identity, local_sigstore.trust_config_path)
    # The sdist: POST landed unanswered, 409, GET; then the wheel's plain POST.
    assert [(e.method, e.status) for e in local_sigstore.exchanges("rekor")] == [
        ("POST", None),
        ("POST", 409),
        ("GET", 200),
        ("POST", 201),
    ]


def test_concurrent_builds_into_one_dist_folder(
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    github_job_env: JobEnv,
) -> None:
    """Matrix jobs sharing a folder: every attestation matches the artifact beside it."""
    shared = tmp_path / "shared-dist"
    projects = [make_project(tmp_path / f"job{i}") for i in range(2)]
    for i, project in enumerate(projects):
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace("simple-pkg", f"simple-pkg-{i}"))
    env = github_job_env()
    runs = run_bounded_all(
        [[sys.executable, "-m", "build", "--no-isolation", "-o", shared, p] for p in projects],
        env=env,
        timeout=BUILD_TIMEOUT,
        merge_stderr=True,
    )
    outputs = [run.stdout for run in runs]
    print(*outputs, sep="\n")

    assert [run.returncode for run in runs] == [0, 0], outputs
    artifacts = sorted(p for p in shared.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    assert len(artifacts) == 4
    assert sorted(shared.glob("*.attestation")) == sorted(
        p.with_name(p.name + ".publish.attestation") for p in artifacts
    )
    assert_attested_by(artifacts, sigstore_github_identity, local_sigstore.trust_config_path)


def test_symlinked_dist_folder(
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    github_job_env: JobEnv,
) -> None:
    project = make_project(tmp_path)
    real = tmp_path / "elsewhere"
    real.mkdir()
    (project / "dist").symlink_to(real, target_is_directory=True)
    result = build("build-no-isolation", project, github_job_env())

    assert result.returncode == 0, result.output
    assert len(list(real.glob("*.publish.attestation"))) == 2
    assert_attested_by(
        result.artifacts(), sigstore_github_identity, local_sigstore.trust_config_path
    )


@pytest.fixture(scope="session")
def venv_without_signing_stack(
    wheelhouse: Path, tool_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A build environment with hatchling and hatch-attest, but not sigstore."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    env = base_env(wheelhouse, tool_home, {})
    uv = str(Path(sys.executable).parent / "uv")
    run_bounded(
        [uv, "venv", "-q", "--python", sys.executable, venv], env=env, check=True, timeout=60
    )
    run_bounded(
        [
            uv,
            "pip",
            "install",
            "-q",
            "--python",
            str(venv / "bin" / "python"),
            "hatchling",
            "build",
            "hatch-attest",
        ],
        env=env,
        check=True,
        timeout=BUILD_TIMEOUT,
    )
    return venv / "bin" / "python"


@pytest.mark.parametrize("mode", ["auto", "always"])
def test_no_isolation_without_the_signing_stack_names_what_to_install(
    mode: str,
    tmp_path: Path,
    venv_without_signing_stack: Path,
    local_sigstore: LocalSigstore,
    github_job_env: JobEnv,
) -> None:
    project = make_project(tmp_path, f'mode = "{mode}"\n')
    env = github_job_env()
    # -x: build's own dependency check would stop first (naming the same packages).
    proc = run_bounded(
        [venv_without_signing_stack, "-m", "build", "--no-isolation", "-x", "."],
        cwd=project,
        env=env,
        timeout=BUILD_TIMEOUT,
        merge_stderr=True,
    )
    print(proc.stdout)

    assert (
        "sigstore, pypi_attestations and yaml not installed in this build environment"
        in proc.stdout
    )
    assert "pip install 'sigstore>=4.5,<5' 'pypi-attestations>=0.0.30,<0.1' 'pyyaml>=6'" in (
        proc.stdout
    )
    if mode == "auto":
        assert proc.returncode == 0
        assert "Not attesting:" in proc.stdout
    else:
        assert proc.returncode != 0
        assert "cannot attest (mode = always)" in proc.stdout
    assert list((project / "dist").glob("*.attestation")) == []
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


@pytest.mark.parametrize("frontend", ["build", "uv", "hatch"])
def test_always_without_an_identity_fails_before_anything_is_built(
    frontend: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    env_for: EnvFactory,
) -> None:
    project = make_project(tmp_path, 'mode = "always"\n')

    result = build(frontend, project, env_for())

    assert result.returncode != 0
    assert "cannot attest (mode = always): no CI identity found" in result.output
    assert result.artifacts() == []
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


def test_idle_build_removes_attestations_with_any_content(
    tmp_path: Path, local_sigstore: LocalSigstore, env_for: EnvFactory
) -> None:
    project = make_project(tmp_path)
    dist = project / "dist"
    dist.mkdir()
    hostile = [
        dist / f"{artifact}.{kind}.attestation"
        for artifact in ("simple_pkg-1.0.0.tar.gz", "simple_pkg-1.0.0-py3-none-any.whl")
        for kind in HOSTILE
    ]
    for path in hostile:
        path.write_bytes(HOSTILE[path.name.removesuffix(".attestation").rsplit(".", 1)[1]])

    result = build("build-no-isolation", project, env_for())

    assert result.returncode == 0, result.output
    for path in hostile:
        assert f"removed stale {path.name}: unreadable or not an attestation" in result.output
    assert result.attestations() == []
    assert sorted(p.name for p in dist.iterdir()) == sorted(p.name for p in result.artifacts())
    assert "Traceback" not in result.output
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


ONLY_BUILDS = """\
name: Release
on: {push: {tags: ["v*"]}}
jobs:
  build:
    runs-on: ubuntu-latest
    permissions: {id-token: write}
    steps:
      - uses: actions/checkout@v4
      - run: uv build
      - uses: actions/upload-artifact@v4
        with: {name: dist, path: dist/}
"""


@pytest.mark.parametrize("mode", ["auto", "always"])
def test_a_workflow_that_does_not_upload_is_judged_before_anything_is_built(
    mode: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    env_for: EnvFactory,
) -> None:
    """Issue 15, 1: the frontend installs PyYAML with the signing stack; then the rule holds."""
    project = make_project(tmp_path, f'mode = "{mode}"\n')
    env = env_for(local_sigstore.github_env(sigstore_github_identity, workflow=ONLY_BUILDS))

    result = build("uv", project, env)

    line = (
        ".github/workflows/release.yml shows no upload to PyPI (no gh-action-pypi-publish, "
        "twine upload, uv publish, ... step), and PyPI accepts attestations only from the "
        "workflow that uploads. Sign in that workflow, or set `publisher` to sign here anyway"
    )
    if mode == "auto":
        assert result.returncode == 0, result.output
        assert f"Not attesting: {line}" in result.output
        assert sorted(p.suffix for p in result.artifacts()) == [".gz", ".whl"]
    else:
        assert result.returncode != 0
        assert f"cannot attest (mode = always): {line}" in result.output
        assert result.artifacts() == []  # refused before anything was built
    assert result.attestations() == []
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}
