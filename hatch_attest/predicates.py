"""What an attestation says about a distribution: its predicate.

PyPI accepts two predicate types per file, at most one attestation of each
(warehouse ``attestations/services.py``), and verifies both with the same
Trusted Publisher policy; neither reads the predicate body:

* :data:`PUBLISH` (``https://docs.pypi.org/attestations/publish/v1``, file
  ``<dist>.publish.attestation``): "this Trusted Publisher published this file".
  Its predicate is empty.
* :data:`SLSA_PROVENANCE` (``https://slsa.dev/provenance/v1``, file
  ``<dist>.slsa.attestation``): SLSA build provenance, "this workflow, at this
  commit, in this run, built this file".

Every provenance value is taken from the OIDC token's claims, never from
environment variables: the claims are what Fulcio copies into the signing
certificate, so a verifier can check them. :meth:`Predicate.check` compares a
predicate with the certificate it was signed under, after signing and before
the file is written; a contradiction means the predicate must not be written.

This module imports only the standard library; sigstore and pypi-attestations
are imported inside the functions that sign or read attestations.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from hatch_attest.errors import PredicateError
from hatch_attest.publisher import GitHubPublisher, GitLabPublisher, GooglePublisher

if TYPE_CHECKING:
    from pypi_attestations import Attestation, Distribution
    from sigstore.sign import Signer

__all__ = [
    "GITHUB_BUILD_TYPE",
    "GITLAB_BUILD_TYPE",
    "PREDICATES",
    "PUBLISH",
    "PUBLISH_PREDICATE_TYPE",
    "SLSA_PROVENANCE",
    "SLSA_PROVENANCE_PREDICATE_TYPE",
    "Predicate",
    "PublishPredicate",
    "SlsaProvenancePredicate",
    "auto_predicate",
    "check_attestation",
    "for_predicate_type",
    "sign_statement",
]

PUBLISH_PREDICATE_TYPE = "https://docs.pypi.org/attestations/publish/v1"
SLSA_PROVENANCE_PREDICATE_TYPE = "https://slsa.dev/provenance/v1"

GITHUB_BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1"
"""GitHub's own build type, as written by ``actions/attest-build-provenance``."""

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

# Each publisher kind's facts live in its class; provenance only reads them.
_GITHUB_ISSUER = GitHubPublisher.issuer
_GITHUB_SERVER = GitHubPublisher.server
_GITLAB_ISSUER = GitLabPublisher.issuer
_GOOGLE_ISSUER = GooglePublisher.issuer

_USE_PUBLISH = 'use `predicate = "publish"` instead'

# (predicate field, its value, the certificate claim it must equal, that claim's value)
_Pair = tuple[str, Any, str, "str | None"]


class Predicate(ABC):
    """One predicate type: how to build its body and how to check it.

    ``kind`` is the configuration name (``predicate = "..."``), ``file_kind`` the
    middle of the file name ``<dist>.<file_kind>.attestation`` (a single word,
    as uv publish requires), ``predicate_type`` the in-toto ``predicateType``.
    """

    kind: ClassVar[str]
    predicate_type: ClassVar[str]
    file_kind: ClassVar[str]

    def file_name(self, dist_name: str) -> str:
        """The attestation file name for the distribution file ``dist_name``."""
        return f"{dist_name}.{self.file_kind}.attestation"

    @abstractmethod
    def build(self, claims: Mapping[str, Any]) -> dict[str, Any] | None:
        """The predicate body for a token with these ``claims`` (None: no body).

        Raises :class:`PredicateError` when this predicate cannot be made for
        that identity; the message says what to use instead.
        """

    @abstractmethod
    def check(
        self, predicate: Mapping[str, Any] | None, certificate_claims: Mapping[str, str]
    ) -> str | None:
        """Why ``predicate`` contradicts the signing certificate, or None if it does not.

        ``certificate_claims`` are the Fulcio claims by name, as returned by
        :func:`hatch_attest.claims.certificate_claims` (``source_repository_uri``,
        ``build_config_uri``, ...). A value the certificate does not certify is a
        contradiction too: nothing unverifiable is written.
        """

    def describe(self, predicate: Mapping[str, Any] | None) -> list[tuple[str, str]]:
        """The predicate's main values as (label, value) lines, for ``inspect``.

        Read as written, without checking anything; missing values are left out.
        """
        return []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind!r}>"


