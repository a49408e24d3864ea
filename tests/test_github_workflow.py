"""Reading the job's GitHub workflow: which predicate `auto` needs, and whether PyPI can accept.

`auto` needs to know whether the workflow publishes with gh-action-pypi-publish
signing its own attestations; the topology rule (issue 15, 1 and 5) needs to know
where and how it uploads.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from hatch_attest._attest import signing_stack_missing
from hatch_attest._kinds.github_workflow import topology_skip, workflow_uses_pypi_publish_action
from hatch_attest_testing import run_bounded

from ._shared import BUILD_STEPS, RELEASE_ON_TAGS, UPLOAD_DIST, gha_job, write

# The PyPA guide's workflow ("Publishing package distribution releases using GitHub
# Actions CI/CD workflows"): build once, publish to PyPI on tags and to TestPyPI.
GUIDE = """\
name: Publish Python 🐍 distribution 📦 to PyPI and TestPyPI

on: push

jobs:
  build:
    name: Build distribution 📦
    runs-on: ubuntu-latest

    steps:
    - uses: actions/checkout@v4
      with:
        persist-credentials: false
    - name: Set up Python
      uses: actions/setup-python@v5
      with:
        python-version: "3.x"
    - name: Install pypa/build
      run: >-
        python3 -m
        pip install
        build
        --user
    - name: Build a binary wheel and a source tarball
      run: python3 -m build
    - name: Store the distribution packages
      uses: actions/upload-artifact@v4
      with:
        name: python-package-distributions
        path: dist/

  publish-to-pypi:
    name: >-
      Publish Python 🐍 distribution 📦 to PyPI
    if: startsWith(github.ref, 'refs/tags/')  # only publish to PyPI on tag pushes
    needs:
    - build
    runs-on: ubuntu-latest
    environment:
      name: pypi
      url: https://pypi.org/p/<package-name>  # Replace <package-name> with your PyPI project name
    permissions:
      id-token: write  # IMPORTANT: mandatory for trusted publishing

    steps:
    - name: Download all the dists
      uses: actions/download-artifact@v4
      with:
        name: python-package-distributions
        path: dist/
    - name: Publish distribution 📦 to PyPI
      uses: pypa/gh-action-pypi-publish@release/v1
"""

# A build job that signs with hatch-attest, and a publish job with the options
# that gh-action-pypi-publish users set; ATTESTATIONS is replaced per test.
WITH_OPTIONS = """\
name: Release
on:
  push:
    tags: ["v*"]
  workflow_dispatch:
    inputs:
      attest: {type: boolean, default: true}
permissions: {}
jobs:
""" + gha_job("build", "uses: actions/checkout@v4", """\
run: |
          # Not a step: a script that mentions the action.
          echo "uses: pypa/gh-action-pypi-publish@release/v1"
          pipx run build""", UPLOAD_DIST) + """\
  publish:
    needs: [build]
    runs-on: ubuntu-latest
    environment: {name: pypi, url: "https://pypi.org/p/demo-pkg"}
    permissions:
      id-token: write
    steps:
      - uses: actions/download-artifact@v4
        with:
          name: dist
          path: dist/
      - name: "Publish (it's # not a comment)"
        uses: "pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc" # v1.12.4
        with:
          skip-existing: true
          ATTESTATIONS
          verbose: true
