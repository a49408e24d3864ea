"""Idle overhead: what the attest hook costs a build that has no CI identity.

What: the wall time of ``python -m build`` (isolated, sdist then wheel from the
sdist, the normal way) of one tiny project in three variants that differ only in
``[build-system] requires`` and the hook table:

- ``plain``: ``requires = ["hatchling"]``, no hook table (the baseline);
- ``hook``: ``requires = ["hatchling", "hatch-attest"]`` and
  ``[tool.hatch.build.hooks.attest]`` (what our users write);
- ``naive``: as ``hook``, plus ``"sigstore"`` and ``"pypi-attestations"`` in
  ``requires`` (the design we rejected: every build installs the signing stack).

How: a wheel of hatch-attest is built from this checkout once into a temporary
wheelhouse, which is appended to ``PIP_FIND_LINKS`` so the isolated build
environments can install it; the rest comes from the configured index as usual
(``--offline`` first downloads every requirement into the wheelhouse and builds
with ``PIP_NO_INDEX=1``, to take index round trips out of the timings). CI
variables (GitHub, GitLab, Actions, Sigstore, hatch-attest, ...) are removed from
the environment, so the hook sees a laptop; each build's log must show the hook's
"Not attesting" line (and nothing signed), otherwise the run is invalid. Each
variant is built once to warm pip's cache, then the variants are built in turns
for ``--rounds`` rounds (the order rotates every round, so no variant is always
first after a pause). Reported: median and minimum wall time and their ratio to
``plain`` from the same run, the median of the per-round ratios (robust to the
machine getting slower or faster during the run); for context, the median CPU
time (user + system) and the peak RSS of all the build's processes (from
``wait4``).

Target: ``hook`` median at most 1.10x ``plain``. DESIGN.md records ``naive`` at
about 3.5x; it is measured here for context, not as a target. Nothing here is
asserted in the test suite; timings depend on the machine and the index. The exit
status is 1 when the target is missed, so a script can act on it.

    python benchmarks/idle_overhead.py [--rounds 5] [--no-naive] [--offline] [--keep DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from _report import Build, build_into_dist, note, table

from hatch_attest_testing import outside_ci

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.10
DESIGN_NAIVE_RATIO = 3.5
IDLE_MARKER = "Not attesting:"


@dataclass(frozen=True)
class Variant:
    """One way to write the project's build configuration."""

    name: str
    requires: tuple[str, ...]
    hook_table: bool


VARIANTS = (
    Variant("plain", ("hatchling",), hook_table=False),
    Variant("hook", ("hatchling", "hatch-attest"), hook_table=True),
    Variant(
        "naive", ("hatchling", "hatch-attest", "sigstore", "pypi-attestations"), hook_table=True
    ),
)


@dataclass
class Samples:
    """The timed builds of one variant."""

    builds: list[Build] = field(default_factory=list)

    @property
    def seconds(self) -> list[float]:
        """Wall time of each build, in order."""
        return [b.seconds for b in self.builds]

    @property
    def cpu_seconds(self) -> list[float]:
        """User + system CPU time of each build's processes, in order."""
        return [b.cpu_seconds for b in self.builds]

    @property
    def peak_rss_kib(self) -> int:
        """The largest resident set of any process of any build."""
        return max(b.peak_rss_kib for b in self.builds)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="python -m build with the attest hook (no identity) vs plain hatchling"
    )
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default: 5)")
    parser.add_argument(
        "--no-naive", action="store_true", help="skip the naive variant (it is slow)"
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="download every build requirement into the wheelhouse first, then build with "
        "PIP_NO_INDEX=1 (no index traffic in the timings)",
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="work in DIR and keep it (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if importlib.util.find_spec("build") is None:
        parser.error(f"{sys.executable} has no `build`; install hatch-attest[cli]")
    variants = [v for v in VARIANTS if not (args.no_naive and v.name == "naive")]

    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args.keep.resolve(), variants, args.rounds, offline=args.offline)
    with tempfile.TemporaryDirectory(prefix="idle-overhead-") as work:
        return run(Path(work), variants, args.rounds, offline=args.offline)


def run(work: Path, variants: Sequence[Variant], rounds: int, *, offline: bool) -> int:
    """Build the wheelhouse and projects in ``work``, time every variant, print the table."""
    env = outside_ci(os.environ)
    wheelhouse = work / "wheelhouse"
    note(f"building a wheel of hatch-attest from {REPO_ROOT} into {wheelhouse}")
    build_plugin_wheel(wheelhouse, env)
    if offline:
        note("downloading the build requirements into the wheelhouse")
        download_requirements(wheelhouse, variants, env)
        env["PIP_NO_INDEX"] = "1"
    existing = env.get("PIP_FIND_LINKS", "").strip()
    env["PIP_FIND_LINKS"] = f"{existing} {wheelhouse}".strip()

    projects = {v.name: write_project(work / v.name, v) for v in variants}
    # Fills pip's HTTP cache, where the index lets responses be cached.
    for variant in variants:
        warm = build_once(projects[variant.name], variant, env, work / "logs")
        note(f"warm-up  {variant.name:<6} {warm.seconds:6.2f} s")

    samples = {v.name: Samples() for v in variants}
    for index in range(rounds):
        shift = index % len(variants)
        for variant in [*variants[shift:], *variants[:shift]]:
            build = build_once(projects[variant.name], variant, env, work / "logs")
            samples[variant.name].builds.append(build)
            note(
                f"round {index + 1}/{rounds} {variant.name:<6} {build.seconds:6.2f} s "
                f"(CPU {build.cpu_seconds:.2f} s)"
            )

    print_report(variants, samples, rounds, offline=offline)
    hook_ratio = _median(samples["hook"]) / _median(samples["plain"])
    return 0 if hook_ratio <= TARGET_RATIO else 1