class PublishPredicate(Predicate):
    """PyPI's publish attestation; warehouse requires its predicate to be empty."""

    kind = "publish"
    predicate_type = PUBLISH_PREDICATE_TYPE
    file_kind = "publish"

    def build(self, claims: Mapping[str, Any]) -> None:
        """Always None: the publish predicate has no body."""

    def check(
        self, predicate: Mapping[str, Any] | None, certificate_claims: Mapping[str, str]
    ) -> str | None:
        """A publish predicate says nothing, so only a non-empty one is wrong."""
        if predicate:
            return "a publish attestation's predicate must be empty; PyPI rejects any other"
        return None


class SlsaProvenancePredicate(Predicate):
    """SLSA provenance v1: GitHub's own format for GitHub jobs, ours for GitLab jobs.

    Google Cloud identities are refused: their token names a service account
    and nothing about a source repository, commit or build configuration, so
    provenance would assert nothing that the certificate backs.
    """

    kind = "slsa-provenance"
    predicate_type = SLSA_PROVENANCE_PREDICATE_TYPE
    file_kind = "slsa"

    def build(self, claims: Mapping[str, Any]) -> dict[str, Any]:
        """The provenance of a GitHub or GitLab job, from its token's claims."""
        issuer = claims.get("iss")
        if issuer == _GITHUB_ISSUER:
            return _github_provenance(claims)
        if issuer == _GITLAB_ISSUER:
            return _gitlab_provenance(claims)
        if issuer == _GOOGLE_ISSUER:
            msg = (
                "SLSA provenance cannot be made for a Google Cloud identity: its token names "
                "a service account, not the repository, commit or build configuration that "
                f"provenance describes; {_USE_PUBLISH}"
            )
            raise PredicateError(msg)
        msg = (
            "SLSA provenance is made for GitHub Actions and GitLab CI identities only; this "
            f"token was issued by {issuer!r}; {_USE_PUBLISH}"
        )
        raise PredicateError(msg)

    def check(
        self, predicate: Mapping[str, Any] | None, certificate_claims: Mapping[str, str]
    ) -> str | None:
        """Compare every certified value of the provenance with the certificate."""
        build_type = _at(predicate, "buildDefinition", "buildType")
        issuer = certificate_claims.get("issuer")
        if build_type == GITHUB_BUILD_TYPE:
            pairs = _github_pairs(predicate, certificate_claims)
            expected_issuer = _GITHUB_ISSUER
        elif build_type == GITLAB_BUILD_TYPE:
            pairs = _gitlab_pairs(predicate, certificate_claims)
            expected_issuer = _GITLAB_ISSUER
        else:
            return f"the provenance has an unknown buildType {build_type!r}"
        if issuer != expected_issuer:
            return (
                f"the provenance has buildType {build_type}, but the certificate was issued "
                f"for {issuer!r}, not {expected_issuer}"
            )
        problems = [
            _contradiction(field, value, label, certified)
            for field, value, label, certified in pairs
            if not isinstance(value, str) or certified is None or value != certified
        ]
        return "; ".join(problems) if problems else None

    def describe(self, predicate: Mapping[str, Any] | None) -> list[tuple[str, str]]:
        """Build type, source, workflow or CI configuration, ref, commit, builder, run."""
        external = ("buildDefinition", "externalParameters")
        dependencies = _at(predicate, "buildDefinition", "resolvedDependencies")
        source = dependencies[0] if isinstance(dependencies, list) and dependencies else None
        if _at(predicate, *external, "workflow") is not None:  # GitHub's format
            workflow = (*external, "workflow")
            repository = _at(predicate, *workflow, "repository")
            entry = ("Workflow", _at(predicate, *workflow, "path"))
            ref = _at(predicate, *workflow, "ref")
        else:
            repository = _at(predicate, *external, "source")
            entry = ("CI configuration", _at(predicate, *external, "entryPoint"))
            uri = _at(source, "uri")
            ref = uri.rpartition("@")[2] if isinstance(uri, str) and "@" in uri else None
        rows = [
            ("Build type", _at(predicate, "buildDefinition", "buildType")),
            ("Repository", repository),
            entry,
            ("Ref", ref),
            ("Commit", _at(source, "digest", "gitCommit")),
            ("Builder", _at(predicate, "runDetails", "builder", "id")),
            ("Run", _at(predicate, "runDetails", "metadata", "invocationId")),
        ]
        return [(label, value) for label, value in rows if isinstance(value, str)]


PUBLISH = PublishPredicate()
SLSA_PROVENANCE = SlsaProvenancePredicate()

PREDICATES: Mapping[str, Predicate] = {p.kind: p for p in (PUBLISH, SLSA_PROVENANCE)}
"""Every predicate by its configuration name: ``publish``, ``slsa-provenance``."""


