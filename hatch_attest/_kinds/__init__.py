"""The registry of publisher kinds and ambient identity sources: the only place that iterates.

Each kind is one module: :mod:`~hatch_attest._kinds.github`,
:mod:`~hatch_attest._kinds.gitlab` and :mod:`~hatch_attest._kinds.google` define a
:class:`~hatch_attest._kinds.base.Publisher` PyPI can attest and the
:class:`~hatch_attest._kinds.base.Ambient` source of its tokens;
:mod:`~hatch_attest._kinds.buildkite` and :mod:`~hatch_attest._kinds.circleci` define
sources whose identities PyPI has no publisher kind for (yet). This module lists
them (:data:`KINDS`, :data:`AMBIENT`), and the functions below dispatch over those
lists; nothing else in the package names a kind.

Detection order (:data:`AMBIENT`): an explicit ``SIGSTORE_IDENTITY_TOKEN`` first, then
the CI systems, each by its own single rule, and only then a cloud VM. A CI job on a
Google Compute Engine runner is that CI's job: the VM's service account is the
runner's identity, never the job's.

Only the standard library is imported here: this is on the idle build path.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from hatch_attest._identity import EXPLICIT_TOKEN_VARIABLE, Probe, Token
from hatch_attest._kinds.base import Ambient, Field, Pair, Publisher, _quote, same_repository
from hatch_attest._kinds.buildkite import Buildkite
from hatch_attest._kinds.circleci import CircleCI
from hatch_attest._kinds.github import GitHubActions, GitHubPublisher
from hatch_attest._kinds.gitlab import GitLabCI, GitLabPublisher
from hatch_attest._kinds.google import GoogleCloud, GooglePublisher
from hatch_attest._redact import remember, remember_environment
from hatch_attest.errors import ConfigError, NoIdentityError

if TYPE_CHECKING:
    from pathlib import Path

    from hatch_attest._kinds.release import ReleasePlan, ReleaseSource
    from hatch_attest._uploads import TopologySkip

__all__ = [
    "AMBIENT",
    "KINDS",
    "Ambient",
    "ExpectedPublisher",
    "Field",
    "GitHubPublisher",
    "GitLabPublisher",
    "GooglePublisher",
    "Pair",
    "Publisher",
    "accepted_publishers",
    "ci_markers",
    "ci_paths",
    "describe_kinds",
    "environment_mismatch",
    "for_build_type",
    "for_issuer",
    "from_identity",
    "from_pypi",
    "inferring_jobs",
    "obtain_token",
    "parse_publisher_spec",
    "plan_release",
    "probe",
    "provenance_kinds",
    "publisher_doubt",
    "publisher_from_claims",
    "publisher_from_environment",
    "rehearsable",
    "release_skip",
    "running_job",
    "same_repository",
    "spec_forms",
    "step_summary",
    "unrequested_identity",
    "untrusted_issuer",
    "upload_identities",
    "uploader_signs_publish",
]

KINDS: Mapping[str, type[Publisher]] = {
    cls.kind: cls for cls in (GitHubPublisher, GitLabPublisher, GooglePublisher)
}
"""Every publisher kind PyPI can attest, by its ``kind`` key."""

AMBIENT: tuple[type[Ambient], ...] = (GitHubActions, GitLabCI, Buildkite, CircleCI, GoogleCloud)
"""Every ambient identity source, in the order they are tried: CI systems before a VM."""

ExpectedPublisher: TypeAlias = Publisher
"""Any Trusted Publisher that can carry attestations to PyPI."""


# --- names for messages ------------------------------------------------------------


def _either(names: Sequence[str], word: str = "or") -> str:
    return ", ".join(names[:-1]) + f" {word} " + names[-1] if len(names) > 1 else names[0]


def describe_kinds(kinds: Sequence[str] = tuple(KINDS)) -> str:
    """``"github", "gitlab", "google"``: the kinds, quoted, for messages."""
    return ", ".join(f'"{kind}"' for kind in kinds)


def spec_forms(*, quoted: bool = False) -> str:
    """Every ``--publisher`` form: ``github:OWNER/REPO@WORKFLOW.yml, ... or google:EMAIL``."""
    return _either([f'"{cls.spec_form}"' if quoted else cls.spec_form for cls in KINDS.values()])


def accepted_publishers() -> str:
    """``GitHub, GitLab.com or Google``: the publishers PyPI accepts attestations from."""
    return _either([cls.pypi_name for cls in KINDS.values()])


def upload_identities() -> str:
    """``GitHub: ...; GitLab.com: ...``: what a job needs to upload with Trusted Publishing."""
    return "; ".join(
        f"{cls.pypi_name}: {cls.upload_identity}" for cls in KINDS.values() if cls.upload_identity
    )


def inferring_jobs() -> str:
    """``GitHub Actions or GitLab CI``: the CI jobs whose environment names their publisher."""
    return _either([s.source for s in AMBIENT if s.ci and s.publisher is not None])


def provenance_kinds() -> str:
    """``GitHub Actions and GitLab CI``: the jobs SLSA provenance is made for."""
    return _either(
        [s.source for s in AMBIENT if s.publisher is not None and s.publisher.build_type], "and"
    )


# --- configuration -------------------------------------------------------------------


def parse_publisher_spec(spec: str) -> Publisher:
    """Parse the command-line form of a publisher, ``KIND:...`` (see each kind's ``spec_form``).

    Raises:
        ConfigError: with one message that names the spec and shows the accepted forms.
    """
    kind, colon, rest = spec.strip().partition(":")
    head = f"invalid publisher {_quote(spec)}"
    if not colon:
        raise ConfigError([f"{head}: use {spec_forms(quoted=True)}"])
    cls = KINDS.get(kind)
    if cls is None:
        close = difflib.get_close_matches(kind.lower(), list(KINDS), n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        raise ConfigError(
            [f"{head}: unknown kind {_quote(kind)}{hint}; use {spec_forms(quoted=True)}"]
        )
    return cls.from_spec(spec, rest)


def from_identity(identity: Mapping[str, Any]) -> Publisher | None:
    """Our publisher for a provenance's publisher table (PEP 751 ``attestation-identities``)."""
    kind = str(identity.get("kind", "")).casefold()
    cls = next((c for c in KINDS.values() if c.pypi_kind.casefold() == kind), None)
    return None if cls is None else _with_fields(cls, identity.get)


def from_pypi(publisher: object) -> Publisher | None:
    """Our publisher for a pypi-attestations publisher of a kind we have, else None."""
    kind = getattr(publisher, "kind", None)
    cls = next((c for c in KINDS.values() if c.pypi_kind == kind), None)
    return None if cls is None else _with_fields(cls, lambda name: getattr(publisher, name, None))


def _with_fields(cls: type[Publisher], value: Callable[[str], object]) -> Publisher | None:
    """``cls`` from each of its fields' ``value(attribute)``, if every one is a string."""
    values = {field.attribute: value(field.attribute) for field in cls.fields}
    if all(isinstance(v, str) for v in values.values()):
        return cls(**values)
    return None


def repository_from_url(host: str, segments: list[str]) -> tuple[str, str] | None:
    """``(kind, repository)`` a project URL names, by the rule of the kind whose host it is."""
    for cls in KINDS.values():
        repository = cls.repository_from_url(host, segments)
        if repository is not None:
            return (cls.kind, repository)
    return None


# --- the running job -----------------------------------------------------------------


def _running_ci(env: Mapping[str, str]) -> type[Ambient] | None:
    """The CI system this environment is a job of (the first, in detection order)."""
    return next((s for s in AMBIENT if s.ci and s.runs_here(env)), None)


def running_job(env: Mapping[str, str]) -> str | None:
    """Name the CI job this environment visibly is, if any is recognised."""
    ci = _running_ci(env)
    return None if ci is None else ci.job(env)


def publisher_from_environment(env: Mapping[str, str]) -> Publisher | None:
    """Infer the Trusted Publisher of the running CI job from its environment.

    None outside the kinds' CI systems, when a variable is missing, on servers PyPI
    does not trust (GitHub Enterprise Server, self-managed GitLab), and when the
    kind cannot be read from the environment at all (Google).
    """
    ci = _running_ci(env)
    if ci is None or ci.publisher is None:
        return None
    return ci.publisher.from_environment(env)


def release_skip(env: Mapping[str, str], *, publisher: bool) -> TopologySkip | None:
    """Why PyPI could not accept this job's attestations, as its CI's configuration shows.

    None to sign: outside a CI that can tell, and whenever the configuration cannot be
    read. ``publisher``: a configured ``publisher`` names this job.
    """
    ci = _running_ci(env)
    return None if ci is None else ci.release_skip(env, publisher=publisher)


def publisher_doubt(env: Mapping[str, str]) -> str | None:
    """Why the running job cannot be taken for the Trusted Publisher PyPI checks, or None."""
    ci = _running_ci(env)
    return None if ci is None else ci.publisher_doubt(env)


def uploader_signs_publish(env: Mapping[str, str], *, cwd: Path | None = None) -> tuple[bool, str]:
    """Whether this job's uploader signs publish attestations of its own, and one line why.

    ``predicate = "auto"`` then writes SLSA provenance beside them.
    """
    ci = _running_ci(env)
    answer = None if ci is None else ci.uploader_signs_publish(env, cwd=cwd)
    if answer is not None:
        return answer
    job = "this job" if ci is None else ci.job(env)
    return False, f"no uploader that signs its own publish attestations runs in {job}"


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
    ci = _running_ci(env)
    if ci is None:
        return None
    job = ci.job(env)
    if ci.publisher is not None and (server := ci.publisher.foreign_server(env)) is not None:
        return f"expected {expected.describe()}, found {job} on {server}, which PyPI does not trust"
    if ci.publisher is type(expected):
        return expected.environment_mismatch(env)
    # Another CI than expected. The ambient identity of a recognised CI job is that
    # CI's own, never a Google service account.
    return f"expected {expected.describe()}, found {job}"


def step_summary(env: Mapping[str, str]) -> tuple[str, str] | None:
    """``(variable, path)`` of the Markdown file the job shows as its summary, if any."""
    for source in AMBIENT:
        path = env.get(source.summary_variable) if source.summary_variable else None
        if path:
            return (str(source.summary_variable), path)
    return None


# --- identity ------------------------------------------------------------------------


def _no_identity() -> str:
    # PyPI's kinds first, then the other CI systems: the order a reader looks for.
    names = [s.source for s in sorted(AMBIENT, key=lambda s: s.publisher is None)]
    return f"no CI identity found (not {_either(names)}, and {EXPLICIT_TOKEN_VARIABLE} is not set)"


def _detected(env: Mapping[str, str]) -> type[Ambient] | None:
    return next((s for s in AMBIENT if s.runs_here(env)), None)


def probe(env: Mapping[str, str] | None = None) -> Probe:
    """Decide from the environment alone whether an identity token can be had.

    No import of sigstore or ``id``, no network. The hook calls it from
    ``dependencies()`` so a laptop build never installs the signing stack, and its
    answer carries the fix when the job is CI without permission. The source named
    here is the one :func:`obtain_token` asks.
    """
    env = os.environ if env is None else env
    if env.get(EXPLICIT_TOKEN_VARIABLE):
        return Probe(EXPLICIT_TOKEN_VARIABLE)
    source = _detected(env)
    return Probe(None, _no_identity()) if source is None else source.probe(env)


def unrequested_identity(
    found: Probe, expected: Publisher | None, env: Mapping[str, str]
) -> str | None:
    """Why the identity :func:`probe` found must not sign unless asked for, or None.

    A bare cloud VM's default service account is the machine's, not a release's: it
    signs only for a ``publisher`` of its kind.
    """
    source = next((s for s in AMBIENT if s.source == found.source), None)
    return None if source is None else source.unrequested(expected, env)


def obtain_token(env: Mapping[str, str] | None = None) -> Token:
    """Ask the ambient source :func:`probe` names for a token with the ``sigstore`` audience.

    Never falls back to an interactive browser login. Every source is asked within
    the calling thread's :func:`hatch_attest._http.deadline`: the GitHub Actions
    request goes through :mod:`hatch_attest._http` (bounded and retried like every
    other call); ``buildkite-agent`` and ``circleci`` are run with the argv ``id``
    uses, and stopped when the time is up; Google's metadata server is asked through
    ``id``, and no longer waited for when the time is up.

    Raises :class:`~hatch_attest.errors.NoIdentityError` when there is no token
    to be had here, :class:`~hatch_attest.errors.IdentityError` for a source that
    fails or does not answer in time.
    """
    env = os.environ if env is None else env
    # Whatever a server or library says later is shown only without these.
    remember_environment(env)
    found = probe(env)
    if found.source is None:
        raise NoIdentityError(found.explain())
    if found.source == EXPLICIT_TOKEN_VARIABLE:
        raw = env[EXPLICIT_TOKEN_VARIABLE].strip()
    else:
        source = next(s for s in AMBIENT if s.source == found.source)
        raw = source.fetch_token(env)
    remember(raw)
    return Token(raw, found.source)


def untrusted_issuer(claims: Mapping[str, Any], expected: Publisher | None) -> str | None:
    """Why a token for *expected* comes from an issuer PyPI can never accept, or None.

    E.g. GitHub Enterprise Cloud's per-enterprise issuer, in a GitHub job: a skip in
    ``auto``, as nothing signed with it can be uploaded. A token of another issuer
    altogether is a mismatch instead (``Publisher.token_mismatch``).
    """
    return None if expected is None else type(expected).untrusted_issuer(claims.get("iss"))


# --- SLSA provenance -------------------------------------------------------------------


def for_issuer(issuer: object) -> type[Publisher] | None:
    """The publisher kind whose tokens *issuer* issues."""
    return next((cls for cls in KINDS.values() if cls.issuer == issuer), None)


def for_build_type(
    build_type: object, predicate: Mapping[str, Any] | None = None
) -> type[Publisher] | None:
    """The kind whose provenance has *build_type*; else, given *predicate*, its layout's."""
    found = next((cls for cls in KINDS.values() if cls.build_type == build_type), None)
    if found is None and predicate is not None:
        found = next((cls for cls in KINDS.values() if cls.shapes_provenance(predicate)), None)
    return found


# --- hatch-attest rehearse -------------------------------------------------------------


def rehearsable() -> str:
    """``GitHub or GitLab``: the CI systems ``rehearse`` can emulate."""
    return _either([str(cls.emulated_as) for cls in KINDS.values() if cls.emulated_as])


def ci_markers() -> tuple[str, ...]:
    """Paths whose presence marks a folder holding a rehearsable kind's CI files."""
    return tuple(path for cls in KINDS.values() for path in cls.ci_markers)


def ci_paths() -> tuple[str, ...]:
    """The CI files and folders a rehearsal copies from a monorepo's root."""
    return tuple(path for cls in KINDS.values() for path in cls.ci_paths)


def plan_release(kind: str, source: ReleaseSource) -> ReleasePlan:
    """Read the release of ``source`` with the CI readers of ``kind`` (one with ``emulated_as``).

    Raises:
        ConfigError: ``--workflow`` names no file of that CI.
        AttestError: the publisher PyPI would check cannot be determined.
    """
    return KINDS[kind].plan_release(source)