"""  # fmt: skip

NO_ACTION = (
    RELEASE_ON_TAGS
    + "jobs:\n"
    + gha_job(
        "release",
        "uses: actions/checkout@v4\n"
        "      # - uses: pypa/gh-action-pypi-publish@release/v1   (we use uv now)",
        "uses: astral-sh/setup-uv@v5",
        "run: uv build",
        "run: uv publish",
        environment="pypi",
    )
)


def job_env(workspace: Path, workflow: str = "release.yml", **extra: str) -> dict[str, str]:
    """The variables of a GitHub Actions job that the reader looks at."""
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "octo-org/demo-pkg",
        "GITHUB_WORKFLOW_REF": f"octo-org/demo-pkg/.github/workflows/{workflow}@refs/tags/v1.0",
        "GITHUB_WORKSPACE": str(workspace),
        **extra,
    }


# How the reader names WITH_OPTIONS' upload step, at the start of what it says about it.
PINNED_ACTION = (
    "job `publish` of .github/workflows/release.yml uses "
    "pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc"
)


def options(attestations_line: str) -> str:
    return WITH_OPTIONS.replace("ATTESTATIONS", attestations_line)


def test_the_pypa_guide_workflow_uses_the_action(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/release.yml", GUIDE)

    assert workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path) == (
        True,
        "job `publish-to-pypi` of .github/workflows/release.yml uses "
        "pypa/gh-action-pypi-publish@release/v1, which signs its own publish attestations "
        "(`attestations` is on by default)",
    )


@pytest.mark.parametrize(
    "line",
    [
        "attestations: false",
        "attestations: 'false'",
        'attestations: "false"',
        "attestations: False",
        "attestations: FALSE  # PyPI rejects duplicates",
        "Attestations: false",
        "attestations: !!str false",
    ],
)
def test_attestations_false_turns_the_action_s_signing_off(tmp_path: Path, line: str) -> None:
    write(tmp_path, ".github/workflows/release.yml", options(line))

    assert workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path) == (
        False,
        f"{PINNED_ACTION} with `attestations: false`",
    )


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("attestations: true", "`attestations: true`"),
        ("attestations: 'yes'", "`attestations: yes`"),  # only "false" turns it off
        ("attestations: no", "`attestations: no`"),
        ("# attestations: false", "`attestations` is on by default"),
        ("repository-url: https://test.pypi.org/legacy/", "`attestations` is on by default"),
    ],
)
def test_anything_but_false_leaves_the_action_s_signing_on(
    tmp_path: Path, line: str, said: str
) -> None:
    write(tmp_path, ".github/workflows/release.yml", options(line))

    uses, reason = workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path)

    assert uses is True
    assert reason.endswith(f"which signs its own publish attestations ({said})")


def test_the_action_does_not_sign_for_another_index(tmp_path: Path) -> None:
    line = "repository_url: https://pkgs.example.com/simple/  # private index"
    write(tmp_path, ".github/workflows/release.yml", options(line))

    assert workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path) == (
        False,
        f"{PINNED_ACTION} to upload to https://pkgs.example.com/simple/, where it does not sign",
    )


def test_an_expression_cannot_be_ruled_out(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".github/workflows/release.yml",
        options("attestations: ${{ inputs.attest }}"),
    )

    assert workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path) == (
        True,
        f"{PINNED_ACTION} with `attestations: ${{{{ inputs.attest }}}}`; assuming it signs its own",
    )


def test_one_signing_step_among_several_is_enough(tmp_path: Path) -> None:
    testpypi = textwrap.indent(
        "- uses: pypa/gh-action-pypi-publish@release/v1\n"
        "  with: {repository-url: 'https://test.pypi.org/legacy/', attestations: false}\n",
        " " * 6,
    )
    write(tmp_path, ".github/workflows/release.yml", options("attestations: false") + testpypi)
    assert workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path)[0] is False

    signing = testpypi.replace("attestations: false", "attestations: true")
    write(tmp_path, ".github/workflows/release.yml", options("attestations: false") + signing)
    assert workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path)[0] is True


def test_a_workflow_without_the_action(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/release.yml", NO_ACTION)

    assert workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path) == (
        False,
        ".github/workflows/release.yml does not use pypa/gh-action-pypi-publish",
    )


@pytest.mark.parametrize(
    "uses",
    [
        "PyPA/GH-Action-PyPI-Publish@v1.12.4",
        "docker://ghcr.io/pypa/gh-action-pypi-publish:release-v1",
    ],
)
def test_other_spellings_of_the_action(tmp_path: Path, uses: str) -> None:
    write(tmp_path, ".github/workflows/release.yml", GUIDE.replace(
        "pypa/gh-action-pypi-publish@release/v1", uses
    ))  # fmt: skip

    assert workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path)[0] is True


def test_local_reusable_workflows_and_composite_actions_are_followed(tmp_path: Path) -> None:
    caller = """\
