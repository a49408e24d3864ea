"""The expected Trusted Publisher: CLI specs, CI environments, mismatches, project URLs."""

from __future__ import annotations

import pypi_attestations
import pytest

from hatch_attest._kinds import (
    ExpectedPublisher,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
    environment_mismatch,
    parse_publisher_spec,
    publisher_from_environment,
)
from hatch_attest._kinds.github import check_github_repository, check_github_workflow
from hatch_attest._kinds.gitlab import check_gitlab_repository, check_gitlab_workflow_filepath
from hatch_attest._kinds.google import check_google_email
from hatch_attest._project_urls import repository_from_project_urls
from hatch_attest.errors import ConfigError

# What a tag-triggered job in octo-org/demo's release.yml sees (trimmed to the
# variables that matter, plus a few that must not).
GITHUB_ENV = {
    "CI": "true",
    "GITHUB_ACTIONS": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_API_URL": "https://api.github.com",
    "GITHUB_REPOSITORY": "octo-org/demo",
    "GITHUB_REPOSITORY_OWNER": "octo-org",
    "GITHUB_WORKFLOW": "Release",
    "GITHUB_WORKFLOW_REF": "octo-org/demo/.github/workflows/release.yml@refs/tags/v1.0.0",
    "GITHUB_WORKFLOW_SHA": "1f2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5",
    "GITHUB_REF": "refs/tags/v1.0.0",
    "GITHUB_SHA": "1f2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5",
    "GITHUB_EVENT_NAME": "push",
    "RUNNER_ENVIRONMENT": "github-hosted",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://pipelines.actions.githubusercontent.com/x/idtoken",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "not-a-real-token",
}

# A pipeline of group/sub/demo on gitlab.com.
GITLAB_ENV = {
    "CI": "true",
    "GITLAB_CI": "true",
    "CI_SERVER_URL": "https://gitlab.com",
    "CI_SERVER_HOST": "gitlab.com",
    "CI_PROJECT_PATH": "group/sub/demo",
    "CI_PROJECT_NAMESPACE": "group/sub",
    "CI_PROJECT_NAME": "demo",
    "CI_CONFIG_PATH": ".gitlab-ci.yml",
    "CI_COMMIT_SHA": "1f2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5",
    "CI_COMMIT_TAG": "v1.0.0",
    "CI_PIPELINE_SOURCE": "push",
    "SIGSTORE_ID_TOKEN": "not-a-real-token",
}

LAPTOP_ENV = {"HOME": "/home/dev", "PATH": "/usr/bin", "SHELL": "/bin/bash"}

GITHUB = GitHubPublisher(repository="octo-org/demo", workflow="release.yml")
GITLAB = GitLabPublisher(repository="group/sub/demo", workflow_filepath=".gitlab-ci.yml")
GOOGLE = GooglePublisher(email="release@demo-project.iam.gserviceaccount.com")

FORMS = (
    '"github:OWNER/REPO@WORKFLOW.yml", "gitlab:NAMESPACE/PROJECT@PATH/TO/.gitlab-ci.yml" '
    'or "google:EMAIL"'
)


