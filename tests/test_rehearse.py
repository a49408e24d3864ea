"""``hatch-attest rehearse``: the user's own release, run offline against the local services.

The slow tests run the real command on copies of the example projects (and of
broken variants of them): real frontends build, the hook signs with the local
Sigstore, real twine/uv upload to the local index, which applies PyPI's rules.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from hatch_attest import _demo as demo
from hatch_attest import _rehearse as rehearse
from hatch_attest._cli import main
from hatch_attest._uploads import shell_builds
from hatch_attest_testing import LocalIndex, LocalSigstore, Refusal

from ._shared import gha_job
from .local_index.client import mint, upload

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# The build job of both releases: it keeps dist/ as the artifact `dist`.
BUILD_JOB = gha_job(
    "build",
    "uses: actions/checkout@v4",
    "run: python -m build",
    "uses: actions/upload-artifact@v4\n        with: { name: dist, path: dist/ }",
    permissions="{ contents: read, id-token: write }",
)
SPLIT_CI = "name: CI\non: push\njobs:\n" + BUILD_JOB
SPLIT_RELEASE = """\
name: Release
on:
  workflow_run: { workflows: [CI], types: [completed] }
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions: { id-token: write, actions: read }
    steps:
      - uses: actions/download-artifact@v4
        with:
          name: dist
          path: dist/
          run-id: ${{ github.event.workflow_run.id }}
          github-token: ${{ github.token }}
      - run: pipx run twine upload --attestations dist/*
"""
ACTION_RELEASE = (
    'name: Release\non: { push: { tags: ["v*"] } }\njobs:\n'
    + BUILD_JOB
    + """\
  publish:
    needs: build
    runs-on: ubuntu-latest
    permissions: { id-token: write }
    steps:
      - uses: actions/download-artifact@v4
        with: { name: dist, path: dist/ }
      - uses: pypa/gh-action-pypi-publish@release/v1
"""
)


def example(tmp_path: Path, name: str) -> Path:
    """A copy of ``examples/<name>``: the user's checkout."""
    project = tmp_path / name
    shutil.copytree(EXAMPLES / name, project)
    return project


def edit_pyproject(project: Path, edit: Callable[[str], str]) -> None:
    """Rewrite ``project``'s pyproject.toml with ``edit``."""
    pyproject = project / "pyproject.toml"
    pyproject.write_text(edit(pyproject.read_text()))


def rehearse_cli(project: Path) -> int:
    """``hatch-attest rehearse --project PROJECT``, in-process; its exit status."""
    return main(["rehearse", "--project", str(project)])


def action_release(tmp_path: Path) -> Path:
    """The github-actions example, released by gh-action-pypi-publish (ACTION_RELEASE)."""
    project = example(tmp_path, "github-actions")
    (project / ".github" / "workflows" / "release.yml").write_text(ACTION_RELEASE)
    return project


def file_verdicts(lines: list[str]) -> list[str]:
    """The rehearsal's verdict on each file of demo-pkg: one for the wheel, one for the sdist."""
    verdicts = [ln for ln in lines if ln.startswith("  demo_pkg-")]
    assert len(verdicts) == 2
    return verdicts


def snapshot(project: Path) -> dict[str, bytes]:
    return {str(p.relative_to(project)): p.read_bytes() for p in project.rglob("*") if p.is_file()}


def run(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    status = main(["rehearse", "--project", str(project), *args])
    out = capsys.readouterr().out
    print(out)  # for the failure report (and the credential scan)
    return status, out.splitlines()


def split_layout(tmp_path: Path, uploader: str = "pipx run twine upload --attestations") -> Path:
    """ci.yml builds, release.yml downloads its artifacts and uploads (twine by default)."""
    project = example(tmp_path, "github-actions")
    workflows = project / ".github" / "workflows"
    (workflows / "ci.yml").write_text(SPLIT_CI)
    release = SPLIT_RELEASE.replace("pipx run twine upload --attestations", uploader)
    (workflows / "release.yml").write_text(release)
    return project


def typo(tmp_path: Path, *, mode_always: bool) -> Path:
    """`publisher` names relase.yml; release.yml builds and uploads."""
    project = example(tmp_path, "github-actions")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"release.yml"', '"relase.yml"'))
    if not mode_always:
        workflow = project / ".github" / "workflows" / "release.yml"
        lines = workflow.read_text().splitlines()
        kept = [ln for ln in lines if "HATCH_ATTEST_MODE" not in ln and ln.strip() != "env:"]
        workflow.write_text("\n".join(kept) + "\n")
    return project


def failed_typo_rehearsal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *, mode_always: bool
) -> list[str]:
    """The rehearsal of `typo`'s project, checked to fail (exit 1, last line); its lines."""
    status, lines = run(typo(tmp_path, mode_always=mode_always), capsys)
    assert status == 1
    assert lines[-1].startswith("REHEARSAL FAILED")
    return lines


# --- what is read, before anything runs ------------------------------------------------


def test_build_commands_are_recognised() -> None:
    script = (
        "python -m pip install build\n"
        "python3 -m build --sdist && uv build --wheel\n"
        "pyproject-build\n"
        "hatch build -t wheel  # comment: uv build\n"
        "pipx run cibuildwheel\n"
        "uv pip install build; echo build"
    )
    found = [(b.frontend, b.command) for b in shell_builds(script, "here", env={"A": "x"})]
    assert found == [
        ("build", "python3 -m build --sdist"),
        ("uv", "uv build --wheel"),
        ("build", "pyproject-build"),
        ("hatch", "hatch build -t wheel"),
        ("cibuildwheel", "pipx run cibuildwheel"),
    ]


def test_readers_note_builds_in_called_workflows_and_cibuildwheel(tmp_path: Path) -> None:
    from hatch_attest._kinds.github_workflow import read_workflow
    from hatch_attest._kinds.gitlab_ci import read_config

    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "release.yml").write_text(
        "on: push\n"
        "jobs:\n"
        "  wheels:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: pypa/cibuildwheel@v3.1.4\n"
        "  sdist:\n"
        "    uses: ./.github/workflows/sdist.yml\n"
    )
    (workflows / "sdist.yml").write_text(
        "on: workflow_call\n"
        "jobs:\n"
        "  sdist:\n"
        "    runs-on: ubuntu-latest\n"
        "    env: { HATCH_ATTEST_MODE: always, TOKEN: '${{ secrets.X }}' }\n"
        "    steps:\n"
        "      - run: uv build --sdist\n"
    )
    (tmp_path / ".gitlab-ci.yml").write_text(
        "build:\n"
        "  variables: { HATCH_ATTEST_PREDICATE: publish }\n"
        "  script: [python -m pip install build, python -m build]\n"
    )
    github = read_workflow(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": "o/r",
            "GITHUB_WORKFLOW_REF": "o/r/.github/workflows/release.yml@refs/tags/v1",
            "GITHUB_WORKSPACE": str(tmp_path),
        },
        cwd=tmp_path,
    )
    gitlab = read_config({"GITLAB_CI": "true", "CI_PROJECT_DIR": str(tmp_path)}, cwd=tmp_path)

    assert [(b.where, b.frontend, b.command, b.env) for b in github.builds] == [
        ("job `wheels` of .github/workflows/release.yml", "cibuildwheel",
         "pypa/cibuildwheel@v3.1.4", ()),
        ("job `sdist` of .github/workflows/sdist.yml", "uv", "uv build --sdist",
         (("HATCH_ATTEST_MODE", "always"),)),
    ]  # fmt: skip
    assert [(b.where, b.frontend, b.command, b.env) for b in gitlab.builds] == [
        ("job `build` of .gitlab-ci.yml", "build", "python -m build",
         (("HATCH_ATTEST_PREDICATE", "publish"),)),
    ]  # fmt: skip


def test_index_keeps_each_refusal_with_its_reason(
    tmp_path: Path, local_sigstore: LocalSigstore, local_index: LocalIndex
) -> None:
    """What the rehearsal reports per file: the index's own words, whatever the uploader shows."""
    wheel = tmp_path / "demo_pkg-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK a wheel")
    token = local_sigstore.mint_github_token(audience="pypi")

    assert upload(local_index, None, wheel).status == 403
    assert mint(local_index, token).status == 422

    assert local_index.refusals() == [
        Refusal(
            "upload",
            403,
            "Invalid or non-existent authentication information. "
            "See https://pypi.org/help/#invalid-auth for more information.",
            wheel.name,
        ),
        Refusal(
            "mint-token",
            422,
            "invalid-publisher: valid token, but no corresponding publisher "
            "(Publisher with matching claims was not found)",
        ),
    ]
    local_index.reset()
    assert local_index.refusals() == []


def test_plan_reads_the_example_release(tmp_path: Path) -> None:
    plan = rehearse.plan(example(tmp_path, "github-actions"))

    assert (plan.build_workflow, plan.upload_workflow) == ("release.yml", "release.yml")
    assert (plan.frontend, plan.uploader) == ("uv", "uv")
    assert plan.build is not None
    assert dict(plan.build.env) == {"HATCH_ATTEST_MODE": "always"}
    assert plan.publisher.describe() == "GitHub repository octo-org/demo-pkg, workflow release.yml"
    assert plan.problems == []


def test_plan_frontend_flag_and_hatch(tmp_path: Path) -> None:
    project = example(tmp_path, "github-actions")

    assert rehearse.plan(project, frontend="build").frontend == "build"
    hatch = rehearse.plan(project, frontend="hatch")
    assert hatch.frontend == "build"
    assert any("`hatch build` installs its build environment" in n for n in hatch.notes)


def test_plan_flags_a_build_in_a_workflow_that_does_not_upload(tmp_path: Path) -> None:
    plan = rehearse.plan(split_layout(tmp_path))

    assert (plan.build_workflow, plan.upload_workflow) == ("ci.yml", "release.yml")
    assert plan.problems == [
        "the build runs in ci.yml, which does not upload; PyPI checks attestations against "
        "release.yml, the workflow that uploads, and would reject attestations made in ci.yml. "
        "Build and upload in one workflow"
    ]


def test_plan_names_where_hatch_publish_plugs_in(tmp_path: Path) -> None:
    project = example(tmp_path, "github-actions")
    workflow = project / ".github" / "workflows" / "release.yml"
    workflow.write_text(
        workflow.read_text().replace(
            "uv publish --trusted-publishing always", "hatch publish -p attest"
        )
    )

    plan = rehearse.plan(project)

    assert plan.upload is not None
    assert (plan.upload.tool, plan.upload.token) == ("hatch publish", None)
    assert plan.uploader == "twine"
    assert plan.notes == [
        "the release uploads with `hatch publish`; the rehearsal uploads with twine upload "
        "--attestations (the same Trusted Publishing upload)"
    ]


def test_gitlab_publisher_naming_a_missing_configuration_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = example(tmp_path, "gitlab-ci")
    edit_pyproject(project, lambda text: text.replace('".gitlab-ci.yml"', '"ci/release.yml"'))

    status = rehearse_cli(project)

    assert status == 1
    assert capsys.readouterr().err.splitlines() == [
        "hatch-attest: error: cannot rehearse: `publisher` names "
        f"ci/release.yml, which is not in {project}; set its workflow-filepath to the "
        "configuration that uploads (GitLab's default: .gitlab-ci.yml)"
    ]


def test_missing_build_backend_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def without_backend(text: str) -> str:
        text = re.sub(
            r'requires = \["hatchling[^"]*", "hatch-attest"\]\nbuild-backend = "hatchling.build"',
            'requires = ["no-such-backend-here>=1", "hatch-attest"]\n'
            'build-backend = "no_such_backend_here.api"',
            text,
        )
        assert "no_such_backend_here" in text
        return text

    project = example(tmp_path, "github-actions")
    edit_pyproject(project, without_backend)
    before = snapshot(project)

    status = rehearse_cli(project)

    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "hatch-attest: error: cannot rehearse: the build backend no_such_backend_here.api is "
        "not importable here, and the rehearsal builds offline with this environment's "
        "packages; install 'no-such-backend-here>=1' into it (pip install "
        "'no-such-backend-here>=1')"
    ]
    assert snapshot(project) == before


def test_unknown_publisher_exits_1_saying_what_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No `publisher`, and the only workflow uploads with a token: PyPI's publisher is unknown."""
    project = example(tmp_path, "github-actions")
    edit_pyproject(
        project,
        lambda text: "\n".join(ln for ln in text.splitlines() if "publisher" not in ln) + "\n",
    )
    workflow = project / ".github" / "workflows" / "release.yml"
    workflow.write_text(
        workflow.read_text().replace(
            "uv publish --trusted-publishing always", "uv publish --token ${{ secrets.PYPI }}"
        )
    )

    status = rehearse_cli(project)

    captured = capsys.readouterr()
    assert status == 1
    [line] = captured.err.splitlines()
    assert "no workflow in" in line
    assert "uploads to PyPI with Trusted Publishing" in line
    assert 'Set `publisher = { kind = "github", repository = "octo-org/demo-pkg"' in line


def test_help_states_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rehearse", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Exit status: 0 only when every file would be accepted WITH attestations" in text


# --- the real thing ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["github-actions", "gitlab-ci", "setuptools"])
def test_examples_would_be_accepted(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = example(tmp_path, name)
    before = snapshot(project)

    status, lines = run(project, capsys)

    assert status == 0
    assert lines[0] == rehearse.FIRST_LINE
    assert lines[-1] == (
        "REHEARSAL PASSED: every file would be accepted with its attestations "
        "(local Sigstore, local index; nothing was published)."
    )
    verdicts = [line for line in lines if line.startswith("  ") and ": accepted" in line]
    assert len(verdicts) == 2
    assert all(line.endswith(": accepted, with attestations (publish/v1)") for line in verdicts)
    assert not any(line.startswith("Problem:") for line in lines)
    # The user's tree is only read.
    assert snapshot(project) == before


@pytest.mark.slow
def test_requests_stay_on_the_local_services(tmp_path: Path) -> None:
    plan = rehearse.plan(example(tmp_path, "github-actions"))
    said: list[str] = []

    result = rehearse.rehearse(plan, say=said.append)

    assert result.status == 0
    assert [f.attestations for f in result.files] == [
        ("https://docs.pypi.org/attestations/publish/v1",)
    ] * 2
    # One certificate and one log entry per artifact, one token exchange and one
    # upload per file: everything the release needs, answered on 127.0.0.1.
    assert result.sigstore_counts["fulcio"] == 2
    assert result.sigstore_counts["rekor"] == 2
    assert result.index_counts["mint-token"] == 2
    assert result.index_counts["upload"] == 2


@pytest.mark.slow
def test_build_in_a_workflow_that_does_not_upload_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, lines = run(split_layout(tmp_path), capsys)

    assert status == 1
    assert lines[0] == rehearse.FIRST_LINE
    assert lines[-1].startswith("REHEARSAL FAILED")
    assert (
        "Problem: the build runs in ci.yml, which does not upload; PyPI checks attestations "
        "against release.yml, the workflow that uploads, and would reject attestations made "
        "in ci.yml. Build and upload in one workflow"
    ) in lines
    # The hook skipped signing in ci.yml; release.yml's `twine upload --attestations` then
    # stops, as it would in the real release.
    assert any("Not attesting: expected workflow release.yml, found ci.yml" in ln for ln in lines)
    assert [ln.split(": ", 2)[1] for ln in file_verdicts(lines)] == ["NOT UPLOADED"] * 2
    assert any("has no associated attestations" in ln for ln in lines)


@pytest.mark.slow
def test_build_in_a_workflow_that_does_not_upload_uploads_without_attestations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With uv publish the release goes out, unattested: still a failed rehearsal."""
    project = split_layout(tmp_path, "uv publish --trusted-publishing always")

    status, lines = run(project, capsys)

    assert status == 1
    verdicts = file_verdicts(lines)
    assert all(
        ln.endswith(": accepted, but uploaded WITHOUT attestations (the build made none)")
        for ln in verdicts
    )
    assert any(ln.startswith("Problem: the build runs in ci.yml") for ln in lines)
    assert lines[-1].startswith("REHEARSAL FAILED")


@pytest.mark.slow
def test_publisher_typo_is_rejected_with_the_index_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = failed_typo_rehearsal(tmp_path, capsys, mode_always=False)

    assert lines[0] == rehearse.FIRST_LINE
    verdicts = file_verdicts(lines)
    assert all(
        ln.endswith(
            ": REJECTED: Trusted Publishing: 422 invalid-publisher: valid token, but no "
            "corresponding publisher (Publisher with matching claims was not found)"
        )
        for ln in verdicts
    )
    assert (
        "Problem: `publisher` names the workflow relase.yml (no such file in "
        ".github/workflows), but release.yml uploads to PyPI: PyPI accepts attestations only "
        "from the Trusted Publisher that uploads. Fix `publisher` (and the Trusted Publisher "
        "on PyPI) to name release.yml"
    ) in lines


@pytest.mark.slow
def test_publisher_typo_in_always_mode_fails_the_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = failed_typo_rehearsal(tmp_path, capsys, mode_always=True)

    assert any(ln.startswith("Problem: the build failed (exit ") for ln in lines)
    assert any("expected workflow relase.yml, found release.yml" in ln for ln in lines)
    assert "  nothing was uploaded" in lines


@pytest.mark.slow
def test_gh_action_pypi_publish_flow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The build signs SLSA provenance beside the action, which signs its publish attestation."""
    project = action_release(tmp_path)

    status, lines = run(project, capsys)

    assert status == 0, lines
    verdicts = file_verdicts(lines)
    assert all(
        ln.endswith("accepted, with attestations (slsa.dev/provenance/v1, publish/v1)")
        or ln.endswith("accepted, with attestations (publish/v1, slsa.dev/provenance/v1)")
        for ln in verdicts
    ), verdicts


@pytest.mark.slow
def test_gh_action_pypi_publish_refuses_a_publish_attestation_from_the_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = action_release(tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'predicate = "publish"\n')

    status, lines = run(project, capsys)

    assert status == 1
    verdicts = file_verdicts(lines)
    refused = (
        ": NOT UPLOADED: gh-action-pypi-publish fails: "
        '"The following distributions already have publish attestations: '
    )
    assert all(refused in ln for ln in verdicts), verdicts


@pytest.mark.slow
def test_project_in_a_subfolder_of_the_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A monorepo: the workflows live at the repository's root, the project below it."""
    repository = tmp_path / "repo"
    repository.mkdir()
    (repository / ".git").mkdir()
    project = example(repository, "github-actions")
    shutil.move(project / ".github", repository / ".github")
    workflow = repository / ".github" / "workflows" / "release.yml"
    workflow.write_text(
        workflow.read_text().replace("- run: uv build", "- run: cd github-actions && uv build")
    )
    before = snapshot(repository)

    status, lines = run(project, capsys)

    assert status == 0, lines
    assert snapshot(repository) == before


# --- a hung step is stopped whole (issue 16, 7) -------------------------------------

# A frontend in miniature: it starts a build backend that would outlive it, keeps the
# pipes open through it, and hangs.
HANGING_FRONTEND = """
import subprocess, sys, time
backend = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
with open(sys.argv[1], "w") as f:
    f.write(str(backend.pid))
print("building", flush=True)
time.sleep(120)
"""


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (killed, not yet reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] not in "ZX"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.parametrize("module", [rehearse, demo])
def test_a_hung_step_is_stopped_with_the_backend_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: ModuleType
) -> None:
    """A step past its time is reported as such, and leaves no build backend running."""
    monkeypatch.setattr(module, "STEP_TIMEOUT_SECONDS", 2)
    pid_file = tmp_path / "backend.pid"
    argv = [sys.executable, "-c", HANGING_FRONTEND, str(pid_file)]

    if module is rehearse:
        status, output = rehearse._run(argv, tmp_path, dict(os.environ))
        assert output == ""
    else:
        status = demo._subprocess(argv, tmp_path, dict(os.environ))

    assert module._outcome(status) == "no result within 2 s"
    backend = int(pid_file.read_text())
    try:
        for _ in range(50):  # bounded: SIGKILL is delivered at once, the reaping may lag
            if not _running(backend):
                break
            time.sleep(0.1)
        assert not _running(backend)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(backend, signal.SIGKILL)