on: push
jobs:
  build:
    uses: ./.github/workflows/build.yml
  publish:
    needs: build
    uses: ./.github/workflows/publish.yml
    secrets: inherit
"""
    write(tmp_path, ".github/workflows/release.yml", caller)
    write(tmp_path, ".github/workflows/build.yml", NO_ACTION)
    write(tmp_path, ".github/workflows/publish.yml", """\
on: workflow_call
jobs:
  upload:
    runs-on: ubuntu-latest
    steps:
      - uses: ./.github/actions/upload
""")  # fmt: skip
    write(tmp_path, ".github/actions/upload/action.yaml", """\
name: upload
runs:
  using: composite
  steps:
    - uses: pypa/gh-action-pypi-publish@release/v1
""")  # fmt: skip

    assert workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path) == (
        True,
        "the action .github/actions/upload/action.yaml uses "
        "pypa/gh-action-pypi-publish@release/v1, which signs its own publish attestations "
        "(`attestations` is on by default)",
    )


def test_a_reusable_workflow_in_another_repository_cannot_be_ruled_out(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/release.yml", """\
on: push
jobs:
  publish:
    uses: octo-org/shared/.github/workflows/publish.yml@v2
""")  # fmt: skip

    assert workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path) == (
        True,
        "job `publish` of .github/workflows/release.yml calls the reusable workflow "
        "octo-org/shared/.github/workflows/publish.yml@v2, which cannot be read from here; "
        "assuming it may use pypa/gh-action-pypi-publish",
    )


def test_a_missing_workflow_file_is_a_yes(tmp_path: Path) -> None:
    assert workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path) == (
        True,
        "cannot find the workflow file .github/workflows/release.yml in the checkout "
        "(GITHUB_WORKSPACE or the current directory); assuming it may publish with "
        "pypa/gh-action-pypi-publish",
    )


def test_an_unreadable_workflow_file_is_a_yes(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/release.yml", "jobs:\n  a: 1\n b: 2\n")

    uses, reason = workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path)

    assert uses is True
    assert reason.startswith("cannot read .github/workflows/release.yml (")
    assert reason.endswith("); assuming it may use pypa/gh-action-pypi-publish")


def test_the_checkout_may_be_a_parent_of_the_project(tmp_path: Path) -> None:
    write(tmp_path / "repo", ".github/workflows/release.yml", GUIDE)
    project = tmp_path / "repo" / "packages" / "demo"
    project.mkdir(parents=True)
    env = job_env(tmp_path / "elsewhere")

    assert workflow_uses_pypi_publish_action(env, cwd=project)[0] is True


@pytest.mark.parametrize(
    "workflow_ref",
    ["", "octo-org/demo-pkg", "octo-org/demo-pkg/../../etc/passwd@main", "x/y/release.yml@main"],
)
def test_a_job_that_does_not_name_a_workflow_file_is_a_yes(
    tmp_path: Path, workflow_ref: str
) -> None:
    env = {**job_env(tmp_path), "GITHUB_WORKFLOW_REF": workflow_ref}

    assert workflow_uses_pypi_publish_action(env, cwd=tmp_path) == (
        True,
        "cannot tell which workflow file this job runs (GITHUB_WORKFLOW_REF is "
        f"{workflow_ref!r}); assuming it may publish with pypa/gh-action-pypi-publish",
    )


def test_a_ref_with_an_at_sign(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/release.yml", NO_ACTION)
    env = {
        **job_env(tmp_path),
        "GITHUB_WORKFLOW_REF": "octo-org/demo-pkg/.github/workflows/release.yml@refs/heads/a@b",
    }

    assert workflow_uses_pypi_publish_action(env, cwd=tmp_path)[0] is False


def test_outside_github_actions_the_action_is_not_in_play(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/release.yml", GUIDE)
    env = {**job_env(tmp_path), "GITHUB_ACTIONS": ""}

    assert workflow_uses_pypi_publish_action(env, cwd=tmp_path) == (
        False,
        "not a GitHub Actions job, so pypa/gh-action-pypi-publish is not in play",
    )


# --- where the upload runs: can PyPI accept this job's attestations? (issue 15, 1) ------

REUSABLE_BUILD = "on: workflow_call\njobs:\n" + gha_job("wheels", *BUILD_STEPS)

ONLY_BUILDS = """\
name: CI
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: |
          pipx run build
          # twine upload happens in release.yml
          echo "twine upload is not run here"
      - uses: actions/upload-artifact@v4
        with: {name: dist, path: dist/}
