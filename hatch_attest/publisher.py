"""The Trusted Publisher an attestation is expected to match: one class per kind.

PyPI accepts a PEP 740 attestation only when its signing certificate names the
Trusted Publisher that uploads the file. Each publisher kind PyPI can attest
(GitHub Actions, GitLab CI/CD on gitlab.com, Google Cloud) is one class here, and
that class owns everything about its kind:

- its options, as the ``publisher`` TOML table and the ``--publisher`` spec name them,
  and how each is checked (:attr:`Publisher.fields`, :meth:`Publisher.from_spec`);
- reading the running CI job (:meth:`Publisher.from_environment`) and saying how it
  differs from the expected one, before any token is requested
  (:meth:`Publisher.environment_mismatch`);
- reading a token's claims (:meth:`Publisher.from_claims`) and saying how they differ
  (:meth:`Publisher.token_mismatch`), before Fulcio or Rekor hear of the token;
- describing itself, and the pypi-attestations publisher (and so the verification
  policy) PyPI applies (:meth:`Publisher.to_pypi`), and the certificate claims that
  policy expects (:meth:`Publisher.expected_certificate_claims`).

Adding a kind means adding one class to :data:`KINDS`. The module functions below
only dispatch over :data:`KINDS`; none of them knows any kind.

It is on the idle build path: only the standard library is imported here;
:meth:`Publisher.to_pypi` imports ``pypi_attestations`` when called.
"""

from __future__ import annotations

import difflib
import json
import re
import string
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias
from urllib.parse import SplitResult, urlsplit

from hatch_attest.errors import ConfigError

if TYPE_CHECKING:
    import pypi_attestations
    from typing_extensions import Self

    PyPIPublisher: TypeAlias = (
        pypi_attestations.GitHubPublisher
        | pypi_attestations.GitLabPublisher
        | pypi_attestations.GooglePublisher
    )

__all__ = [
    "KINDS",
    "ExpectedPublisher",
    "Field",
    "GitHubPublisher",
    "GitLabPublisher",
    "GooglePublisher",
    "Publisher",
    "check_github_repository",
    "check_github_workflow",
    "check_gitlab_repository",
    "check_gitlab_workflow_filepath",
    "check_google_email",
    "environment_mismatch",
    "from_pypi",
    "parse_publisher_spec",
    "publisher_from_claims",
    "publisher_from_environment",
    "repository_from_project_urls",
    "running_job",
]

Check: TypeAlias = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Field:
    """One option of a publisher kind."""

    option: str
    """Its key in the ``publisher`` TOML table (kebab-case)."""
    attribute: str
    """The dataclass field (and pypi-attestations publisher field) that holds it."""
    label: str
    """How ``--publisher`` errors name it."""
    check: Check
    """Says what is wrong with a value, or None."""
    meaning: str
    """What the option holds, for "missing" errors."""


def _quote(text: str) -> str:
    """Render *text* as a TOML (and JSON) basic string."""
    return json.dumps(text, ensure_ascii=False)


def _differs(label: str, expected: str, found: str, variable: str) -> str:
    reason = f"expected {label} {expected}, found {found} ({variable})"
    if expected.lower() == found.lower():
        reason += f"; they differ only in letter case, and PyPI compares exactly: use {found}"
    return reason