class TestParsePublisherSpec:
    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            ("github:octo-org/demo@release.yml", GITHUB),
            (
                "github:Octo-Org/demo.py@publish.yaml",
                GitHubPublisher("Octo-Org/demo.py", "publish.yaml"),
            ),
            ("gitlab:group/sub/demo@.gitlab-ci.yml", GITLAB),
            ("gitlab:group/demo@ci/release.yml", GitLabPublisher("group/demo", "ci/release.yml")),
            ("google:release@demo-project.iam.gserviceaccount.com", GOOGLE),
            ("  github:octo-org/demo@release.yml\n", GITHUB),
        ],
    )
    def test_valid(self, spec: str, expected: ExpectedPublisher) -> None:
        assert parse_publisher_spec(spec) == expected

    @pytest.mark.parametrize(
        ("spec", "message"),
        [
            ("octo-org/demo", f'invalid publisher "octo-org/demo": use {FORMS}'),
            ("", f'invalid publisher "": use {FORMS}'),
            (
                "gihtub:octo-org/demo@release.yml",
                'invalid publisher "gihtub:octo-org/demo@release.yml": unknown kind "gihtub" '
                f'(did you mean "github"?); use {FORMS}',
            ),
            (
                "GitHub:octo-org/demo@release.yml",
                'invalid publisher "GitHub:octo-org/demo@release.yml": unknown kind "GitHub" '
                f'(did you mean "github"?); use {FORMS}',
            ),
            (
                "circleci:project",
                f'invalid publisher "circleci:project": unknown kind "circleci"; use {FORMS}',
            ),
            (
                "github:octo-org/demo",
                'invalid publisher "github:octo-org/demo": must be '
                '"github:OWNER/REPO@WORKFLOW.yml", e.g. "github:octo-org/demo@release.yml"',
            ),
            (
                "github:octo-org/demo@.github/workflows/release.yml",
                'invalid publisher "github:octo-org/demo@.github/workflows/release.yml": '
                'workflow must be just the file name, e.g. "release.yml", '
                'not ".github/workflows/release.yml"',
            ),
            (
                "github:demo@release",
                'invalid publisher "github:demo@release": '
                'repository must be "OWNER/REPO", e.g. "octo-org/demo", not "demo"; '
                'workflow must be the workflow\'s file name ending in ".yml" or ".yaml", '
                'e.g. "release.yml", not "release"',
            ),
            (
                "gitlab:group/demo",
                'invalid publisher "gitlab:group/demo": must be '
                '"gitlab:NAMESPACE/PROJECT@PATH/TO/.gitlab-ci.yml", '
                'e.g. "gitlab:group/project@.gitlab-ci.yml"',
            ),
            (
                "gitlab:demo@/.gitlab-ci.yml",
                'invalid publisher "gitlab:demo@/.gitlab-ci.yml": repository must be the '
                'project path "NAMESPACE/PROJECT" (namespaces may nest, e.g. '
                '"group/subgroup/project"), each part only letters, digits, "_", "." and "-", '
                'not "demo"; workflow file path must be a path relative to the project root, '
                'e.g. ".gitlab-ci.yml" or "ci/release.yml", not "/.gitlab-ci.yml"',
            ),
            (
                "google:release",
                'invalid publisher "google:release": email must be the service account\'s '
                'email address, e.g. "release@my-project.iam.gserviceaccount.com", '
                'not "release"',
            ),
        ],
    )
    def test_invalid(self, spec: str, message: str) -> None:
        with pytest.raises(ConfigError) as info:
            parse_publisher_spec(spec)
        assert info.value.errors == [message]


