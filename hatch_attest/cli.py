"""The ``hatch-attest`` command line: sign, verify, convert, inspect, demo, rehearse.

``sign`` attests artifacts made by any backend (setuptools, maturin,
cibuildwheel, downloaded from other jobs) with the same identity, signing,
verification and file code as the build hook. ``verify`` runs every check PyPI
runs at upload, locally. ``convert`` turns Sigstore bundles (``actions/attest``,
``sigstore attest``, cosign) into PEP 740 attestations. ``inspect`` shows what
an attestation claims, unverified. ``demo`` runs the whole story against a local
Sigstore instance; ``rehearse`` runs the user's own release the same way
(:mod:`hatch_attest.rehearse`).

Exit status: 0 success, 1 failure (one clear line on stderr; ``-v`` adds the
traceback), 2 misuse: argparse's errors, invalid flag values, an invalid hook
table in ./pyproject.toml, or ``verify`` or ``convert`` without a publisher to
verify against.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import logging
import os
import re
import sys
import textwrap
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path

from hatch_attest import __version__, files
from hatch_attest.attest import Reporter, StderrReporter
from hatch_attest.config import (
    DEFAULT_TIMEOUT,
    HOOK_TABLE,
    TIMEOUT_EXPECTED,
    WRAPPER_TABLE,
    AttestConfig,
    Pyproject,
    read_pyproject,
    timeout_from_text,
)
from hatch_attest.errors import AttestError, BundleError, ConfigError, DistributionError
from hatch_attest.publisher import Publisher, parse_publisher_spec, publisher_from_environment
from hatch_attest.redact import redact

PROG = "hatch-attest"
DEFAULT_JOBS = 32
EXIT_STATUS = (
    "Exit status: 0 success, 1 failure (one line on stderr; -v adds the traceback), "
    "2 misuse or invalid configuration."
)
_HELP_WIDTH = 79
# What -v shows: our own debug logs and sigstore's (neither ever logs a token).
_LOGGERS = ("hatch_attest", "sigstore")

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Never raises for a user's mistake: misuse (argparse) returns 2 after printing
    the usage, ``--help`` and ``--version`` return 0.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        # argparse exits for --help, --version and misuse; report that as a status.
        return e.code if isinstance(e.code, int) else 2
    with _debug_logging(enabled=args.verbose):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        status: int = args.func(args)
    except ConfigError as e:
        # A bad flag value or configuration is misuse, like an argparse error.
        if args.verbose:
            _traceback()
        for line in e.errors:
            _error(line)
        return 2
    except (AttestError, OSError) as e:
        # OSError: a file or folder that cannot be read or written, said in one line.
        if args.verbose:
            _traceback()
        _error(str(e))
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return status


def _traceback() -> None:
    # A chained library error may hold a server's text (sigstore's FulcioClientError
    # carries Fulcio's error message), so even -v shows it only redacted.
    print(redact(traceback.format_exc()), end="", file=sys.stderr)


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _error(message: str) -> None:
    # Last line of defence: messages quote servers and libraries.
    print(f"{PROG}: error: {redact(message)}", file=sys.stderr)


@contextlib.contextmanager
def _debug_logging(*, enabled: bool) -> Iterator[None]:
    """With ``-v``, our own and sigstore's debug logs go to stderr (never the root logger)."""
    if not enabled:
        yield
        return
    handler = logging.StreamHandler()
    handler.setFormatter(_RedactingFormatter("%(name)s: %(message)s"))
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        # main() may run more than once in a process (tests, the demo).
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Sign Python distributions with Sigstore (PEP 740) and check them "
        "the way PyPI will.",
        epilog=_paragraphs(EXIT_STATUS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show debug logs and tracebacks"
    )
    # `-v` also after the command (`hatch-attest sign -v dist/`); SUPPRESS keeps the
    # subcommand from resetting a `-v` given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show debug logs and tracebacks",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    sign = commands.add_parser(
        "sign",
        parents=[common],
        help="attest wheels and sdists with the CI job's identity",
        description=_paragraphs(
            "Attest wheels and sdists built by any backend (setuptools, maturin, "
            "cibuildwheel, ...) with the identity of this CI job, and verify each "
            "attestation as PyPI will before writing it next to its file. One identity "
            "token and one signing certificate serve the whole run; Rekor entries are "
            "made concurrently. All or nothing: if one artifact fails, no attestation "
            "from this run is left.",
            "The `publisher`, `instance`, `trust-config`, `timeout`, `predicate` and "
            f"`allow-private-repository` of [{HOOK_TABLE}] (or [{WRAPPER_TABLE}]) in "
            "./pyproject.toml apply "
            "(without a `publisher`, only a job that provably is the repository "
            "[project.urls] names signs); the environment (HATCH_ATTEST_*) "
            "overrides the table, and flags override both. The table's `mode` is the "
            "build hook's and does not apply here.",
        ),
        epilog=_paragraphs(EXIT_STATUS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sign.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="distribution files, directories (their wheels and sdists) or globs",
    )
    _add_trust_options(sign)
    sign.add_argument(
        "--mode",
        choices=("auto", "always", "never"),
        help="auto: without an identity, skip (exit 0); always: fail without one; "
        "never: do nothing (default: HATCH_ATTEST_MODE, else always)",
    )
    sign.add_argument(
        "--jobs",
        type=_positive_int,
        default=DEFAULT_JOBS,
        metavar="N",
        help="concurrent Rekor submissions (default: %(default)s)",
    )
    sign.add_argument(
        "--timeout",
        type=_timeout,
        metavar="SECONDS",
        help=f"network time budget per artifact, retries included (default: "
        f"HATCH_ATTEST_TIMEOUT, else {DEFAULT_TIMEOUT:g})",
    )
    sign.add_argument(
        "--predicate",
        choices=("auto", "publish", "slsa-provenance", "both"),
        help="which attestations to write: publish (<dist>.publish.attestation), "
        "slsa-provenance (<dist>.slsa.attestation), both, or auto: SLSA provenance when "
        "this job's workflow publishes with pypa/gh-action-pypi-publish, else publish "
        "(default: HATCH_ATTEST_PREDICATE, else `predicate` in pyproject.toml, else auto)",
    )
    sign.add_argument("--overwrite", action="store_true", help="replace existing attestations")
    sign.add_argument(
        "--allow-private-repository",
        action="store_true",
        help="sign a repository that is not provably public on the public-good Sigstore "
        "instance (publishes its name)",
    )
    sign.set_defaults(func=_cmd_sign)

    verify = commands.add_parser(
        "verify",
        parents=[common],
        help="run PyPI's upload checks on distributions and their attestations",
        description=_paragraphs(
            "Check each distribution and its attestations as PyPI does at upload (file "
            "name, at most two attestations, predicate types, subject name and digest, "
            "signature and transparency log, Trusted Publisher identity) and as "
            "`twine upload --attestations` does (an attestation exists and is JSON).",
            "Without --publisher, the publisher is the `publisher` of "
            f"[{HOOK_TABLE}] (or [{WRAPPER_TABLE}]) in ./pyproject.toml, else the CI job's "
            "own (GitHub Actions "
            "or GitLab CI). Prints one verdict per distribution; exits 1 if PyPI would "
            "reject any of them.",
        ),
        epilog=_paragraphs(EXIT_STATUS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="distribution files, directories (their wheels and sdists) or globs",
    )
    _add_trust_options(verify)
    verify.add_argument(
        "--offline",
        action="store_true",
        help="with production or staging: use the cached TUF trust root, no refresh",
    )
    verify.set_defaults(func=_cmd_verify)

    convert = commands.add_parser(
        "convert",
        parents=[common],
        help="turn Sigstore bundles (actions/attest, sigstore attest, cosign) into PEP 740 "
        "attestations",
        description=_paragraphs(
            "Convert Sigstore bundles (JSON v0.1 to v0.3, as `actions/attest`, `sigstore "
            "attest` and `cosign attest-blob --new-bundle-format` write) into PEP 740 "
            "attestations named <subject>.<publish|slsa>.attestation, next to each bundle "
            "by default. Each one is verified as `verify` does, against the distribution "
            "file beside it if there is one. Refused: several subjects, a predicate type "
            "PyPI does not accept, message signatures, and bundles without a Rekor v1 "
            "entry. All or nothing: if one bundle fails, nothing is written.",
            "The publisher and trust options work as for `verify`.",
        ),
        epilog=_paragraphs(EXIT_STATUS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    convert.add_argument("bundles", nargs="+", type=Path, metavar="BUNDLE", help="bundle files")
    where = convert.add_mutually_exclusive_group()
    where.add_argument(
        "--output", type=Path, metavar="FILE", help="write the attestation to FILE (one bundle)"
    )
    where.add_argument(
        "--output-dir", type=Path, metavar="DIR", help="write the attestations into DIR"
    )
    convert.add_argument(
        "--overwrite", action="store_true", help="replace existing attestation files"
    )
    _add_trust_options(convert)
    convert.add_argument(
        "--offline",
        action="store_true",
        help="with production or staging: use the cached TUF trust root, no refresh",
    )
    convert.set_defaults(func=_cmd_convert)

    inspect = commands.add_parser(
        "inspect",
        parents=[common],
        help="show what attestations claim (UNVERIFIED)",
        description=_paragraphs(
            "Show the subject, predicate type, signer claims and Rekor log entry of "
            "attestation files, as written in them. Nothing is verified: use `verify` "
            "for that."
        ),
        epilog=_paragraphs(EXIT_STATUS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inspect.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="attestation files, distributions (their attestations) or directories",
    )
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    inspect.set_defaults(func=_cmd_inspect)

    demo = commands.add_parser(
        "demo",
        parents=[common],
        help="build an example project in an emulated CI job and verify its attestations",
        description=_paragraphs(
            "Start a local Sigstore stand-in on 127.0.0.1 (NOT the public instance), build "
            "examples/github-actions with `python -m build` in an emulated GitHub Actions "
            "job with the attest hook, and verify the result with `hatch-attest verify`. "
            "Nothing leaves this machine."
        ),
        epilog=_paragraphs(EXIT_STATUS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--keep", type=Path, metavar="DIR", help="build in DIR and keep it")
    demo.set_defaults(func=_cmd_demo)

    rehearse = commands.add_parser(
        "rehearse",
        parents=[common],
        help="run your project's release offline: build, sign, upload to a local index",
        description=_paragraphs(
            "Rehearse the release of the project in the current directory (or --project), "
            "offline, before the tag: read its Trusted Publisher and its workflows, build a "
            "copy with the release's frontend (without build isolation, with this "
            "environment's packages) in an emulated job of the workflow that builds, sign "
            "with a LOCAL Sigstore stand-in, and upload the way the workflow uploads, over "
            "Trusted Publishing, to a LOCAL index that applies PyPI's rules. Says per file "
            "what PyPI would do. Nothing leaves this machine; the project's tree is not "
            "written to.",
        ),
        epilog=_paragraphs(
            "Exit status: 0 only when every file would be accepted WITH attestations; 1 when "
            "a file would be rejected or uploaded without attestations, the build fails, the "
            "workflows have a layout problem, or the publisher cannot be determined; 2 "
            "misuse, or what the offline build needs is not installed here."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rehearse.add_argument(
        "--project", type=Path, default=Path(), metavar="DIR", help="the project (default: .)"
    )
    rehearse.add_argument(
        "--workflow",
        metavar="FILE",
        help="the workflow file (GitHub) or CI configuration path (GitLab) whose build to "
        "rehearse (default: read from the workflows)",
    )
    rehearse.add_argument(
        "--frontend",
        choices=("uv", "build", "hatch"),
        help="build with this frontend (default: the one the workflow runs)",
    )
    rehearse.set_defaults(func=_cmd_rehearse)
    return parser


def _paragraphs(*texts: str) -> str:
    """Wrap each paragraph on its own (argparse would merge them into one)."""
    return "\n\n".join(textwrap.fill(text, _HELP_WIDTH, break_on_hyphens=False) for text in texts)


def _add_trust_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--publisher",
        type=_publisher,
        metavar="SPEC",
        help="the Trusted Publisher PyPI knows: github:OWNER/REPO@WORKFLOW.yml, "
        "gitlab:NAMESPACE/PROJECT@PATH/TO/.gitlab-ci.yml or google:EMAIL",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--instance",
        choices=("production", "staging"),
        help="public Sigstore instance (default: production)",
    )
    which.add_argument(
        "--trust-config",
        type=Path,
        metavar="FILE",
        help="sigstore ClientTrustConfig JSON of a private instance "
        "(default: HATCH_ATTEST_TRUST_CONFIG)",
    )


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        msg = f"must be a whole number, not {value!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if number < 1:
        msg = f"must be at least 1, not {number}"
        raise argparse.ArgumentTypeError(msg)
    return number


def _timeout(value: str) -> float:
    seconds = timeout_from_text(value)
    if seconds is None:
        msg = f"{TIMEOUT_EXPECTED}, not {value!r}"
        raise argparse.ArgumentTypeError(msg)
    return seconds


def _publisher(value: str) -> Publisher:
    try:
        return parse_publisher_spec(value)
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _config(args: argparse.Namespace, *, sign: bool = False) -> tuple[AttestConfig, Pyproject]:
    """The table of ./pyproject.toml, overridden by the environment, overridden by flags.

    ``sign`` replaces the table's ``mode`` (the build's, which says when a *build*
    attests) by ``always``; the environment and ``--mode`` still override it.
    """
    project = read_pyproject(Path.cwd())
    given = {
        "mode": ("--mode", getattr(args, "mode", None)),
        "timeout": ("--timeout", getattr(args, "timeout", None)),
        "allow-private-repository": (
            "--allow-private-repository",
            getattr(args, "allow_private_repository", False) or None,
        ),
        "instance": ("--instance", args.instance),
        "trust-config": ("--trust-config", args.trust_config),
        "publisher": ("--publisher", args.publisher),
        "predicate": ("--predicate", getattr(args, "predicate", None)),
    }
    config = project.config(
        os.environ,
        defaults={"mode": "always"} if sign else None,
        flags={option: flag for option, flag in given.items() if flag[1] is not None},
    )
    logger.debug("configuration: %s", config)
    return config, project


def _files_named_by(item: str) -> list[Path]:
    """The files one PATH argument names: itself, a directory's files, or a glob's matches."""
    matches = [item]
    if any(char in item for char in "*?[") and not Path(item).exists():
        matches = sorted(glob.glob(item))
        if not matches:
            msg = f"{item}: no such file (the pattern matched nothing)"
            raise DistributionError(msg)
    named: list[Path] = []
    for match in matches:
        path = Path(match)
        if path.is_dir():
            named.extend(sorted(p for p in path.iterdir() if p.is_file()))
        elif path.is_file():
            named.append(path)
        else:
            msg = f"{path}: no such file or directory"
            raise DistributionError(msg)
    return named


def expand_paths(raw: Sequence[str], reporter: Reporter) -> list[Path]:
    """Files, directories (their wheels and sdists) and globs, as distributions.

    Other files are skipped with a note (attestations and hidden files silently).
    Paths are returned as given, without duplicates.
    """
    found: dict[Path, Path] = {}  # resolved -> as given
    for item in raw:
        for path in _files_named_by(item):
            if files.is_distribution(path):
                found.setdefault(path.resolve(), path)
            elif not path.name.endswith(files.ATTESTATION_SUFFIX) and not path.name.startswith("."):
                reporter.display_info(f"skipping {path}: not a wheel or sdist")
    return list(found.values())


def _cmd_sign(args: argparse.Namespace) -> int:
    from hatch_attest.attest import attest

    reporter = StderrReporter(PROG)
    config, project = _config(args, sign=True)
    dists = expand_paths(args.paths, reporter)
    if not dists:
        msg = "no wheels or sdists to sign in " + " ".join(args.paths)
        raise DistributionError(msg)
    logger.debug("signing %d distribution(s), %d at a time", len(dists), args.jobs)
    written = attest(
        dists,
        config,
        os.environ,
        reporter,
        jobs=args.jobs,
        project_urls=project.project_urls,
        overwrite=args.overwrite,
    )
    if not written:
        return 0
    rows = [(w.dist.name, w.identity, str(w.log_index)) for w in written]
    print(_table(("artifact", "identity", "Rekor log index"), rows))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        _append_step_summary(Path(summary), rows, reporter)
    return 0


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _append_step_summary(path: Path, rows: Sequence[tuple[str, ...]], reporter: Reporter) -> None:
    lines = [
        "### PEP 740 attestations",
        "",
        "| artifact | identity | Rekor log index |",
        "| --- | --- | --- |",
        *(f"| {_code_cell(a)} | {_code_cell(i)} | {n} |" for a, i, n in rows),
        "",
    ]
    try:
        with path.open("a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    except OSError as e:
        # The attestations are written; a missing summary must not fail the job.
        reporter.display_warning(
            f"cannot append to GITHUB_STEP_SUMMARY ({path}): {e.strerror or e}"
        )


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


def _verify_publisher(config: AttestConfig, project: Pyproject) -> Publisher:
    if config.publisher is not None:
        return config.publisher
    inferred = publisher_from_environment(os.environ)
    if inferred is not None:
        from hatch_attest.kinds.github_workflow import publisher_doubt

        # PyPI checks the workflow that uploads, which need not be this job's.
        doubt = publisher_doubt(os.environ)
        if doubt is None:
            return inferred
        raise ConfigError([doubt])
    msg = (
        "no Trusted Publisher to verify against: pass --publisher "
        "github:OWNER/REPO@WORKFLOW.yml, gitlab:NAMESPACE/PROJECT@PATH/TO/.gitlab-ci.yml or "
        f"google:EMAIL, or set `publisher` in [{project.table_name}] of ./pyproject.toml, "
        "or run in the GitHub Actions or GitLab CI job that publishes"
    )
    raise ConfigError([msg])


def _cmd_verify(args: argparse.Namespace) -> int:
    from hatch_attest.trust import load_trust_config, verifier_for
    from hatch_attest.verify import check_distribution

    reporter = StderrReporter(PROG)
    config, project = _config(args)
    publisher = _verify_publisher(config, project)
    # A name PyPI rejects is one of the findings, reported with the rest.
    dists = expand_paths(args.paths, reporter)
    if not dists:
        msg = "no wheels or sdists to verify in " + " ".join(args.paths)
        raise DistributionError(msg)
    trust = load_trust_config(config.instance, config.trust_config, offline=args.offline)
    verifier = verifier_for(trust)
    policy = publisher.to_pypi()
    reporter.display_info(f"Verifying against {publisher.describe()}")
    failed = warned = 0
    for dist in dists:
        report = check_distribution(dist, policy, verifier)
        print(report.render())
        failed += not report.ok
        warned += len(report.warnings)
    # Warnings never change the verdict: it is PyPI's.
    also = f" ({_count(warned, 'warning')})" if warned else ""
    if failed:
        reporter.display_info(
            f"{failed} of {_count(len(dists), 'distribution')} would be rejected by PyPI{also}"
        )
        return 1
    every = "the distribution passes" if len(dists) == 1 else f"all {len(dists)} distributions pass"
    reporter.display_info(f"{every} PyPI's attestation checks{also}")
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    from hatch_attest.convert import convert_bundles
    from hatch_attest.trust import load_trust_config, verifier_for

    reporter = StderrReporter(PROG)
    if args.output is not None and len(args.bundles) > 1:
        msg = (
            f"--output names one file, but {len(args.bundles)} bundles were given; "
            "use --output-dir DIR for several"
        )
        raise ConfigError([msg])
    config, project = _config(args)
    publisher = _verify_publisher(config, project)
    trust = load_trust_config(config.instance, config.trust_config, offline=args.offline)
    reporter.display_info(f"Verifying against {publisher.describe()}")
    try:
        converted = convert_bundles(
            args.bundles,
            verifier=verifier_for(trust),
            publisher=publisher.to_pypi(),
            output=args.output,
            output_dir=args.output_dir,
            overwrite=args.overwrite,
        )
    except BundleError as e:
        for problem in e.problems:
            _error(problem)
        if len(args.bundles) > 1:
            reporter.display_info("no attestation was written (all or nothing)")
        return 1
    for item in converted:
        print(item.render())
        if not item.uploadable:
            reporter.display_warning(
                f"twine and uv publish upload {item.path.name} only if it is named "
                f"{item.subject}.{item.kind}.attestation, next to {item.subject}"
            )
    return 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _cmd_inspect(args: argparse.Namespace) -> int:
    from hatch_attest.inspection import AttestationInfo, describe, render_text

    reporter = StderrReporter(PROG)
    targets: list[Path] = []
    problems = 0
    for item in args.paths:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.name.endswith(files.ATTESTATION_SUFFIX))
            if not found:
                reporter.display_info(f"{path}: no attestation files in this directory")
            targets.extend(found)
        elif files.is_distribution(path) and path.is_file():
            found = files.find_attestations(path)
            if not found:
                reporter.display_info(f"{path}: no attestation next to it")
            targets.extend(found)
        else:
            targets.append(path)
    if not targets:
        msg = "no attestation files found in " + " ".join(args.paths)
        raise DistributionError(msg)
    infos: list[AttestationInfo] = []
    for target in targets:
        try:
            infos.append(describe(target))
        except AttestError as e:
            # Show what can be shown; the bad files make the exit status 1.
            _error(str(e))
            problems += 1
    if args.json:
        print(json.dumps([i.to_json_dict() for i in infos], indent=2))
    elif infos:
        print("\n".join(render_text(i) for i in infos), end="")
    return 1 if problems else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from hatch_attest.demo import run_demo

    return run_demo(keep=args.keep)


def _cmd_rehearse(args: argparse.Namespace) -> int:
    from hatch_attest import rehearse

    plan = rehearse.plan(args.project, workflow=args.workflow, frontend=args.frontend)
    for line in rehearse.header(plan):
        print(line, flush=True)
    # Build output is shown in part: redacted, like every line a command prints.
    result = rehearse.rehearse(plan, say=lambda line: print(redact(line), flush=True))
    for line in rehearse.summary(result):
        print(redact(line), flush=True)
    return result.status
