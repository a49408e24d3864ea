"""The ``hatch-attest`` command line: sign, verify, inspect, demo.

``sign`` attests artifacts made by any backend (setuptools, maturin,
cibuildwheel, downloaded from other jobs) with the same identity, signing,
verification and file code as the build hook. ``verify`` runs every check PyPI
runs at upload, locally. ``inspect`` shows what an attestation claims,
unverified. ``demo`` runs the whole story against a local Sigstore instance.

Exit status: 0 success, 1 failure (one clear line on stderr; ``-v`` adds the
traceback), 2 misuse.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import logging
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


from hatch_attest import __version__, files
from hatch_attest.config import AttestConfig, load_config
from hatch_attest.errors import AttestError, ConfigError, DistributionError
from hatch_attest.publisher import (
    ExpectedPublisher,
    parse_publisher_spec,
    publisher_from_environment,
)

PROG = "hatch-attest"
HOOK_TABLE = "tool.hatch.build.hooks.attest"
DEFAULT_JOBS = 8


class _Reporter:
    """Progress and notes go to stderr, so stdout stays the result."""

    def display_info(self, message: str) -> None:
        print(message, file=sys.stderr)

    def display_warning(self, message: str) -> None:
        print(f"warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.verbose:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger = logging.getLogger("hatch_attest")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        status: int = args.func(args)
    except ConfigError as e:
        if args.verbose:
            traceback.print_exc()
        for line in e.errors:
            print(f"{PROG}: error: {line}", file=sys.stderr)
        return 2
    except AttestError as e:
        if args.verbose:
            traceback.print_exc()
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Sign Python distributions with Sigstore (PEP 740) and check them "
        "the way PyPI will.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show debug logs and tracebacks"
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    sign = commands.add_parser(
        "sign",
        help="attest wheels and sdists with the CI job's identity",
        description="Attest wheels and sdists built by any backend. One identity token and "
        "one signing certificate serve the whole run; Rekor entries are made concurrently. "
        "All or nothing: if one artifact fails, no attestation from this run is left.",
    )
    sign.add_argument("paths", nargs="+", metavar="PATH", help="files, directories or globs")
    _add_trust_options(sign)
    sign.add_argument(
        "--mode",
        choices=("auto", "always", "never"),
        help="auto: skip without an identity; always: fail without one (default: always, "
        "or HATCH_ATTEST_MODE)",
    )
    sign.add_argument(
        "--jobs",
        type=_positive_int,
        default=DEFAULT_JOBS,
        help="parallel Rekor submissions (default: %(default)s)",
    )
    sign.add_argument(
        "--timeout", type=float, help="network budget per artifact, seconds (default 120)"
    )
    sign.add_argument("--overwrite", action="store_true", help="replace existing attestations")
    sign.add_argument(
        "--allow-private-repository",
        action="store_true",
        help="sign a private repository on a public Sigstore instance (publishes its name)",
    )
    sign.set_defaults(func=_cmd_sign)

    verify = commands.add_parser(
        "verify",
        help="run PyPI's upload checks on distributions and their attestations",
        description="Check each distribution and its attestations exactly as PyPI does at "
        "upload (count, predicate types, subject, signature, transparency log, Trusted "
        "Publisher identity) and as `twine upload --attestations` does.",
    )
    verify.add_argument("paths", nargs="+", metavar="PATH", help="files, directories or globs")
    _add_trust_options(verify)
    verify.add_argument(
        "--offline",
        action="store_true",
        help="production/staging: use the cached TUF trust root, no refresh",
    )
    verify.set_defaults(func=_cmd_verify)

    inspect = commands.add_parser(
        "inspect",
        help="show what attestations claim (UNVERIFIED)",
        description="Show the subject, predicate and signer claims of attestation files "
        "(or of the attestations of distributions). Nothing is verified.",
    )
    inspect.add_argument("paths", nargs="+", metavar="PATH")
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    inspect.set_defaults(func=_cmd_inspect)

    demo = commands.add_parser(
        "demo",
        help="build an example project in an emulated CI job and verify its attestations",
        description="Start a local Sigstore stand-in (NOT the public instance), build "
        "examples/github-actions in an emulated GitHub Actions job with the attest hook, "
        "and verify the result.",
    )
    demo.add_argument("--keep", type=Path, metavar="DIR", help="build in DIR and keep it")
    demo.set_defaults(func=_cmd_demo)
    return parser


def _add_trust_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--publisher",
        metavar="SPEC",
        help="expected Trusted Publisher: github:OWNER/REPO@WORKFLOW.yml, "
        "gitlab:NAMESPACE/PROJECT@PATH/TO/.gitlab-ci.yml or google:EMAIL",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--instance", choices=("production", "staging"), help="Sigstore instance")
    which.add_argument(
        "--trust-config", type=Path, metavar="FILE", help="sigstore ClientTrustConfig JSON"
    )


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        msg = "must be at least 1"
        raise argparse.ArgumentTypeError(msg)
    return number


def _pyproject_table(directory: Path) -> dict[str, Any]:
    """The hook table of ``directory/pyproject.toml``, or {} if there is none."""
    path = directory / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        msg = f"cannot read {path}: {e}"
        raise ConfigError([msg]) from e
    table: Any = data
    for key in ("tool", "hatch", "build", "hooks", "attest"):
        table = table.get(key, {}) if isinstance(table, dict) else {}
    return table if isinstance(table, dict) else {}


def _config(args: argparse.Namespace, *, default_mode: str = "auto") -> AttestConfig:
    """Flags over the environment over ``pyproject.toml``'s hook table, validated once."""
    cwd = Path.cwd()
    table = dict(_pyproject_table(cwd))
    table.setdefault("mode", default_mode)
    for key, value in (
        ("mode", getattr(args, "mode", None)),
        ("timeout", getattr(args, "timeout", None)),
        ("allow-private-repository", getattr(args, "allow_private_repository", None) or None),
    ):
        if value is not None:
            table[key] = value
    if args.instance is not None:
        table.pop("trust-config", None)
        table["instance"] = args.instance
    if args.trust_config is not None:
        table.pop("instance", None)
        table["trust-config"] = str(args.trust_config.absolute())
    env: Mapping[str, str] = os.environ
    if getattr(args, "mode", None) is not None:
        # An explicit flag beats the environment too.
        env = {k: v for k, v in os.environ.items() if k != "HATCH_ATTEST_MODE"}
    config = load_config(table, root=cwd, env=env, prefix=f"pyproject.toml {HOOK_TABLE}")
    if args.publisher is not None:
        config = dataclasses.replace(config, publisher=parse_publisher_spec(args.publisher))
    return config