class TestChecks:
    @pytest.mark.parametrize(
        "value", ["octo-org/demo", "o/r", "Octo0/demo.py", "octo/.github", "octo/my_repo-2"]
    )
    def test_github_repository_valid(self, value: str) -> None:
        assert check_github_repository(value) is None

    @pytest.mark.parametrize(
        ("value", "problem"),
        [
            ("demo", 'must be "OWNER/REPO", e.g. "octo-org/demo", not "demo"'),
            (
                "octo/demo/extra",
                'must be "OWNER/REPO", e.g. "octo-org/demo", not "octo/demo/extra"',
            ),
            ("/demo", 'must be "OWNER/REPO", e.g. "octo-org/demo", not "/demo"'),
            ("octo/", 'must be "OWNER/REPO", e.g. "octo-org/demo", not "octo/"'),
            (
                "octo_org/demo",
                'must be "OWNER/REPO" where OWNER has only letters, digits and hyphens '
                'and does not start with a hyphen, not "octo_org/demo"',
            ),
            (
                "-octo/demo",
                'must be "OWNER/REPO" where OWNER has only letters, digits and hyphens '
                'and does not start with a hyphen, not "-octo/demo"',
            ),
            (
                "octo/de mo",
                'must be "OWNER/REPO" where REPO has only letters, digits, ".", "_" and "-", '
                'not "octo/de mo"',
            ),
            (
                "octo/..",
                'must be "OWNER/REPO" where REPO has only letters, digits, ".", "_" and "-", '
                'not "octo/.."',
            ),
        ],
    )
    def test_github_repository_invalid(self, value: str, problem: str) -> None:
        assert check_github_repository(value) == problem

    @pytest.mark.parametrize("value", ["release.yml", "publish.yaml", "ci-cd.release.yml"])
    def test_github_workflow_valid(self, value: str) -> None:
        assert check_github_workflow(value) is None

    @pytest.mark.parametrize(
        ("value", "problem"),
        [
            (
                ".github/workflows/release.yml",
                'must be just the file name, e.g. "release.yml", '
                'not ".github/workflows/release.yml"',
            ),
            (
                "workflows/publish.yaml",
                'must be just the file name, e.g. "publish.yaml", not "workflows/publish.yaml"',
            ),
            (
                "release",
                'must be the workflow\'s file name ending in ".yml" or ".yaml", '
                'e.g. "release.yml", not "release"',
            ),
            (
                ".yml",
                'must be the workflow\'s file name ending in ".yml" or ".yaml", '
                'e.g. "release.yml", not ".yml"',
            ),
            (
                "",
                'must be the workflow\'s file name ending in ".yml" or ".yaml", '
                'e.g. "release.yml", not ""',
            ),
        ],
    )
    def test_github_workflow_invalid(self, value: str, problem: str) -> None:
        assert check_github_workflow(value) == problem

    @pytest.mark.parametrize("value", ["group/demo", "group/sub/sub2/demo", "user_1/my.project"])
    def test_gitlab_repository_valid(self, value: str) -> None:
        assert check_gitlab_repository(value) is None

    @pytest.mark.parametrize("value", ["demo", "group//demo", "group/demo/", "-g/demo", "g/de mo"])
    def test_gitlab_repository_invalid(self, value: str) -> None:
        assert check_gitlab_repository(value) == (
            'must be the project path "NAMESPACE/PROJECT" (namespaces may nest, e.g. '
            '"group/subgroup/project"), each part only letters, digits, "_", "." and "-", '
            f'not "{value}"'
        )

    @pytest.mark.parametrize("value", [".gitlab-ci.yml", "ci/release.yml", "a/b/pipeline.yaml"])
    def test_gitlab_workflow_filepath_valid(self, value: str) -> None:
        assert check_gitlab_workflow_filepath(value) is None

    @pytest.mark.parametrize(
        ("value", "problem"),
        [
            (
                "/.gitlab-ci.yml",
                "must be a path relative to the project root, e.g. "
                '".gitlab-ci.yml" or "ci/release.yml", not "/.gitlab-ci.yml"',
            ),
            (
                "ci//release.yml",
                "must be a path relative to the project root, e.g. "
                '".gitlab-ci.yml" or "ci/release.yml", not "ci//release.yml"',
            ),
            (
                "../ci.yml",
                "must be a path relative to the project root, e.g. "
                '".gitlab-ci.yml" or "ci/release.yml", not "../ci.yml"',
            ),
            (
                "ci/",
                "must be a path relative to the project root, e.g. "
                '".gitlab-ci.yml" or "ci/release.yml", not "ci/"',
            ),
            (
                "ci/release.txt",
                'must be the path of a file ending in ".yml" or ".yaml", '
                'e.g. ".gitlab-ci.yml", not "ci/release.txt"',
            ),
            (
                "ci/.yml",
                'must be the path of a file ending in ".yml" or ".yaml", '
                'e.g. ".gitlab-ci.yml", not "ci/.yml"',
            ),
        ],
    )
    def test_gitlab_workflow_filepath_invalid(self, value: str, problem: str) -> None:
        assert check_gitlab_workflow_filepath(value) == problem

    @pytest.mark.parametrize(
        "value",
        ["release@demo.iam.gserviceaccount.com", "123-compute@developer.gserviceaccount.com"],
    )
    def test_google_email_valid(self, value: str) -> None:
        assert check_google_email(value) is None

    @pytest.mark.parametrize("value", ["", "release", "a@b", "a b@c.com", "a@@b.com", "a@b.com."])
    def test_google_email_invalid(self, value: str) -> None:
        assert check_google_email(value) == (
            "must be the service account's email address, e.g. "
            f'"release@my-project.iam.gserviceaccount.com", not "{value}"'
        )


