"""The one attestation pipeline: the hook, the wrapper backend and the CLI all call :func:`attest`.

A host passes artifacts, the configuration, the environment and a
:class:`Reporter`, and displays what comes back; every decision about
artifacts and files is made here, in this order:

1. Remove any ``<dist>.*.attestation`` that does not describe the file next to
   it, whatever happens next (a stale file makes PyPI reject the upload).
2. :func:`decide` whether to sign, from the configuration and the environment
   alone: no import of sigstore, no network. A fork, a stranger's CI rebuilding
   our sdist, a frontend that throws side files away, or a laptop is a *skip* in
   ``auto`` mode and a :class:`~hatch_attest.errors.RefusalError` in ``always``.
   A wheel that cibuildwheel will replace with its repaired copy is a skip in
   both: the step that signs the repaired wheels is where ``always`` holds.
3. Check every cheap, local fact before the first expensive step: file names PyPI
   accepts, attestations that must not be overwritten, targets that can be
   written, the signing stack, a readable trust config.
4. Obtain the token and check its claims (audience, validity, the expected
   publisher, an identity PyPI accepts, a public repository) *before* the trust
   root is loaded and before Fulcio or Rekor hear of it.
5. Sign, verify each attestation with the publisher policy PyPI will apply as it
   arrives, check that the set of attestations of each file is one PyPI accepts,
   and only then put the files in place, all or nothing.

From step 4 on, a failure is an error in every mode: a release that silently
lost its attestations is worse than a red job. One time budget per artifact
(``timeout``) covers its token, its certificate and its log entry.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from hatch_attest import _files as files
from hatch_attest._frontends import discarding_frontend, repaired_later
from hatch_attest._identity import Token
from hatch_attest._kinds import (
    Publisher,
    accepted_publishers,
    environment_mismatch,
    obtain_token,
    probe,
    publisher_from_claims,
    publisher_from_environment,
    release_skip,
    running_job,
    same_repository,
    unrequested_identity,
    untrusted_issuer,
)
from hatch_attest._project_urls import repository_from_project_urls
from hatch_attest.errors import (
    AttestError,
    DistributionError,
    IdentityError,
    NoIdentityError,
    RefusalError,
    VerificationError,
)

if TYPE_CHECKING:
    from sigstore.verify import Verifier

    from hatch_attest._config import AttestConfig
    from hatch_attest._predicates import Predicate
    from hatch_attest._signing import Signed

logger = logging.getLogger(__name__)

#: What the signing path needs beyond the idle install. Hosts ask the build
#: frontend for these (:func:`requirements_for`) only when they will sign.
#: PyYAML reads the job's CI configuration (:func:`_topology_skip`).
SIGNING_REQUIREMENTS = ("sigstore>=4.5,<5", "pypi-attestations>=0.0.30,<0.1", "pyyaml>=6")
HATCHLING_FLOOR = "1.26"
"""The oldest hatchling the hook works under: 1.22 added build hook dependencies
(``BuildHookInterface.dependencies``), 1.26 writes the normalised names PyPI requires."""


class Reporter(Protocol):
    """Where a run says what it did: hatchling's ``app`` in the hook, stderr elsewhere."""

    def display_info(self, message: str) -> None: ...

    def display_warning(self, message: str) -> None: ...


class StderrReporter:
    """A :class:`Reporter` for hosts without a build log of their own (the CLI, the wrapper).

    Everything goes to stderr, so that stdout stays a command's result.
    """

    def __init__(self, prefix: str = "hatch-attest") -> None:
        self.prefix = prefix

    def display_info(self, message: str) -> None:
        """One line as it is."""
        print(message, file=sys.stderr)

    def display_warning(self, message: str) -> None:
        """One line, marked as a warning."""
        print(f"{self.prefix}: warning: {message}", file=sys.stderr)


@dataclass(frozen=True)
class Skip:
    """Signing will not happen, and why (one line for the build log)."""

    reason: str
    warning: bool = False
    """Shown as a warning: the job looks like the project's own release, yet will not sign."""
    signed_later: bool = False
    """What is released is another file, signed by a later step: ``always`` skips too."""


@dataclass(frozen=True)
class Plan:
    """Signing may proceed, expecting the token to name ``publisher``."""

    publisher: Publisher | None
    """The configured publisher, else the one the CI environment shows, else None."""


