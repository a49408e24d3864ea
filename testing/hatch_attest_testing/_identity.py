"""CI identities: the OIDC claims and environment variables of a job.

Each identity describes one CI job the way its platform describes it: the claims
of the ID token the platform would mint, and the environment the job would see.
Claim names and formats follow each platform's documentation of its ID tokens
(GitHub, GitLab, Google, Buildkite, CircleCI); the values that Fulcio copies into
certificates must be exact, the rest only plausible.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from hatch_attest._kinds import Publisher

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.com"
GOOGLE_ISSUER = "https://accounts.google.com"
BUILDKITE_ISSUER = "https://agent.buildkite.com"
# `circleci run oidc get --root-issuer` tokens; without the flag, the issuer is
# the organization's own `https://oidc.circleci.com/org/<org-id>`.
CIRCLECI_ISSUER = "https://oidc.circleci.com"

Claims = dict[str, Any]


@dataclass(frozen=True)
class GitHubIdentity:
    """A GitHub Actions job.

    `workflow` is the file name under `.github/workflows/` of the top-level
    workflow. `job_workflow_ref` is set only when the job runs in a reusable
    workflow (it then names that file, `owner/repo/.github/workflows/x.yml@ref`);
    Fulcio puts it in the certificate's SAN, while the Build Config URI keeps
    naming the top-level workflow, which is what PyPI checks.
    """

    repository: str = "octo-org/demo-pkg"
    workflow: str = "release.yml"
    ref: str = "refs/heads/main"
    sha: str = "3f786850e387550fdab836ed7e6dc881de23001b"
    visibility: str | None = "public"
    """The ``repository_visibility`` claim; None leaves it out."""
    event_name: str = "push"
    repository_id: str = "600000001"
    owner_id: str = "90000001"
    runner_environment: str = "github-hosted"
    environment: str | None = None
    job_workflow_ref: str | None = None
    workflow_name: str = "Release"
    run_id: str = "10000000001"
    run_attempt: str = "1"
    actor: str = "octocat"

    kind: ClassVar[str] = "github"
    """The publisher kind whose jobs this emulates."""
    workspace_variable: ClassVar[str] = "GITHUB_WORKSPACE"
    """The variable naming the job's checkout."""

    @classmethod
    def for_publisher(cls, publisher: Publisher, *, tag: str) -> GitHubIdentity:
        """A job of ``publisher``'s workflow, running on the tag ``tag``."""
        return cls(
            repository=str(getattr(publisher, "repository")),  # noqa: B009
            workflow=str(getattr(publisher, "workflow")),  # noqa: B009
            ref=f"refs/tags/{tag}",
        )

    @property
    def owner(self) -> str:
        """The repository owner (user or organization)."""
        return self.repository.split("/", 1)[0]

    @property
    def workflow_ref(self) -> str:
        """`owner/repo/.github/workflows/<file>@<ref>`, as in the token and env."""
        return f"{self.repository}/.github/workflows/{self.workflow}@{self.ref}"

    @property
    def ref_type(self) -> str:
        """`tag` for `refs/tags/...`, `branch` otherwise (as GITHUB_REF_TYPE)."""
        return "tag" if self.ref.startswith("refs/tags/") else "branch"

    @property
    def ref_name(self) -> str:
        """The ref without `refs/heads/` or `refs/tags/` (as GITHUB_REF_NAME)."""
        for prefix in ("refs/heads/", "refs/tags/", "refs/"):
            if self.ref.startswith(prefix):
                return self.ref[len(prefix) :]
        return self.ref

    def slsa_provenance(self) -> dict[str, Any]:
        """The SLSA v1 predicate `actions/attest-build-provenance` writes for this job."""
        repository = f"https://github.com/{self.repository}"
        return {
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {
                    "workflow": {
                        "ref": self.ref,
                        "repository": repository,
                        "path": f".github/workflows/{self.workflow}",
                    },
                },
                "internalParameters": {
                    "github": {
                        "event_name": self.event_name,
                        "repository_id": self.repository_id,
                        "repository_owner_id": self.owner_id,
                        "runner_environment": self.runner_environment,
                    },
                },
                "resolvedDependencies": [
                    {"uri": f"git+{repository}@{self.ref}", "digest": {"gitCommit": self.sha}}
                ],
            },
            "runDetails": {
                "builder": {
                    "id": f"https://github.com/{self.job_workflow_ref or self.workflow_ref}"
                },
                "metadata": {
                    "invocationId": (
                        f"{repository}/actions/runs/{self.run_id}/attempts/{self.run_attempt}"
                    ),
                },
            },
        }

    def claims(self) -> Claims:
        """The identity claims of this job's ID token (no aud/iat/exp/jti)."""
        # GitHub's default subject; a job with an environment gets that instead.
        if self.environment is not None:
            subject = f"repo:{self.repository}:environment:{self.environment}"
        else:
            subject = f"repo:{self.repository}:ref:{self.ref}"
        claims: Claims = {
            "iss": GITHUB_ISSUER,
            "sub": subject,
            "ref": self.ref,
            "ref_type": self.ref_type,
            "ref_protected": "false",
            "sha": self.sha,
            "repository": self.repository,
            "repository_id": self.repository_id,
            "repository_owner": self.owner,
            "repository_owner_id": self.owner_id,
            "actor": self.actor,
            "actor_id": "1",
            "workflow": self.workflow_name,
            "workflow_ref": self.workflow_ref,
            "workflow_sha": self.sha,
            "job_workflow_ref": self.job_workflow_ref or self.workflow_ref,
            "job_workflow_sha": self.sha,
            "event_name": self.event_name,
            "run_id": self.run_id,
            "run_number": "1",
            "run_attempt": self.run_attempt,
            "runner_environment": self.runner_environment,
            "head_ref": "",
            "base_ref": "",
        }
        if self.visibility is not None:
            claims["repository_visibility"] = self.visibility
        if self.environment is not None:
            claims["environment"] = self.environment
        return claims

    def environ(self) -> dict[str, str]:
        """The job's environment, without the ID-token request variables."""
        return {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_API_URL": "https://api.github.com",
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_REPOSITORY_ID": self.repository_id,
            "GITHUB_REPOSITORY_OWNER": self.owner,
            "GITHUB_REPOSITORY_OWNER_ID": self.owner_id,
            "GITHUB_WORKFLOW": self.workflow_name,
            "GITHUB_WORKFLOW_REF": self.workflow_ref,
            "GITHUB_WORKFLOW_SHA": self.sha,
            "GITHUB_REF": self.ref,
            "GITHUB_REF_NAME": self.ref_name,
            "GITHUB_REF_TYPE": self.ref_type,
            "GITHUB_SHA": self.sha,
            "GITHUB_EVENT_NAME": self.event_name,
            "GITHUB_RUN_ID": self.run_id,
            "GITHUB_RUN_NUMBER": "1",
            "GITHUB_RUN_ATTEMPT": self.run_attempt,
            "GITHUB_ACTOR": self.actor,
            "RUNNER_ENVIRONMENT": self.runner_environment,
            "RUNNER_OS": "Linux",
        }