class TestPublisherFromEnvironment:
    def test_github(self) -> None:
        assert publisher_from_environment(GITHUB_ENV) == GITHUB

    def test_github_pull_request_ref(self) -> None:
        env = GITHUB_ENV | {
            "GITHUB_WORKFLOW_REF": "octo-org/demo/.github/workflows/ci.yaml@refs/pull/7/merge"
        }
        assert publisher_from_environment(env) == GitHubPublisher("octo-org/demo", "ci.yaml")

    def test_github_reusable_workflow_names_the_caller(self) -> None:
        # In a reusable workflow (octo-org/shared/.github/workflows/build.yml),
        # GITHUB_WORKFLOW_REF still names the caller: that is what PyPI checks.
        env = GITHUB_ENV | {
            "GITHUB_WORKFLOW_REF": "octo-org/demo/.github/workflows/release.yml@refs/heads/main"
        }
        assert publisher_from_environment(env) == GITHUB

    @pytest.mark.parametrize(
        "changes",
        [
            {"GITHUB_WORKFLOW_REF": ""},
            {"GITHUB_WORKFLOW_REF": "octo-org/demo@refs/heads/main"},
            {"GITHUB_REPOSITORY": ""},
            {"GITHUB_ACTIONS": "false"},
            {"GITHUB_SERVER_URL": "https://github.example.com"},
        ],
    )
    def test_github_not_inferable(self, changes: dict[str, str]) -> None:
        assert publisher_from_environment(GITHUB_ENV | changes) is None

    def test_github_without_server_url(self) -> None:
        env = {k: v for k, v in GITHUB_ENV.items() if k != "GITHUB_SERVER_URL"}
        assert publisher_from_environment(env) == GITHUB

    def test_gitlab(self) -> None:
        assert publisher_from_environment(GITLAB_ENV) == GITLAB

    def test_gitlab_custom_config_path(self) -> None:
        env = GITLAB_ENV | {"CI_CONFIG_PATH": "ci/release.yml"}
        assert publisher_from_environment(env) == GitLabPublisher(
            "group/sub/demo", "ci/release.yml"
        )

    def test_gitlab_default_config_path(self) -> None:
        unset = {k: v for k, v in GITLAB_ENV.items() if k != "CI_CONFIG_PATH"}
        assert publisher_from_environment(unset) == GITLAB
        assert publisher_from_environment(GITLAB_ENV | {"CI_CONFIG_PATH": ""}) == GITLAB

    @pytest.mark.parametrize(
        "changes",
        [
            {"CI_CONFIG_PATH": "templates/python.yml@group/ci-templates"},
            {"CI_CONFIG_PATH": "https://example.com/pipeline.yml"},
            {"CI_PROJECT_PATH": ""},
            {"CI_SERVER_HOST": "gitlab.example.com"},
        ],
    )
    def test_gitlab_not_inferable(self, changes: dict[str, str]) -> None:
        assert publisher_from_environment(GITLAB_ENV | changes) is None

    @pytest.mark.parametrize(
        "env",
        [
            LAPTOP_ENV,
            {"CI": "true", "BUILDKITE": "true"},
            # Google Cloud Build: the identity comes from the metadata server.
            {"PROJECT_ID": "demo-project", "BUILD_ID": "b7d6", "HOME": "/builder/home"},
        ],
    )
    def test_nothing_to_infer(self, env: dict[str, str]) -> None:
        assert publisher_from_environment(env) is None


@pytest.mark.parametrize(
    ("publisher", "text"),
    [
        (GITHUB, "GitHub repository octo-org/demo, workflow release.yml"),
        (GITLAB, "GitLab project group/sub/demo, CI config .gitlab-ci.yml"),
        (GOOGLE, "Google service account release@demo-project.iam.gserviceaccount.com"),
    ],
)
def test_describe(publisher: ExpectedPublisher, text: str) -> None:
    assert publisher.describe() == text