@dataclass(frozen=True)
class Written:
    """An attestation that is on disk, verified, next to its distribution."""

    dist: Path
    path: Path
    identity: str
    log_index: int
    predicate: str = "publish"
    """Which predicate it carries, by its ``predicate`` name."""

    def describe(self) -> str:
        """The build log's line for it, the same in every host."""
        return (
            f"Attested {self.dist.name} as {self.identity} "
            f"(Rekor log index {self.log_index}) -> {self.path.name}"
        )


SIGN_TABLE_HEADER: tuple[str, ...] = ("artifact", "identity", "Rekor log index")


def _rows(written: Sequence[Written]) -> list[tuple[str, ...]]:
    return [(w.dist.name, w.identity, str(w.log_index)) for w in written]


def render_table(written: Sequence[Written]) -> str:
    """``sign``'s result as a plain-text table: artifact, identity, Rekor log index."""
    rows = _rows(written)
    header = SIGN_TABLE_HEADER
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_step_summary(written: Sequence[Written]) -> str:
    """The same table as GitHub-flavoured Markdown, for ``$GITHUB_STEP_SUMMARY``."""
    lines = [
        "### PEP 740 attestations",
        "",
        "| artifact | identity | Rekor log index |",
        "| --- | --- | --- |",
        *(f"| {_code_cell(a)} | {_code_cell(i)} | {n} |" for a, i, n in _rows(written)),
        "",
    ]
    return "\n".join(lines) + "\n"


def append_step_summary(
    summary: tuple[str, str], written: Sequence[Written], reporter: Reporter
) -> None:
    """Append :func:`render_step_summary` to the job's summary file; a failure is a warning.

    ``summary`` is ``(variable, path)``, as :func:`hatch_attest._kinds.step_summary` finds it.
    """
    variable, path = summary
    try:
        with Path(path).open("a", encoding="utf-8") as f:
            f.write(render_step_summary(written))
    except OSError as e:
        # The attestations are written; a missing summary must not fail the job.
        reporter.display_warning(f"cannot append to {variable} ({path}): {e.strerror or e}")


def _code_cell(text: str) -> str:
    """``text`` as a code span in a GitHub Markdown table cell, whatever it holds.

    GFM: a ``|`` ends the cell even inside a code span unless escaped as ``\\|``; a
    code span's fence is a backtick run longer than any inside it, padded with a
    space when the text starts or ends with a backtick; a line break ends the row.
    """
    text = " ".join(text.splitlines()).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def decide(
    config: AttestConfig,
    env: Mapping[str, str],
    *,
    project_urls: Mapping[str, str] | None = None,
    output_dir: Path | None = None,
) -> Plan | Skip:
    """Whether to sign, from configuration and environment alone (cheap, offline).

    ``output_dir`` is the folder the frontend built into, when known (the hook's
    ``dependencies()`` runs before any build and passes none).
    """
    if config.mode == "never":
        return Skip("attestations are off (mode = never)")
    # A repairer replaces this wheel, and the step after it signs the copy that is
    # released: there `always` holds. Refusing here would only break the build that
    # step needs (the job's HATCH_ATTEST_MODE reaches cibuildwheel's builds).
    repaired = repaired_later(env)
    if repaired is not None:
        return Skip(repaired, warning=config.mode == "always", signed_later=True)
    # An attestation the frontend throws away would leave a public log entry for nothing.
    discarded = discarding_frontend(output_dir, env)
    if discarded is not None:
        return Skip(discarded)
    found = probe(env)
    if not found.available:
        return Skip(found.explain())
    expected = config.publisher
    unrequested = unrequested_identity(found, expected, env)
    if unrequested is not None:
        return Skip(unrequested)
    running = publisher_from_environment(env)
    if expected is not None:
        mismatch = environment_mismatch(expected, env)
        if mismatch is None:
            return _topology_skip(env, publisher=True) or Plan(expected)
        if _same_home(expected, running):
            return Skip(
                f"{mismatch}: this job of the project's own repository is not the Trusted "
                "Publisher, and PyPI would reject its attestations. Build in the publishing "
                "workflow, or correct `publisher`",
                warning=True,
            )
        return Skip(f"{mismatch}; not signing as somebody else's CI")
    home = repository_from_project_urls(project_urls or {})
    if home is not None:
        reason = _not_provably_home(home, running, env)
        if reason is not None:
            return Skip(reason)
    return _topology_skip(env, publisher=False) or Plan(expected_publisher(config, env))


def _topology_skip(env: Mapping[str, str], *, publisher: bool) -> Skip | None:
    """Skip when the job's CI configuration shows PyPI could not accept its attestations."""
    found = release_skip(env, publisher=publisher)
    return None if found is None else Skip(found.reason, warning=found.warning)


