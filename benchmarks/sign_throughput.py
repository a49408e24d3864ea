"""Signing throughput: ``hatch-attest sign`` vs ``pypi-attestations sign`` on N wheels.

What: the wall time, process start to exit, of attesting N small wheels (default
N = 1, 8, 32) with

- ``hatch-attest sign --trust-config TC --publisher github:OWNER/REPO@release.yml
  --overwrite DIR``: one token, one Fulcio certificate, Rekor entries submitted
  concurrently (``--jobs``), every attestation verified before it is written;
- ``pypi-attestations sign FILE...`` (the baseline): one token, one signer with a
  cached certificate, files signed one after another.

How: both run as subprocesses against the local Sigstore instance
(``hatch_attest_testing``) with ``latency`` seconds added to every service call
(default 0.1 s, a realistic round trip to the public Fulcio and Rekor), in the
environment of an emulated GitHub Actions job, so each tool fetches its own
identity token from the emulated GitHub token endpoint. pypi-attestations 0.0.30's
CLI can only use the public production or staging trust roots (TUF), so the
baseline (``_pypi_attestations_local.py``) runs *its own*
``pypi_attestations._cli.main()``, unchanged, in a child process in which
``ClientTrustConfig.production()`` returns the local trust config: the same
identity detection, the same single ``signer(cache=True)``, the same sequential
loop and file writes as ``pypi-attestations sign``. The wheels are
hand-made, valid, distinctly named ``pkg_<i>-1.0-py3-none-any.whl`` files;
attestations are removed before every run. Each (tool, N) is run ``--rounds``
times, the tools alternating; the median is reported, with the instance's
request counts of the last run at the largest N and, for context, each tool's
start-up (a process that only imports what that tool needs to sign), which
both pay once per run and no concurrency can remove.

Targets: ``hatch-attest`` at N=32 takes at most 1.25x its time at N=1 (signing
more files costs little more than signing one), and ``pypi-attestations`` at
N=32 takes at least 10x ``hatch-attest`` at N=32, net of each tool's start-up
(the whole-process ratio is printed too; start-up, importing sigstore and
pydantic, is the floor both tools pay and no pipeline can remove). Where the
time goes: ``hatch-attest -v`` logs the duration of each phase of the pipeline
(token, trust root, certificate, log entries with verification and staging,
files); extra runs at the largest N with only that log on give their medians,
printed beside start-up.
Expected request counts for ``hatch-attest`` at N=32: oidc=1, fulcio=1,
rekor=32. Nothing here is asserted in
the test suite. The exit status is 1 when a target is missed.

    python benchmarks/sign_throughput.py [--sizes 1,8,32] [--latency 0.1] [--rounds 5] [--jobs J]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from _report import note, table

from hatch_attest._cli import DEFAULT_JOBS
from hatch_attest_testing import GitHubIdentity, LocalSigstore, outside_ci

SCALING_TARGET = 1.25
SPEEDUP_TARGET = 10.0
PHASE = re.compile(r"phase (?P<name>[^:]+): (?P<seconds>[0-9.]+) s")
# `hatch-attest sign` with only the pipeline's own debug log on (its phase timings):
# `-v` would also turn on sigstore's debug log, which is large and costs time.
TRACED = (
    "import logging, sys\n"
    "log = logging.getLogger('hatch_attest._attest')\n"
    "log.addHandler(logging.StreamHandler()); log.setLevel(logging.DEBUG)\n"
    "from hatch_attest._cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
TOOLS = ("hatch-attest", "pypi-attestations")
# What each tool's `sign` imports before its first request: the start-up floor
# that no amount of concurrency removes, measured on its own for context.
STARTUP_IMPORTS = {
    "hatch-attest": "import hatch_attest._cli, hatch_attest._attest, hatch_attest._signing, "
    "hatch_attest._trust, hatch_attest._verify",
    "pypi-attestations": "import pypi_attestations._cli",
}
# pypi-attestations' own CLI, pointed at the local trust config (see its docstring).
BASELINE_SCRIPT = Path(__file__).resolve().with_name("_pypi_attestations_local.py")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="hatch-attest sign vs pypi-attestations sign against a local Sigstore"
    )
    parser.add_argument(
        "--sizes", type=_sizes, default=(1, 8, 32), help="numbers of wheels (default: 1,8,32)"
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.1,
        help="seconds added to every Sigstore/OIDC request (default: 0.1)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="runs per tool and N (default: 5)")
    parser.add_argument(
        "--jobs",
        type=int,
        help=f"pass --jobs to hatch-attest sign (default: its own, {DEFAULT_JOBS})",
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="work in DIR and keep it (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.latency < 0 or (args.jobs is not None and args.jobs < 1):
        parser.error("--rounds and --jobs must be at least 1, --latency not negative")

    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args.keep.resolve(), args.sizes, args.latency, args.rounds, args.jobs)
    with tempfile.TemporaryDirectory(prefix="sign-throughput-") as work:
        return run(Path(work), args.sizes, args.latency, args.rounds, args.jobs)


def _sizes(value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted({int(part) for part in value.split(",")}))
    except ValueError:
        sizes = ()
    if not sizes or sizes[0] < 1:
        msg = "a comma-separated list of positive integers, e.g. 1,8,32"
        raise argparse.ArgumentTypeError(msg)
    return sizes


def run(work: Path, sizes: Sequence[int], latency: float, rounds: int, jobs: int | None) -> int:
    """Time both tools at every size in ``work``; print the report."""
    identity = GitHubIdentity()
    publisher = f"github:{identity.repository}@{identity.workflow}"
    times: dict[tuple[str, int], list[float]] = {}
    phases: dict[str, list[float]] = {}
    counts: dict[str, dict[str, int]] = {}
    with LocalSigstore.start(directory=work / "sigstore") as sigstore:
        sigstore.latency = latency
        env = {**outside_ci(os.environ), **sigstore.github_env(identity)}
        commands = {
            "hatch-attest": [
                *_hatch_attest_command(),
                "sign",
                "--trust-config",
                str(sigstore.trust_config_path),
                "--publisher",
                publisher,
                "--overwrite",
                *([] if jobs is None else ["--jobs", str(jobs)]),
            ],
            "pypi-attestations": [
                sys.executable,
                str(BASELINE_SCRIPT),
                str(sigstore.trust_config_path),
            ],
        }
        for _ in range(rounds):
            for tool in TOOLS:
                times.setdefault((tool, 0), []).append(startup_seconds(tool, env))
        for n in sizes:
            wheels = make_wheels(work / f"n{n}", n)
            for index in range(rounds):
                order = TOOLS if index % 2 == 0 else TOOLS[::-1]
                for tool in order:
                    # hatch-attest takes the directory, as a user would; the
                    # baseline CLI takes files only.
                    targets = [str(wheels[0].parent)] if tool == "hatch-attest" else wheels
                    sigstore.reset()
                    seconds, log = sign_once(
                        tool, [*commands[tool], *map(str, targets)], wheels, env
                    )
                    times.setdefault((tool, n), []).append(seconds)
                    if n == sizes[-1]:
                        counts[tool] = sigstore.counts()
                    note(f"N={n:<3} round {index + 1}/{rounds} {tool:<17} {seconds:6.2f} s")
        # Where the time goes: the same command at the largest N, with the phase log on.
        wheels = make_wheels(work / "traced", sizes[-1])
        traced = [
            sys.executable,
            "-c",
            TRACED,
            *commands["hatch-attest"][len(_hatch_attest_command()) :],
        ]
        for _ in range(rounds):
            _, log = sign_once("hatch-attest", [*traced, str(wheels[0].parent)], wheels, env)
            for match in PHASE.finditer(log):
                phases.setdefault(match["name"], []).append(float(match["seconds"]))

    return print_report(sizes, times, counts, phases, latency=latency, rounds=rounds, jobs=jobs)


def _hatch_attest_command() -> list[str]:
    script = Path(sys.executable).with_name("hatch-attest")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hatch_attest"]


def startup_seconds(tool: str, env: Mapping[str, str]) -> float:
    """Wall time of a Python process that only imports what ``tool`` needs to sign."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", STARTUP_IMPORTS[tool]], env=dict(env), check=True)
    return time.perf_counter() - start