class TestEnvironmentMismatch:
    @pytest.mark.parametrize(
        ("expected", "env"),
        [
            (GITHUB, GITHUB_ENV),
            (GITLAB, GITLAB_ENV),
            (GITLAB, {k: v for k, v in GITLAB_ENV.items() if k != "CI_CONFIG_PATH"}),
            (GITHUB, GITHUB_ENV | {"GITHUB_WORKFLOW_REF": ""}),  # only the repository is known
        ],
    )
    def test_match(self, expected: ExpectedPublisher, env: dict[str, str]) -> None:
        assert environment_mismatch(expected, env) is None

    @pytest.mark.parametrize("expected", [GITHUB, GITLAB, GOOGLE])
    def test_nothing_known(self, expected: ExpectedPublisher) -> None:
        assert environment_mismatch(expected, LAPTOP_ENV) is None
        assert environment_mismatch(expected, {}) is None

    def test_github_fork(self) -> None:
        env = GITHUB_ENV | {
            "GITHUB_REPOSITORY": "stranger/demo",
            "GITHUB_WORKFLOW_REF": "stranger/demo/.github/workflows/release.yml@refs/heads/main",
        }
        assert environment_mismatch(GITHUB, env) == (
            "expected GitHub repository octo-org/demo, found stranger/demo (GITHUB_REPOSITORY)"
        )

    def test_github_repository_case(self) -> None:
        expected = GitHubPublisher(repository="Octo-Org/Demo", workflow="release.yml")
        assert environment_mismatch(expected, GITHUB_ENV) == (
            "expected GitHub repository Octo-Org/Demo, found octo-org/demo (GITHUB_REPOSITORY); "
            "they differ only in letter case, and PyPI compares exactly: use octo-org/demo"
        )

    def test_github_other_workflow(self) -> None:
        env = GITHUB_ENV | {
            "GITHUB_WORKFLOW_REF": "octo-org/demo/.github/workflows/ci.yml@refs/heads/main"
        }
        assert environment_mismatch(GITHUB, env) == (
            "expected workflow release.yml, found ci.yml (GITHUB_WORKFLOW_REF)"
        )

    def test_gitlab_fork(self) -> None:
        env = GITLAB_ENV | {"CI_PROJECT_PATH": "stranger/demo"}
        assert environment_mismatch(GITLAB, env) == (
            "expected GitLab project group/sub/demo, found stranger/demo (CI_PROJECT_PATH)"
        )

    def test_gitlab_other_config(self) -> None:
        env = GITLAB_ENV | {"CI_CONFIG_PATH": "ci/test.yml"}
        assert environment_mismatch(GITLAB, env) == (
            "expected CI config .gitlab-ci.yml, found ci/test.yml (CI_CONFIG_PATH)"
        )

    def test_gitlab_default_config_differs(self) -> None:
        expected = GitLabPublisher("group/sub/demo", "ci/release.yml")
        env = GITLAB_ENV | {"CI_CONFIG_PATH": ""}
        assert environment_mismatch(expected, env) == (
            "expected CI config ci/release.yml, found .gitlab-ci.yml (CI_CONFIG_PATH)"
        )

    @pytest.mark.parametrize(
        ("expected", "env", "reason"),
        [
            (
                GITHUB,
                GITLAB_ENV,
                "expected GitHub repository octo-org/demo, workflow release.yml, "
                "found a GitLab CI job in group/sub/demo",
            ),
            (
                GITLAB,
                GITHUB_ENV,
                "expected GitLab project group/sub/demo, CI config .gitlab-ci.yml, "
                "found a GitHub Actions job in octo-org/demo",
            ),
            (
                GOOGLE,
                GITHUB_ENV,
                "expected Google service account release@demo-project.iam.gserviceaccount.com, "
                "found a GitHub Actions job in octo-org/demo",
            ),
            (
                GITHUB,
                {"CI": "true", "BUILDKITE": "true"},
                "expected GitHub repository octo-org/demo, workflow release.yml, "
                "found a Buildkite job",
            ),
            (
                GITLAB,
                {"CI": "true", "CIRCLECI": "true"},
                "expected GitLab project group/sub/demo, CI config .gitlab-ci.yml, "
                "found a CircleCI job",
            ),
        ],
    )
    def test_other_ci(self, expected: ExpectedPublisher, env: dict[str, str], reason: str) -> None:
        assert environment_mismatch(expected, env) == reason

    def test_github_enterprise_server(self) -> None:
        env = GITHUB_ENV | {"GITHUB_SERVER_URL": "https://github.example.com"}
        assert environment_mismatch(GITHUB, env) == (
            "expected GitHub repository octo-org/demo, workflow release.yml, found a GitHub "
            "Actions job in octo-org/demo on https://github.example.com, which PyPI does not trust"
        )

    def test_self_managed_gitlab(self) -> None:
        env = GITLAB_ENV | {"CI_SERVER_HOST": "gitlab.example.com"}
        assert environment_mismatch(GITLAB, env) == (
            "expected GitLab project group/sub/demo, CI config .gitlab-ci.yml, found a GitLab "
            "CI job in group/sub/demo on gitlab.example.com, which PyPI does not trust"
        )


