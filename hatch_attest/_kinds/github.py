"""GitHub Actions: the publisher kind, the job, its token and its SLSA provenance.

Everything hatch-attest knows about GitHub lives here: the ``github`` publisher
table and spec, how a GitHub Actions job is recognised and named, the token
request (``ACTIONS_ID_TOKEN_REQUEST_URL``), the certificate claims PyPI's policy
expects, and provenance in GitHub's own format (``@actions/attest``'s
``provenance.ts``), checked value by value against the certificate.

Only the standard library is imported at module level (the idle build path).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hatch_attest._identity import AUDIENCE, Probe
from hatch_attest._kinds.base import (
    USE_PUBLISH,
    WORKFLOW_SUFFIXES,
    Ambient,
    Field,
    Pair,
    Publisher,
    _differs,
    _ForgePublisher,
    _quote,
    at,
    claim,
    config_path,
    dependency_pairs,
    same,
    strip_ref,
)
from hatch_attest._redact import redact
from hatch_attest.errors import IdentityError, PredicateError

if TYPE_CHECKING:
    from pathlib import Path

    from hatch_attest._kinds.release import ReleasePlan, ReleaseSource
    from hatch_attest._uploads import TopologySkip

__all__ = [
    "GITHUB_BUILD_TYPE",
    "GITHUB_PERMISSION_FIX",
    "GitHubActions",
    "GitHubPublisher",
    "check_github_repository",
    "check_github_workflow",
    "github_workflow_file",
]

GITHUB_BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1"
"""GitHub's own build type, as written by ``actions/attest-build-provenance``."""

GITHUB_PERMISSION_FIX = (
    "add `permissions: id-token: write` to the job (or workflow) that builds, "
    "in the same workflow file that publishes"
)

# PyPI's own publisher form accepts exactly these (warehouse/oidc/forms/github.py).
_GITHUB_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_GITHUB_REPO = re.compile(r"[A-Za-z0-9._-]+")
_HOSTS = frozenset({"github.com", "www.github.com"})


def check_github_repository(value: str) -> str | None:
    """Return what is wrong with a GitHub ``OWNER/REPO`` slug, or None if it is valid."""
    owner, slash, repo = value.partition("/")
    if not slash or "/" in repo or not owner or not repo:
        return f'must be "OWNER/REPO", e.g. "octo-org/demo", not {_quote(value)}'
    if not _GITHUB_OWNER.fullmatch(owner):
        return (
            'must be "OWNER/REPO" where OWNER has only letters, digits and hyphens '
            f"and does not start with a hyphen, not {_quote(value)}"
        )
    if not _GITHUB_REPO.fullmatch(repo) or repo in {".", ".."}:
        return (
            'must be "OWNER/REPO" where REPO has only letters, digits, ".", "_" and "-", '
            f"not {_quote(value)}"
        )
    return None


def check_github_workflow(value: str) -> str | None:
    """Return what is wrong with a GitHub workflow file name, or None if it is valid."""
    if "/" in value:
        name = value.rpartition("/")[2] or "release.yml"
        return f"must be just the file name, e.g. {_quote(name)}, not {_quote(value)}"
    if not value.endswith(WORKFLOW_SUFFIXES) or value in WORKFLOW_SUFFIXES:
        return (
            'must be the workflow\'s file name ending in ".yml" or ".yaml", '
            f'e.g. "release.yml", not {_quote(value)}'
        )
    return None


def github_workflow_file(workflow_ref: str) -> tuple[str, str] | None:
    """``(OWNER/REPO, FILE)`` of ``OWNER/REPO/.github/workflows/FILE@REF``, if it is one.

    The one reading of a workflow ref, for ``GITHUB_WORKFLOW_REF`` and the token's
    ``workflow_ref`` claim alike. The ref starts after the *last* ``@``, as Fulcio and
    pypi-attestations read it: a file may be named ``release@v2.yml``.
    """
    repository, marker, tail = workflow_ref.partition("/.github/workflows/")
    name, at_sign, _ = tail.rpartition("@")
    if not marker or not at_sign or not name or "/" in name or repository.count("/") != 1:
        return None
    return repository, name


