"""One attestation run, shared by the build hook and ``hatch-attest sign``.

The order of the steps is the design:

1. Remove any ``<dist>.*.attestation`` that does not describe the file next to
   it, whatever happens next (a stale file makes PyPI reject the upload).
2. :func:`decide` whether to sign, from the configuration and the environment
   alone: no import of sigstore, no network. A fork, a stranger's CI rebuilding
   our sdist, or a laptop is a *skip* in ``auto`` mode and an error in
   ``always`` mode.
3. Obtain the token and check it is the identity the project expects (and not
   a private repository about to be named in a public log) *before* Fulcio or
   Rekor hear of it.
4. Sign, verify each attestation with the publisher policy PyPI will apply, and
   only then write the files, atomically. If anything fails, nothing from this
   run is left behind.

From step 3 on, a failure is an error in every mode: a release that silently
lost its attestations is worse than a red job.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from hatch_attest import files
from hatch_attest.errors import AttestError, IdentityError, VerificationError
from hatch_attest.identity import Probe, Token, obtain_token, probe
from hatch_attest.publisher import (
    ExpectedPublisher,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
    describe,
    environment_mismatch,
    publisher_from_environment,
    repository_from_project_urls,
)

if TYPE_CHECKING:
    from sigstore.verify import Verifier

    from hatch_attest._http import Budget
    from hatch_attest.config import AttestConfig
    from hatch_attest.signing import Signed

#: What the signing path needs beyond the idle install. The hook asks the build
#: frontend for these through ``dependencies()`` only when it will sign.
SIGNING_REQUIREMENTS = ("sigstore>=4.5,<5", "pypi-attestations>=0.0.30,<0.1")

PUBLIC_INSTANCES = ("production", "staging")


class Reporter(Protocol):
    """Where a run says what it did: hatchling's ``app`` in the hook, stderr in the CLI."""

    def display_info(self, message: str) -> None: ...

    def display_warning(self, message: str) -> None: ...


@dataclass(frozen=True)
class Skip:
    """Signing will not happen, and why (one line for the build log)."""

    reason: str


@dataclass(frozen=True)
class Go:
    """Signing may proceed: who provides the token, and whom we expect it to name."""

    probe: Probe
    publisher: ExpectedPublisher | None


@dataclass(frozen=True)
class Written:
    """An attestation that is on disk, verified, next to its distribution."""

    dist: Path
    path: Path
    identity: str
    log_index: int


def decide(
    config: AttestConfig,
    env: Mapping[str, str],
    *,
    project_urls: Mapping[str, str] | None = None,
) -> Go | Skip:
    """Whether to sign, from configuration and environment alone (cheap, offline)."""
    if config.mode == "never":
        return Skip("attestations are off (mode = never)")
    if env.get("PIP_BUILD_TRACKER"):
        # pip builds into a temporary folder and keeps only the .whl: an
        # attestation would be discarded, leaving a public log entry for nothing.
        return Skip(
            "pip builds in a temporary folder and keeps only the wheel, so an attestation "
            "would be lost; build with `python -m build`, `uv build` or `hatch build`, "
            "or attest pip's output with `hatch-attest sign`"
        )
    found = probe(env)
    if not found.available:
        return Skip(found.explain())
    expected = config.publisher
    if expected is not None:
        mismatch = environment_mismatch(expected, env)
        if mismatch is not None:
            return Skip(f"{mismatch}; not signing as somebody else's CI")
    elif project_urls:
        stranger = _stranger_ci(project_urls, env)
        if stranger is not None:
            return Skip(stranger)
    return Go(found, expected or publisher_from_environment(env))


