"""What a new user hits in the first hour, as they see it (issue 11, section 4)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from hatch_attest._cli import main
from hatch_attest._files import attestation_path
from hatch_attest._redact import REDACTED
from hatch_attest_testing import Cli, GitHubIdentity, LocalSigstore, fake_wheel, run_bounded
from hatch_attest_testing.pytest_plugin import CIJob

REPO = Path(__file__).resolve().parents[1]
SUBPROCESS_TIMEOUT = 120
INSTALL_CLI = "pip install 'hatch-attest[cli]'"

NO_REQUESTS = {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


# No CI identity here; the conftest starts each test in an empty folder.
pytestmark = pytest.mark.usefixtures("sigstore_no_ci")


@pytest.fixture
def sigstore_github_identity() -> GitHubIdentity:
    """`sigstore_github_job` runs in the repository that the tests' pyproject.toml files name."""
    return GitHubIdentity(repository="octo-org/first-hour")


def _wheel(tmp_path: Path) -> Path:
    return fake_wheel(tmp_path / "dist", "first_hour", size=64)


def test_a_typo_in_the_workflow_is_a_warning_that_says_what_differs(
    tmp_path: Path,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    Path("pyproject.toml").write_text(
        "[tool.hatch.build.hooks.attest]\n"
        'publisher = { kind = "github", repository = "octo-org/first-hour", '
        'workflow = "relase.yml" }\n'
    )
    wheel = _wheel(tmp_path)

    status, _, err = local_sign("--mode", "auto", wheel)

    assert status == 0
    assert err == (
        "hatch-attest: warning: Not attesting: expected workflow relase.yml, found release.yml "
        "(GITHUB_WORKFLOW_REF): this job of the project's own repository is not the Trusted "
        "Publisher, and PyPI would reject its attestations. Build in the publishing workflow, "
        "or correct `publisher`\n"
    )
    assert "somebody else" not in err
    assert not attestation_path(wheel).exists()
    assert local_sigstore.counts() == NO_REQUESTS


def test_another_repository_is_an_info_line_about_somebody_elses_ci(
    tmp_path: Path,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    wheel = _wheel(tmp_path)

    status, _, err = local_sign(
        "--mode", "auto", "--publisher", "github:octo-org/the-original@release.yml", wheel
    )

    assert status == 0
    assert err == (
        "Not attesting: expected GitHub repository octo-org/the-original, found "
        "octo-org/first-hour (GITHUB_REPOSITORY); not signing as somebody else's CI\n"
    )
    assert local_sigstore.counts() == NO_REQUESTS


def test_a_relative_trust_config_variable_is_refused_before_any_request(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: Cli,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    monkeypatch.setenv("HATCH_ATTEST_TRUST_CONFIG", "ci/trust.json")
    wheel = _wheel(tmp_path)

    status, _, err = cli("sign", wheel)

    assert status == 2
    assert err == (
        "hatch-attest: error: HATCH_ATTEST_TRUST_CONFIG: must be an absolute path, not "
        '"ci/trust.json": build frontends run each build step in a folder of their own, so a '
        'relative path names a different file in each; use e.g. "$PWD/ci/trust.json"\n'
    )
    assert local_sigstore.counts() == NO_REQUESTS


def test_an_unreadable_trust_config_is_found_before_the_token_is_requested(
    tmp_path: Path,
    cli: Cli,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    wheel = _wheel(tmp_path)

    status, _, err = cli("sign", "--trust-config", tmp_path / "missing.json", wheel)

    assert status == 1
    assert err.startswith("hatch-attest: error: cannot read the Sigstore trust config")
    assert local_sigstore.counts() == NO_REQUESTS


# --- Issue 17, first-hour defects -------------------------------------------------------


def _plain_install(tmp_path: Path, argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run the CLI as a plain `pip install hatch-attest` has it: no `[cli]` extra.

    `python -S` leaves site-packages (sigstore, pypi-attestations, ...) off the path;
    the package and its one dependency, packaging, are put back on it.
    """
    deps = tmp_path / "plain-install"
    deps.mkdir()
    # What `pip install hatch-attest` installs besides it (tomli below Python 3.11).
    for name in ("packaging", "tomli"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin is not None:
            (deps / name).symlink_to(Path(spec.origin).parent)
    env = {**env, "PYTHONPATH": os.pathsep.join([str(REPO), str(deps)])}
    result = run_bounded(
        [sys.executable, "-S", "-m", "hatch_attest", *argv],
        env=env,
        cwd=tmp_path,
        timeout=SUBPROCESS_TIMEOUT,
    )
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["verify", "--publisher", "github:octo-org/first-hour@release.yml", "dist"],
        ["inspect", "dist"],
        ["convert", "--publisher", "github:octo-org/first-hour@release.yml", "x.sigstore.json"],
    ],
    ids=["verify", "inspect", "convert"],
)
def test_a_plain_install_names_the_extra_to_install(argv: list[str], tmp_path: Path) -> None:
    _wheel(tmp_path)

    status, out, err = _plain_install(tmp_path, argv, dict(os.environ))

    assert (status, out) == (1, "")
    assert "Traceback" not in err
    assert re.fullmatch(
        r"hatch-attest: error: \w+ is not installed: the `hatch-attest` command needs the "
        rf"`cli` extra; install it with: {re.escape(INSTALL_CLI)}\n",
        err,
    ), err


def test_a_plain_install_names_the_testing_distribution_for_the_demo(tmp_path: Path) -> None:
    status, out, err = _plain_install(tmp_path, ["demo"], dict(os.environ))

    assert (status, out) == (1, "")
    assert err == (
        "hatch-attest: error: hatch-attest-testing is not installed: `hatch-attest demo` and "
        "`rehearse` run its local Sigstore and index; it is not on an index yet, so install it "
        "from a checkout of hatch-attest: pip install -e ./testing -e '.[demo]'\n"
    )


def test_a_plain_install_signing_in_a_job_names_the_extra_not_a_build(
    tmp_path: Path, local_sigstore: LocalSigstore, sigstore_github_job: GitHubIdentity
) -> None:
    wheel = _wheel(tmp_path)

    status, out, err = _plain_install(tmp_path, ["sign", str(wheel)], dict(os.environ))

    assert (status, out) == (1, "")
    assert err == (
        "hatch-attest: error: cannot attest (mode = always): sigstore, pypi_attestations "
        f"and yaml not installed; install them with: {INSTALL_CLI}\n"
    )
    assert local_sigstore.counts() == NO_REQUESTS


def test_inspect_never_says_to_delete_a_file_that_is_not_an_attestation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("pyproject.toml").write_text('[project]\nname = "first-hour"\n')

    status = main(["inspect", "pyproject.toml"])
    out, err = capsys.readouterr()

    assert (status, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith("hatch-attest: error: pyproject.toml is not a PEP 740 attestation (")
    assert line.endswith(
        "; give attestation files (<dist>.<kind>.attestation), distributions (to see their "
        "attestations) or folders"
    )
    assert "Delete" not in err
    assert Path("pyproject.toml").exists()


def _hook(root: Path, table: dict[str, object]) -> object:
    """The hook as hatchling makes it in a `python -m build` (its own `app`)."""
    from hatchling.metadata.core import ProjectMetadata

    from hatch_attest._build_hook import AttestBuildHook

    (root / "pyproject.toml").write_text(
        '[project]\nname = "first-hour"\nversion = "1.0"\n'
        "[project.urls]\nSource = 'https://github.com/octo-org/first-hour'\n"
    )
    metadata: ProjectMetadata[Any] = ProjectMetadata(str(root), None)
    return AttestBuildHook(str(root), table, None, metadata, str(root / "dist"), "wheel")


def test_a_workflow_typo_in_a_build_is_a_warning_not_a_laptop_skip(
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    table: dict[str, object] = {
        "publisher": {
            "kind": "github",
            "repository": "octo-org/first-hour",
            "workflow": "relase.yml",
        }
    }
    wheel = _wheel(tmp_path)
    hook = _hook(tmp_path, table)

    hook.finalize("standard", {}, str(wheel))  # type: ignore[attr-defined]
    out, err = capfd.readouterr()

    assert out + err == (
        "hatch-attest: warning: Not attesting: expected workflow relase.yml, found release.yml "
        "(GITHUB_WORKFLOW_REF): this job of the project's own repository is not the Trusted "
        "Publisher, and PyPI would reject its attestations. Build in the publishing workflow, "
        "or correct `publisher`\n"
    )
    assert not attestation_path(wheel).exists()
    # In `always` it still fails, before anything is built.
    always = _hook(tmp_path, {**table, "mode": "always"})
    with pytest.raises(SystemExit):
        always.initialize("standard", {})  # type: ignore[attr-defined]
    assert "hatch-attest: cannot attest (mode = always): expected workflow relase.yml" in (
        "".join(capfd.readouterr())
    )
    assert local_sigstore.counts() == NO_REQUESTS


def test_verify_offline_on_a_laptop_suggests_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # sigstore cannot set up its TUF folders here, so the refresh fails at once,
    # as it does without a network, and without asking anyone.
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "not-a-folder"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    wheel = _wheel(tmp_path)

    status = main(["verify", "--publisher", "github:octo-org/first-hour@release.yml", str(wheel)])
    out, err = capsys.readouterr()

    assert (status, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith(
        "hatch-attest: error: cannot load the Sigstore production trust root from its TUF "
        "repository: "
    )
    assert line.endswith(
        "Check the network access to tuf-repo-cdn.sigstore.dev, or pass --offline to verify "
        "with the cached trust root."
    )
    assert "the job's network" not in line


def test_naming_a_file_that_is_not_a_distribution_is_misuse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("README.md").write_text("# first hour\n")

    status = main(["sign", "README.md"])
    out, err = capsys.readouterr()

    assert (status, out) == (2, "")
    assert err == (
        "skipping README.md: not a wheel or sdist\n"
        "hatch-attest: error: README.md: not a wheel or sdist; sign takes distribution files "
        "(*.whl, *.tar.gz), folders that hold them, or globs\n"
    )


@pytest.mark.parametrize("name", ["hatch_attest", "hatch-attests", "Hatch-Attest"])
def test_a_misspelt_wrapper_table_gets_a_did_you_mean(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("pyproject.toml").write_text(f'[tool.{name}]\nbuild-backend = "setuptools.build_meta"\n')
    wheel = _wheel(tmp_path)

    status = main(["sign", str(wheel)])
    out, err = capsys.readouterr()

    assert (status, out) == (2, "")
    assert err == (
        f"hatch-attest: error: {Path.cwd() / 'pyproject.toml'}: hatch-attest does not read "
        f"[tool.{name}]; did you mean [tool.hatch-attest]?\n"
    )


def _backend_project(root: Path, table: str) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [build-system]
            requires = ["setuptools", "hatch-attest"]
            build-backend = "hatch_attest.backend"

            [project]
            name = "first-hour"
            version = "1.0"

            [tool.hatch-attest]
            build-backend = "setuptools.build_meta"
            """
        )
        + table
    )
    return root


def _wrapper_build(root: Path) -> subprocess.CompletedProcess[str]:
    """The wrapper's ``build_wheel``, in a fresh process in the project, as frontends run it."""
    script = "import sys, hatch_attest.backend as b; b.build_wheel(sys.argv[1])"
    return run_bounded(
        [sys.executable, "-c", script, root / "dist"], cwd=root, timeout=SUBPROCESS_TIMEOUT
    )


def test_both_build_doors_head_configuration_errors_alike(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    wrapper = _wrapper_build(_backend_project(tmp_path / "wrapper", 'mdoe = "always"\n'))
    hook = _hook(tmp_path, {"mdoe": "always"})
    with pytest.raises(SystemExit):
        hook.initialize("standard", {})  # type: ignore[attr-defined]
    hooked = "".join(capfd.readouterr())

    assert wrapper.returncode == 1
    assert wrapper.stderr == (
        "hatch-attest: invalid configuration in pyproject.toml [tool.hatch-attest]:\n"
        '  tool.hatch-attest.mdoe: unknown option; did you mean "mode"?\n'
    )
    assert hooked == (
        "hatch-attest: invalid configuration in pyproject.toml [tool.hatch.build.hooks.attest]:\n"
        '  tool.hatch.build.hooks.attest.mdoe: unknown option; did you mean "mode"?\n'
    )


def test_a_wrapper_backend_failure_prints_a_token_fragment_redacted(
    tmp_path: Path, local_sigstore: LocalSigstore, sigstore_ci_job: CIJob
) -> None:
    env = local_sigstore.github_env(GitHubIdentity(repository="octo-org/first-hour"))
    # A message that quotes the environment: here a workflow reference that holds a
    # piece of the job's request token (a runner misconfiguration, say).
    fragment = env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"][:20]
    env["GITHUB_WORKFLOW_REF"] = (
        f"octo-org/first-hour/.github/workflows/{fragment}.yml@refs/heads/main"
    )
    sigstore_ci_job(env)
    root = _backend_project(
        tmp_path / "wrapper",
        'mode = "always"\npublisher = { kind = "github", repository = "octo-org/first-hour", '
        'workflow = "release.yml" }\n',
    )

    result = _wrapper_build(root)

    assert result.returncode == 1
    assert result.stderr.startswith(
        "hatch-attest: cannot attest (mode = always): expected workflow release.yml, found "
        f"{REDACTED}.yml (GITHUB_WORKFLOW_REF)"
    )
    assert fragment[:16] not in result.stdout + result.stderr
    assert not (root / "dist").exists()
    assert local_sigstore.counts() == NO_REQUESTS


def _build_steps_without_always(path: Path) -> list[str]:
    """The steps (GitHub) or jobs (GitLab) of a recipe that build without `mode = always`."""
    import yaml

    document = yaml.safe_load(path.read_text())
    if path.name == ".gitlab-ci.yml":
        units = [
            (name, job, job.get("script", []))
            for name, job in document.items()
            if isinstance(job, dict) and "script" in job
        ]
        return [
            name
            for name, job, script in units
            if any("build" in line and "publish" not in line for line in script)
            and job.get("variables", {}).get("HATCH_ATTEST_MODE") != "always"
        ]
    missing = []
    for name, job in document["jobs"].items():
        for step in job.get("steps", []):
            command = step.get("run", "")
            if "build" in command.split() or "cibuildwheel" in command:
                mode = {**job.get("env", {}), **step.get("env", {})}.get("HATCH_ATTEST_MODE")
                if mode != "always":
                    missing.append(f"{name}: {command}")
    return missing


@pytest.mark.parametrize(
    "recipe",
    sorted(
        str(p.relative_to(REPO))
        for p in [
            *REPO.glob("examples/*/.github/workflows/*.yml"),
            *REPO.glob("examples/*/.gitlab-ci.yml"),
        ]
    ),
)
def test_every_example_builds_with_mode_always_as_the_readme_says(recipe: str) -> None:
    assert _build_steps_without_always(REPO / recipe) == []


def test_a_misspelt_wrapper_table_fails_the_build_with_a_did_you_mean(tmp_path: Path) -> None:
    root = tmp_path / "wrapper"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools", "hatch-attest"]\n'
        'build-backend = "hatch_attest.backend"\n\n'
        '[project]\nname = "first-hour"\nversion = "1.0"\n\n'
        '[tool.hatch_attest]\nbuild-backend = "setuptools.build_meta"\n'
    )

    result = _wrapper_build(root)

    assert result.returncode == 1
    assert result.stderr == (
        "hatch-attest: invalid configuration in pyproject.toml [tool.hatch-attest]:\n"
        f"  {root / 'pyproject.toml'}: hatch-attest does not read [tool.hatch_attest]; did you "
        "mean [tool.hatch-attest]?\n"
    )
    assert not (root / "dist").exists()
