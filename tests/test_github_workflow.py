"""Which predicate `auto` needs: does the job's workflow publish with gh-action-pypi-publish?"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hatch_attest.kinds.github_workflow import workflow_uses_pypi_publish_action

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
  build:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - uses: actions/checkout@v4
      - run: |
          # Not a step: a script that mentions the action.
          echo "uses: pypa/gh-action-pypi-publish@release/v1"
          pipx run build
      - uses: actions/upload-artifact@v4
        with: {name: dist, path: dist/}
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
"""

NO_ACTION = """\
name: Release
on: {push: {tags: ["v*"]}}
jobs:
  release:
    runs-on: ubuntu-latest
    environment: pypi
    permissions: {id-token: write}
    steps:
      - uses: actions/checkout@v4
      # - uses: pypa/gh-action-pypi-publish@release/v1   (we use uv now)
      - uses: astral-sh/setup-uv@v5
      - run: uv build
      - run: uv publish
"""


def job_env(workspace: Path, workflow: str = "release.yml", **extra: str) -> dict[str, str]:
    """The variables of a GitHub Actions job that the reader looks at."""
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "octo-org/demo-pkg",
        "GITHUB_WORKFLOW_REF": f"octo-org/demo-pkg/.github/workflows/{workflow}@refs/tags/v1.0",
        "GITHUB_WORKSPACE": str(workspace),
        **extra,
    }


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


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
        "job `publish` of .github/workflows/release.yml uses "
        "pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc "
        "with `attestations: false`",
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
        "job `publish` of .github/workflows/release.yml uses "
        "pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc to upload to "
        "https://pkgs.example.com/simple/, where it does not sign",
    )


def test_an_expression_cannot_be_ruled_out(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".github/workflows/release.yml",
        options("attestations: ${{ inputs.attest }}"),
    )

    assert workflow_uses_pypi_publish_action(job_env(tmp_path), cwd=tmp_path) == (
        True,
        "job `publish` of .github/workflows/release.yml uses "
        "pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc with "
        "`attestations: ${{ inputs.attest }}`; assuming it signs its own",
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