def expected_publisher(config: AttestConfig, env: Mapping[str, str]) -> Publisher | None:
    """The publisher attestations must match, as far as it is known before any token.

    The configured ``publisher``, else the one the CI environment shows, else None
    (then signing takes the one the token's claims name). ``sign`` and ``verify``
    resolve it here, in the same order.
    """
    if config.publisher is not None:
        return config.publisher
    return publisher_from_environment(env)


def _same_home(expected: Publisher, running: Publisher | None) -> bool:
    mine, theirs = expected.home(), running.home() if running else None
    return (
        mine is not None
        and theirs is not None
        and mine[0] == theirs[0]
        and same_repository(mine[1], theirs[1])
    )


def _not_provably_home(
    home: tuple[str, str], running: Publisher | None, env: Mapping[str, str]
) -> str | None:
    """Why this job cannot be shown to build the repository ``[project.urls]`` names.

    Only a job that provably is that repository signs: one whose CI environment
    names it (compared as the forge does, ignoring case), on the server PyPI trusts.
    Anything unknown (another CI, GitHub Enterprise Server, self-managed GitLab, a
    CI configuration from another project, missing variables) is a skip.
    """
    kind, repository = home
    ours = f"{kind} repository {repository}"
    fix = "set `publisher` to sign from this job"
    where = running.home() if running is not None else None
    if where is None:
        job = running_job(env) or "this job"
        return (
            f"[project.urls] names {ours}, and {job} cannot be shown to build it (its CI "
            "environment does not name a repository and workflow on a server PyPI trusts); "
            f"not signing a build that may be somebody else's ({fix})"
        )
    if where[0] != kind or not same_repository(where[1], repository):
        return (
            f"this {where[0]} job builds {where[1]}, but [project.urls] names {ours}; "
            f"not signing somebody else's build ({fix})"
        )
    return None


def requirements_for(
    config: AttestConfig,
    env: Mapping[str, str],
    *,
    project_urls: Mapping[str, str] | None = None,
) -> list[str]:
    """What the build environment needs beyond the idle install, for this build.

    The signing stack only when the build is going to sign, so that laptop builds
    install nothing more (a frontend asks through ``get_requires_for_build_*``).
    """
    decision = decide(config, env, project_urls=project_urls)
    return list(SIGNING_REQUIREMENTS) if isinstance(decision, Plan) else []


def preflight(
    config: AttestConfig,
    env: Mapping[str, str],
    *,
    project_urls: Mapping[str, str] | None = None,
) -> None:
    """Fail before anything is built when ``mode = "always"`` and this build cannot attest.

    Raises:
        RefusalError: with the reason, so that no unattested artifact is left behind.
    """
    if config.mode != "always":
        return
    decision = decide(config, env, project_urls=project_urls)
    if isinstance(decision, Skip) and decision.signed_later:
        return
    reason = decision.reason if isinstance(decision, Skip) else signing_stack_missing()
    if reason is not None:
        raise RefusalError(reason)


def signing_stack_missing(install: str | None = None) -> str | None:
    """Why the signing libraries cannot be imported here, or None if they can.

    ``install`` is the command that installs them for this door (the CLI's extra);
    by default a build's: the signing stack itself, in a --no-isolation build.

    Under a hatchling older than :data:`HATCHLING_FLOOR` (the build hook's host),
    that is the reason: it never asks the hook for its dependencies, so an isolated
    build cannot have them.
    """
    missing = [
        name
        for name in ("sigstore", "pypi_attestations", "yaml")
        if importlib.util.find_spec(name) is None
    ]
    if not missing:
        return None
    old = _old_hatchling()
    if old is not None:
        return (
            f"hatchling >= {HATCHLING_FLOOR} is required, and this build runs hatchling {old}, "
            "which does not install a build hook's dependencies (here the signing stack) and "
            "writes source distribution names PyPI rejects; require it in pyproject.toml: "
            f'[build-system] requires = ["hatchling>={HATCHLING_FLOOR}", "hatch-attest"]'
        )
    names = ", ".join(missing[:-1]) + " and " + missing[-1] if len(missing) > 1 else missing[0]
    if install is not None:
        return f"{names} not installed; install them with: {install}"
    wanted = " ".join(f"'{r}'" for r in SIGNING_REQUIREMENTS)
    return (
        f"{names} not installed in this build environment "
        f"(a --no-isolation build?); install them with: pip install {wanted}"
    )