def _stranger_ci(project_urls: Mapping[str, str], env: Mapping[str, str]) -> str | None:
    """A reason to skip when the project's own repository is not the one building."""
    home = repository_from_project_urls(project_urls)
    running = publisher_from_environment(env)
    if home is None or running is None:
        return None
    host, repository = home
    if isinstance(running, GitHubPublisher):
        running_host = "github"
    elif isinstance(running, GitLabPublisher):
        running_host = "gitlab"
    else:
        return None
    if (running_host, running.repository) == (host, repository):
        return None
    return (
        f"this {running_host} job builds {running.repository}, but [project.urls] names "
        f"{host} repository {repository}; not signing somebody else's build "
        "(set `publisher` to sign from this repository)"
    )


def signing_stack_missing() -> str | None:
    """Why the signing libraries cannot be imported here, or None if they can."""
    missing = [
        name for name in ("sigstore", "pypi_attestations") if importlib.util.find_spec(name) is None
    ]
    if not missing:
        return None
    wanted = " ".join(f"'{r}'" for r in SIGNING_REQUIREMENTS)
    return (
        f"{' and '.join(missing)} not installed in this build environment "
        f"(a --no-isolation build?); install them with: pip install {wanted}"
    )


def private_repository_refusal(token: Token, config: AttestConfig) -> str | None:
    """Why this token must not sign on the public instance (a refusal), or None.

    Checked before Fulcio sees the token: signing writes the repository and
    workflow names into a public, permanent log.
    """
    claims = token.claims
    visibility = claims.get("repository_visibility") or claims.get("project_visibility")
    if (
        visibility == "private"
        and config.trust_config is None
        and config.instance in PUBLIC_INSTANCES
        and not config.allow_private_repository
    ):
        return (
            "the repository is private, and signing on the public Sigstore instance would "
            "publish its name (and workflow) in a permanent public log; set "
            "`allow-private-repository = true` if that is acceptable"
        )
    return None


def token_mismatch(expected: ExpectedPublisher, claims: Mapping[str, Any]) -> str | None:
    """Compare the token's (unverified) claims with the expected publisher."""
    if isinstance(expected, GitHubPublisher):
        if claims.get("iss") != "https://token.actions.githubusercontent.com":
            return f"the token is not from GitHub Actions, but {describe(expected)} is expected"
        repository = claims.get("repository")
        workflow_ref = str(claims.get("workflow_ref", ""))
        workflow = workflow_ref.split("@", 1)[0].rsplit("/", 1)[-1]
        if repository != expected.repository:
            return f"the token is for repository {repository}, expected {expected.repository}"
        if workflow != expected.workflow:
            return f"the token is for workflow {workflow}, expected {expected.workflow}"
    elif isinstance(expected, GitLabPublisher):
        if claims.get("project_path") != expected.repository:
            return (
                f"the token is for project {claims.get('project_path')}, "
                f"expected {expected.repository}"
            )
        config_ref = str(claims.get("ci_config_ref_uri", ""))
        config_path = config_ref.split("//", 1)[-1].split("@", 1)[0]
        if config_ref and config_path != expected.workflow_filepath:
            return (
                f"the token is for CI config {config_path}, expected {expected.workflow_filepath}"
            )
    elif isinstance(expected, GooglePublisher) and claims.get("email") != expected.email:
        return f"the token is for {claims.get('email')}, expected {expected.email}"
    return None