@dataclass(frozen=True)
class GitLabIdentity:
    """A GitLab CI/CD job on gitlab.com.

    `ref` is the short name (`main`, `v1.0`) and `ref_type` says which kind it is,
    exactly as GitLab's ID token does.
    """

    project_path: str = "octo-group/demo-pkg"
    ci_config_path: str = ".gitlab-ci.yml"
    ci_config_project: str | None = None
    """The project the CI configuration file belongs to (a template); None: this one."""
    ref: str = "main"
    ref_type: str = "branch"
    sha: str = "3f786850e387550fdab836ed7e6dc881de23001b"
    visibility: str = "public"
    project_id: str = "50000001"
    namespace_id: str = "80000001"
    pipeline_source: str = "push"
    runner_environment: str = "gitlab-hosted"
    environment: str | None = None
    pipeline_id: str = "1000000001"
    job_id: str = "7000000001"
    user_login: str = "octocat"

    kind: ClassVar[str] = "gitlab"
    """The publisher kind whose jobs this emulates."""
    workspace_variable: ClassVar[str] = "CI_PROJECT_DIR"
    """The variable naming the job's checkout."""

    @classmethod
    def for_publisher(cls, publisher: Publisher, *, tag: str) -> GitLabIdentity:
        """A pipeline job of ``publisher``'s CI configuration, running on the tag ``tag``."""
        return cls(
            project_path=str(getattr(publisher, "repository")),  # noqa: B009
            ci_config_path=str(getattr(publisher, "workflow_filepath")),  # noqa: B009
            ref=tag,
            ref_type="tag",
        )

    @property
    def namespace_path(self) -> str:
        """The group (and subgroups) that holds the project."""
        return self.project_path.rsplit("/", 1)[0]

    @property
    def ref_path(self) -> str:
        """The fully qualified ref, `refs/heads/<ref>` or `refs/tags/<ref>`."""
        kind = "heads" if self.ref_type == "branch" else "tags"
        return f"refs/{kind}/{self.ref}"

    @property
    def ci_config_ref_uri(self) -> str:
        """`gitlab.com/<project>//<config path>@<ref path>` (no scheme, as GitLab sends it)."""
        project = self.ci_config_project or self.project_path
        return f"gitlab.com/{project}//{self.ci_config_path}@{self.ref_path}"

    def claims(self) -> Claims:
        """The identity claims of this job's ID token (no aud/iat/exp/jti)."""
        claims: Claims = {
            "iss": GITLAB_ISSUER,
            "sub": (f"project_path:{self.project_path}:ref_type:{self.ref_type}:ref:{self.ref}"),
            "namespace_id": self.namespace_id,
            "namespace_path": self.namespace_path,
            "project_id": self.project_id,
            "project_path": self.project_path,
            "project_visibility": self.visibility,
            "user_id": "1",
            "user_login": self.user_login,
            "user_email": f"{self.user_login}@example.com",
            "user_access_level": "maintainer",
            "pipeline_id": self.pipeline_id,
            "pipeline_source": self.pipeline_source,
            "job_id": self.job_id,
            "ref": self.ref,
            "ref_type": self.ref_type,
            "ref_path": self.ref_path,
            "ref_protected": "true",
            "runner_id": "1",
            "runner_environment": self.runner_environment,
            "sha": self.sha,
            "ci_config_ref_uri": self.ci_config_ref_uri,
            "ci_config_sha": self.sha,
        }
        if self.environment is not None:
            claims["environment"] = self.environment
        return claims

    def environ(self) -> dict[str, str]:
        """The job's environment, without the ID-token variable."""
        project_name = self.project_path.rsplit("/", 1)[-1]
        env = {
            "CI": "true",
            "GITLAB_CI": "true",
            "CI_SERVER_URL": "https://gitlab.com",
            "CI_SERVER_HOST": "gitlab.com",
            "CI_PROJECT_PATH": self.project_path,
            "CI_PROJECT_NAMESPACE": self.namespace_path,
            "CI_PROJECT_NAME": project_name,
            "CI_PROJECT_ID": self.project_id,
            "CI_PROJECT_URL": f"https://gitlab.com/{self.project_path}",
            "CI_PROJECT_VISIBILITY": self.visibility,
            "CI_CONFIG_PATH": (
                f"{self.ci_config_path}@{self.ci_config_project}"
                if self.ci_config_project
                else self.ci_config_path
            ),
            "CI_COMMIT_SHA": self.sha,
            "CI_COMMIT_REF_NAME": self.ref,
            "CI_PIPELINE_ID": self.pipeline_id,
            "CI_PIPELINE_SOURCE": self.pipeline_source,
            "CI_JOB_ID": self.job_id,
            "GITLAB_USER_LOGIN": self.user_login,
        }
        env["CI_COMMIT_BRANCH" if self.ref_type == "branch" else "CI_COMMIT_TAG"] = self.ref
        return env


