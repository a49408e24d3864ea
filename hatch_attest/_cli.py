"""The ``hatch-attest`` command line: sign, verify, convert, inspect, demo, rehearse.

``verify pypi:NAME==VERSION`` verifies a release as an index serves it, and
``lock-identities`` / ``audit`` pin and check publisher identities in lock files
(:mod:`hatch_attest._index_verify`, :mod:`hatch_attest._lockfile`).

``sign`` attests artifacts made by any backend (setuptools, maturin,
cibuildwheel, downloaded from other jobs) with the same identity, signing,
verification and file code as the build hook. ``verify`` runs every check PyPI
runs at upload, locally. ``convert`` turns Sigstore bundles (``actions/attest``,
``sigstore attest``, cosign) into PEP 740 attestations. ``inspect`` shows what
an attestation claims, unverified. ``demo`` runs the whole story against a local
Sigstore instance; ``rehearse`` runs the user's own release the same way
(:mod:`hatch_attest._rehearse`).

This module only parses argv, calls the pipeline function of each command
(:func:`hatch_attest._attest.attest`, :func:`hatch_attest._verify.verify_paths`,
:func:`hatch_attest._convert.convert_paths`, :func:`hatch_attest._inspection.inspect_paths`,
:func:`hatch_attest._demo.run_demo`) and displays the result; flags come from the
option table (:mod:`hatch_attest._options`), errors are rendered by
:func:`hatch_attest._messages.error_text`.

Exit status: 0 success, 1 failure (one clear line on stderr; ``-v`` adds the
traceback), 2 misuse: argparse's errors, invalid flag values, an invalid hook
table in ./pyproject.toml, a file named that is not a distribution with nothing
else to sign or verify, or ``verify`` or ``convert`` without a publisher to
verify against.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from hatch_attest import __version__
from hatch_attest._attest import StderrReporter
from hatch_attest._config import (
    HOOK_TABLE,
    TIMEOUT_EXPECTED,
    WRAPPER_TABLE,
    AttestConfig,
    Pyproject,
    read_pyproject,
    timeout_from_text,
)
from hatch_attest._kinds import (
    Publisher,
    inferring_jobs,
    parse_publisher_spec,
    spec_forms,
    step_summary,
)
from hatch_attest._messages import INSTALL_CLI, PROG, error_text, traceback_text
from hatch_attest._options import BY_KEY, OPTIONS, Option
from hatch_attest._redact import redact
from hatch_attest.errors import BundleError, ConfigError

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
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        if args.verbose:
            print(traceback_text(e), end="", file=sys.stderr)
        print(error_text(e, door="cli"), file=sys.stderr)
        # A bad flag value or configuration is misuse, like an argparse error.
        return 2 if isinstance(e, ConfigError) else 1
    return status


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


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
        description=_paragraphs(
            "Sign Python distributions with Sigstore (PEP 740) and check them the way PyPI will.",
            f"Builds attest without this command: the hatchling build hook [{HOOK_TABLE}], "
            "or, for any other build backend, the PEP 517 wrapper build-backend = "
            f'"hatch_attest.backend" with [{WRAPPER_TABLE}]. `sign` attests what was built '
            "some other way.",
        ),
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
            f"The {_keys(o for o in OPTIONS if o.key != 'mode')} of [{HOOK_TABLE}] (or "
            f"[{WRAPPER_TABLE}]) in ./pyproject.toml apply "
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
    # The table's `mode` says when a *build* attests; `sign` is asked to.
    _add_option(sign, BY_KEY["mode"], table=False, default="always")
    sign.add_argument(
        "--jobs",
        type=_positive_int,
        default=DEFAULT_JOBS,
        metavar="N",
        help="concurrent Rekor submissions (default: %(default)s)",
    )
    _add_option(sign, BY_KEY["timeout"])
    _add_option(sign, BY_KEY["predicate"])
    sign.add_argument("--overwrite", action="store_true", help="replace existing attestations")
    _add_option(sign, BY_KEY["allow-private-repository"], default="false")
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
            f"own ({inferring_jobs()}). Prints one verdict per distribution; exits 1 if PyPI, or "
            "`twine upload --attestations`, would refuse any of them.",
            "With pypi:NAME==VERSION, verify a release as the index (--index) serves it: "
            "its files from the JSON API, each file's provenance from the Integrity API, "
            "every attestation against the file's name and sha256 and its bundle's "
            "publisher (and --publisher, if given). One line per file; exits 0 only when "
            "every file verifies, 1 when one has no provenance or fails, or the index fails.",
        ),
        epilog=_paragraphs(EXIT_STATUS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="distribution files, directories (their wheels and sdists) or globs; or "
        "pypi:NAME==VERSION to verify a release as the index serves it",
    )
    _add_trust_options(verify)
    verify.add_argument(
        "--offline",
        action="store_true",
        help="with production or staging: use the cached TUF trust root, no refresh",
    )
    _add_index_options(verify)
    verify.set_defaults(func=_cmd_verify)

    for name, summary, text in (
        (
            "lock-identities",
            "pin each package's publisher identities in a pylock.toml",
            "Fill each package's `attestation-identities` (PEP 751) in a pylock.toml "
            "from the provenance the index serves, for every package whose files all "
            "verify; only those keys change (formatting and comments are kept). Other "
            "packages stay unchanged, with one line each. Exit status: 0 when no "
            "package failed (packages without provenance are left as they are), 1 when "
            "a package's provenance does not verify or the index cannot be read, 2 misuse.",
        ),
        (
            "audit",
            "check every locked file's hash, provenance and publisher against the index",
            "Check every file of a pylock.toml, uv.lock or hashed requirements.txt "
            "against the index: its hash is the locked one, its provenance verifies, and "
            "its publisher is one of the package's `attestation-identities`. Fails on a "
            "changed publisher, provenance that disappeared where identities are pinned, "
            "and provenance that does not verify; packages without pinned identities are "
            "reported, not failed, unless --require-identities (uv.lock and "
            "requirements.txt cannot pin them: reported only). Exit status: 0 no "
            "problem, 1 a problem, 2 misuse.",
        ),
    ):
        command = commands.add_parser(
            name,
            parents=[common],
            help=summary,
            description=_paragraphs(text),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_argument("lock", type=Path, metavar="LOCKFILE", help="the lock file")
        _add_trust_options(command, publisher=False)
        command.add_argument(
            "--offline",
            action="store_true",
            help="with production or staging: use the cached TUF trust root, no refresh",
        )
        _add_index_options(command)
        if name == "audit":
            command.add_argument(
                "--require-identities",
                action="store_true",
                help="fail for pylock packages without pinned attestation-identities",
            )
        command.set_defaults(func=_cmd_lock, action=name, publisher=None)

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

    _add_rehearse_parser(commands, common)
    return parser


def _add_rehearse_parser(commands: Any, common: argparse.ArgumentParser) -> None:
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


def _paragraphs(*texts: str) -> str:
    """Wrap each paragraph on its own (argparse would merge them into one)."""
    return "\n\n".join(textwrap.fill(text, _HELP_WIDTH, break_on_hyphens=False) for text in texts)


def _add_index_options(parser: argparse.ArgumentParser) -> None:
    # Standard library and packaging only at import: parsing stays cheap.
    from hatch_attest._index_verify import DEFAULT_INDEX, DEFAULT_JOBS, DEFAULT_TIMEOUT

    parser.add_argument(
        "--index",
        default=DEFAULT_INDEX,
        metavar="URL",
        help="the index's root URL, serving the JSON and Integrity APIs (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=_timeout,
        metavar="SECONDS",
        help="network time budget for all index requests, retries included (default: "
        f"HATCH_ATTEST_TIMEOUT, else `timeout` in pyproject.toml, else {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--jobs",
        type=_positive_int,
        default=DEFAULT_JOBS,
        metavar="N",
        help="concurrent requests to the index (default: %(default)s)",
    )


def _keys(options: Iterable[Option]) -> str:
    names = [f"`{option.key}`" for option in options]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _add_trust_options(parser: argparse.ArgumentParser, *, publisher: bool = True) -> None:
    if publisher:
        _add_option(parser, BY_KEY["publisher"])
    # A trust config already names its Sigstore instance.
    which = parser.add_mutually_exclusive_group()
    _add_option(which, BY_KEY["instance"])
    _add_option(which, BY_KEY["trust-config"])


def _add_option(
    parser: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup,
    option: Option,
    *,
    table: bool = True,
    default: str | None = None,
) -> None:
    """The flag of ``option``, as the option table declares it."""
    assert option.flag is not None, option.key  # noqa: S101 - a fact of the option table
    # The spec forms are the publisher kinds' own.
    more = f": {spec_forms()}" if option.form == "publisher" else ""
    help_text = option.flag_help(table=table, default=default, more=more)
    if option.form == "flag":
        parser.add_argument(option.flag, dest=option.dest, action="store_true", help=help_text)
        return
    converters: dict[str, Callable[[str], Any]] = {
        "seconds": _timeout,
        "path": Path,
        "publisher": _publisher,
    }
    parser.add_argument(
        option.flag,
        dest=option.dest,
        choices=option.choices or None,
        type=converters.get(option.form, str),
        metavar=option.metavar,
        help=help_text.replace("%", "%%"),
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
        option.key: (option.flag, getattr(args, option.dest, None) or None)
        for option in OPTIONS
        if option.flag is not None
    }
    config = project.config(
        os.environ,
        defaults={"mode": "always"} if sign else None,
        flags={key: flag for key, flag in given.items() if flag[1] is not None},
    )
    logger.debug("configuration: %s", config)
    return config, project


def _cmd_sign(args: argparse.Namespace) -> int:
    from hatch_attest._attest import append_step_summary, attest, render_table
    from hatch_attest._discovery import distributions

    reporter = StderrReporter(PROG)
    config, project = _config(args, sign=True)
    dists = distributions(args.paths, reporter, verb="sign")
    logger.debug("signing %d distribution(s), %d at a time", len(dists), args.jobs)
    written = attest(
        dists,
        config,
        os.environ,
        reporter,
        jobs=args.jobs,
        project_urls=project.project_urls,
        overwrite=args.overwrite,
        install=INSTALL_CLI,
    )
    if not written:
        return 0
    print(render_table(written))
    summary = step_summary(os.environ)
    if summary is not None:
        append_step_summary(summary, written, reporter)
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from hatch_attest._verify import verify_paths

    if any(path.startswith("pypi:") for path in args.paths):
        return _cmd_verify_index(args)
    reporter = StderrReporter(PROG)
    config, project = _config(args)
    result = verify_paths(
        args.paths,
        config,
        os.environ,
        reporter,
        table_name=project.table_name,
        offline=args.offline,
        on_report=lambda report: print(report.render()),
    )
    for line in result.summary():
        reporter.display_info(line)
    return 0 if result.ok else 1


def _cmd_verify_index(args: argparse.Namespace) -> int:
    from hatch_attest._index_verify import (
        identity_of,
        load_verifier,
        parse_release_spec,
        verify_release_command,
    )

    if len(args.paths) != 1:
        msg = "verify pypi:NAME==VERSION takes one release, and no files beside it"
        raise ConfigError([msg])
    try:
        parse_release_spec(args.paths[0])
    except ValueError as e:
        raise ConfigError([str(e)]) from None
    config, _ = _config(args)
    reporter = StderrReporter(PROG)
    return verify_release_command(
        args.paths[0],
        verifier=load_verifier(config.instance, config.trust_config, offline=args.offline),
        index=args.index,
        expected=None if args.publisher is None else identity_of(args.publisher.to_pypi()),
        timeout=config.timeout,
        jobs=args.jobs,
        info=reporter.display_info,
    )


def _cmd_lock(args: argparse.Namespace) -> int:
    from hatch_attest._index_verify import load_verifier
    from hatch_attest._lockfile import lock_command

    config, _ = _config(args)
    reporter = StderrReporter(PROG)
    return lock_command(
        args.lock,
        action=args.action,
        verifier=load_verifier(config.instance, config.trust_config, offline=args.offline),
        index=args.index,
        timeout=config.timeout,
        jobs=args.jobs,
        require_identities=getattr(args, "require_identities", False),
        info=reporter.display_info,
    )


def _cmd_convert(args: argparse.Namespace) -> int:
    from hatch_attest._convert import convert_paths

    reporter = StderrReporter(PROG)
    config, project = _config(args)
    try:
        converted = convert_paths(
            args.bundles,
            config,
            os.environ,
            reporter,
            table_name=project.table_name,
            output=args.output,
            output_dir=args.output_dir,
            overwrite=args.overwrite,
            offline=args.offline,
        )
    except BundleError as e:
        print(error_text(e, door="cli"), file=sys.stderr)
        if len(args.bundles) > 1:
            reporter.display_info("no attestation was written (all or nothing)")
        return 1
    for item in converted:
        print(item.render())
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from hatch_attest._inspection import inspect_paths, render_text

    result = inspect_paths(args.paths, StderrReporter(PROG))
    for problem in result.problems:
        print(error_text(problem, door="cli"), file=sys.stderr)
    if args.json:
        print(json.dumps([i.to_json_dict() for i in result.infos], indent=2))
    elif result.infos:
        print("\n".join(render_text(i) for i in result.infos), end="")
    return 1 if result.problems else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from hatch_attest._demo import run_demo

    return run_demo(keep=args.keep)


def _cmd_rehearse(args: argparse.Namespace) -> int:
    from hatch_attest import _rehearse as rehearse

    plan = rehearse.plan(args.project, workflow=args.workflow, frontend=args.frontend)
    for line in rehearse.header(plan):
        print(line, flush=True)
    # Build output is shown in part: redacted, like every line a command prints.
    result = rehearse.rehearse(plan, say=lambda line: print(redact(line), flush=True))
    for line in rehearse.summary(result):
        print(redact(line), flush=True)
    return result.status