"""


def skip_reason(
    tmp_path: Path, workflow: str = "release.yml", *, publisher: bool = False
) -> str | None:
    found = topology_skip(job_env(tmp_path, workflow), cwd=tmp_path, publisher=publisher)
    return None if found is None else found.reason


def test_build_and_publish_jobs_in_one_workflow_sign(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/release.yml", GUIDE)

    assert skip_reason(tmp_path) is None


def test_a_reusable_build_workflow_called_by_the_uploading_workflow_signs(tmp_path: Path) -> None:
    # The build runs in build.yml; GITHUB_WORKFLOW_REF (and the certificate) name the caller.
    write(tmp_path, ".github/workflows/build.yml", REUSABLE_BUILD)
    write(tmp_path, ".github/workflows/release.yml", """\
on: {push: {tags: ["v*"]}}
jobs:
  build:
    uses: ./.github/workflows/build.yml
  publish:
    needs: build
    runs-on: ubuntu-latest
    environment: pypi
    permissions: {id-token: write}
    steps:
      - uses: actions/download-artifact@v4
      - run: uv publish
""")  # fmt: skip

    assert skip_reason(tmp_path) is None


UPLOAD_IN_REUSABLE = """\
on: {push: {tags: ["v*"]}}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: python -m build
  publish:
    needs: build
    uses: ./.github/workflows/publish.yml
"""


@pytest.mark.parametrize("publisher", [False, True])
def test_an_upload_inside_a_called_reusable_workflow_skips(tmp_path: Path, publisher: bool) -> None:
    write(tmp_path, ".github/workflows/release.yml", UPLOAD_IN_REUSABLE)
    write(tmp_path, ".github/workflows/publish.yml", """\
on: workflow_call
jobs:
  upload:
    runs-on: ubuntu-latest
    permissions: {id-token: write}
    steps:
      - uses: pypa/gh-action-pypi-publish@release/v1
""")  # fmt: skip

    found = topology_skip(job_env(tmp_path), cwd=tmp_path, publisher=publisher)

    assert found is not None
    assert found.warning
    assert found.reason == (
        "the upload to PyPI (pypa/gh-action-pypi-publish@release/v1 in job `upload` of "
        ".github/workflows/publish.yml) runs inside the reusable workflow "
        ".github/workflows/publish.yml, and PyPI cannot accept attestations from such an "
        "upload: it looks the Trusted Publisher up by the upload job's job_workflow_ref, "
        "which never matches the certificate's workflow .github/workflows/release.yml "
        "(warehouse issue 11096). Move the upload step into .github/workflows/release.yml "
        "to attest"
    )


UPLOAD_STEP = """\
name: Release
on: {push: {tags: ["v*"]}}
WORKFLOW_ENV
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions: {id-token: write}
    JOB_ENV
    steps:
      - uses: actions/checkout@v4
      - run: python -m build
      - STEP