class Publisher(ABC):
    """A Trusted Publisher kind. Subclasses are frozen dataclasses listed in :data:`KINDS`."""

    kind: ClassVar[str]
    """The ``kind`` key of the TOML table and the prefix of the ``--publisher`` spec."""
    issuer: ClassVar[str]
    """The OIDC issuer of its tokens, which Fulcio writes into the certificate."""
    fields: ClassVar[tuple[Field, ...]]
    """Its options, in the order the spec names them."""
    spec_form: ClassVar[str]
    """The ``--publisher`` form, e.g. ``github:OWNER/REPO@WORKFLOW.yml``."""
    spec_example: ClassVar[str]
    visibility_claim: ClassVar[str | None] = None
    """The token claim saying whether the repository is public (None: no repository)."""
    pypi_kind: ClassVar[str]
    """The ``kind`` of the matching pypi-attestations publisher, whose fields are ours."""

    # --- configuration -------------------------------------------------------------

    @classmethod
    def from_options(cls, values: Mapping[str, str]) -> Self:
        """Build from checked option values, keyed by :attr:`Field.option`."""
        return cls(**{field.attribute: values[field.option] for field in cls.fields})

    @classmethod
    def split_spec(cls, rest: str) -> list[str] | None:
        """The field values of a spec after ``kind:``, or None if its shape is wrong."""
        if len(cls.fields) == 1:
            return [rest]
        first, at, second = rest.partition("@")
        return [first, second] if at else None

    @classmethod
    def from_spec(cls, spec: str, rest: str) -> Self:
        """Parse the part of a ``--publisher`` spec after ``kind:``."""
        head = f"invalid publisher {_quote(spec)}"
        values = cls.split_spec(rest)
        if values is None:
            raise ConfigError([f'{head}: must be "{cls.spec_form}", e.g. "{cls.spec_example}"'])
        problems = [
            f"{field.label} {problem}"
            for field, value in zip(cls.fields, values, strict=True)
            if (problem := field.check(value)) is not None
        ]
        if problems:
            raise ConfigError([f"{head}: {'; '.join(problems)}"])
        return cls.from_options(
            {field.option: value for field, value in zip(cls.fields, values, strict=True)}
        )

    # --- describing ------------------------------------------------------------------

    @abstractmethod
    def describe(self) -> str:
        """Name the publisher for humans."""

    def to_pypi(self) -> PyPIPublisher:
        """The pypi-attestations publisher (and so the policy) PyPI verifies against.

        Imports ``pypi_attestations`` (and so sigstore): call it only on the signing path.
        """
        import pypi_attestations  # heavy: kept off the idle build path

        library = getattr(pypi_attestations, f"{self.pypi_kind}Publisher")
        publisher: PyPIPublisher = library(
            **{field.attribute: getattr(self, field.attribute) for field in self.fields}
        )
        return publisher

    @abstractmethod
    def expected_certificate_claims(self, found: Mapping[str, str]) -> list[tuple[str, list[str]]]:
        """The certificate claims (Fulcio names) :meth:`to_pypi`'s policy accepts.

        ``found`` are the certificate's own claims (the policy accepts the workflow
        at the ref or the commit that was built). Used to say which claim differs.
        """

    def home(self) -> tuple[str, str] | None:
        """``(kind, repository)`` for kinds that publish from a source repository."""
        return None

    # --- the running CI job ----------------------------------------------------------

    @classmethod
    def runs_here(cls, env: Mapping[str, str]) -> bool:
        """Whether *env* is a job of this kind's CI (on any server)."""
        return False

    @classmethod
    def foreign_server(cls, env: Mapping[str, str]) -> str | None:
        """This kind's CI server when it is not the one PyPI trusts."""
        return None

    @classmethod
    def job(cls, env: Mapping[str, str]) -> str:
        """Name the running job of this kind, e.g. ``a GitHub Actions job in o/r``."""
        return f"a {cls.kind} job"

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> Self | None:
        """The publisher the running job is, when its environment says so exactly."""
        return None

    def environment_mismatch(self, env: Mapping[str, str]) -> str | None:
        """How this kind's running job (``runs_here(env)``) differs from ``self``, or None."""
        return None

    # --- the token -------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Self | None:
        """The publisher a token of this kind names (unverified claims), or None."""

    def token_mismatch(self, claims: Mapping[str, Any]) -> str | None:
        """How a token's claims differ from ``self``; None when they name exactly ``self``.

        Checked before Fulcio sees the token: a token for another publisher must never
        sign, and an attestation that PyPI will reject is not worth a public log entry.
        """
        if claims.get("iss") != self.issuer:
            return f"the token is from {claims.get('iss')!r}, but {self.describe()} is expected"
        named = type(self).from_claims(claims)
        if named is None:
            return f"the token does not name {self.describe()}"
        if named != self:
            return self._token_differs(named)
        return None

    @abstractmethod
    def _token_differs(self, named: Self) -> str:
        """Say how the token's publisher *named* differs from ``self``."""


# --- GitHub ------------------------------------------------------------------------

# PyPI's own publisher form accepts exactly these (warehouse/oidc/forms/github.py).
_GITHUB_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_GITHUB_REPO = re.compile(r"[A-Za-z0-9._-]+")
_WORKFLOW_SUFFIXES = (".yml", ".yaml")


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
    if not value.endswith(_WORKFLOW_SUFFIXES) or value in _WORKFLOW_SUFFIXES:
        return (
            'must be the workflow\'s file name ending in ".yml" or ".yaml", '
            f'e.g. "release.yml", not {_quote(value)}'
        )
    return None


