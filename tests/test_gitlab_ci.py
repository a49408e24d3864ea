"""Reading the job's GitLab CI configuration: can PyPI accept its attestations? (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hatch_attest._kinds.gitlab_ci import topology_skip

from ._shared import write

BUILD_AND_PUBLISH = """\
stages: [build, publish]
variables:
  PIP_CACHE_DIR: "$CI_PROJECT_DIR/.cache/pip"
build:
  stage: build
  image: python:3.12
  id_tokens:
    SIGSTORE_ID_TOKEN: {aud: sigstore}
  script:
    - pip install build hatch-attest
    - python -m build
  artifacts: {paths: [dist/]}
publish:
  stage: publish
  image: python:3.12
  rules:
    - if: $CI_COMMIT_TAG
  id_tokens:
    PYPI_ID_TOKEN: {aud: pypi}
  script:
    - UPLOAD
"""


def job_env(project_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "GITLAB_CI": "true",
        "CI_PROJECT_PATH": "group/demo-pkg",
        "CI_PROJECT_DIR": str(project_dir),
        **extra,
    }


def reason(root: Path, *, publisher: bool = False, **extra: str) -> str | None:
    found = topology_skip(job_env(root, **extra), publisher=publisher)
    return None if found is None else found.reason


@pytest.mark.parametrize(
    "upload",
    ["uv publish", "python -m twine upload dist/*", "uvx twine upload --attestations dist/*"],
)
def test_a_pipeline_that_uploads_with_trusted_publishing_signs(tmp_path: Path, upload: str) -> None:
    write(tmp_path, ".gitlab-ci.yml", BUILD_AND_PUBLISH.replace("UPLOAD", upload))

    assert reason(tmp_path) is None


@pytest.mark.parametrize(
    ("config", "why"),
    [
        (BUILD_AND_PUBLISH.replace("UPLOAD", "twine upload -p $PYPI_TOKEN dist/*"),
         "twine upload is given a password (`-p`)"),
        (BUILD_AND_PUBLISH.replace("UPLOAD", "uv publish")
         + "  variables: {UV_PUBLISH_TOKEN: $PYPI_TOKEN}\n",
         "UV_PUBLISH_TOKEN is set for uv publish"),
        (BUILD_AND_PUBLISH.replace("UPLOAD", "twine upload dist/*")
         .replace('  PIP_CACHE_DIR: "$CI_PROJECT_DIR/.cache/pip"',
                  "  TWINE_PASSWORD: {value: $TOKEN, description: the PyPI token}"),
         "TWINE_PASSWORD is set for twine upload"),
        (BUILD_AND_PUBLISH.replace("UPLOAD", "poetry publish"),
         "poetry publish always uploads with a token or password"),
        (BUILD_AND_PUBLISH.replace(
            "UPLOAD",
            "TWINE_PASSWORD=${CI_JOB_TOKEN} python -m twine upload --repository-url "
            "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/pypi dist/*"),
         "TWINE_PASSWORD is set for twine upload"),
    ],
    ids=["password-option", "job-variable", "global-variable", "poetry", "gitlab-registry"],
)  # fmt: skip
def test_a_token_upload_skips_even_with_a_publisher(tmp_path: Path, config: str, why: str) -> None:
    write(tmp_path, ".gitlab-ci.yml", config)

    found = topology_skip(job_env(tmp_path), publisher=True)

    assert found is not None
    assert found.warning
    tool = next(t for t in ("twine upload", "uv publish", "poetry publish") if t in why)
    assert found.reason.startswith(
        f"job `publish` of .gitlab-ci.yml uploads with {tool} without Trusted Publishing"
    )
    assert f"without Trusted Publishing ({why})" in found.reason
    assert 'PyPI answers 400 "Attestations are only supported when using Trusted Publishing"' in (
        found.reason
    )


def test_a_token_in_the_job_s_own_environment_counts(tmp_path: Path) -> None:
    # A project CI/CD variable is in every job's environment, not in the file.
    write(tmp_path, ".gitlab-ci.yml", BUILD_AND_PUBLISH.replace("UPLOAD", "twine upload dist/*"))

    assert reason(tmp_path) is None
    found = reason(tmp_path, TWINE_PASSWORD="pypi-AgEIcHlwaS5vcmc")
    assert found is not None
    assert "(TWINE_PASSWORD is set for twine upload)" in found


def test_a_pipeline_that_only_builds_skips_unless_publisher_is_set(tmp_path: Path) -> None:
    write(tmp_path, ".gitlab-ci.yml", BUILD_AND_PUBLISH.replace("UPLOAD", "echo done"))

    assert reason(tmp_path) == (
        ".gitlab-ci.yml shows no upload to PyPI (no twine upload, uv publish, ... in a "
        "script), and PyPI accepts attestations only from the CI configuration that uploads. "
        "Sign in the pipeline that uploads, or set `publisher` to sign here anyway"
    )
    assert reason(tmp_path, publisher=True) is None


def test_local_includes_and_hidden_jobs_are_read(tmp_path: Path) -> None:
    write(tmp_path, ".gitlab-ci.yml", """\