"""


def upload_workflow(step: str, *, workflow_env: str = "", job_env: str = "") -> str:
    return (
        UPLOAD_STEP.replace("WORKFLOW_ENV", workflow_env)
        .replace("JOB_ENV", job_env)
        .replace("STEP", step)
    )


TRUSTED_UPLOADS = [
    "uses: pypa/gh-action-pypi-publish@release/v1",
    "uses: pypa/gh-action-pypi-publish@release/v1\n        with: {attestations: false}",
    "uses: pypa/gh-action-pypi-publish@release/v1\n"
    "        with: {repository-url: 'https://test.pypi.org/legacy/'}",
    "run: twine upload dist/*",
    "run: python -m twine upload --attestations dist/*",
    "run: uvx twine==6.1.0 upload dist/*",
    "run: pipx run twine upload -r testpypi dist/*",
    "run: uv publish",
    "run: uv --quiet publish --trusted-publishing always",
    "run: hatch publish -p attest",
    "run: pdm publish --no-build",
    "run: maturin upload --skip-existing wheels/*",
    "uses: PyO3/maturin-action@v1\n        with: {command: upload, args: --skip-existing *}",
]


@pytest.mark.parametrize("step", TRUSTED_UPLOADS)
def test_an_upload_with_trusted_publishing_in_the_workflow_signs(tmp_path: Path, step: str) -> None:
    write(tmp_path, ".github/workflows/release.yml", upload_workflow(step))

    assert skip_reason(tmp_path) is None


TOKEN_UPLOADS = [
    ("uses: pypa/gh-action-pypi-publish@release/v1\n"
     "        with: {password: '${{ secrets.PYPI_API_TOKEN }}'}",
     "pypa/gh-action-pypi-publish@release/v1", "`password:` is set"),
    ("uses: pypa/gh-action-pypi-publish@release/v1\n"
     "        with: {repository-url: 'https://pkgs.example.com/upload'}",
     "pypa/gh-action-pypi-publish@release/v1",
     "it uploads to https://pkgs.example.com/upload, not to PyPI"),
    ("run: twine upload -u __token__ -p ${{ secrets.PYPI }} dist/*", "twine upload",
     "twine upload is given a password (`-p`)"),
    ("run: python -m twine upload --password=$TOKEN dist/*", "twine upload",
     "twine upload is given a password (`--password`)"),
    ("run: TWINE_PASSWORD=$T twine upload dist/*", "twine upload",
     "TWINE_PASSWORD is set for twine upload"),
    ("run: twine upload --repository-url https://nexus.example.com/pypi dist/*", "twine upload",
     "twine upload uploads to https://nexus.example.com/pypi, not to PyPI"),
    ("run: uv publish --token ${{ secrets.PYPI }}", "uv publish",
     "uv publish is given a password (`--token`)"),
    ("run: uv publish --publish-url https://upload.example.com/", "uv publish",
     "uv publish uploads to https://upload.example.com/, not to PyPI"),
    ("run: hatch publish", "hatch publish",
     "hatch publish uploads with a token unless it runs `-p attest`"),
    ("run: hatch publish -p attest -a $TOKEN", "hatch publish",
     "hatch publish is given a password (`-a`)"),
    ("run: pdm publish --password $PDM_TOKEN", "pdm publish",
     "pdm publish is given a password (`--password`)"),
    ("run: poetry publish --build", "poetry publish",
     "poetry publish always uploads with a token or password"),
    ("run: flit publish", "flit publish", "flit publish always uploads with a token or password"),
    ("run: maturin upload -p $PASS wheels/*", "maturin upload",
     "maturin upload is given a password (`-p`)"),
    ("run: |\n          export UV_PUBLISH_TOKEN=${{ secrets.PYPI }}\n          uv publish",
     "uv publish", "UV_PUBLISH_TOKEN is set for uv publish"),
]  # fmt: skip


@pytest.mark.parametrize(("step", "tool", "why"), TOKEN_UPLOADS)
def test_an_upload_without_trusted_publishing_skips(
    tmp_path: Path, step: str, tool: str, why: str
) -> None:
    write(tmp_path, ".github/workflows/release.yml", upload_workflow(step))

    found = topology_skip(job_env(tmp_path), cwd=tmp_path, publisher=True)

    assert found is not None
    assert found.warning
    assert found.reason == (
        f"job `publish` of .github/workflows/release.yml uploads with {tool} without Trusted "
        f'Publishing ({why}), and PyPI answers 400 "Attestations are only supported when '
        'using Trusted Publishing" to attestations on such an upload. Publish with Trusted '
        "Publishing from .github/workflows/release.yml to attest"
    )


@pytest.mark.parametrize(
    ("variable", "step", "level"),
    [
        ("TWINE_PASSWORD", "run: twine upload dist/*", "step"),
        ("TWINE_PASSWORD", "run: twine upload dist/*", "job"),
        ("TWINE_PASSWORD", "run: twine upload dist/*", "workflow"),
        ("UV_PUBLISH_PASSWORD", "run: uv publish", "job"),
        ("HATCH_INDEX_AUTH", "run: hatch publish -p attest", "workflow"),
        ("POETRY_PYPI_TOKEN_PYPI", "run: poetry publish", "step"),
        ("FLIT_PASSWORD", "run: flit publish", "job"),
        ("MATURIN_PYPI_TOKEN", "run: maturin publish", "step"),
        (
            "MATURIN_PASSWORD",
            "uses: PyO3/maturin-action@v1\n        with: {command: upload}",
            "job",
        ),
        ("PDM_PUBLISH_PASSWORD", "run: pdm publish", "workflow"),
    ],
)
def test_a_token_in_env_at_any_level_skips(
    tmp_path: Path, variable: str, step: str, level: str
) -> None:
    setting = f"env: {{{variable}: '${{{{ secrets.PYPI_TOKEN }}}}'}}"
    text = upload_workflow(
        step + (f"\n        {setting}" if level == "step" else ""),
        workflow_env=setting if level == "workflow" else "",
        job_env=setting if level == "job" else "",
    )
    write(tmp_path, ".github/workflows/release.yml", text)

    reason = skip_reason(tmp_path)

    assert reason is not None
    assert "without Trusted Publishing" in reason


def test_a_workflow_that_only_builds_skips_unless_publisher_is_set(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/ci.yml", ONLY_BUILDS)

    assert skip_reason(tmp_path, "ci.yml") == (
        ".github/workflows/ci.yml shows no upload to PyPI (no gh-action-pypi-publish, twine "
        "upload, uv publish, ... step), and PyPI accepts attestations only from the workflow "
        "that uploads. Sign in that workflow, or set `publisher` to sign here anyway"
    )
    assert skip_reason(tmp_path, "ci.yml", publisher=True) is None


@pytest.mark.parametrize(
    "step",
    [
        "run: ./scripts/release.sh",
        "run: tox -e publish",
        "run: nox -s release",
        "uses: octo-org/release-action@v3",
    ],
)
def test_an_upload_the_reader_cannot_see_needs_publisher(tmp_path: Path, step: str) -> None:
    write(tmp_path, ".github/workflows/release.yml", upload_workflow(step))

    assert skip_reason(tmp_path) is not None
    assert skip_reason(tmp_path, publisher=True) is None


def test_a_workflow_run_release_skips_the_triggering_build(tmp_path: Path) -> None:
    # ci.yml builds; release.yml runs after it (workflow_run) and uploads its artifacts.
    write(tmp_path, ".github/workflows/ci.yml", ONLY_BUILDS)
    write(tmp_path, ".github/workflows/release.yml", """\