def _old_hatchling() -> str | None:
    """The version of the hatchling running this build, if it is older than the floor."""
    if "hatchling" not in sys.modules:
        return None  # not the hook's host: the wrapper backend or the CLI
    from importlib.metadata import PackageNotFoundError, version

    from packaging.version import InvalidVersion, Version

    try:
        found = version("hatchling")
        return found if Version(found) < Version(HATCHLING_FLOOR) else None
    except (PackageNotFoundError, InvalidVersion):
        return None


def identity_refusal(
    token: Token, publisher: Publisher | None, config: AttestConfig, *, public: bool
) -> str | None:
    """Why this token must not sign (a refusal, a skip in ``auto``), or None.

    Checked before Fulcio sees the token. On the public-good instance a signature
    writes the repository and workflow names into a permanent public log, so:

    - without a configured publisher, an identity no index we know of accepts
      (Buildkite, CircleCI, GitHub Enterprise Server, ...) does not sign;
    - a repository that is not *provably* public (a visibility claim other than
      exactly ``public``, or none) does not sign unless ``allow-private-repository``.
    """
    if not public:
        return None
    if publisher is None:
        issuer = token.claims.get("iss", "an unknown issuer")
        return (
            f"the identity from {token.source} (issuer {issuer}) is not a Trusted Publisher "
            f"that PyPI can accept attestations from ({accepted_publishers()}), so a "
            "signature would only add a public log entry; set `publisher` or a `trust-config` "
            "of your own to sign anyway"
        )
    claim = type(publisher).visibility_claim
    if claim is None or config.allow_private_repository:
        return None
    visibility = token.claims.get(claim)
    if visibility == "public":
        return None
    if visibility == "private":
        what = "the repository is private"
    else:
        found = "no visibility claim" if visibility is None else f"{claim} = {visibility!r}"
        what = f"the repository is not provably public (the token has {found})"
    return (
        f"{what}, and signing on the public Sigstore instance would publish its name (and "
        "workflow) in a permanent public log; set `allow-private-repository = true` if that "
        "is acceptable"
    )


def attest(
    dists: Sequence[Path],
    config: AttestConfig,
    env: Mapping[str, str],
    reporter: Reporter,
    *,
    project_urls: Mapping[str, str] | None = None,
    jobs: int = 1,
    overwrite: bool = True,
    install: str | None = None,
) -> list[Written]:
    """Attest ``dists`` (already built, in place) according to ``config``.

    Args:
        overwrite: Replace an attestation that already describes a file; when
            False, finding one is an error before anything is signed.
        install: How this door installs a missing signing stack
            (:func:`signing_stack_missing`).

    Returns what was written; ``[]`` for a skip in ``auto`` mode. Raises an
    :class:`~hatch_attest.errors.AttestError` for anything else. On any error no
    attestation from this run is left behind.
    """
    for dist in dists:
        for stale in files.remove_stale_attestations(dist):
            if stale.removed:
                reporter.display_warning(f"removed stale {stale.path.name}: {stale.reason}")
            else:
                reporter.display_warning(f"{stale.path.name} is {stale.reason}")

    output_dir = dists[0].parent if dists else None
    decision = decide(config, env, project_urls=project_urls, output_dir=output_dir)
    if isinstance(decision, Plan):
        missing = signing_stack_missing(install)
        if missing is not None:
            decision = Skip(missing)
    if isinstance(decision, Skip):
        return _skip(decision, config, reporter)

    predicates, why = choose_predicates(config, env)
    _check_before_signing(dists, [p.file_kind for p in predicates], overwrite=overwrite)
    from hatch_attest import _http  # imports requests: not on the idle path
    from hatch_attest._trust import signs_publicly

    public = signs_publicly(config.instance, config.trust_config)
    started = time.monotonic()
    with _http.deadline(config.timeout):
        try:
            token = obtain_token(env)
        except NoIdentityError as e:
            # The environment only looked like CI or a cloud VM (a laptop with
            # GOOGLE_SERVICE_ACCOUNT_NAME, an agent that cannot issue tokens):
            # like no identity at all, a skip in auto mode.
            return _skip(Skip(str(e)), config, reporter)
    logger.debug("phase token: %.3f s", time.monotonic() - started)
    token.check()
    # A job of a trusted kind whose token comes from an issuer PyPI never trusts (GitHub
    # Enterprise Cloud's per-enterprise issuer): no attestation of it can be accepted.
    untrusted = untrusted_issuer(token.claims, decision.publisher)
    if untrusted is not None:
        return _skip(Skip(untrusted), config, reporter)
    publisher = _publisher_for(token, decision.publisher, reporter)
    refusal = identity_refusal(token, publisher, config, public=public)
    if refusal is not None:
        return _skip(Skip(refusal), config, reporter)
    for predicate in predicates:
        predicate.build(token.claims)  # a predicate this identity cannot make fails here
    if why is not None:
        reporter.display_info(f"Predicate (auto): {why}")
    work = [(dist, predicate) for dist in dists for predicate in predicates]
    return _sign_verify_write(work, config, token, publisher, reporter, jobs=jobs, started=started)