include:
  - local: /ci/build.yml
  - ci/publish-*.yml
""")  # fmt: skip
    write(tmp_path, "ci/build.yml", "build:\n  script: [python -m build]\n")
    write(tmp_path, "ci/publish-pypi.yml", """\
.upload:
  script:
    - !reference [.setup, script]
    - - uv publish
publish:
  extends: .upload
""")  # fmt: skip

    assert reason(tmp_path) is None


@pytest.mark.parametrize(
    "include",
    [
        "include: 'https://example.com/ci.yml'",
        "include: {project: group/ci, file: /publish.yml}",
        "include: [{template: Python.gitlab-ci.yml}]",
        "include: [{remote: 'https://example.com/ci.yml'}]",
        "include: [{component: gitlab.com/group/publish@1.0}]",
    ],
)
def test_configuration_from_elsewhere_is_unknown_and_keeps_signing(
    tmp_path: Path, include: str
) -> None:
    write(tmp_path, ".gitlab-ci.yml", include + "\nbuild:\n  script: [python -m build]\n")

    assert reason(tmp_path) is None


@pytest.mark.parametrize(
    ("config_path", "files"),
    [
        (None, {}),  # no configuration in the checkout
        ("ci/pipeline.yml@other/project", {}),
        (None, {".gitlab-ci.yml": "build: [unclosed\n"}),
        (None, {".gitlab-ci.yml": "release:\n  trigger: {include: ci/child.yml}\n"}),
    ],
    ids=["missing", "other-project", "malformed", "child-pipeline"],
)
def test_a_configuration_that_cannot_be_read_keeps_signing(
    tmp_path: Path, config_path: str | None, files: dict[str, str]
) -> None:
    for name, text in files.items():
        write(tmp_path, name, text)
    env = job_env(tmp_path, **({"CI_CONFIG_PATH": config_path} if config_path else {}))

    assert topology_skip(env, publisher=False) is None


def test_a_custom_config_path_is_read(tmp_path: Path) -> None:
    write(tmp_path, ".gitlab-ci.yml", BUILD_AND_PUBLISH.replace("UPLOAD", "uv publish"))
    write(tmp_path, "ci/build-only.yml", "build:\n  script: [python -m build]\n")

    assert reason(tmp_path) is None
    only_builds = reason(tmp_path, CI_CONFIG_PATH="ci/build-only.yml")
    assert only_builds is not None
    assert only_builds.startswith("ci/build-only.yml shows no upload to PyPI")


def test_outside_gitlab_ci_nothing_is_read(tmp_path: Path) -> None:
    write(tmp_path, ".gitlab-ci.yml", "build:\n  script: [python -m build]\n")
    env = {**job_env(tmp_path), "GITLAB_CI": ""}

    assert topology_skip(env, publisher=False) is None