on:
  workflow_run:
    workflows: [CI]
    types: [completed]
jobs:
  publish:
    if: github.event.workflow_run.conclusion == 'success'
    runs-on: ubuntu-latest
    permissions: {id-token: write, actions: read}
    steps:
      - uses: actions/download-artifact@v4
        with: {run-id: "${{ github.event.workflow_run.id }}", github-token: "${{ github.token }}"}
      - run: uv run hatch-attest sign dist/
      - uses: pypa/gh-action-pypi-publish@release/v1
        with: {attestations: false}
""")  # fmt: skip

    # The build in ci.yml signed as ci.yml: PyPI, asked by release.yml, would reject it.
    triggering = skip_reason(tmp_path, "ci.yml")
    assert triggering is not None
    assert triggering == (
        ".github/workflows/ci.yml shows no upload to PyPI (no gh-action-pypi-publish, twine "
        "upload, uv publish, ... step), and PyPI accepts attestations only from the workflow "
        "that uploads. Sign in .github/workflows/release.yml, which runs after it "
        "(workflow_run) and uploads, with `hatch-attest sign` before its upload, or set "
        "`publisher` to sign here anyway"
    )
    # Signing in the workflow_run workflow itself is what PyPI accepts.
    assert skip_reason(tmp_path, "release.yml") is None


def test_a_workflow_file_name_with_an_at_sign(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/release@v2.yml", ONLY_BUILDS)
    env = job_env(tmp_path, "release@v2.yml")

    found = topology_skip(env, cwd=tmp_path, publisher=False)

    assert found is not None
    assert found.reason.startswith(".github/workflows/release@v2.yml shows no upload to PyPI")


@pytest.mark.parametrize(
    "text",
    [
        "jobs: [unclosed\n",
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
                  for p, c in zip("abcdefg", "bcdefgh", strict=True)),
        "jobs: " + "[" * 200 + "]" * 200 + "\n",
        "jobs:\n  x: !!python/object/apply:os.system [echo hi]\n",
    ],
    ids=["malformed", "alias-bomb", "too-deep", "python-tag"],
)  # fmt: skip
def test_a_workflow_that_cannot_be_read_keeps_signing(tmp_path: Path, text: str) -> None:
    write(tmp_path, ".github/workflows/release.yml", text)

    assert skip_reason(tmp_path) is None
    uses, reason = workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path)
    assert uses is True
    assert reason.startswith("cannot read .github/workflows/release.yml (")


def test_a_workflow_larger_than_a_mebibyte_is_not_read(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/release.yml", ONLY_BUILDS + "#" * (1 << 20))

    assert skip_reason(tmp_path) is None
    assert workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path) == (
        True,
        "cannot read .github/workflows/release.yml (it is larger than 1048576 bytes); "
        "assuming it may use pypa/gh-action-pypi-publish",
    )


def test_without_pyyaml_the_answer_is_sign(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before the frontend installs the build's requirements, PyYAML is not there:
    # "sign" makes the host request the signing stack and PyYAML with it.
    write(tmp_path, ".github/workflows/ci.yml", ONLY_BUILDS)
    monkeypatch.setitem(sys.modules, "yaml", None)  # `import yaml` fails, as if not installed

    assert skip_reason(tmp_path, "ci.yml") is None
    assert "yaml" in (signing_stack_missing() or "")


# --- the checkout must be the running workflow's commit (issue 15, 5) -------------------


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(repo), "PATH": os.environ["PATH"], "GIT_CONFIG_NOSYSTEM": "1",
    }  # fmt: skip
    done = run_bounded(["git", *args], cwd=repo, env=env, timeout=60, check=True)
    return done.stdout.strip()


@pytest.fixture
def two_commits(tmp_path: Path) -> tuple[Path, str, str]:
    """A git checkout whose release.yml only builds at HEAD and uploads at the first commit."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo, ".github/workflows/release.yml", GUIDE)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "uploads")
    first = git(repo, "rev-parse", "HEAD")
    write(repo, ".github/workflows/release.yml", ONLY_BUILDS)
    git(repo, "commit", "-q", "-am", "only builds")
    return repo, first, git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize("packed", [False, True])
