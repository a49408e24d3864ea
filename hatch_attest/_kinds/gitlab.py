"""GitLab CI/CD on gitlab.com: the publisher kind, the job, its token and its provenance.

The ``gitlab`` publisher table and spec, how a GitLab CI job is recognised and named,
its token (``SIGSTORE_ID_TOKEN``, from an ``id_tokens`` entry), the certificate claims
PyPI's policy expects, and SLSA provenance in hatch-attest's GitLab build type
(``docs/buildtypes/gitlab-ci-v1.md``), checked value by value against the certificate.

Only the standard library is imported here (the idle build path).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hatch_attest._identity import Probe
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
from hatch_attest.errors import PredicateError

if TYPE_CHECKING:
    from hatch_attest._kinds.release import ReleasePlan, ReleaseSource
    from hatch_attest._uploads import TopologySkip

__all__ = [
    "GITLAB_BUILD_TYPE",
    "GITLAB_TOKEN_FIX",
    "GitLabCI",
    "GitLabPublisher",
    "check_gitlab_repository",
    "check_gitlab_workflow_filepath",
    "gitlab_config_ref",
]

GITLAB_BUILD_TYPE = (
    "https://github.com/hatch-attest/hatch-attest/blob/main/docs/buildtypes/gitlab-ci-v1.md"
)
"""hatch-attest's build type for GitLab CI jobs (see ``docs/buildtypes/gitlab-ci-v1.md``).