@dataclass(frozen=True)
class GoogleIdentity:
    """A Google Cloud service account, as Google's ID tokens describe it.

    Fulcio signs for the `email` claim (it must be verified), which PyPI's Google
    publisher names.
    """

    email: str = "release@demo-project.iam.gserviceaccount.com"
    unique_id: str = "100000000000000000001"

    def claims(self) -> Claims:
        """The identity claims of the account's ID token (no aud/iat/exp)."""
        return {
            "iss": GOOGLE_ISSUER,
            "azp": self.unique_id,
            "sub": self.unique_id,
            "email": self.email,
            "email_verified": True,
        }


@dataclass(frozen=True)
class BuildkiteIdentity:
    """A Buildkite job: the claims of `buildkite-agent oidc request-token`."""

    organization_slug: str = "octo-org"
    pipeline_slug: str = "demo-pkg"
    build_number: int = 42
    branch: str = "main"
    commit: str = "3f786850e387550fdab836ed7e6dc881de23001b"
    step_key: str = "release"
    job_id: str = "0190b5c6-6a2e-4c4a-9d6e-5f0a9c1e2b3d"
    agent_id: str = "0190b5c6-0000-4000-8000-00000000a9e7"
    build_source: str = "webhook"
    runner_environment: str = "buildkite-hosted"
    organization_id: str = "0190b5c6-0000-4000-8000-0000000000a1"
    pipeline_id: str = "0190b5c6-0000-4000-8000-0000000000b2"

    def claims(self) -> Claims:
        """The identity claims of the job's ID token (no aud/iat/exp/jti)."""
        return {
            "iss": BUILDKITE_ISSUER,
            "sub": (
                f"organization:{self.organization_slug}:pipeline:{self.pipeline_slug}"
                f":ref:refs/heads/{self.branch}:commit:{self.commit}:step:{self.step_key}"
            ),
            "organization_slug": self.organization_slug,
            "organization_id": self.organization_id,
            "pipeline_slug": self.pipeline_slug,
            "pipeline_id": self.pipeline_id,
            "build_number": self.build_number,
            "build_branch": self.branch,
            "build_tag": None,
            "build_commit": self.commit,
            "build_source": self.build_source,
            "step_key": self.step_key,
            "job_id": self.job_id,
            "agent_id": self.agent_id,
            "runner_environment": self.runner_environment,
        }

    def environ(self) -> dict[str, str]:
        """The job's environment, without the agent's access token and endpoint."""
        return {
            "CI": "true",
            "BUILDKITE": "true",
            "BUILDKITE_ORGANIZATION_SLUG": self.organization_slug,
            "BUILDKITE_PIPELINE_SLUG": self.pipeline_slug,
            "BUILDKITE_BUILD_NUMBER": str(self.build_number),
            "BUILDKITE_BRANCH": self.branch,
            "BUILDKITE_COMMIT": self.commit,
            "BUILDKITE_STEP_KEY": self.step_key,
            "BUILDKITE_JOB_ID": self.job_id,
            "BUILDKITE_AGENT_ID": self.agent_id,
            "BUILDKITE_SOURCE": self.build_source,
            "BUILDKITE_REPO": f"https://github.com/{self.organization_slug}/{self.pipeline_slug}.git",
        }