def test_a_checkout_of_another_commit_is_unknown(
    two_commits: tuple[Path, str, str], packed: bool
) -> None:
    repo, first, head = two_commits
    if packed:
        git(repo, "pack-refs", "--all")
    running_head = job_env(repo, GITHUB_WORKFLOW_SHA=head)
    running_first = job_env(repo, GITHUB_WORKFLOW_SHA=first)

    # The checkout is the running commit: its file is read (it only builds).
    assert topology_skip(running_head, cwd=repo, publisher=False) is not None
    assert workflow_uses_pypi_publish_action(running_head, cwd=repo)[0] is False
    # A manual release that checked out another commit: the file may be stale.
    assert topology_skip(running_first, cwd=repo, publisher=False) is None
    uses, reason = workflow_uses_pypi_publish_action(running_first, cwd=repo)
    assert uses is True
    assert reason == (
        f"the checkout in {repo} is commit {head[:12]}, not the running workflow's "
        f"{first[:12]} (GITHUB_WORKFLOW_SHA), so its CI files may not be the ones that run; "
        "assuming it may publish with pypa/gh-action-pypi-publish"
    )


def test_a_worktree_checkout_is_read_through_its_git_file(
    two_commits: tuple[Path, str, str], tmp_path: Path
) -> None:
    repo, first, head = two_commits
    worktree = tmp_path / "worktree"
    git(repo, "worktree", "add", "-q", "-b", "old", str(worktree), first)
    assert (worktree / ".git").is_file()

    # The worktree has the first commit out: GITHUB_WORKFLOW_SHA = HEAD of main is another.
    env = job_env(worktree, GITHUB_WORKFLOW_SHA=head)
    assert workflow_uses_pypi_publish_action(env, cwd=worktree)[1].startswith(
        f"the checkout in {worktree} is commit {first[:12]}"
    )
    same = job_env(worktree, GITHUB_WORKFLOW_SHA=first)
    assert workflow_uses_pypi_publish_action(same, cwd=worktree) == (
        True,
        "job `publish-to-pypi` of .github/workflows/release.yml uses "
        "pypa/gh-action-pypi-publish@release/v1, which signs its own publish attestations "
        "(`attestations` is on by default)",
    )