def for_predicate_type(predicate_type: str) -> Predicate | None:
    """The predicate with this in-toto ``predicateType``, if PyPI accepts it."""
    for predicate in PREDICATES.values():
        if predicate.predicate_type == predicate_type:
            return predicate
    return None


def auto_predicate(
    env: Mapping[str, str] | None = None, *, cwd: Path | None = None
) -> tuple[Predicate, str]:
    """What ``predicate = "auto"`` writes in this job, and one line saying why.

    SLSA provenance when the job's workflow may publish with
    gh-action-pypi-publish signing its own publish attestations (or when that
    cannot be ruled out: a publish attestation would make the action fail), a
    publish attestation otherwise. See :mod:`hatch_attest.publish_action`.
    """
    from hatch_attest.publish_action import workflow_uses_pypi_publish_action

    uses_action, reason = workflow_uses_pypi_publish_action(env, cwd=cwd)
    if uses_action:
        return SLSA_PROVENANCE, f"SLSA provenance, to sit beside the action's own: {reason}"
    return PUBLISH, f"a publish attestation: {reason}"


# --- GitHub: GitHub's own format (@actions/attest provenance.ts) -----------------------


def _github_provenance(claims: Mapping[str, Any]) -> dict[str, Any]:
    repository = _claim(claims, "repository")
    workflow_ref = _claim(claims, "workflow_ref")
    ref = _claim(claims, "ref")
    # `owner/repo/.github/workflows/release.yml@refs/heads/main` -> the path, as
    # provenance.ts splits it.
    if not workflow_ref.startswith(f"{repository}/"):
        msg = (
            f"the identity token's workflow_ref is not in its repository {repository}; "
            f"SLSA provenance cannot name the workflow. {_USE_PUBLISH}"
        )
        raise PredicateError(msg)
    path = workflow_ref[len(repository) + 1 :].split("@", 1)[0]
    repository_url = f"{_GITHUB_SERVER}/{repository}"
    return {
        "buildDefinition": {
            "buildType": GITHUB_BUILD_TYPE,
            "externalParameters": {
                "workflow": {"ref": ref, "repository": repository_url, "path": path},
            },
            "internalParameters": {
                "github": {
                    "event_name": _claim(claims, "event_name"),
                    "repository_id": _claim(claims, "repository_id"),
                    "repository_owner_id": _claim(claims, "repository_owner_id"),
                    "runner_environment": _claim(claims, "runner_environment"),
                },
            },
            "resolvedDependencies": [
                {
                    "uri": f"git+{repository_url}@{ref}",
                    "digest": {"gitCommit": _claim(claims, "sha")},
                },
            ],
        },
        "runDetails": {
            "builder": {"id": f"{_GITHUB_SERVER}/{_claim(claims, 'job_workflow_ref')}"},
            "metadata": {
                "invocationId": (
                    f"{repository_url}/actions/runs/{_claim(claims, 'run_id')}"
                    f"/attempts/{_claim(claims, 'run_attempt')}"
                ),
            },
        },
    }


def _github_pairs(predicate: Mapping[str, Any] | None, cert: Mapping[str, str]) -> list[_Pair]:
    workflow = ("buildDefinition", "externalParameters", "workflow")
    github = ("buildDefinition", "internalParameters", "github")
    repository = _at(predicate, *workflow, "repository")
    return [
        *_same(predicate, cert, [
            ("workflow.repository", (*workflow, "repository"), "source_repository_uri"),
            ("workflow.ref", (*workflow, "ref"), "source_repository_ref"),
        ]),
        ("workflow.path", _at(predicate, *workflow, "path"), "build_config_uri",
         _config_path(cert, repository, "/")),
        *_dependency_pairs(predicate, cert),
        *_same(predicate, cert, [
            ("builder.id", ("runDetails", "builder", "id"), "build_signer_uri"),
            ("invocationId", ("runDetails", "metadata", "invocationId"), "run_invocation_uri"),
            ("github.event_name", (*github, "event_name"), "build_trigger"),
            ("github.repository_id", (*github, "repository_id"), "source_repository_identifier"),
            ("github.repository_owner_id", (*github, "repository_owner_id"),
             "source_repository_owner_identifier"),
            ("github.runner_environment", (*github, "runner_environment"), "runner_environment"),
        ]),
    ]  # fmt: skip


# --- GitLab: hatch-attest's build type (docs/buildtypes/gitlab-ci-v1.md) ---------------