@dataclass(frozen=True)
class CircleCIIdentity:
    """A CircleCI job: the claims of `circleci run oidc get`.

    `vcs_origin` has no scheme (`github.com/org/repo`), as CircleCI sends it.
    """

    org_id: str = "8f7e1c2a-0000-4000-8000-000000000001"
    project_id: str = "8f7e1c2a-0000-4000-8000-000000000002"
    pipeline_definition_id: str = "8f7e1c2a-0000-4000-8000-000000000003"
    pipeline_id: str = "8f7e1c2a-0000-4000-8000-000000000004"
    workflow_id: str = "8f7e1c2a-0000-4000-8000-000000000005"
    job_id: str = "8f7e1c2a-0000-4000-8000-000000000006"
    user_id: str = "8f7e1c2a-0000-4000-8000-000000000007"
    vcs_origin: str = "github.com/octo-org/demo-pkg"
    vcs_ref: str = "refs/heads/main"
    ssh_rerun: bool = False

    def claims(self, *, root_issuer: bool = True) -> Claims:
        """The identity claims of the job's ID token (no aud/iat/exp/jti)."""
        issuer = CIRCLECI_ISSUER if root_issuer else f"{CIRCLECI_ISSUER}/org/{self.org_id}"
        return {
            "iss": issuer,
            "sub": f"org/{self.org_id}/project/{self.project_id}/user/{self.user_id}",
            "oidc.circleci.com/org-id": self.org_id,
            "oidc.circleci.com/project-id": self.project_id,
            "oidc.circleci.com/pipeline-definition-id": self.pipeline_definition_id,
            "oidc.circleci.com/pipeline-id": self.pipeline_id,
            "oidc.circleci.com/workflow-id": self.workflow_id,
            "oidc.circleci.com/job-id": self.job_id,
            "oidc.circleci.com/context-ids": [],
            "oidc.circleci.com/vcs-origin": self.vcs_origin,
            "oidc.circleci.com/vcs-ref": self.vcs_ref,
            "oidc.circleci.com/ssh-rerun": self.ssh_rerun,
        }

    def environ(self) -> dict[str, str]:
        """The job's environment, without the emulated token channel."""
        owner, _, repository = self.vcs_origin.partition("/")[2].partition("/")
        return {
            "CI": "true",
            "CIRCLECI": "true",
            "CIRCLE_PROJECT_USERNAME": owner,
            "CIRCLE_PROJECT_REPONAME": repository,
            "CIRCLE_BRANCH": self.vcs_ref.removeprefix("refs/heads/"),
            "CIRCLE_SHA1": "3f786850e387550fdab836ed7e6dc881de23001b",
            "CIRCLE_WORKFLOW_ID": self.workflow_id,
            "CIRCLE_PIPELINE_ID": self.pipeline_id,
            "CIRCLE_JOB": "release",
        }


JobIdentity = GitHubIdentity | GitLabIdentity
"""A CI job of a publisher kind the local instance can run a job of."""
_JOBS: tuple[type[GitHubIdentity], type[GitLabIdentity]] = (GitHubIdentity, GitLabIdentity)


def identity_for(publisher: Publisher, *, tag: str = "rehearsal") -> JobIdentity:
    """The CI job that ``publisher`` names, running on the tag ``tag``.

    Raises:
        ValueError: no job of that publisher's kind can be emulated.
    """
    for job in _JOBS:
        if job.kind == publisher.kind:
            return job.for_publisher(publisher, tag=tag)
    msg = f"no CI job of a {publisher.kind} publisher can be emulated"
    raise ValueError(msg)


def token_claims(
    identity_claims: Claims, *, audience: str, issued_at: int, lifetime: int
) -> Claims:
    """Adds the registered JWT claims to an identity's claims."""
    return {
        **identity_claims,
        "aud": audience,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + lifetime,
        "jti": str(uuid.uuid4()),
    }
