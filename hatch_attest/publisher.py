"""The Trusted Publisher an attestation is expected to match.

PyPI accepts a PEP 740 attestation only when its signing certificate names the
Trusted Publisher that uploads the file. This module describes that publisher
(:data:`ExpectedPublisher`), reads it from a CLI spec or from the CI environment,
and tells, before any identity token is requested, whether the running CI job is
visibly a different one (a fork, or a stranger rebuilding our sdist).

It is on the idle build path: only the standard library is imported here;
:func:`to_pypi_publisher` imports ``pypi_attestations`` when called.

Values are never validated in the dataclasses themselves but where they enter:
the ``check_*`` helpers below serve :mod:`hatch_attest.config` and
:func:`parse_publisher_spec`, which turn their findings into located errors.
"""

from __future__ import annotations

import difflib
import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import urlsplit

from hatch_attest.errors import ConfigError

if TYPE_CHECKING:
    import pypi_attestations

    PyPIPublisher: TypeAlias = (
        pypi_attestations.GitHubPublisher
        | pypi_attestations.GitLabPublisher
        | pypi_attestations.GooglePublisher
    )

__all__ = [
    "ExpectedPublisher",
    "GitHubPublisher",
    "GitLabPublisher",
    "GooglePublisher",
    "check_github_repository",
    "check_github_workflow",
    "check_gitlab_repository",
    "check_gitlab_workflow_filepath",
    "check_google_email",
    "describe",
    "environment_mismatch",
    "parse_publisher_spec",
    "publisher_from_environment",
    "repository_from_project_urls",
    "to_pypi_publisher",
]


@dataclass(frozen=True)
class GitHubPublisher:
    """A GitHub Actions Trusted Publisher."""

    repository: str
    """``OWNER/REPO``, spelled exactly as GitHub does (PyPI compares it exactly)."""
    workflow: str
    """File name of the top-level workflow, e.g. ``release.yml`` (no directories)."""


@dataclass(frozen=True)
class GitLabPublisher:
    """A GitLab CI/CD Trusted Publisher on gitlab.com."""

    repository: str
    """Project path with all its namespaces, e.g. ``group/subgroup/project``."""
    workflow_filepath: str
    """CI configuration file, relative to the project root, e.g. ``.gitlab-ci.yml``."""


@dataclass(frozen=True)
class GooglePublisher:
    """A Google Cloud service account Trusted Publisher."""

    email: str
    """The service account's email address."""


ExpectedPublisher: TypeAlias = GitHubPublisher | GitLabPublisher | GooglePublisher
"""Any Trusted Publisher that can carry attestations to PyPI."""

_GITHUB_SERVER = "https://github.com"
_GITLAB_HOST = "gitlab.com"
_DEFAULT_GITLAB_CI_CONFIG = ".gitlab-ci.yml"

# PyPI's own publisher form accepts exactly these (warehouse/oidc/forms/github.py).
_GITHUB_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_GITHUB_REPO = re.compile(r"[A-Za-z0-9._-]+")
# GitLab's rule for group and project *paths* (which is what URLs, CI_PROJECT_PATH
# and certificates carry, unlike display names that may hold spaces).
_GITLAB_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_WORKFLOW_SUFFIXES = (".yml", ".yaml")

_SPEC_FORMS = (
    '"github:OWNER/REPO@WORKFLOW.yml", '
    '"gitlab:NAMESPACE/PROJECT@PATH/TO/.gitlab-ci.yml" or '
    '"google:EMAIL"'
)


def _quote(text: str) -> str:
    """Render *text* as a TOML (and JSON) basic string."""
    return json.dumps(text, ensure_ascii=False)


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


def check_google_email(value: str) -> str | None:
    """Return what is wrong with a service account email address, or None if it is valid."""
    if not _EMAIL.fullmatch(value):
        return (
            "must be the service account's email address, e.g. "
            f'"release@my-project.iam.gserviceaccount.com", not {_quote(value)}'
        )
    return None