def attest(
    dists: Sequence[Path],
    config: AttestConfig,
    env: Mapping[str, str],
    reporter: Reporter,
    *,
    project_urls: Mapping[str, str] | None = None,
    jobs: int = 1,
) -> list[Written]:
    """Attest ``dists`` (already built, in place) according to ``config``.

    Returns what was written; ``[]`` for a skip in ``auto`` mode. Raises an
    :class:`~hatch_attest.errors.AttestError` for anything else. On any error no
    attestation from this run is left behind.
    """
    for dist in dists:
        files.report_stale_attestations(dist, reporter)

    decision = decide(config, env, project_urls=project_urls)
    if isinstance(decision, Go):
        missing = signing_stack_missing()
        if missing is not None:
            decision = Skip(missing)
    if isinstance(decision, Skip):
        if config.mode == "always":
            msg = f"cannot attest (mode = always): {decision.reason}"
            raise IdentityError(msg)
        if config.mode != "never":
            reporter.display_info(f"Not attesting: {decision.reason}")
        return []

    from hatch_attest import _http  # imports requests: not on the idle path

    # One budget covers each artifact's token, certificate and log entry.
    budget = _http.Budget(config.timeout)
    with budget.shared():
        token = obtain_token(env)
    # The environment looked like the expected publisher; a token that says
    # otherwise is never used, in any mode.
    if decision.publisher is not None:
        mismatch = token_mismatch(decision.publisher, token.claims)
        if mismatch is not None:
            msg = f"refusing to sign: {mismatch}"
            raise IdentityError(msg)
    refusal = private_repository_refusal(token, config)
    if refusal is not None:
        if config.mode == "always":
            msg = f"cannot attest (mode = always): {refusal}"
            raise IdentityError(msg)
        reporter.display_info(f"Not attesting: {refusal}")
        return []
    return _sign_verify_write(
        dists, config, token, decision.publisher, reporter, jobs=jobs, budget=budget
    )


def _sign_verify_write(
    dists: Sequence[Path],
    config: AttestConfig,
    token: Token,
    expected: ExpectedPublisher | None,
    reporter: Reporter,
    *,
    jobs: int,
    budget: Budget,
) -> list[Written]:
    from hatch_attest.signing import AttestationSigner
    from hatch_attest.trust import load_trust_config, verifier_for

    trust = load_trust_config(config.instance, config.trust_config)
    signer = AttestationSigner(trust, token, budget=budget)
    results = signer.sign_all(dists, jobs=jobs)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        _raise_all(failures)
    signed: list[Signed] = [r for r in results if not isinstance(r, BaseException)]

    verifier = verifier_for(trust)
    policy_publisher = expected or _publisher_from_token(token)
    if policy_publisher is None:
        reporter.display_warning(
            f"no Trusted Publisher could be determined for {token.provider}; the attestation "
            "was verified, but not against the identity PyPI will require"
        )
    for item in signed:
        _verify(item, verifier, policy_publisher, signer.identity)

    # All or nothing: stage every file, then put them all in place.
    staged: list[files.StagedFile] = []
    try:
        for item in signed:
            staged.append(files.stage_attestation(item.dist, item.sha256, item.to_json_bytes()))
        for file in staged:
            file.commit()
    except BaseException:
        for file in staged:
            file.discard()
        raise
    return [
        Written(item.dist, file.path, signer.identity, item.log_index)
        for item, file in zip(signed, staged, strict=True)
    ]


def _publisher_from_token(token: Token) -> ExpectedPublisher | None:
    claims = token.claims
    if claims.get("iss") == "https://accounts.google.com" and isinstance(claims.get("email"), str):
        return GooglePublisher(email=claims["email"])
    return None


def _verify(
    item: Signed,
    verifier: Verifier,
    publisher: ExpectedPublisher | None,
    identity: str,
) -> None:
    from pypi_attestations import Distribution
    from sigstore.verify.policy import Identity

    from hatch_attest.publisher import to_pypi_publisher
    from hatch_attest.verify import verify_attestation

    dist = Distribution(name=item.dist.name, digest=item.sha256)
    # Without a publisher, still verify signature, log and subject, for the
    # identity the certificate names.
    policy = Identity(identity=identity) if publisher is None else to_pypi_publisher(publisher)
    try:
        verify_attestation(item.attestation, dist, policy, verifier)
    except VerificationError as e:
        msg = (
            f"the fresh attestation for {item.dist.name} does not verify, so it was not "
            f"written: {e}"
        )
        raise VerificationError(msg) from e


def _raise_all(failures: Sequence[BaseException]) -> None:
    first = failures[0]
    if len(failures) == 1:
        raise first
    lines = "\n".join(f"  - {f}" for f in failures)
    msg = f"{len(failures)} distributions could not be signed:\n{lines}"
    raise AttestError(msg) from first