def test_a_checkout_without_git_metadata_is_read(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/release.yml", ONLY_BUILDS)
    env = job_env(tmp_path, GITHUB_WORKFLOW_SHA="0" * 40)

    assert skip_reason(tmp_path) is not None
    assert topology_skip(env, cwd=tmp_path, publisher=False) is not None


def test_a_reusable_workflow_of_another_repository_cannot_be_accepted(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/release.yml", """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps: [{run: uv build}]
  publish:
    uses: octo-org/shared/.github/workflows/publish.yml@v2
""")  # fmt: skip

    assert skip_reason(tmp_path) == (
        ".github/workflows/release.yml uploads nothing itself, and calls the reusable workflow "
        "octo-org/shared/.github/workflows/publish.yml@v2: PyPI cannot accept attestations for "
        "an upload made inside a reusable workflow (warehouse issue 11096). Upload from "
        ".github/workflows/release.yml, or set `publisher` to sign anyway"
    )
    assert skip_reason(tmp_path, publisher=True) is None


def test_a_local_action_that_cannot_be_read_may_hide_the_upload(tmp_path: Path) -> None:
    write(tmp_path, ".github/workflows/release.yml", upload_workflow("uses: ./.github/actions/up"))
    write(tmp_path, ".github/actions/up/action.yml", "runs: [unclosed\n")

    assert skip_reason(tmp_path) is None  # unknown: sign, as before

    write(tmp_path, ".github/actions/up/action.yml", """\
runs:
  using: composite
  steps:
    - run: twine upload dist/*
      shell: bash
""")  # fmt: skip
    assert skip_reason(tmp_path) is None  # a Trusted Publishing upload in this workflow's job

    write(tmp_path, ".github/actions/up/action.yml", "runs: {using: node20, main: index.js}\n")
    assert skip_reason(tmp_path) is not None  # a JavaScript action: no upload visible
