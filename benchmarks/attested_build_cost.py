"""Attested build cost: what signing in CI adds to a build, per frontend and per host.

What: the wall time of one release build (sdist and wheel) of a tiny project,
outside CI (``idle``, the baseline) and in an emulated GitHub Actions job that
attests both artifacts (``attested``), with each frontend:

- ``uv``: ``uv build``;
- ``build``: ``python -m build`` (pip installs the build environments);
- ``build-uv``: ``python -m build --installer uv``;
- ``hatch``: ``hatch build`` (hook host only: hatch builds hatchling projects).

and each host of the pipeline:

- ``hook``: ``examples/github-actions``, hatchling with
  ``[tool.hatch.build.hooks.attest]``;
- ``wrapper``: ``examples/setuptools``, setuptools through ``hatch_attest.backend``.

How: a wheel of hatch-attest is built from this checkout into a temporary
wheelhouse, offered to the isolated builds through ``PIP_FIND_LINKS`` and
``UV_FIND_LINKS``; the rest comes from the configured index (``--offline`` first
downloads every requirement into the wheelhouse and switches the index off, to
take index round trips out of the timings). The job is the local Sigstore
instance (``hatch_attest_testing.LocalSigstore``) with ``--latency`` seconds
added to every service call, its ``github_env`` as the example's publisher, and
``HATCH_ATTEST_TRUST_CONFIG`` pointing at it. Every attested build must leave an
attestation beside each artifact, and every idle build none, else the run is
invalid. As in a fresh CI job, hatch's data folder (where it keeps its build
environment) is emptied before every build; the uv and pip caches stay warm. Each
pair is built once in both modes to warm the caches, then ``--rounds`` rounds in
alternating order. Reported: median idle and attested wall time, the cost
(attested - idle, seconds) and the ratio, and the median of the per-round
ratios.

No target: this prints numbers for the README and exits 0 (1 only when a build
fails or a run is invalid). Timings depend on the machine and the index.

    python benchmarks/attested_build_cost.py [--rounds 5] [--latency 0.1]
        [--frontends uv,build,build-uv,hatch] [--hosts hook,wrapper] [--offline] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from _report import note, table
from idle_overhead import build_plugin_wheel

from hatch_attest_testing import GitHubIdentity, LocalSigstore, outside_ci

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MODES = ("idle", "attested")


@dataclass(frozen=True)
class Host:
    """One door to the pipeline: the example project that uses it and its publisher."""

    name: str
    example: str
    repository: str
    requires: tuple[str, ...]


HOSTS = {
    "hook": Host("hook", "github-actions", "octo-org/demo-pkg", ("hatchling",)),
    "wrapper": Host(
        "wrapper", "setuptools", "octo-org/demo-setuptools-pkg", ("setuptools>=77", "wheel")
    ),
}
FRONTENDS = ("uv", "build", "build-uv", "hatch")
FRONTEND_COMMANDS = {
    "uv": "uv build",
    "build": "python -m build",
    "build-uv": "python -m build --installer uv",
    "hatch": "hatch build",
}
# What a signing build installs on top of the host's requirements.
SIGNING_STACK = ("sigstore>=4.5,<5", "pypi-attestations>=0.0.30,<0.1")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="release builds in an emulated GitHub job (attested) vs outside CI (idle)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default: 5)")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.1,
        help="seconds added to every service call of the local Sigstore (default: 0.1)",
    )
    parser.add_argument(
        "--frontends",
        type=lambda text: _names(text, FRONTENDS),
        default=FRONTENDS,
        help=f"comma-separated, from {','.join(FRONTENDS)} (default: all)",
    )
    parser.add_argument(
        "--hosts",
        type=lambda text: _names(text, tuple(HOSTS)),
        default=tuple(HOSTS),
        help="comma-separated, from hook,wrapper (default: both)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="download every build requirement into the wheelhouse first, then build with "
        "the index off (no index traffic in the timings)",
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="work in DIR and keep it (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.latency < 0:
        parser.error("--rounds must be at least 1, --latency not negative")
    for tool in ("uv", "hatch"):
        if tool in args.frontends and not (BIN / tool).is_file():
            parser.error(f"{BIN} has no `{tool}`; install it or leave its frontend out")
    # hatch builds hatchling projects only: it has no wrapper column.
    pairs = [
        (frontend, HOSTS[host])
        for frontend in args.frontends
        for host in args.hosts
        if not (frontend == "hatch" and host == "wrapper")
    ]
    if not pairs:
        parser.error("nothing to build: hatch has no wrapper host")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args.keep.resolve(), pairs, args.rounds, args.latency, offline=args.offline)
    with tempfile.TemporaryDirectory(prefix="attested-build-cost-") as work:
        return run(Path(work), pairs, args.rounds, args.latency, offline=args.offline)


def _names(text: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in allowed]
    if not names or unknown:
        msg = f"choose from {','.join(allowed)}"
        raise argparse.ArgumentTypeError(msg)
    return names


def run(
    work: Path,
    pairs: Sequence[tuple[str, Host]],
    rounds: int,
    latency: float,
    *,
    offline: bool,
) -> int:
    """Prepare the wheelhouse, projects and Sigstore in ``work``; time every pair; print."""
    env = outside_ci(os.environ)
    wheelhouse = work / "wheelhouse"
    note(f"building a wheel of hatch-attest from {REPO_ROOT} into {wheelhouse}")
    build_plugin_wheel(wheelhouse, env)
    if offline:
        note("downloading the build requirements into the wheelhouse")
        wanted = sorted({r for _, host in pairs for r in host.requires} | set(SIGNING_STACK))
        _run(
            [sys.executable, "-m", "pip", "download", "-q", "--dest", str(wheelhouse), *wanted],
            env,
            "downloading the build requirements",
        )
        env.update({"PIP_NO_INDEX": "1", "UV_OFFLINE": "1"})
    links = env.get("PIP_FIND_LINKS", "").strip()
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "PIP_FIND_LINKS": f"{links} {wheelhouse}".strip(),
            "UV_FIND_LINKS": str(wheelhouse),
            "UV_CACHE_DIR": str(work / "uv-cache"),
            "HATCH_DATA_DIR": str(work / "hatch-data"),
            "HATCH_CACHE_DIR": str(work / "hatch-cache"),
        }
    )

    samples: dict[tuple[str, str, str], list[float]] = {}
    with LocalSigstore.start(directory=work / "sigstore") as sigstore:
        sigstore.latency = latency
        envs = {(host.name, "idle"): env for _, host in pairs} | {
            (host.name, "attested"): {
                **env,
                **sigstore.github_env(GitHubIdentity(repository=host.repository)),
                "HATCH_ATTEST_TRUST_CONFIG": str(sigstore.trust_config_path),
            }
            for _, host in pairs
        }
        projects = {
            host.name: _copy_example(host, work / "projects" / host.name) for _, host in pairs
        }
        for frontend, host in pairs:
            for mode in MODES:
                seconds = build_once(
                    frontend, host, mode, projects[host.name], env=envs[host.name, mode], work=work
                )
                note(f"warm-up  {frontend:<8} {host.name:<7} {mode:<8} {seconds:6.2f} s")
        for index in range(rounds):
            # Alternate which mode goes first, so neither always follows the other.
            order = MODES if index % 2 == 0 else MODES[::-1]
            for frontend, host in pairs:
                for mode in order:
                    sigstore.reset()
                    seconds = build_once(
                        frontend,
                        host,
                        mode,
                        projects[host.name],
                        env=envs[host.name, mode],
                        work=work,
                    )
                    samples.setdefault((frontend, host.name, mode), []).append(seconds)
                    note(
                        f"round {index + 1}/{rounds} {frontend:<8} {host.name:<7} {mode:<8} "
                        f"{seconds:6.2f} s"
                    )

    print_report(pairs, samples, rounds, latency, offline=offline)
    return 0


def _run(argv: Sequence[str], env: Mapping[str, str], what: str) -> None:
    completed = subprocess.run(argv, env=dict(env), capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        msg = f"{what} failed (output above)"
        raise SystemExit(msg)


def _copy_example(host: Host, directory: Path) -> Path:
    """The host's example project, as a user's checkout (no build outputs)."""
    shutil.rmtree(directory, ignore_errors=True)
    shutil.copytree(
        REPO_ROOT / "examples" / host.example,
        directory,
        ignore=shutil.ignore_patterns("dist", "build", "*.egg-info", "__pycache__"),
    )
    return directory


def command(frontend: str, dist: Path) -> list[str]:
    """The frontend's release build, run in the project's folder, artifacts into ``dist``."""
    commands = {
        "uv": [str(BIN / "uv"), "build", "--out-dir", str(dist)],
        "build": [sys.executable, "-m", "build", "--outdir", str(dist), "."],
        "build-uv": [
            sys.executable,
            "-m",
            "build",
            "--installer",
            "uv",
            "--outdir",
            str(dist),
            ".",
        ],
        # hatch writes to the project's dist/, which is `dist` here.
        "hatch": [str(BIN / "hatch"), "build"],
    }
    return commands[frontend]


def build_once(
    frontend: str, host: Host, mode: str, project: Path, *, env: Mapping[str, str], work: Path
) -> float:
    """One release build: its wall time; checks it built, and attested only in the job."""
    dist = project / "dist"
    for leftover in (dist, project / "build"):
        shutil.rmtree(leftover, ignore_errors=True)
    for egg_info in project.rglob("*.egg-info"):
        shutil.rmtree(egg_info, ignore_errors=True)
    # A CI job starts without hatch's build environment; the package caches may be warm.
    shutil.rmtree(env["HATCH_DATA_DIR"], ignore_errors=True)
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{frontend}-{host.name}-{mode}.log"
    with log_path.open("w+b") as log:
        start = time.perf_counter()
        completed = subprocess.run(
            command(frontend, dist),
            cwd=project,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
        seconds = time.perf_counter() - start
        log.seek(0)
        output = log.read().decode(errors="replace")
    what = f"`{FRONTEND_COMMANDS[frontend]}` of the {host.name} host ({mode})"
    if completed.returncode != 0:
        sys.stderr.write(output)
        msg = f"{what} failed (log above)"
        raise SystemExit(msg)
    artifacts = sorted(p.name for p in dist.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    attestations = sorted(p.name for p in dist.glob("*.attestation"))
    if len(artifacts) != 2:
        msg = f"{what} built {artifacts}, not one sdist and one wheel"
        raise SystemExit(msg)
    unattested = [a for a in artifacts if not any(n.startswith(f"{a}.") for n in attestations)]
    if mode == "attested" and unattested:
        sys.stderr.write(output)
        msg = f"{what} left no attestation beside {unattested}: invalid run"
        raise SystemExit(msg)
    if mode == "idle" and attestations:
        msg = f"{what} wrote {attestations} outside CI: the environment has an identity"
        raise SystemExit(msg)
    return seconds


def print_report(
    pairs: Sequence[tuple[str, Host]],
    samples: Mapping[tuple[str, str, str], list[float]],
    rounds: int,
    latency: float,
    *,
    offline: bool,
) -> None:
    """One row per frontend and host: idle, attested, their difference and ratio."""
    header = ("frontend", "host", "idle s", "attested s", "+s", "ratio", "paired")
    rows = []
    for frontend, host in pairs:
        idle = samples[frontend, host.name, "idle"]
        attested = samples[frontend, host.name, "attested"]
        paired = statistics.median(a / i for a, i in zip(attested, idle, strict=True))
        rows.append(
            (
                FRONTEND_COMMANDS[frontend],
                host.name,
                f"{statistics.median(idle):.2f}",
                f"{statistics.median(attested):.2f}",
                f"{statistics.median(attested) - statistics.median(idle):+.2f}",
                f"{statistics.median(attested) / statistics.median(idle):.2f}x",
                f"{paired:.2f}x",
            )
        )
    print()
    source = "a local wheelhouse only (--offline)" if offline else "the configured index"
    print(
        "Release build (sdist + wheel) of the example projects, outside CI (idle) vs in an "
        f"emulated GitHub job that attests both ({latency * 1000:.0f} ms per service call); "
        f"requirements from {source}; median of {rounds} rounds after one warm-up each; "
        f"Python {sys.version.split()[0]}"
    )
    print(table(header, rows))
    print("  +s: attested median - idle median; ratio: attested median / idle median")
    print("  paired: median over rounds of (attested build / idle build of the same round)")
    print("  hook: examples/github-actions (hatchling); wrapper: examples/setuptools")
    if any(frontend == "hatch" for frontend, _ in pairs):
        print("  hatch build has no wrapper row: hatch builds hatchling projects only")


if __name__ == "__main__":
    sys.exit(main())