def github_workflow_file(workflow_ref: str) -> tuple[str, str] | None:
    """``(OWNER/REPO, FILE)`` of ``OWNER/REPO/.github/workflows/FILE@REF``, if it is one.

    The one reading of a workflow ref, for ``GITHUB_WORKFLOW_REF`` and the token's
    ``workflow_ref`` claim alike.
    """
    repository, marker, tail = workflow_ref.partition("/.github/workflows/")
    name, at, _ = tail.partition("@")
    if not marker or not at or not name or "/" in name or repository.count("/") != 1:
        return None
    return repository, name


@dataclass(frozen=True)
class _ForgePublisher(Publisher):
    """A publisher that builds from a source repository on a forge (GitHub, GitLab)."""

    repository: str
    """The repository's path on the forge, spelled exactly as the forge does."""

    def home(self) -> tuple[str, str] | None:
        return (self.kind, self.repository)

    @property
    @abstractmethod
    def repository_uri(self) -> str:
        """The Source Repository URI the certificate must carry."""

    @property
    @abstractmethod
    def build_config(self) -> str:
        """The Build Config URI the certificate must carry, without its ``@<ref>``."""

    def expected_certificate_claims(self, found: Mapping[str, str]) -> list[tuple[str, list[str]]]:
        return [
            ("issuer", [self.issuer]),
            ("source_repository_uri", [self.repository_uri]),
            ("build_config_uri", _build_config_uris(self.build_config, found)),
        ]


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

    def describe(self) -> str:
        return f"GitHub repository {self.repository}, workflow {self.workflow}"

    @property
    def repository_uri(self) -> str:
        return f"{self.server}/{self.repository}"

    @property
    def build_config(self) -> str:
        return f"{self.repository_uri}/.github/workflows/{self.workflow}"

    @classmethod
    def runs_here(cls, env: Mapping[str, str]) -> bool:
        return env.get("GITHUB_ACTIONS") == "true"

    @classmethod
    def foreign_server(cls, env: Mapping[str, str]) -> str | None:
        server = env.get("GITHUB_SERVER_URL", "").rstrip("/")
        return server if server and server.lower() != cls.server else None

    @classmethod
    def job(cls, env: Mapping[str, str]) -> str:
        repository = env.get("GITHUB_REPOSITORY")
        return f"a GitHub Actions job in {repository}" if repository else "a GitHub Actions job"

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


# --- GitLab ------------------------------------------------------------------------

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
    if not value.endswith(_WORKFLOW_SUFFIXES) or value.rpartition("/")[2] in _WORKFLOW_SUFFIXES:
        return (
            'must be the path of a file ending in ".yml" or ".yaml", e.g. ".gitlab-ci.yml", '
            f"not {_quote(value)}"
        )
    return None


def gitlab_config_ref(uri: str) -> tuple[str, str] | None:
    """``(PROJECT PATH, CONFIG PATH)`` of a ``ci_config_ref_uri``, if it is one.

    The claim reads ``gitlab.com/NS/PROJ//PATH/TO/.gitlab-ci.yml@REF``: the project
    the configuration file belongs to, which is not always the building project.
    """
    location, separator, tail = uri.partition("//")
    host, slash, project = location.partition("/")
    path, at, _ = tail.rpartition("@")
    if not separator or not slash or not at or not path or not project:
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

    def describe(self) -> str:
        return f"GitLab project {self.repository}, CI config {self.workflow_filepath}"

    @property
    def repository_uri(self) -> str:
        return f"https://{self.host}/{self.repository}"

    @property
    def build_config(self) -> str:
        return f"{self.repository_uri}//{self.workflow_filepath}"

    @classmethod
    def runs_here(cls, env: Mapping[str, str]) -> bool:
        return env.get("GITLAB_CI") == "true"

    @classmethod
    def foreign_server(cls, env: Mapping[str, str]) -> str | None:
        host = env.get("CI_SERVER_HOST", "")
        return host if host and host.lower() != cls.host else None

    @classmethod
    def job(cls, env: Mapping[str, str]) -> str:
        project = env.get("CI_PROJECT_PATH")
        return f"a GitLab CI job in {project}" if project else "a GitLab CI job"

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
        config_project, config_path = config
        if config_project != project:
            # A CI template of another project: not a file PyPI's publisher can name.
            return None
        return cls(repository=project, workflow_filepath=config_path)

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