class TestRepositoryFromProjectUrls:
    @pytest.mark.parametrize(
        ("urls", "expected"),
        [
            ({"Source": "https://github.com/octo-org/demo"}, ("github", "octo-org/demo")),
            ({"Source Code": "https://github.com/octo-org/demo.git"}, ("github", "octo-org/demo")),
            (
                {"source_code": "https://github.com/octo-org/demo/tree/main/src"},
                ("github", "octo-org/demo"),
            ),
            ({"REPOSITORY": "https://www.github.com/octo-org/demo/"}, ("github", "octo-org/demo")),
            ({"Code": "http://github.com/octo-org/demo"}, ("github", "octo-org/demo")),
            ({"GitHub": "https://github.com/octo-org/demo#readme"}, ("github", "octo-org/demo")),
            ({"Homepage": "https://github.com/octo-org/demo"}, ("github", "octo-org/demo")),
            ({"Source": "https://gitlab.com/group/sub/demo"}, ("gitlab", "group/sub/demo")),
            ({"Source": "https://gitlab.com/group/sub/demo.git"}, ("gitlab", "group/sub/demo")),
            ({"Repository": "https://gitlab.com/group/demo/-/tree/main"}, ("gitlab", "group/demo")),
            # The most specific label wins, whatever the table's order.
            (
                {
                    "Homepage": "https://github.com/octo-org/site",
                    "Source": "https://github.com/octo-org/demo",
                },
                ("github", "octo-org/demo"),
            ),
            # An unusable source URL gives way to the next label.
            (
                {
                    "Source": "https://codeberg.org/octo/demo",
                    "Homepage": "https://github.com/octo-org/demo",
                },
                ("github", "octo-org/demo"),
            ),
        ],
    )
    def test_found(self, urls: dict[str, str], expected: tuple[str, str]) -> None:
        assert repository_from_project_urls(urls) == expected

    @pytest.mark.parametrize(
        "urls",
        [
            {},
            {"Documentation": "https://github.com/octo-org/demo"},
            {"Source": "https://github.com/octo-org"},
            {"Source": "https://github.com/"},
            {"Source": "git@github.com:octo-org/demo.git"},
            {"Source": "ssh://git@github.com/octo-org/demo"},
            {"Source": "https://gitlab.com/demo"},
            {"Source": "https://gitlab.example.com/group/demo"},
            {"Source": "https://github.com.evil.example/octo-org/demo"},
            {"Source": "https://github.com/octo_org/demo"},
            {"Source": "https://[github.com/octo-org/demo"},
        ],
    )
    def test_not_found(self, urls: dict[str, str]) -> None:
        assert repository_from_project_urls(urls) is None


class TestToPyPIPublisher:
    def test_github(self) -> None:
        converted = GITHUB.to_pypi()
        assert converted == pypi_attestations.GitHubPublisher(
            repository="octo-org/demo", workflow="release.yml"
        )
        assert converted.kind == "GitHub"
        assert converted.environment is None

    def test_gitlab(self) -> None:
        converted = GITLAB.to_pypi()
        assert converted == pypi_attestations.GitLabPublisher(
            repository="group/sub/demo", workflow_filepath=".gitlab-ci.yml"
        )
        assert converted.kind == "GitLab"

    def test_google(self) -> None:
        converted = GOOGLE.to_pypi()
        assert converted == pypi_attestations.GooglePublisher(
            email="release@demo-project.iam.gserviceaccount.com"
        )
        assert converted.kind == "Google"

    @pytest.mark.parametrize("publisher", [GITHUB, GITLAB, GOOGLE])
    def test_round_trips_through_an_attestation_bundle(self, publisher: ExpectedPublisher) -> None:
        # PEP 740 provenance objects carry the publisher as JSON with a "kind" tag.
        bundle = pypi_attestations.AttestationBundle(publisher=publisher.to_pypi(), attestations=[])
        again = pypi_attestations.AttestationBundle.model_validate_json(bundle.model_dump_json())
        assert again.publisher == publisher.to_pypi()
