"""What every publisher kind and every ambient identity source is made of.

A *publisher kind* (:class:`Publisher`) is a Trusted Publisher PyPI can attest: its
options, how it reads the running job and a token's claims, the certificate claims
and the pypi-attestations policy it expects, and its SLSA provenance. An *ambient
source* (:class:`Ambient`) is where a job's OIDC identity comes from: how a job of
that kind is recognised, what is missing when it has no identity, and how its token
is fetched. Each kind's module (``github``, ``gitlab``, ``google``, ``buildkite``,
``circleci``) defines both for its kind; :mod:`hatch_attest._kinds` lists them, and is
the only place that iterates over them.

Only the standard library is imported here: this is on the idle build path.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from hatch_attest._identity import Probe
from hatch_attest.errors import ConfigError, PredicateError

if TYPE_CHECKING:
    from pathlib import Path

    import pypi_attestations
    from typing_extensions import Self

    from hatch_attest._kinds.release import ReleasePlan, ReleaseSource
    from hatch_attest._uploads import TopologySkip

    PyPIPublisher: TypeAlias = (
        pypi_attestations.GitHubPublisher
        | pypi_attestations.GitLabPublisher
        | pypi_attestations.GooglePublisher
    )

__all__ = [
    "Ambient",
    "Check",
    "Field",
    "Pair",
    "Publisher",
    "same_repository",
]

Check: TypeAlias = Callable[[str], "str | None"]

# (predicate field, its value, the certificate claim it must equal, that claim's value)
Pair: TypeAlias = tuple[str, Any, str, "str | None"]

USE_PUBLISH = 'use `predicate = "publish"` instead'
WORKFLOW_SUFFIXES = (".yml", ".yaml")


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


def _build_config_uris(workflow: str, found: Mapping[str, str]) -> list[str]:
    # The policy accepts the workflow at the commit or at the ref that was built.
    return [
        f"{workflow}@{found[suffix]}"
        for suffix in ("source_repository_digest", "source_repository_ref")
        if suffix in found
    ] or [f"{workflow}@<ref or commit>"]


def same_repository(a: str, b: str) -> bool:
    """Whether two repository paths name one repository: GitHub and GitLab ignore case."""
    return a.casefold() == b.casefold()


def strip_ref(uri: str) -> str:
    """``uri`` without its ``@<ref>``, split where Fulcio splits it: at the *last* ``@``.

    Workflow and CI configuration file names may hold an ``@`` (``release@v2.yml``);
    refs cannot end the name part, so the last ``@`` is the separator.
    """
    head, at, _ = uri.rpartition("@")
    return head if at else uri


class Ambient(ABC):
    """Where a job's ambient OIDC identity comes from: a CI system or a cloud VM.

    Subclasses are listed, in the order they are tried, in
    :data:`hatch_attest._kinds.AMBIENT`.
    """

    source: ClassVar[str]
    """Its name in messages, and the :attr:`~hatch_attest._identity.Probe.source` it reports."""
    ci: ClassVar[bool] = True
    """A CI system (whose own identity comes before any cloud VM's); False for a VM."""
    publisher: ClassVar[type[Publisher] | None] = None
    """The PyPI publisher kind its identities are, if PyPI has one."""
    summary_variable: ClassVar[str | None] = None
    """The variable naming a Markdown file the job shows as its summary, if it has one."""

    @classmethod
    @abstractmethod
    def runs_here(cls, env: Mapping[str, str]) -> bool:
        """Whether *env* is a job (or machine) of this source: the one rule, used everywhere."""

    @classmethod
    @abstractmethod
    def probe(cls, env: Mapping[str, str]) -> Probe:
        """Whether a token can be had here (only asked when :meth:`runs_here`), offline."""

    @classmethod
    @abstractmethod
    def fetch_token(cls, env: Mapping[str, str]) -> str:
        """Ask for a token with the ``sigstore`` audience, within the thread's deadline."""

    @classmethod
    def job(cls, env: Mapping[str, str]) -> str:
        """Name the running job, e.g. ``a GitHub Actions job in o/r``."""
        return f"a {cls.source} job"

    @classmethod
    def release_skip(cls, env: Mapping[str, str], *, publisher: bool) -> TopologySkip | None:
        """Why PyPI could not accept this job's attestations, from its CI configuration.

        None to sign, and whenever the configuration cannot be read. ``publisher``: a
        configured ``publisher`` names this job, so "no upload visible" is no reason.
        """
        return None

    @classmethod
    def uploader_signs_publish(
        cls, env: Mapping[str, str], *, cwd: Path | None = None
    ) -> tuple[bool, str] | None:
        """Whether this job's uploader signs publish attestations of its own, and why.

        For ``predicate = "auto"``; None when this CI has no such uploader.
        """
        return None

    @classmethod
    def publisher_doubt(cls, env: Mapping[str, str]) -> str | None:
        """Why this job cannot be taken for the Trusted Publisher PyPI checks, or None.

        For ``verify`` without ``--publisher``: one line asking for it.
        """
        return None

    @classmethod
    def unrequested(cls, expected: Publisher | None, env: Mapping[str, str]) -> str | None:
        """Why this source's identity must not sign unless asked for, or None.

        A CI job's identity is the job's own; a machine's default identity (a cloud
        VM's service account) signs only for a ``publisher`` of its kind.
        """
        return None


class Publisher(ABC):
    """A Trusted Publisher kind. Subclasses are frozen dataclasses listed in ``KINDS``."""

    kind: ClassVar[str]
    """The ``kind`` key of the TOML table and the prefix of the ``--publisher`` spec."""
    issuer: ClassVar[str]
    """The OIDC issuer of its tokens, which Fulcio writes into the certificate."""
    pypi_name: ClassVar[str]
    upload_identity: ClassVar[str | None] = None
    """What a job needs for a Trusted Publishing upload (the ``pypi`` audience), if any."""
    """How messages name the publishers PyPI accepts, e.g. ``GitLab.com``."""
    fields: ClassVar[tuple[Field, ...]]
    """Its options, in the order the spec names them."""
    spec_form: ClassVar[str]
    """The ``--publisher`` form, e.g. ``github:OWNER/REPO@WORKFLOW.yml``."""
    spec_example: ClassVar[str]
    visibility_claim: ClassVar[str | None] = None
    """The token claim saying whether the repository is public (None: no repository)."""
    pypi_kind: ClassVar[str]
    """The ``kind`` of the matching pypi-attestations publisher, whose fields are ours."""
    build_type: ClassVar[str | None] = None
    """The SLSA ``buildType`` of its provenance (None: it makes none)."""
    emulated_as: ClassVar[str | None] = None
    """How ``rehearse`` names the CI it can emulate for this kind (None: it cannot)."""
    ci_markers: ClassVar[tuple[str, ...]] = ()
    """Paths whose presence marks the folder holding this kind's CI files."""
    ci_paths: ClassVar[tuple[str, ...]] = ()
    """The CI files and folders a rehearsal copies from a monorepo's root."""

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
        # The first "@": repository paths have none, file names may (`release@v2.yml`).
        first, at, second = rest.partition("@")
        return [first, second] if at else None

    def spec(self) -> str:
        """This publisher in the ``--publisher`` spelling, e.g. ``github:o/r@release.yml``."""
        return f"{self.kind}:" + "@".join(getattr(self, f.attribute) for f in self.fields)

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

    @classmethod
    def repository_from_url(cls, host: str, segments: list[str]) -> str | None:
        """The repository a project URL on *host* (path *segments*) names, for this kind."""
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

    @classmethod
    def untrusted_issuer(cls, issuer: object) -> str | None:
        """Why *issuer*, a variant of this kind's own, can never be accepted by PyPI, or None.

        A variant is an issuer below this kind's (``<issuer>/<name>``): the same
        service, under a name no PyPI Trusted Publisher can match. Any other issuer
        is another identity, which :meth:`token_mismatch` refuses.
        """
        if not isinstance(issuer, str) or not issuer.startswith(f"{cls.issuer.rstrip('/')}/"):
            return None
        return (
            f"the identity token was issued by {issuer!r}, not {cls.issuer}, and PyPI "
            f"accepts {cls.pypi_name} attestations only from {cls.issuer}"
        )

    @abstractmethod
    def _token_differs(self, named: Self) -> str:
        """Say how the token's publisher *named* differs from ``self``."""

    # --- SLSA provenance ---------------------------------------------------------------

    @classmethod
    def provenance(cls, claims: Mapping[str, Any]) -> dict[str, Any]:
        """The SLSA provenance of a job of this kind, from its token's claims.

        Raises:
            PredicateError: when this kind makes none, or the claims cannot make it.
        """
        msg = f"SLSA provenance is not made for {cls.pypi_name} identities; {USE_PUBLISH}"
        raise PredicateError(msg)

    @classmethod
    def provenance_pairs(
        cls, predicate: Mapping[str, Any] | None, cert: Mapping[str, str]
    ) -> list[Pair]:
        """Every certified value of its provenance, with the certificate claim it must equal."""
        return []

    @classmethod
    def provenance_rows(cls, predicate: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
        """Repository, entry point and ref rows of its provenance, for ``inspect``."""
        return []

    @classmethod
    def shapes_provenance(cls, predicate: Mapping[str, Any] | None) -> bool:
        """Whether *predicate* has this kind's provenance layout (an unknown buildType)."""
        return False

    # --- hatch-attest rehearse -------------------------------------------------------

    @classmethod
    def plan_release(cls, source: ReleaseSource) -> ReleasePlan:
        """Read this kind's CI files: the jobs that build and upload, and the problems.

        Only asked of kinds with :attr:`emulated_as`.
        """
        msg = f"the {cls.kind} kind cannot be rehearsed"
        raise NotImplementedError(msg)


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


# --- provenance helpers every kind's builder shares ------------------------------------


def claim(claims: Mapping[str, Any], name: str) -> str:
    """A claim provenance needs, as a string; PredicateError when it is missing."""
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        msg = (
            f"the identity token has no {name!r} claim, which SLSA provenance needs; {USE_PUBLISH}"
        )
        raise PredicateError(msg)
    return str(value)


def at(node: Any, *keys: str) -> Any:
    """``node[k1][k2]...``, or None where a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def same(
    predicate: Mapping[str, Any] | None,
    cert: Mapping[str, str],
    rows: list[tuple[str, tuple[str, ...], str]],
) -> list[Pair]:
    """Pairs for predicate fields that must equal a certificate claim verbatim."""
    return [(field, at(predicate, *path), name, cert.get(name)) for field, path, name in rows]


def dependency_pairs(predicate: Mapping[str, Any] | None, cert: Mapping[str, str]) -> list[Pair]:
    """The one resolved dependency: the source at its ref, and the commit."""
    dependencies = at(predicate, "buildDefinition", "resolvedDependencies")
    if not isinstance(dependencies, list) or len(dependencies) != 1:
        return [("resolvedDependencies", None, "source_repository_uri", None)]
    uri, ref = cert.get("source_repository_uri"), cert.get("source_repository_ref")
    return [
        (
            "resolvedDependencies[0].uri",
            at(dependencies[0], "uri"),
            "source_repository_uri and source_repository_ref",
            None if uri is None or ref is None else f"git+{uri}@{ref}",
        ),
        (
            "resolvedDependencies[0].digest.gitCommit",
            at(dependencies[0], "digest", "gitCommit"),
            "source_repository_digest",
            cert.get("source_repository_digest"),
        ),
    ]


def config_path(cert: Mapping[str, str], repository: Any, separator: str) -> str | None:
    """The build configuration's path in ``repository``, as the Build Config URI names it.

    GitHub: ``<repository>/<path>@<ref>``; GitLab: ``<repository>//<path>@<ref>``.
    None when the certificate names a configuration in another repository.
    """
    config_uri = cert.get("build_config_uri")
    if config_uri is None or not isinstance(repository, str):
        return None
    prefix = f"{repository}{separator}"
    if not config_uri.startswith(prefix):
        return None
    return strip_ref(config_uri[len(prefix) :])