# --- Google ------------------------------------------------------------------------

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def check_google_email(value: str) -> str | None:
    """Return what is wrong with a service account email address, or None if it is valid."""
    if not _EMAIL.fullmatch(value):
        return (
            "must be the service account's email address, e.g. "
            f'"release@my-project.iam.gserviceaccount.com", not {_quote(value)}'
        )
    return None


@dataclass(frozen=True)
class GooglePublisher(Publisher):
    """A Google Cloud service account Trusted Publisher.

    Its environment says nothing certain about the account, so nothing is read
    from it: the token's ``email`` claim is what counts.
    """

    email: str
    """The service account's email address."""

    kind: ClassVar[str] = "google"
    pypi_kind: ClassVar[str] = "Google"
    issuer: ClassVar[str] = "https://accounts.google.com"
    fields: ClassVar[tuple[Field, ...]] = (
        Field("email", "email", "email", check_google_email, "the service account's email address"),
    )
    spec_form: ClassVar[str] = "google:EMAIL"
    spec_example: ClassVar[str] = "google:release@my-project.iam.gserviceaccount.com"

    def describe(self) -> str:
        return f"Google service account {self.email}"

    def expected_certificate_claims(self, found: Mapping[str, str]) -> list[tuple[str, list[str]]]:
        return [("issuer", [self.issuer]), ("identity", [self.email])]

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> GooglePublisher | None:
        email = claims.get("email")
        if claims.get("iss") != cls.issuer or not isinstance(email, str):
            return None
        return cls(email=email)

    def _token_differs(self, named: GooglePublisher) -> str:
        return f"the token is for {named.email}, expected {self.email}"


def _build_config_uris(workflow: str, found: Mapping[str, str]) -> list[str]:
    # The policy accepts the workflow at the commit or at the ref that was built.
    return [
        f"{workflow}@{found[suffix]}"
        for suffix in ("source_repository_digest", "source_repository_ref")
        if suffix in found
    ] or [f"{workflow}@<ref or commit>"]


KINDS: Mapping[str, type[Publisher]] = {
    cls.kind: cls for cls in (GitHubPublisher, GitLabPublisher, GooglePublisher)
}
"""Every publisher kind PyPI can attest, by its ``kind`` key."""

ExpectedPublisher: TypeAlias = Publisher
"""Any Trusted Publisher that can carry attestations to PyPI."""

# CI systems that have an ambient identity but no PyPI publisher kind (yet).
_OTHER_CI = (("BUILDKITE", "a Buildkite job"), ("CIRCLECI", "a CircleCI job"))


def _spec_forms() -> str:
    forms = [f'"{cls.spec_form}"' for cls in KINDS.values()]
    return ", ".join(forms[:-1]) + " or " + forms[-1]