GitLab has no settled one: the runner's own provenance is an in-toto v0.1
statement (which sigstore-python cannot sign), and GitLab 18.3's Statement v1
format is an experiment whose values come from the job's environment. This one
keeps GitLab's field names but takes every value from the ID token. The URI is
where the specification lives, versioned by its name: a new meaning gets ``v2``.
"""

GITLAB_TOKEN_FIX = "add `id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore` to the job in .gitlab-ci.yml"  # noqa: S105
_TOKEN_VARIABLE = "SIGSTORE_ID_TOKEN"  # noqa: S105 - a variable name

# GitLab's rule for group and project *paths* (which is what URLs, CI_PROJECT_PATH
# and certificates carry, unlike display names that may hold spaces).
_GITLAB_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def check_gitlab_repository(value: str) -> str | None:
    """Return what is wrong with a GitLab ``NAMESPACE/PROJECT`` path, or None if valid."""
    segments = value.split("/")
    if len(segments) < 2 or not all(_GITLAB_SEGMENT.fullmatch(s) for s in segments):
        return (
            'must be the project path "NAMESPACE/PROJECT" (namespaces may nest, '
            'e.g. "group/subgroup/project"), each part only letters, digits, "_", "." '
            f'and "-", not {_quote(value)}'
        )
    return None


def check_gitlab_workflow_filepath(value: str) -> str | None:
    """Return what is wrong with a GitLab CI configuration path, or None if it is valid."""
    # Empty parts: a leading or trailing slash, or "//"; "\\" is not a separator on GitLab.
    if {"", ".", ".."} & set(value.split("/")) or "\\" in value:
        return (
            "must be a path relative to the project root, e.g. "
            f'".gitlab-ci.yml" or "ci/release.yml", not {_quote(value)}'
        )
    if not value.endswith(WORKFLOW_SUFFIXES) or value.rpartition("/")[2] in WORKFLOW_SUFFIXES:
        return (
            'must be the path of a file ending in ".yml" or ".yaml", e.g. ".gitlab-ci.yml", '
            f"not {_quote(value)}"
        )
    return None


def gitlab_config_ref(uri: str) -> tuple[str, str] | None:
    """``(PROJECT PATH, CONFIG PATH)`` of a ``ci_config_ref_uri``, if it is one.

    The claim reads ``gitlab.com/NS/PROJ//PATH/TO/.gitlab-ci.yml@REF``: the project
    the configuration file belongs to, which is not always the building project.
    The ref starts after the last ``@``, as Fulcio reads it.
    """
    location, separator, tail = uri.partition("//")
    host, slash, project = location.partition("/")
    path, at_sign, _ = tail.rpartition("@")
    if not separator or not slash or not at_sign or not path or not project:
        return None
    return (project, path) if host.lower() == GitLabPublisher.host else None


@dataclass(frozen=True)
class GitLabPublisher(_ForgePublisher):
    """A GitLab CI/CD Trusted Publisher on gitlab.com.

    ``repository`` is the project path with all its namespaces, e.g.
    ``group/subgroup/project``.
    """

    workflow_filepath: str
    """CI configuration file, relative to the project root, e.g. ``.gitlab-ci.yml``."""

    kind: ClassVar[str] = "gitlab"
    pypi_kind: ClassVar[str] = "GitLab"
    pypi_name: ClassVar[str] = "GitLab.com"
    upload_identity: ClassVar[str | None] = "`id_tokens: PYPI_ID_TOKEN: aud: pypi`"
    issuer: ClassVar[str] = "https://gitlab.com"
    host: ClassVar[str] = "gitlab.com"
    default_config: ClassVar[str] = ".gitlab-ci.yml"
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "repository",
            "repository",
            "repository",
            check_gitlab_repository,
            'the project path "NAMESPACE/PROJECT"',
        ),
        Field(
            "workflow-filepath",
            "workflow_filepath",
            "workflow file path",
            check_gitlab_workflow_filepath,
            'the CI configuration\'s path, e.g. ".gitlab-ci.yml"',
        ),
    )
    spec_form: ClassVar[str] = "gitlab:NAMESPACE/PROJECT@PATH/TO/.gitlab-ci.yml"
    spec_example: ClassVar[str] = "gitlab:group/project@.gitlab-ci.yml"
    visibility_claim: ClassVar[str | None] = "project_visibility"
    emulated_as: ClassVar[str | None] = "GitLab"
    ci_markers: ClassVar[tuple[str, ...]] = (".gitlab-ci.yml",)
    ci_paths: ClassVar[tuple[str, ...]] = (".gitlab", ".gitlab-ci.yml")
    build_type: ClassVar[str | None] = GITLAB_BUILD_TYPE

    @classmethod
    def plan_release(cls, source: ReleaseSource) -> ReleasePlan:
        from hatch_attest._kinds import gitlab_ci

        return gitlab_ci.plan_release(source)

    def describe(self) -> str:
        return f"GitLab project {self.repository}, CI config {self.workflow_filepath}"

    @property
    def repository_uri(self) -> str:
        return f"https://{self.host}/{self.repository}"

    @property
    def build_config(self) -> str:
        return f"{self.repository_uri}//{self.workflow_filepath}"

    @classmethod
    def repository_from_url(cls, host: str, segments: list[str]) -> str | None:
        if host not in {cls.host, f"www.{cls.host}"}:
            return None
        # Project pages live under "/-/" ("ns/proj/-/tree/main"); before it is the path.
        if "-" in segments:
            segments = segments[: segments.index("-")]
        if len(segments) < 2:
            return None
        path = "/".join(segments).removesuffix(".git")
        return path if check_gitlab_repository(path) is None else None

    @classmethod
    def runs_here(cls, env: Mapping[str, str]) -> bool:
        return GitLabCI.runs_here(env)

    @classmethod
    def foreign_server(cls, env: Mapping[str, str]) -> str | None:
        host = env.get("CI_SERVER_HOST", "")
        return host if host and host.lower() != cls.host else None

    @classmethod
    def job(cls, env: Mapping[str, str]) -> str:
        return GitLabCI.job(env)

    @classmethod
    def _config_path(cls, env: Mapping[str, str]) -> str:
        return env.get("CI_CONFIG_PATH") or cls.default_config

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> GitLabPublisher | None:
        """``CI_PROJECT_PATH`` and ``CI_CONFIG_PATH`` (``.gitlab-ci.yml`` when unset).

        None when the CI configuration lives outside the project
        (``path@other/project`` or a URL): PyPI's publisher names a file of its own.
        """
        if not cls.runs_here(env) or cls.foreign_server(env) is not None:
            return None
        repository = env.get("CI_PROJECT_PATH", "")
        filepath = cls._config_path(env)
        if not repository or "@" in filepath or "://" in filepath:
            return None
        return cls(repository=repository, workflow_filepath=filepath)

    def environment_mismatch(self, env: Mapping[str, str]) -> str | None:
        project = env.get("CI_PROJECT_PATH", "")
        if project and project != self.repository:
            return _differs("GitLab project", self.repository, project, "CI_PROJECT_PATH")
        filepath = self._config_path(env)
        if filepath != self.workflow_filepath:
            return _differs("CI config", self.workflow_filepath, filepath, "CI_CONFIG_PATH")
        return None

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> GitLabPublisher | None:
        project = claims.get("project_path")
        config = gitlab_config_ref(str(claims.get("ci_config_ref_uri", "")))
        if claims.get("iss") != cls.issuer or not isinstance(project, str) or config is None:
            return None
        config_project, config_path_ = config
        if config_project != project:
            # A CI template of another project: not a file PyPI's publisher can name.
            return None
        return cls(repository=project, workflow_filepath=config_path_)

    def token_mismatch(self, claims: Mapping[str, Any]) -> str | None:
        config = gitlab_config_ref(str(claims.get("ci_config_ref_uri", "")))
        project = claims.get("project_path")
        if claims.get("iss") == self.issuer and config is not None and config[0] != project:
            return (
                f"the token's CI config {config[1]} belongs to project {config[0]}, not to "
                f"{project}; expected {self.describe()}"
            )
        return super().token_mismatch(claims)

    def _token_differs(self, named: GitLabPublisher) -> str:
        if named.repository != self.repository:
            return f"the token is for project {named.repository}, expected {self.repository}"
        return (
            f"the token is for CI config {named.workflow_filepath}, "
            f"expected {self.workflow_filepath}"
        )

    # --- SLSA provenance: hatch-attest's build type (docs/buildtypes/gitlab-ci-v1.md) ---

    @classmethod
    def provenance(cls, claims: Mapping[str, Any]) -> dict[str, Any]:
        project_path = claim(claims, "project_path")
        config_ref_uri = claim(claims, "ci_config_ref_uri")
        ref = claim(claims, "ref")
        source = f"{cls.issuer}/{project_path}"
        # `gitlab.com/<project>//<config path>@<ref path>`; a configuration kept in
        # another project has no path in this one (and PyPI's GitLab publisher
        # rejects it anyway).
        prefix = f"{cls.host}/{project_path}//"
        if not config_ref_uri.startswith(prefix) or "@" not in config_ref_uri[len(prefix) :]:
            msg = (
                f"the job's CI configuration is not a file of the project {project_path} "
                f"(ci_config_ref_uri names another project); SLSA provenance cannot name its "
                f"entry point. {USE_PUBLISH}"
            )
            raise PredicateError(msg)
        entry_point = strip_ref(config_ref_uri[len(prefix) :])
        return {
            "buildDefinition": {
                "buildType": GITLAB_BUILD_TYPE,
                "externalParameters": {
                    "source": source,
                    "entryPoint": entry_point,
                    "variables": {
                        "CI_COMMIT_REF_NAME": ref,
                        "CI_PIPELINE_SOURCE": claim(claims, "pipeline_source"),
                    },
                },
                "internalParameters": {
                    "gitlab": {
                        "project_id": claim(claims, "project_id"),
                        "namespace_id": claim(claims, "namespace_id"),
                        "pipeline_id": claim(claims, "pipeline_id"),
                        "job_id": claim(claims, "job_id"),
                        "runner_id": claim(claims, "runner_id"),
                        "runner_environment": claim(claims, "runner_environment"),
                    },
                },
                "resolvedDependencies": [
                    {
                        "uri": f"git+{source}@{_ref_path(claims)}",
                        "digest": {"gitCommit": claim(claims, "sha")},
                    },
                ],
            },
            "runDetails": {
                "builder": {"id": f"{source}/-/runners/{claim(claims, 'runner_id')}"},
                "metadata": {"invocationId": f"{source}/-/jobs/{claim(claims, 'job_id')}"},
            },
        }

    @classmethod
    def provenance_pairs(
        cls, predicate: Mapping[str, Any] | None, cert: Mapping[str, str]
    ) -> list[Pair]:
        external = ("buildDefinition", "externalParameters")
        gitlab = ("buildDefinition", "internalParameters", "gitlab")
        source = at(predicate, *external, "source")
        certified_ref = cert.get("source_repository_ref") or ""
        ref_name = next(
            (
                certified_ref[len(p) :]
                for p in ("refs/heads/", "refs/tags/")
                if certified_ref.startswith(p)
            ),
            None,
        )
        # The runner id is in the token but not in the certificate: only the project is
        # checked.
        builder = at(predicate, "runDetails", "builder", "id")
        runners = f"{cert.get('source_repository_uri')}/-/runners/"
        certified_builder = (
            builder if isinstance(builder, str) and builder.startswith(runners) else None
        )
        variables = (*external, "variables")
        return [
            *same(predicate, cert, [("source", (*external, "source"), "source_repository_uri")]),
            ("entryPoint", at(predicate, *external, "entryPoint"), "build_config_uri",
             config_path(cert, source, "//")),
            ("variables.CI_COMMIT_REF_NAME", at(predicate, *variables, "CI_COMMIT_REF_NAME"),
             "source_repository_ref", ref_name),
            *same(predicate, cert, [
                ("variables.CI_PIPELINE_SOURCE", (*variables, "CI_PIPELINE_SOURCE"),
                 "build_trigger"),
            ]),
            *dependency_pairs(predicate, cert),
            ("builder.id", builder, "source_repository_uri", certified_builder),
            *same(predicate, cert, [
                ("invocationId", ("runDetails", "metadata", "invocationId"),
                 "run_invocation_uri"),
                ("gitlab.project_id", (*gitlab, "project_id"), "source_repository_identifier"),
                ("gitlab.namespace_id", (*gitlab, "namespace_id"),
                 "source_repository_owner_identifier"),
                ("gitlab.runner_environment", (*gitlab, "runner_environment"),
                 "runner_environment"),
            ]),
        ]  # fmt: skip

    @classmethod
    def shapes_provenance(cls, predicate: Mapping[str, Any] | None) -> bool:
        return at(predicate, "buildDefinition", "externalParameters", "source") is not None

    @classmethod
    def provenance_rows(cls, predicate: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
        external = ("buildDefinition", "externalParameters")
        dependencies = at(predicate, "buildDefinition", "resolvedDependencies")
        source = dependencies[0] if isinstance(dependencies, list) and dependencies else None
        uri = at(source, "uri")
        return [
            ("Repository", at(predicate, *external, "source")),
            ("CI configuration", at(predicate, *external, "entryPoint")),
            ("Ref", uri.rpartition("@")[2] if isinstance(uri, str) and "@" in uri else None),
        ]


def _ref_path(claims: Mapping[str, Any]) -> str:
    """`refs/heads/<ref>` or `refs/tags/<ref>`, derived exactly as Fulcio derives it."""
    ref_type = claim(claims, "ref_type")
    if ref_type not in {"branch", "tag"}:
        msg = f"the identity token's ref_type is {ref_type!r}, not 'branch' or 'tag'"
        raise PredicateError(msg)
    return f"refs/{'heads' if ref_type == 'branch' else 'tags'}/{claim(claims, 'ref')}"


class GitLabCI(Ambient):
    """A GitLab CI job: its token is the ``SIGSTORE_ID_TOKEN`` its ``id_tokens`` entry sets."""

    source: ClassVar[str] = "GitLab CI"
    publisher: ClassVar[type[Publisher] | None] = GitLabPublisher

    @classmethod
    def runs_here(cls, env: Mapping[str, str]) -> bool:
        return env.get("GITLAB_CI") == "true"

    @classmethod
    def release_skip(cls, env: Mapping[str, str], *, publisher: bool) -> TopologySkip | None:
        from hatch_attest._kinds import gitlab_ci

        return gitlab_ci.topology_skip(env, publisher=publisher)

    @classmethod
    def job(cls, env: Mapping[str, str]) -> str:
        project = env.get("CI_PROJECT_PATH")
        return f"a GitLab CI job in {project}" if project else "a GitLab CI job"

    @classmethod
    def probe(cls, env: Mapping[str, str]) -> Probe:
        if env.get(_TOKEN_VARIABLE):
            return Probe(cls.source)
        return Probe(None, "this GitLab CI job has no SIGSTORE_ID_TOKEN", GITLAB_TOKEN_FIX)

    @classmethod
    def fetch_token(cls, env: Mapping[str, str]) -> str:
        return env[_TOKEN_VARIABLE].strip()