def _gitlab_provenance(claims: Mapping[str, Any]) -> dict[str, Any]:
    project_path = _claim(claims, "project_path")
    config_ref_uri = _claim(claims, "ci_config_ref_uri")
    ref = _claim(claims, "ref")
    source = f"{_GITLAB_ISSUER}/{project_path}"
    # `gitlab.com/<project>//<config path>@<ref path>`; a configuration kept in
    # another project has no path in this one (and PyPI's GitLab publisher
    # rejects it anyway).
    prefix = f"{_GITLAB_ISSUER.removeprefix('https://')}/{project_path}//"
    if not config_ref_uri.startswith(prefix) or "@" not in config_ref_uri[len(prefix) :]:
        msg = (
            f"the job's CI configuration is not a file of the project {project_path} "
            f"(ci_config_ref_uri names another project); SLSA provenance cannot name its "
            f"entry point. {_USE_PUBLISH}"
        )
        raise PredicateError(msg)
    entry_point = config_ref_uri[len(prefix) :].split("@", 1)[0]
    return {
        "buildDefinition": {
            "buildType": GITLAB_BUILD_TYPE,
            "externalParameters": {
                "source": source,
                "entryPoint": entry_point,
                "variables": {
                    "CI_COMMIT_REF_NAME": ref,
                    "CI_PIPELINE_SOURCE": _claim(claims, "pipeline_source"),
                },
            },
            "internalParameters": {
                "gitlab": {
                    "project_id": _claim(claims, "project_id"),
                    "namespace_id": _claim(claims, "namespace_id"),
                    "pipeline_id": _claim(claims, "pipeline_id"),
                    "job_id": _claim(claims, "job_id"),
                    "runner_id": _claim(claims, "runner_id"),
                    "runner_environment": _claim(claims, "runner_environment"),
                },
            },
            "resolvedDependencies": [
                {
                    "uri": f"git+{source}@{_gitlab_ref_path(claims)}",
                    "digest": {"gitCommit": _claim(claims, "sha")},
                },
            ],
        },
        "runDetails": {
            "builder": {"id": f"{source}/-/runners/{_claim(claims, 'runner_id')}"},
            "metadata": {"invocationId": f"{source}/-/jobs/{_claim(claims, 'job_id')}"},
        },
    }


def _gitlab_ref_path(claims: Mapping[str, Any]) -> str:
    """`refs/heads/<ref>` or `refs/tags/<ref>`, derived exactly as Fulcio derives it."""
    ref_type = _claim(claims, "ref_type")
    if ref_type not in {"branch", "tag"}:
        msg = f"the identity token's ref_type is {ref_type!r}, not 'branch' or 'tag'"
        raise PredicateError(msg)
    return f"refs/{'heads' if ref_type == 'branch' else 'tags'}/{_claim(claims, 'ref')}"


def _gitlab_pairs(predicate: Mapping[str, Any] | None, cert: Mapping[str, str]) -> list[_Pair]:
    external = ("buildDefinition", "externalParameters")
    gitlab = ("buildDefinition", "internalParameters", "gitlab")
    source = _at(predicate, *external, "source")
    certified_ref = cert.get("source_repository_ref") or ""
    ref_name = next(
        (
            certified_ref[len(p) :]
            for p in ("refs/heads/", "refs/tags/")
            if certified_ref.startswith(p)
        ),
        None,
    )
    # The runner id is in the token but not in the certificate: only the project is checked.
    builder = _at(predicate, "runDetails", "builder", "id")
    runners = f"{cert.get('source_repository_uri')}/-/runners/"
    certified_builder = (
        builder if isinstance(builder, str) and builder.startswith(runners) else None
    )
    variables = (*external, "variables")
    return [
        *_same(predicate, cert, [("source", (*external, "source"), "source_repository_uri")]),
        ("entryPoint", _at(predicate, *external, "entryPoint"), "build_config_uri",
         _config_path(cert, source, "//")),
        ("variables.CI_COMMIT_REF_NAME", _at(predicate, *variables, "CI_COMMIT_REF_NAME"),
         "source_repository_ref", ref_name),
        *_same(predicate, cert, [
            ("variables.CI_PIPELINE_SOURCE", (*variables, "CI_PIPELINE_SOURCE"), "build_trigger"),
        ]),
        *_dependency_pairs(predicate, cert),
        ("builder.id", builder, "source_repository_uri", certified_builder),
        *_same(predicate, cert, [
            ("invocationId", ("runDetails", "metadata", "invocationId"), "run_invocation_uri"),
            ("gitlab.project_id", (*gitlab, "project_id"), "source_repository_identifier"),
            ("gitlab.namespace_id", (*gitlab, "namespace_id"),
             "source_repository_owner_identifier"),
            ("gitlab.runner_environment", (*gitlab, "runner_environment"), "runner_environment"),
        ]),
    ]  # fmt: skip


# --- shared ----------------------------------------------------------------------------