def parse_publisher_spec(spec: str) -> ExpectedPublisher:
    """Parse the command-line form of a publisher.

    Accepted forms: ``github:OWNER/REPO@WORKFLOW.yml``,
    ``gitlab:NAMESPACE/PROJECT@PATH/TO/.gitlab-ci.yml`` and ``google:EMAIL``.

    Raises:
        ConfigError: with one message that names the spec and shows the accepted forms.
    """
    kind, colon, rest = spec.strip().partition(":")
    head = f"invalid publisher {_quote(spec)}"
    if not colon:
        raise ConfigError([f"{head}: use {_SPEC_FORMS}"])

    problems: list[str] = []
    publisher: ExpectedPublisher
    if kind == "github":
        repository, at, workflow = rest.partition("@")
        if not at:
            msg = (
                f'{head}: must be "github:OWNER/REPO@WORKFLOW.yml", '
                'e.g. "github:octo-org/demo@release.yml"'
            )
            raise ConfigError([msg])
        problems += _located("repository", check_github_repository(repository))
        problems += _located("workflow", check_github_workflow(workflow))
        publisher = GitHubPublisher(repository=repository, workflow=workflow)
    elif kind == "gitlab":
        repository, at, filepath = rest.partition("@")
        if not at:
            msg = (
                f'{head}: must be "gitlab:NAMESPACE/PROJECT@PATH/TO/.gitlab-ci.yml", '
                'e.g. "gitlab:group/project@.gitlab-ci.yml"'
            )
            raise ConfigError([msg])
        problems += _located("repository", check_gitlab_repository(repository))
        problems += _located("workflow file path", check_gitlab_workflow_filepath(filepath))
        publisher = GitLabPublisher(repository=repository, workflow_filepath=filepath)
    elif kind == "google":
        problems += _located("email", check_google_email(rest))
        publisher = GooglePublisher(email=rest)
    else:
        close = difflib.get_close_matches(kind.lower(), ["github", "gitlab", "google"], n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        raise ConfigError([f"{head}: unknown kind {_quote(kind)}{hint}; use {_SPEC_FORMS}"])

    if problems:
        raise ConfigError([f"{head}: {'; '.join(problems)}"])
    return publisher


def _located(field: str, problem: str | None) -> list[str]:
    return [] if problem is None else [f"{field} {problem}"]


def describe(publisher: ExpectedPublisher) -> str:
    """Name *publisher* for humans, e.g. ``GitHub repository octo/demo, workflow release.yml``."""
    if isinstance(publisher, GitHubPublisher):
        return f"GitHub repository {publisher.repository}, workflow {publisher.workflow}"
    if isinstance(publisher, GitLabPublisher):
        return f"GitLab project {publisher.repository}, CI config {publisher.workflow_filepath}"
    return f"Google service account {publisher.email}"


def _github_workflow_file(workflow_ref: str) -> str | None:
    """The workflow file name in ``OWNER/REPO/.github/workflows/FILE@REF``, if present."""
    _, marker, tail = workflow_ref.partition("/.github/workflows/")
    name = tail.partition("@")[0]
    return name if marker and name and "/" not in name else None


def _gitlab_config_path(env: Mapping[str, str]) -> str:
    return env.get("CI_CONFIG_PATH") or _DEFAULT_GITLAB_CI_CONFIG


def _foreign_server(env: Mapping[str, str]) -> str | None:
    """The GitHub/GitLab server of this job when it is not the one PyPI trusts."""
    if env.get("GITHUB_ACTIONS") == "true":
        server = env.get("GITHUB_SERVER_URL", "").rstrip("/")
        return server if server and server.lower() != _GITHUB_SERVER else None
    if env.get("GITLAB_CI") == "true":
        host = env.get("CI_SERVER_HOST", "")
        return host if host and host.lower() != _GITLAB_HOST else None
    return None


def publisher_from_environment(env: Mapping[str, str]) -> ExpectedPublisher | None:
    """Infer the Trusted Publisher of the running CI job from its environment.

    GitHub Actions: the repository is ``GITHUB_REPOSITORY`` (the certificate's Source
    Repository URI) and the workflow is the file name in ``GITHUB_WORKFLOW_REF``. In a
    reusable workflow that variable still names the *top-level caller* workflow, which
    is what the certificate's Build Config URI records and what PyPI checks; the
    reusable workflow's own file (``job_workflow_ref``, the Build Signer URI), possibly
    in another repository, plays no part.

    GitLab CI/CD: ``CI_PROJECT_PATH`` and ``CI_CONFIG_PATH`` (``.gitlab-ci.yml`` when
    unset or empty).

    Returns None outside those two, when a variable is missing, on servers PyPI does
    not trust (GitHub Enterprise Server, self-managed GitLab), and when the GitLab CI
    configuration lives outside the project. A Google service account cannot be read
    from the environment.
    """
    if _foreign_server(env) is not None:
        return None
    if env.get("GITHUB_ACTIONS") == "true":
        repository = env.get("GITHUB_REPOSITORY", "")
        workflow = _github_workflow_file(env.get("GITHUB_WORKFLOW_REF", ""))
        if not repository or workflow is None:
            return None
        return GitHubPublisher(repository=repository, workflow=workflow)
    if env.get("GITLAB_CI") == "true":
        repository = env.get("CI_PROJECT_PATH", "")
        filepath = _gitlab_config_path(env)
        # "path@other/project" or a URL: the configuration is not this project's file.
        if not repository or "@" in filepath or "://" in filepath:
            return None
        return GitLabPublisher(repository=repository, workflow_filepath=filepath)
    return None


def _ci_job(env: Mapping[str, str]) -> str | None:
    """Name the CI system this job visibly runs in, if any is recognised."""
    if env.get("GITHUB_ACTIONS") == "true":
        repository = env.get("GITHUB_REPOSITORY")
        return f"a GitHub Actions job in {repository}" if repository else "a GitHub Actions job"
    if env.get("GITLAB_CI") == "true":
        project = env.get("CI_PROJECT_PATH")
        return f"a GitLab CI job in {project}" if project else "a GitLab CI job"
    if env.get("BUILDKITE") == "true":
        return "a Buildkite job"
    if env.get("CIRCLECI") == "true":
        return "a CircleCI job"
    return None


def _differs(label: str, expected: str, found: str, variable: str) -> str:
    reason = f"expected {label} {expected}, found {found} ({variable})"
    if expected.lower() == found.lower():
        reason += f"; they differ only in letter case, and PyPI compares exactly: use {found}"
    return reason


def environment_mismatch(expected: ExpectedPublisher, env: Mapping[str, str]) -> str | None:
    """Say why the running CI job visibly cannot sign as *expected*, before any token.

    Returns a one-line reason naming what was expected and what was found, or None
    when the job matches or nothing can be told from the environment (a laptop, or an
    unrecognised CI). Names are compared exactly, as pypi-attestations' publisher
    policy compares the certificate's URIs: GitHub treats ``Octo/Demo`` and
    ``octo/demo`` as one repository, PyPI's verification does not.
    """
    job = _ci_job(env)
    if job is None:
        return None
    server = _foreign_server(env)
    if server is not None:
        return f"expected {describe(expected)}, found {job} on {server}, which PyPI does not trust"
    if isinstance(expected, GitHubPublisher) and env.get("GITHUB_ACTIONS") == "true":
        return _github_mismatch(expected, env)
    if isinstance(expected, GitLabPublisher) and env.get("GITLAB_CI") == "true":
        return _gitlab_mismatch(expected, env)
    # Another CI than expected. The ambient identity of a recognised CI job is that
    # CI's own, never a Google service account.
    return f"expected {describe(expected)}, found {job}"


def _github_mismatch(expected: GitHubPublisher, env: Mapping[str, str]) -> str | None:
    repository = env.get("GITHUB_REPOSITORY", "")
    if repository and repository != expected.repository:
        return _differs("GitHub repository", expected.repository, repository, "GITHUB_REPOSITORY")
    workflow = _github_workflow_file(env.get("GITHUB_WORKFLOW_REF", ""))
    if workflow is not None and workflow != expected.workflow:
        return _differs("workflow", expected.workflow, workflow, "GITHUB_WORKFLOW_REF")
    return None


def _gitlab_mismatch(expected: GitLabPublisher, env: Mapping[str, str]) -> str | None:
    project = env.get("CI_PROJECT_PATH", "")
    if project and project != expected.repository:
        return _differs("GitLab project", expected.repository, project, "CI_PROJECT_PATH")
    filepath = _gitlab_config_path(env)
    if filepath != expected.workflow_filepath:
        return _differs("CI config", expected.workflow_filepath, filepath, "CI_CONFIG_PATH")
    return None


# PEP 753 well-known labels (normalised) for a project's source, most specific first;
# "homepage" last, as it often points at documentation rather than the repository.
_SOURCE_LABELS = ("source", "sourcecode", "repository", "github", "gitlab", "code", "homepage")
_LABEL_JUNK = str.maketrans("", "", string.punctuation + string.whitespace)


def _normalize_label(label: str) -> str:
    """PEP 753 label normalisation: drop punctuation and whitespace, lowercase."""
    return label.translate(_LABEL_JUNK).lower()


def _repository_from_url(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in {"https", "http"} or host is None:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if host in {"github.com", "www.github.com"} and len(segments) >= 2:
        slug = f"{segments[0]}/{segments[1].removesuffix('.git')}"
        return ("github", slug) if check_github_repository(slug) is None else None
    if host in {"gitlab.com", "www.gitlab.com"}:
        # Project pages live under "/-/" ("ns/proj/-/tree/main"); before it is the path.
        if "-" in segments:
            segments = segments[: segments.index("-")]
        if len(segments) >= 2:
            path = "/".join(segments).removesuffix(".git")
            return ("gitlab", path) if check_gitlab_repository(path) is None else None
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
            found = _repository_from_url(url)
            if found is not None:
                return found
    return None


def to_pypi_publisher(publisher: ExpectedPublisher) -> PyPIPublisher:
    """Convert *publisher* to the pypi-attestations publisher PyPI verifies against.

    Imports ``pypi_attestations`` (and so sigstore): call it only on the signing path.
    """
    import pypi_attestations  # heavy: kept off the idle build path

    if isinstance(publisher, GitHubPublisher):
        return pypi_attestations.GitHubPublisher(
            repository=publisher.repository, workflow=publisher.workflow
        )
    if isinstance(publisher, GitLabPublisher):
        return pypi_attestations.GitLabPublisher(
            repository=publisher.repository, workflow_filepath=publisher.workflow_filepath
        )
    return pypi_attestations.GooglePublisher(email=publisher.email)