def parse_publisher_spec(spec: str) -> Publisher:
    """Parse the command-line form of a publisher, ``KIND:...`` (see each kind's ``spec_form``).

    Raises:
        ConfigError: with one message that names the spec and shows the accepted forms.
    """
    kind, colon, rest = spec.strip().partition(":")
    head = f"invalid publisher {_quote(spec)}"
    if not colon:
        raise ConfigError([f"{head}: use {_spec_forms()}"])
    cls = KINDS.get(kind)
    if cls is None:
        close = difflib.get_close_matches(kind.lower(), list(KINDS), n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        raise ConfigError([f"{head}: unknown kind {_quote(kind)}{hint}; use {_spec_forms()}"])
    return cls.from_spec(spec, rest)


def from_pypi(publisher: object) -> Publisher | None:
    """Our publisher for a pypi-attestations publisher of a kind we have, else None."""
    for cls in KINDS.values():
        if getattr(publisher, "kind", None) == cls.pypi_kind:
            values = {
                field.attribute: getattr(publisher, field.attribute, None) for field in cls.fields
            }
            if all(isinstance(value, str) for value in values.values()):
                return cls(**values)
    return None


def running_job(env: Mapping[str, str]) -> str | None:
    """Name the CI job this environment visibly is, if any is recognised."""
    for cls in KINDS.values():
        if cls.runs_here(env):
            return cls.job(env)
    for variable, job in _OTHER_CI:
        if env.get(variable) == "true":
            return job
    return None


def publisher_from_environment(env: Mapping[str, str]) -> Publisher | None:
    """Infer the Trusted Publisher of the running CI job from its environment.

    None outside the kinds' CI systems, when a variable is missing, on servers PyPI
    does not trust (GitHub Enterprise Server, self-managed GitLab), and when the
    kind cannot be read from the environment at all (Google).
    """
    for cls in KINDS.values():
        if cls.runs_here(env):
            return cls.from_environment(env)
    return None


def publisher_from_claims(claims: Mapping[str, Any]) -> Publisher | None:
    """The Trusted Publisher a token's (unverified) claims name, if PyPI has such a kind."""
    for cls in KINDS.values():
        found = cls.from_claims(claims)
        if found is not None:
            return found
    return None


def environment_mismatch(expected: Publisher, env: Mapping[str, str]) -> str | None:
    """Say why the running CI job visibly cannot sign as *expected*, before any token.

    Returns a one-line reason naming what was expected and what was found, or None
    when the job matches or nothing can be told from the environment (a laptop, or an
    unrecognised CI). Names are compared exactly, as pypi-attestations' publisher
    policy compares the certificate's URIs.
    """
    job = running_job(env)
    if job is None:
        return None
    for cls in KINDS.values():
        if cls.runs_here(env) and (server := cls.foreign_server(env)) is not None:
            return (
                f"expected {expected.describe()}, found {job} on {server}, "
                "which PyPI does not trust"
            )
    if type(expected).runs_here(env):
        return expected.environment_mismatch(env)
    # Another CI than expected. The ambient identity of a recognised CI job is that
    # CI's own, never a Google service account.
    return f"expected {expected.describe()}, found {job}"


# --- [project.urls] ----------------------------------------------------------------

# PEP 753 well-known labels (normalised) for a project's source, most specific first;
# "homepage" last, as it often points at documentation rather than the repository.
_SOURCE_LABELS = ("source", "sourcecode", "repository", "github", "gitlab", "code", "homepage")
_LABEL_JUNK = str.maketrans("", "", string.punctuation + string.whitespace)


def _normalize_label(label: str) -> str:
    """PEP 753 label normalisation: drop punctuation and whitespace, lowercase."""
    return label.translate(_LABEL_JUNK).lower()


def _repository_from_url(parts: SplitResult) -> tuple[str, str] | None:
    host = parts.hostname
    segments = [s for s in parts.path.split("/") if s]
    if host in {"github.com", "www.github.com"} and len(segments) >= 2:
        slug = f"{segments[0]}/{segments[1].removesuffix('.git')}"
        return (GitHubPublisher.kind, slug) if check_github_repository(slug) is None else None
    if host in {GitLabPublisher.host, f"www.{GitLabPublisher.host}"}:
        # Project pages live under "/-/" ("ns/proj/-/tree/main"); before it is the path.
        if "-" in segments:
            segments = segments[: segments.index("-")]
        if len(segments) >= 2:
            path = "/".join(segments).removesuffix(".git")
            return (GitLabPublisher.kind, path) if check_gitlab_repository(path) is None else None
    return None


def repository_from_project_urls(urls: Mapping[str, str]) -> tuple[str, str] | None:
    """Find the project's GitHub or GitLab repository in its ``[project.urls]``.

    Looks at the labels Source, Source Code, Repository, GitHub, GitLab, Code and
    Homepage (in that order, compared after PEP 753 normalisation, so ``source-code``
    and ``Source Code`` are the same) and returns ``("github", "OWNER/REPO")`` for
    ``https://github.com/OWNER/REPO[.git][/...]`` or ``("gitlab", "NS/.../PROJECT")``
    for ``https://gitlab.com/NS/.../PROJECT[.git][/-/...]``; None if none matches.
    """
    by_label: dict[str, list[str]] = {}
    for label, url in urls.items():
        by_label.setdefault(_normalize_label(label), []).append(url)
    for label in _SOURCE_LABELS:
        for url in by_label.get(label, []):
            try:
                parts = urlsplit(url.strip())
            except ValueError:
                continue
            if parts.scheme not in {"https", "http"} or parts.hostname is None:
                continue
            found = _repository_from_url(parts)
            if found is not None:
                return found
    return None


def same_repository(a: str, b: str) -> bool:
    """Whether two repository paths name one repository: GitHub and GitLab ignore case."""
    return a.casefold() == b.casefold()


def describe_kinds(kinds: Sequence[str] = tuple(KINDS)) -> str:
    """``"github", "gitlab", "google"``: the kinds, quoted, for messages."""
    return ", ".join(f'"{kind}"' for kind in kinds)