def choose_predicates(
    config: AttestConfig, env: Mapping[str, str]
) -> tuple[list[Predicate], str | None]:
    """The predicates to write, and for ``predicate = "auto"`` one line saying why."""
    from hatch_attest._config import AUTO_PREDICATE
    from hatch_attest._predicates import PREDICATES, auto_predicate

    if config.predicate != (AUTO_PREDICATE,):
        return [PREDICATES[kind] for kind in config.predicate], None
    chosen, reason = auto_predicate(env)
    return [chosen], reason


def _publisher_for(
    token: Token, expected: Publisher | None, reporter: Reporter
) -> Publisher | None:
    """The publisher to verify against: the expected one, checked against the token's claims."""
    if expected is not None:
        # The environment looked like the expected publisher; a token that says
        # otherwise is never used, in any mode.
        mismatch = expected.token_mismatch(token.claims)
        if mismatch is not None:
            msg = f"refusing to sign: {mismatch}"
            raise IdentityError(msg)
        return expected
    named = publisher_from_claims(token.claims)
    if named is not None:
        reporter.display_info(
            "No publisher is configured, and the CI environment names none: verifying "
            f"against {named.describe()}, which the identity token names"
        )
    return named


def _skip(decision: Skip, config: AttestConfig, reporter: Reporter) -> list[Written]:
    if config.mode == "always" and not decision.signed_later:
        raise RefusalError(decision.reason)
    show = reporter.display_warning if decision.warning else reporter.display_info
    show(f"Not attesting: {decision.reason}")
    return []


def _check_before_signing(dists: Sequence[Path], kinds: Sequence[str], *, overwrite: bool) -> None:
    """Everything that can fail on the local disk, checked before any token is requested."""
    problems = [str(e) for e in map(_name_problem, dists) if e is not None]
    if len(problems) == 1:
        msg = f"PyPI would reject this file name, so nothing was signed: {problems[0]}"
        raise DistributionError(msg)
    if problems:
        lines = "\n  ".join(problems)
        msg = f"PyPI would reject these file names, so nothing was signed:\n  {lines}"
        raise DistributionError(msg)
    targets = [files.attestation_path(dist, kind) for dist in dists for kind in kinds]
    for target in targets:
        files.check_writable(target)
    if not overwrite:
        existing = [target for target in targets if target.exists()]
        if existing:
            names = ", ".join(str(p) for p in existing)
            msg = f"attestations already exist: {names}. Pass --overwrite to replace them."
            raise DistributionError(msg)


def _name_problem(dist: Path) -> DistributionError | None:
    try:
        files.check_dist_filename(dist.name)
    except DistributionError as e:
        return e
    return None