def _same(
    predicate: Mapping[str, Any] | None,
    cert: Mapping[str, str],
    rows: list[tuple[str, tuple[str, ...], str]],
) -> list[_Pair]:
    """Pairs for predicate fields that must equal a certificate claim verbatim."""
    return [(field, _at(predicate, *path), claim, cert.get(claim)) for field, path, claim in rows]


def _dependency_pairs(predicate: Mapping[str, Any] | None, cert: Mapping[str, str]) -> list[_Pair]:
    """The one resolved dependency: the source at its ref, and the commit."""
    dependencies = _at(predicate, "buildDefinition", "resolvedDependencies")
    if not isinstance(dependencies, list) or len(dependencies) != 1:
        return [("resolvedDependencies", None, "source_repository_uri", None)]
    uri, ref = cert.get("source_repository_uri"), cert.get("source_repository_ref")
    return [
        (
            "resolvedDependencies[0].uri",
            _at(dependencies[0], "uri"),
            "source_repository_uri and source_repository_ref",
            None if uri is None or ref is None else f"git+{uri}@{ref}",
        ),
        (
            "resolvedDependencies[0].digest.gitCommit",
            _at(dependencies[0], "digest", "gitCommit"),
            "source_repository_digest",
            cert.get("source_repository_digest"),
        ),
    ]


def _config_path(cert: Mapping[str, str], repository: Any, separator: str) -> str | None:
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
    return config_uri[len(prefix) :].split("@", 1)[0]


def _contradiction(field: str, value: Any, label: str, certified: str | None) -> str:
    if certified is None:
        return f"the provenance's {field} ({value!r}) is not certified (certificate: {label})"
    return (
        f"the provenance's {field} is {value!r}, but the certificate's {label} says {certified!r}"
    )


def _claim(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        msg = (
            f"the identity token has no {name!r} claim, which SLSA provenance needs; {_USE_PUBLISH}"
        )
        raise PredicateError(msg)
    return str(value)


def _at(node: Any, *keys: str) -> Any:
    """``node[k1][k2]...``, or None where a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


# --- signing and reading ---------------------------------------------------------------


def sign_statement(
    signer: Signer, dist: Distribution, predicate_type: str, predicate: dict[str, Any] | None
) -> Attestation:
    """Sign an in-toto Statement v1 about ``dist`` with any predicate: a PEP 740 attestation.

    ``pypi_attestations.Attestation.sign`` makes publish attestations only; this
    is the same construction (one subject: the file name and its sha256; a DSSE
    envelope signed by ``signer``; converted with ``Attestation.from_bundle``)
    for any predicate type, and raises ``AttestationError`` where it does.
    """
    from pypi_attestations import Attestation, AttestationError, ConversionError
    from sigstore.dsse import DigestSet, StatementBuilder, Subject
    from sigstore.errors import Error as SigstoreError
    from sigstore.oidc import ExpiredIdentity
    from sigstore.sign import ExpiredCertificate  # type: ignore[attr-defined]  # as the library does

    try:
        builder = (
            StatementBuilder()
            .subjects([Subject(name=dist.name, digest=DigestSet(root={"sha256": dist.digest}))])
            .predicate_type(predicate_type)
        )
        if predicate is not None:
            builder = builder.predicate(predicate)
        statement = builder.build()
    except SigstoreError as e:
        raise AttestationError(str(e)) from e
    try:
        bundle = signer.sign_dsse(statement)
    except (ExpiredCertificate, ExpiredIdentity) as e:
        raise AttestationError(str(e)) from e
    try:
        return Attestation.from_bundle(bundle)
    except ConversionError as e:
        raise AttestationError(str(e)) from e


def check_attestation(attestation: Attestation) -> str | None:
    """Why ``attestation``'s predicate contradicts its own certificate, or None.

    Reads the signed statement and the certificate as they will be written; run
    it after signing and before writing (it does not verify the signature).
    """
    from cryptography import x509

    from hatch_attest.claims import certificate_claims

    try:
        statement = json.loads(attestation.envelope.statement)
        certificate = x509.load_der_x509_certificate(attestation.verification_material.certificate)
    except ValueError as e:
        return f"the attestation cannot be read: {e}"
    if not isinstance(statement, dict):
        return "the signed statement is not a JSON object"
    predicate_type = statement.get("predicateType")
    predicate = for_predicate_type(predicate_type) if isinstance(predicate_type, str) else None
    if predicate is None:
        return f"unknown predicate type {predicate_type!r}"
    body = statement.get("predicate")
    if body is not None and not isinstance(body, dict):
        return "the predicate is not a JSON object"
    return predicate.check(body, certificate_claims(certificate))