def expand_paths(raw: Sequence[str], reporter: _Reporter) -> list[Path]:
    """Files, directories (their wheels and sdists) and globs, as distributions.

    Non-distribution files are noted and skipped; a distribution whose name PyPI
    would reject is an error, raised before anything is signed.
    """
    found: list[Path] = []
    for item in raw:
        matches = sorted(glob.glob(item)) if glob.has_magic(item) else [item]
        if not matches:
            msg = f"{item}: no such file (the pattern matched nothing)"
            raise DistributionError(msg)
        for match in matches:
            path = Path(match)
            if path.is_dir():
                found.extend(sorted(p for p in path.iterdir() if files.is_distribution(p)))
            elif path.is_file():
                if files.is_distribution(path):
                    found.append(path)
                elif not path.name.endswith(files.ATTESTATION_SUFFIX):
                    reporter.display_info(f"skipping {path}: not a wheel or sdist")
            else:
                msg = f"{path}: no such file or directory"
                raise DistributionError(msg)
    problems = [f"{p}: {reason}" for p in found if (reason := files.invalid_name_reason(p.name))]
    if problems:
        raise DistributionError("PyPI would reject these file names:\n  " + "\n  ".join(problems))
    return list(dict.fromkeys(p.resolve() for p in found))


def _cmd_sign(args: argparse.Namespace) -> int:
    from hatch_attest.attest import attest

    reporter = _Reporter()
    config = _config(args, default_mode="always")
    dists = expand_paths(args.paths, reporter)
    if not dists:
        msg = "no wheels or sdists to sign in " + " ".join(args.paths)
        raise DistributionError(msg)
    if not args.overwrite:
        for dist in dists:
            files.report_stale_attestations(dist, reporter)
        existing = [a for d in dists if (a := files.attestation_path(d)).exists()]
        if existing:
            names = ", ".join(p.name for p in existing)
            msg = f"attestations already exist: {names}. Pass --overwrite to replace them."
            raise DistributionError(msg)
    written = attest(dists, config, os.environ, reporter, jobs=args.jobs)
    if not written:
        return 0
    rows = [(w.dist.name, w.identity, str(w.log_index)) for w in written]
    print(_table(("artifact", "identity", "Rekor log index"), rows))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        _append_step_summary(Path(summary), rows)
    return 0


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _append_step_summary(path: Path, rows: Sequence[tuple[str, ...]]) -> None:
    lines = [
        "### PEP 740 attestations",
        "",
        "| artifact | identity | Rekor log index |",
        "| --- | --- | --- |",
        *(f"| `{a}` | `{i}` | {n} |" for a, i, n in rows),
        "",
    ]
    try:
        with path.open("a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    except OSError as e:
        print(f"warning: cannot append to GITHUB_STEP_SUMMARY ({path}): {e}", file=sys.stderr)


def _verify_publisher(args: argparse.Namespace, config: AttestConfig) -> ExpectedPublisher:
    if config.publisher is not None:
        return config.publisher
    inferred = publisher_from_environment(os.environ)
    if inferred is not None:
        return inferred
    msg = (
        "no Trusted Publisher to verify against: pass --publisher "
        "(github:OWNER/REPO@WORKFLOW.yml, gitlab:NAMESPACE/PROJECT@PATH/TO/.gitlab-ci.yml or "
        "google:EMAIL), add a `publisher` to [tool.hatch.build.hooks.attest], or run in the CI job"
    )
    raise ConfigError([msg])


def _cmd_verify(args: argparse.Namespace) -> int:
    from hatch_attest.publisher import describe, to_pypi_publisher
    from hatch_attest.trust import load_trust_config, verifier_for
    from hatch_attest.verify import check_distribution

    reporter = _Reporter()
    config = _config(args)
    publisher = _verify_publisher(args, config)
    dists = expand_paths(args.paths, reporter)
    if not dists:
        msg = "no wheels or sdists to verify in " + " ".join(args.paths)
        raise DistributionError(msg)
    trust = load_trust_config(config.instance, config.trust_config, offline=args.offline)
    verifier = verifier_for(trust)
    policy = to_pypi_publisher(publisher)
    print(f"Verifying against {describe(publisher)}", file=sys.stderr)
    failed = 0
    for dist in dists:
        report = check_distribution(dist, policy, verifier)
        print(report.render())
        failed += not report.ok
    if failed:
        print(f"{failed} of {len(dists)} distributions would be rejected", file=sys.stderr)
        return 1
    print(f"all {len(dists)} distributions pass PyPI's attestation checks", file=sys.stderr)
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from hatch_attest.inspect import describe, render_text

    targets: list[Path] = []
    for item in args.paths:
        path = Path(item)
        if path.is_dir():
            targets.extend(sorted(path.glob(f"*{files.ATTESTATION_SUFFIX}")))
        elif files.is_distribution(path):
            targets.extend(files.find_attestations(path))
        else:
            targets.append(path)
    if not targets:
        msg = "no attestation files found in " + " ".join(args.paths)
        raise DistributionError(msg)
    infos = [describe(p) for p in targets]
    if args.json:
        print(json.dumps([i.to_json_dict() for i in infos], indent=2))
    else:
        print("\n\n".join(render_text(i) for i in infos))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from hatch_attest.demo import run_demo

    return run_demo(keep=args.keep)