def make_wheels(directory: Path, count: int) -> list[Path]:
    """``count`` small valid wheels, ``pkg_<i>-1.0-py3-none-any.whl``, in ``directory``."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return [_write_wheel(directory, f"pkg_{i}") for i in range(count)]


def _write_wheel(directory: Path, name: str) -> Path:
    dist_info = f"{name}-1.0.dist-info"
    members = {
        f"{name}/__init__.py": f'"""{name}, a benchmark fixture."""\n'.encode(),
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: 1.0\n"
        ).encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: sign_throughput\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = [f"{path},sha256={_record_digest(data)},{len(data)}" for path, data in members.items()]
    members[f"{dist_info}/RECORD"] = "\n".join([*record, f"{dist_info}/RECORD,,", ""]).encode()
    path = directory / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def _record_digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def sign_once(
    tool: str, argv: Sequence[str], wheels: Sequence[Path], env: Mapping[str, str]
) -> tuple[float, str]:
    """One timed run of ``argv``, and what it logged; it must attest every wheel."""
    for wheel in wheels:
        Path(f"{wheel}.publish.attestation").unlink(missing_ok=True)
    start = time.perf_counter()
    completed = subprocess.run(
        argv, env=dict(env), cwd=wheels[0].parent, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    missing = [w.name for w in wheels if not Path(f"{w}.publish.attestation").is_file()]
    if completed.returncode != 0 or missing:
        sys.stderr.write(completed.stdout + completed.stderr)
        msg = f"{tool} failed (exit {completed.returncode}; not attested: {missing[:3]})"
        raise SystemExit(msg)
    return seconds, completed.stderr


def print_report(
    sizes: Sequence[int],
    times: Mapping[tuple[str, int], list[float]],
    counts: Mapping[str, Mapping[str, int]],
    phases: Mapping[str, list[float]],
    *,
    latency: float,
    rounds: int,
    jobs: int | None,
) -> int:
    """The table, the target verdicts and the request counts; returns the exit status."""

    def median(tool: str, n: int) -> float:
        return statistics.median(times[(tool, n)])

    smallest, largest = sizes[0], sizes[-1]
    header = (
        "N",
        "hatch-attest s",
        "(min)",
        "pypi-attestations s",
        "(min)",
        "speed-up",
        f"hatch-attest vs N={smallest}",
    )
    rows = [
        (
            str(n),
            f"{median('hatch-attest', n):.2f}",
            f"{min(times[('hatch-attest', n)]):.2f}",
            f"{median('pypi-attestations', n):.2f}",
            f"{min(times[('pypi-attestations', n)]):.2f}",
            f"{median('pypi-attestations', n) / median('hatch-attest', n):.2f}x",
            f"{median('hatch-attest', n) / median('hatch-attest', smallest):.2f}x",
        )
        for n in sizes
    ]
    rows.append(
        (
            "start-up",
            f"{median('hatch-attest', 0):.2f}",
            f"{min(times[('hatch-attest', 0)]):.2f}",
            f"{median('pypi-attestations', 0):.2f}",
            f"{min(times[('pypi-attestations', 0)]):.2f}",
            "",
            "",
        )
    )
    print()
    print(
        f"Signing N wheels against the local Sigstore instance, {latency * 1000:.0f} ms per "
        f"request; median of {rounds} runs (process start to exit); hatch-attest --jobs "
        f"{jobs if jobs is not None else f'{DEFAULT_JOBS} (default)'}"
    )
    print(table(header, rows))
    print()
    print(
        "baseline: pypi-attestations' own `sign` command (pypi_attestations._cli.main, "
        "unchanged) in a child process whose ClientTrustConfig.production() returns the "
        "local trust config, since its CLI cannot take one; one signer (cached certificate) "
        "for the run, files signed sequentially."
    )
    print()
    status = 0
    if 1 in sizes and 32 in sizes:
        scaling = median("hatch-attest", 32) / median("hatch-attest", 1)
        whole = median("pypi-attestations", 32) / median("hatch-attest", 32)
        speedup = (median("pypi-attestations", 32) - median("pypi-attestations", 0)) / (
            median("hatch-attest", 32) - median("hatch-attest", 0)
        )
        for label, value, met in (
            (
                f"hatch-attest(32)/hatch-attest(1) <= {SCALING_TARGET:g}x",
                scaling,
                scaling <= SCALING_TARGET,
            ),
            (
                f"pypi-attestations(32)/hatch-attest(32), net of start-up, >= {SPEEDUP_TARGET:g}x",
                speedup,
                speedup >= SPEEDUP_TARGET,
            ),
        ):
            print(f"target: {label}: {value:.2f}x -> {'MET' if met else 'MISSED'}")
            status |= not met
        waves = -(-32 // (jobs or DEFAULT_JOBS))
        print(
            f"context: whole-process speed-up at N=32: {whole:.2f}x; "
            f"sequential request latencies at N=32: hatch-attest 2 + {waves} "
            f"(token, certificate, Rekor in waves of --jobs), pypi-attestations 2 + 32"
        )
    else:
        print("targets apply to --sizes including 1 and 32; not judged")
    if phases:
        print()
        print(f"where hatch-attest's time goes at N={largest} (medians of its phase log):")
        spent = [("start-up (imports)", f"{median('hatch-attest', 0):.3f}")]
        spent += [(name, f"{statistics.median(values):.3f}") for name, values in phases.items()]
        accounted = median("hatch-attest", 0) + sum(
            statistics.median(values) for values in phases.values()
        )
        rest = median("hatch-attest", largest) - accounted
        spent.append(("rest (CLI, arguments, stale-file pass)", f"{rest:.3f}"))
        print(table(("phase", "seconds"), spent))
    print()
    print(f"requests to the local instance, last run at N={largest}:")
    endpoints = sorted({e for c in counts.values() for e in c})
    print(
        table(
            ("tool", *endpoints),
            [(tool, *(str(counts[tool].get(e, 0)) for e in endpoints)) for tool in TOOLS],
        )
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