def build_plugin_wheel(wheelhouse: Path, env: Mapping[str, str]) -> None:
    """Build hatch-attest's wheel from the checkout (isolated, like any release build)."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    for old in wheelhouse.glob("hatch_attest-*.whl"):
        old.unlink()
    completed = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(wheelhouse), str(REPO_ROOT)],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        msg = "building hatch-attest's wheel failed (output above)"
        raise SystemExit(msg)


def download_requirements(
    wheelhouse: Path, variants: Sequence[Variant], env: Mapping[str, str]
) -> None:
    """Every variant's build requirements (but hatch-attest), with dependencies, as wheels."""
    wanted = sorted({r for v in variants for r in v.requires if r != "hatch-attest"})
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--only-binary=:all:",
            "--dest",
            str(wheelhouse),
            *wanted,
        ],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        msg = "downloading the build requirements failed (output above)"
        raise SystemExit(msg)


def write_project(directory: Path, variant: Variant) -> Path:
    """A tiny project, identical across variants but for the build configuration."""
    shutil.rmtree(directory, ignore_errors=True)
    package = directory / "src" / "tiny_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""A tiny package."""\n\n__version__ = "0.1.0"\n')
    (directory / "README.md").write_text("# tiny-pkg\n")
    requires = ", ".join(f'"{r}"' for r in variant.requires)
    hook = "\n[tool.hatch.build.hooks.attest]\n" if variant.hook_table else ""
    (directory / "pyproject.toml").write_text(
        f"""[build-system]
requires = [{requires}]
build-backend = "hatchling.build"

[project]
name = "tiny-pkg"
version = "0.1.0"
description = "A tiny project for benchmarking builds"
readme = "README.md"
requires-python = ">=3.10"

[tool.hatch.build.targets.wheel]
packages = ["src/tiny_pkg"]
{hook}"""
    )
    return directory


def build_once(project: Path, variant: Variant, env: Mapping[str, str], logs: Path) -> Build:
    """One isolated ``python -m build``: what it cost.

    The build's log is checked: it must succeed, and a variant with the hook must
    have taken the idle path (its "Not attesting" line, no attestation written).
    """
    build = build_into_dist(project, env, logs / f"{variant.name}.log", variant.name)
    output, outdir = build.output, project / "dist"
    built = sorted(p.name for p in outdir.iterdir())
    if any(name.endswith(".attestation") for name in built):
        msg = f"the {variant.name} variant wrote an attestation; the environment has an identity"
        raise SystemExit(msg)
    if variant.hook_table and output.count(IDLE_MARKER) < 2:
        sys.stderr.write(output)
        msg = f"the {variant.name} build did not show the hook's idle line for both artifacts"
        raise SystemExit(msg)
    if not variant.hook_table and IDLE_MARKER in output:
        msg = f"the {variant.name} variant ran the hook"
        raise SystemExit(msg)
    return build


def print_report(
    variants: Sequence[Variant], samples: Mapping[str, Samples], rounds: int, *, offline: bool
) -> None:
    """The results table, the ratios against ``plain``, and the verdict on the target."""
    base = samples["plain"]
    header = (
        "variant",
        "median s",
        "min s",
        "median/plain",
        "min/plain",
        "paired",
        "median CPU s",
        "CPU/plain",
        "peak RSS MiB",
    )
    base_cpu = statistics.median(base.cpu_seconds)
    rows = []
    for variant in variants:
        own = samples[variant.name]
        cpu = statistics.median(own.cpu_seconds)
        paired = statistics.median(
            mine / theirs for mine, theirs in zip(own.seconds, base.seconds, strict=True)
        )
        rows.append(
            (
                variant.name,
                f"{_median(own):.2f}",
                f"{min(own.seconds):.2f}",
                f"{_median(own) / _median(base):.2f}x",
                f"{min(own.seconds) / min(base.seconds):.2f}x",
                f"{paired:.2f}x",
                f"{cpu:.2f}",
                f"{cpu / base_cpu:.2f}x",
                f"{own.peak_rss_kib / 1024:.0f}",
            )
        )
    print()
    source = "a local wheelhouse only (--offline)" if offline else "the configured index"
    print(
        f"python -m build (isolated, sdist + wheel) of a tiny project, no CI identity, "
        f"requirements from {source}; {rounds} rounds after one warm-up build per variant; "
        f"Python {sys.version.split()[0]}"
    )
    print(table(header, rows))
    print("  paired: median over rounds of (this build / the plain build of the same round)")
    print()
    for variant in variants:
        print(f"  {variant.name:<6} requires = [{', '.join(variant.requires)}]")
    print()
    hook_ratio = _median(samples["hook"]) / _median(base)
    verdict = "MET" if hook_ratio <= TARGET_RATIO else "MISSED"
    print(f"target: hook median <= {TARGET_RATIO:.2f}x plain: {hook_ratio:.2f}x -> {verdict}")
    if "naive" in samples:
        naive_ratio = _median(samples["naive"]) / _median(base)
        print(
            f"context: naive (signing stack always installed) is {naive_ratio:.2f}x plain "
            f"(DESIGN.md: about {DESIGN_NAIVE_RATIO}x)"
        )


def _median(samples: Samples) -> float:
    return statistics.median(samples.seconds)


if __name__ == "__main__":
    sys.exit(main())