def _sign_verify_write(
    work: Sequence[tuple[Path, Predicate]],
    config: AttestConfig,
    token: Token,
    publisher: Publisher | None,
    reporter: Reporter,
    *,
    jobs: int,
    started: float,
) -> list[Written]:
    from hatch_attest import _deadline
    from hatch_attest._signing import AttestationSigner
    from hatch_attest._trust import load_trust_config, verifier_for

    mark = time.monotonic()
    # The trust root (a TUF refresh for production and staging) is the artifact's too.
    with _deadline.deadline(config.timeout - (mark - started), budget=config.timeout):
        trust = load_trust_config(config.instance, config.trust_config)
    verifier = verifier_for(trust)
    logger.debug("phase trust root: %.3f s", time.monotonic() - mark)
    mark = time.monotonic()
    signer = AttestationSigner(
        trust, token, timeout=config.timeout - (time.monotonic() - started), budget=config.timeout
    )
    logger.debug("phase certificate: %.3f s", time.monotonic() - mark)
    if publisher is None:
        reporter.display_warning(
            f"no Trusted Publisher could be determined for {token.source}; the attestation "
            "was verified, but not against the identity PyPI will require"
        )
    # The token and the certificate serve every artifact: what they took counts
    # against each artifact's budget.
    budget = config.timeout - (time.monotonic() - started)
    staged: dict[Path, files.StagedFile] = {}

    def finish(item: Signed) -> None:
        # In the worker, as soon as the log entry is back: verify, then stage the
        # file, overlapping the other artifacts' round trips.
        _verify(item, verifier, publisher, signer.identity)
        staged[item.path] = files.stage_attestation(
            item.dist, item.to_json_bytes(), item.predicate.file_kind
        )

    mark = time.monotonic()
    try:
        results = signer.sign_all(work, jobs=jobs, timeout=budget, check=finish)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            _raise_all(failures)
        signed: list[Signed] = [r for r in results if not isinstance(r, BaseException)]
        logger.debug("phase log entries, verification, staging: %.3f s", time.monotonic() - mark)
        mark = time.monotonic()
        _check_sets(signed, verifier, publisher)
    except BaseException:
        for file in staged.values():
            file.discard()
        raise
    paths = files.commit_attestations(
        [(item.dist, item.sha256, staged[item.path]) for item in signed]
    )
    logger.debug("phase files: %.3f s", time.monotonic() - mark)
    return [
        Written(item.dist, path, signer.identity, item.log_index, item.predicate.kind)
        for item, path in zip(signed, paths, strict=True)
    ]


def _policy(publisher: Publisher | None, identity: str) -> object:
    from sigstore.verify.policy import Identity

    # Without a publisher, still verify signature, log and subject, for the
    # identity the certificate names.
    return Identity(identity=identity) if publisher is None else publisher.to_pypi()


def _verify(item: Signed, verifier: Verifier, publisher: Publisher | None, identity: str) -> None:
    from pypi_attestations import Distribution

    from hatch_attest._verify import verify_attestation

    dist = Distribution(name=item.dist.name, digest=item.sha256)
    try:
        predicate_type, _ = verify_attestation(
            item.attestation,
            dist,
            _policy(publisher, identity),  # type: ignore[arg-type]
            verifier,
        )
        _check_predicate(item, predicate_type)
    except VerificationError as e:
        msg = (
            f"the fresh attestation for {item.dist.name} does not verify, so it was not "
            f"written: {e}"
        )
        raise VerificationError(msg) from e


def _check_predicate(item: Signed, predicate_type: str) -> None:
    """The attestation has the predicate asked for, and only values its certificate certifies."""
    from hatch_attest._predicates import check_attestation

    if predicate_type != item.predicate.predicate_type:
        msg = f"it carries predicate type {predicate_type}, not {item.predicate.predicate_type}"
        raise VerificationError(msg)
    contradiction = check_attestation(item.attestation)
    if contradiction is not None:
        raise VerificationError(contradiction)


def _check_sets(signed: Sequence[Signed], verifier: Verifier, publisher: Publisher | None) -> None:
    """Refuse a run after which a file would carry a set of attestations PyPI rejects.

    Stale files are gone by now; what remains beside a file is a digest-matching
    attestation that is not ours (another kind, another workflow, a copy), which
    twine would upload with ours.
    """
    from hatch_attest._verify import check_attestation_set

    problems: list[str] = []
    by_dist: dict[Path, list[Signed]] = {}
    for item in signed:
        by_dist.setdefault(item.dist, []).append(item)
    for dist, ours in by_dist.items():
        mine = {item.path for item in ours}
        others = [path for path in files.find_attestations(dist) if path not in mine]
        if others:
            policy = _policy(publisher, _identity_of(ours[0]))
            problems += check_attestation_set(
                dist,
                [item.attestation for item in ours],
                others,
                policy,  # type: ignore[arg-type]
                verifier,
            )
    if problems:
        lines = "\n  ".join(problems)
        msg = (
            "PyPI would reject the attestations of these files together with the new ones, "
            f"so nothing was written:\n  {lines}"
        )
        raise VerificationError(msg)


def _identity_of(item: Signed) -> str:
    from hatch_attest._claims import attestation_identity

    return attestation_identity(item.attestation) or ""


def _raise_all(failures: Sequence[BaseException]) -> None:
    first = failures[0]
    if len(failures) == 1:
        raise first
    lines = "\n".join(f"  - {f}" for f in failures)
    msg = f"{len(failures)} distributions could not be signed:\n{lines}"
    raise AttestError(msg) from first