@dataclass(frozen=True)
class GitHubPublisher(_ForgePublisher):
    """A GitHub Actions Trusted Publisher (on github.com).

    ``repository`` is ``OWNER/REPO``, spelled exactly as GitHub does (PyPI compares it
    exactly).
    """

    workflow: str
    """File name of the top-level workflow, e.g. ``release.yml`` (no directories)."""

    kind: ClassVar[str] = "github"
    pypi_kind: ClassVar[str] = "GitHub"
    pypi_name: ClassVar[str] = "GitHub"
    upload_identity: ClassVar[str | None] = "`permissions: id-token: write`"
    issuer: ClassVar[str] = "https://token.actions.githubusercontent.com"
    server: ClassVar[str] = "https://github.com"
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "repository",
            "repository",
            "repository",
            check_github_repository,
            'the repository as "OWNER/REPO"',
        ),
        Field(
            "workflow",
            "workflow",
            "workflow",
            check_github_workflow,
            'the workflow\'s file name, e.g. "release.yml"',
        ),
    )
    spec_form: ClassVar[str] = "github:OWNER/REPO@WORKFLOW.yml"
    spec_example: ClassVar[str] = "github:octo-org/demo@release.yml"
    visibility_claim: ClassVar[str | None] = "repository_visibility"
    emulated_as: ClassVar[str | None] = "GitHub"
    ci_markers: ClassVar[tuple[str, ...]] = (".github/workflows",)
    ci_paths: ClassVar[tuple[str, ...]] = (".github",)
    build_type: ClassVar[str | None] = GITHUB_BUILD_TYPE

    @classmethod
    def plan_release(cls, source: ReleaseSource) -> ReleasePlan:
        from hatch_attest._kinds import github_workflow

        return github_workflow.plan_release(source)

    def describe(self) -> str:
        return f"GitHub repository {self.repository}, workflow {self.workflow}"

    @property
    def repository_uri(self) -> str:
        return f"{self.server}/{self.repository}"

    @property
    def build_config(self) -> str:
        return f"{self.repository_uri}/.github/workflows/{self.workflow}"

    @classmethod
    def repository_from_url(cls, host: str, segments: list[str]) -> str | None:
        if host not in _HOSTS or len(segments) < 2:
            return None
        slug = f"{segments[0]}/{segments[1].removesuffix('.git')}"
        return slug if check_github_repository(slug) is None else None

    @classmethod
    def runs_here(cls, env: Mapping[str, str]) -> bool:
        return GitHubActions.runs_here(env)

    @classmethod
    def foreign_server(cls, env: Mapping[str, str]) -> str | None:
        server = env.get("GITHUB_SERVER_URL", "").rstrip("/")
        return server if server and server.lower() != cls.server else None

    @classmethod
    def job(cls, env: Mapping[str, str]) -> str:
        return GitHubActions.job(env)

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> GitHubPublisher | None:
        """``GITHUB_REPOSITORY`` and the file name in ``GITHUB_WORKFLOW_REF``.

        In a reusable workflow that variable still names the *top-level caller*
        workflow, which is what the certificate's Build Config URI records and what
        PyPI checks; the reusable workflow's own file (``job_workflow_ref``, the Build
        Signer URI), possibly in another repository, plays no part.
        """
        if not cls.runs_here(env) or cls.foreign_server(env) is not None:
            return None
        repository = env.get("GITHUB_REPOSITORY", "")
        workflow = github_workflow_file(env.get("GITHUB_WORKFLOW_REF", ""))
        if not repository or workflow is None:
            return None
        return cls(repository=repository, workflow=workflow[1])

    def environment_mismatch(self, env: Mapping[str, str]) -> str | None:
        repository = env.get("GITHUB_REPOSITORY", "")
        if repository and repository != self.repository:
            return _differs("GitHub repository", self.repository, repository, "GITHUB_REPOSITORY")
        workflow = github_workflow_file(env.get("GITHUB_WORKFLOW_REF", ""))
        if workflow is not None and workflow[1] != self.workflow:
            return _differs("workflow", self.workflow, workflow[1], "GITHUB_WORKFLOW_REF")
        return None

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> GitHubPublisher | None:
        repository = claims.get("repository")
        workflow = github_workflow_file(str(claims.get("workflow_ref", "")))
        if claims.get("iss") != cls.issuer or not isinstance(repository, str) or not workflow:
            return None
        return cls(repository=repository, workflow=workflow[1])

    def _token_differs(self, named: GitHubPublisher) -> str:
        if named.repository != self.repository:
            return f"the token is for repository {named.repository}, expected {self.repository}"
        return f"the token is for workflow {named.workflow}, expected {self.workflow}"

    @classmethod
    def untrusted_issuer(cls, issuer: object) -> str | None:
        # GitHub Enterprise Cloud's per-enterprise issuer (`.../<enterprise>`), which no
        # PyPI Trusted Publisher can match.
        reason = super().untrusted_issuer(issuer)
        if reason is None:
            return None
        return (
            f"{reason} (GitHub Enterprise Cloud issues tokens under a per-enterprise issuer "
            "when the enterprise asks for one); to attest, let this job's tokens use the "
            "standard issuer"
        )

    # --- SLSA provenance: GitHub's own format (@actions/attest provenance.ts) ----------

    @classmethod
    def provenance(cls, claims: Mapping[str, Any]) -> dict[str, Any]:
        repository = claim(claims, "repository")
        workflow_ref = claim(claims, "workflow_ref")
        ref = claim(claims, "ref")
        # `owner/repo/.github/workflows/release.yml@refs/heads/main` -> the path, the
        # ref split off at the last "@" (a file may be named `release@v2.yml`).
        if not workflow_ref.startswith(f"{repository}/"):
            msg = (
                f"the identity token's workflow_ref is not in its repository {repository}; "
                f"SLSA provenance cannot name the workflow. {USE_PUBLISH}"
            )
            raise PredicateError(msg)
        path = strip_ref(workflow_ref[len(repository) + 1 :])
        repository_url = f"{cls.server}/{repository}"
        return {
            "buildDefinition": {
                "buildType": GITHUB_BUILD_TYPE,
                "externalParameters": {
                    "workflow": {"ref": ref, "repository": repository_url, "path": path},
                },
                "internalParameters": {
                    "github": {
                        "event_name": claim(claims, "event_name"),
                        "repository_id": claim(claims, "repository_id"),
                        "repository_owner_id": claim(claims, "repository_owner_id"),
                        "runner_environment": claim(claims, "runner_environment"),
                    },
                },
                "resolvedDependencies": [
                    {
                        "uri": f"git+{repository_url}@{ref}",
                        "digest": {"gitCommit": claim(claims, "sha")},
                    },
                ],
            },
            "runDetails": {
                "builder": {"id": f"{cls.server}/{claim(claims, 'job_workflow_ref')}"},
                "metadata": {
                    "invocationId": (
                        f"{repository_url}/actions/runs/{claim(claims, 'run_id')}"
                        f"/attempts/{claim(claims, 'run_attempt')}"
                    ),
                },
            },
        }

    @classmethod
    def provenance_pairs(
        cls, predicate: Mapping[str, Any] | None, cert: Mapping[str, str]
    ) -> list[Pair]:
        workflow = ("buildDefinition", "externalParameters", "workflow")
        github = ("buildDefinition", "internalParameters", "github")
        repository = at(predicate, *workflow, "repository")
        return [
            *same(predicate, cert, [
                ("workflow.repository", (*workflow, "repository"), "source_repository_uri"),
                ("workflow.ref", (*workflow, "ref"), "source_repository_ref"),
            ]),
            ("workflow.path", at(predicate, *workflow, "path"), "build_config_uri",
             config_path(cert, repository, "/")),
            *dependency_pairs(predicate, cert),
            *same(predicate, cert, [
                ("builder.id", ("runDetails", "builder", "id"), "build_signer_uri"),
                ("invocationId", ("runDetails", "metadata", "invocationId"),
                 "run_invocation_uri"),
                ("github.event_name", (*github, "event_name"), "build_trigger"),
                ("github.repository_id", (*github, "repository_id"),
                 "source_repository_identifier"),
                ("github.repository_owner_id", (*github, "repository_owner_id"),
                 "source_repository_owner_identifier"),
                ("github.runner_environment", (*github, "runner_environment"),
                 "runner_environment"),
            ]),
        ]  # fmt: skip

    @classmethod
    def shapes_provenance(cls, predicate: Mapping[str, Any] | None) -> bool:
        return at(predicate, "buildDefinition", "externalParameters", "workflow") is not None

    @classmethod
    def provenance_rows(cls, predicate: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
        workflow = ("buildDefinition", "externalParameters", "workflow")
        return [
            ("Repository", at(predicate, *workflow, "repository")),
            ("Workflow", at(predicate, *workflow, "path")),
            ("Ref", at(predicate, *workflow, "ref")),
        ]


class GitHubActions(Ambient):
    """A GitHub Actions job: its token comes from the job's token service."""

    source: ClassVar[str] = "GitHub Actions"
    publisher: ClassVar[type[Publisher] | None] = GitHubPublisher
    summary_variable: ClassVar[str | None] = "GITHUB_STEP_SUMMARY"

    @classmethod
    def runs_here(cls, env: Mapping[str, str]) -> bool:
        return env.get("GITHUB_ACTIONS") == "true"

    @classmethod
    def release_skip(cls, env: Mapping[str, str], *, publisher: bool) -> TopologySkip | None:
        from hatch_attest._kinds import github_workflow

        return github_workflow.topology_skip(env, publisher=publisher)

    @classmethod
    def publisher_doubt(cls, env: Mapping[str, str]) -> str | None:
        from hatch_attest._kinds import github_workflow

        return github_workflow.publisher_doubt(env)

    @classmethod
    def uploader_signs_publish(
        cls, env: Mapping[str, str], *, cwd: Path | None = None
    ) -> tuple[bool, str] | None:
        from hatch_attest._kinds import github_workflow

        return github_workflow.workflow_uses_pypi_publish_action(env, cwd=cwd)

    @classmethod
    def job(cls, env: Mapping[str, str]) -> str:
        repository = env.get("GITHUB_REPOSITORY")
        return f"a GitHub Actions job in {repository}" if repository else "a GitHub Actions job"

    @classmethod
    def probe(cls, env: Mapping[str, str]) -> Probe:
        if env.get("ACTIONS_ID_TOKEN_REQUEST_URL") and env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
            return Probe(cls.source)
        return Probe(
            None,
            "this GitHub Actions job has no OIDC permission "
            "(ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not set)",
            GITHUB_PERMISSION_FIX,
        )

    @classmethod
    def fetch_token(cls, env: Mapping[str, str]) -> str:
        import requests

        from hatch_attest import _http

        # An env file with CRLF line ends leaves a "\r" (or "\n") on the value; requests
        # then refuses the header and quotes it whole in its error.
        request_token = env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"].strip()
        session = _http.mount(requests.Session(), _http.BoundedAdapter())
        try:
            response = session.get(
                env["ACTIONS_ID_TOKEN_REQUEST_URL"],
                params={"audience": AUDIENCE},
                headers={"Authorization": f"bearer {request_token}"},
            )
        except requests.exceptions.InvalidHeader:
            # requests quotes the whole header in this error: never show it.
            msg = (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN holds a line break or another character that "
                "cannot be sent in an HTTP header; check how the job sets it (an env file "
                "with CRLF line ends?)"
            )
            raise IdentityError(msg) from None
        except requests.RequestException as e:
            detail = redact(str(e), [request_token])
            msg = f"GitHub Actions did not issue an OIDC token: {detail}"
            raise IdentityError(msg) from None
        finally:
            session.close()
        if response.status_code >= 500 or response.status_code == 429:
            msg = (
                "GitHub Actions' OIDC token service is unavailable "
                f"(HTTP {response.status_code}); retry the job"
            )
            raise IdentityError(msg)
        if response.status_code != 200:
            msg = (
                f"GitHub Actions refused the OIDC token request (HTTP {response.status_code}); "
                "check that the job has `permissions: id-token: write`"
            )
            raise IdentityError(msg)
        try:
            value = response.json()["value"]
        except (ValueError, KeyError, TypeError):
            value = None
        if not isinstance(value, str) or not value:
            msg = "GitHub Actions answered the OIDC token request with a malformed body"
            raise IdentityError(msg)
        return value
