"""Idle overhead of the wrapper backend: what ``hatch_attest.backend`` costs a setuptools build.

What: the wall time of ``python -m build`` (isolated, sdist then wheel from the
sdist) of one tiny setuptools project, with no CI identity, in three variants that
differ only in ``[build-system]`` (and the wrapper's table):

- ``plain``: ``build-backend = "setuptools.build_meta"`` (for context);
- ``floor``: a do-nothing wrapper, the module ``noop_wrapper`` whose whole body is
  ``from setuptools.build_meta import *``, installed from a wheel like ours: the
  least any wrapper backend costs (one more package to install, one more import);
- ``wrapper``: ``build-backend = "hatch_attest.backend"`` with ``[tool.hatch-attest]
  build-backend = "setuptools.build_meta"`` (what our users write).

How: wheels of hatch-attest (from this checkout) and of ``noop-wrapper`` are built
into a temporary wheelhouse, with every other build requirement downloaded there
once; builds then run with ``PIP_NO_INDEX=1`` (no index round trips in the
timings). CI variables are removed, so each ``wrapper`` build must show the
"Not attesting" line for both artifacts (checked). One warm-up build per variant,
then ``--rounds`` rounds in rotating order. Reported: median and minimum wall time,
their ratios to ``floor`` and to ``plain``, and the median of per-round ratios.

Target: ``wrapper`` median at most 1.05x ``floor``. The exit status is 1 when the
target is missed. Timings depend on the machine; nothing here is asserted in tests.

    python benchmarks/wrapper_overhead.py [--rounds 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from _report import Build, build_into_dist, note, table
from idle_overhead import Samples, build_plugin_wheel

from hatch_attest_testing import outside_ci

TARGET_RATIO = 1.05
IDLE_MARKER = "Not attesting:"
SETUPTOOLS = "setuptools>=77"


@dataclass(frozen=True)
class Variant:
    """One way to write the project's build configuration."""

    name: str
    requires: tuple[str, ...]
    backend: str
    table: str = ""


VARIANTS = (
    Variant("plain", (SETUPTOOLS,), "setuptools.build_meta"),
    Variant("floor", (SETUPTOOLS, "noop-wrapper"), "noop_wrapper"),
    Variant(
        "wrapper",
        (SETUPTOOLS, "hatch-attest"),
        "hatch_attest.backend",
        '\n[tool.hatch-attest]\nbuild-backend = "setuptools.build_meta"\n',
    ),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="python -m build through hatch_attest.backend vs a do-nothing wrapper"
    )
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default: 5)")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="work in DIR and keep it (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args.keep.resolve(), args.rounds)
    with tempfile.TemporaryDirectory(prefix="wrapper-overhead-") as work:
        return run(Path(work), args.rounds)


def run(work: Path, rounds: int) -> int:
    """Prepare the wheelhouse and projects in ``work``, time every variant, print the table."""
    env = outside_ci(os.environ)
    wheelhouse = work / "wheelhouse"
    note(f"building wheels of hatch-attest and noop-wrapper into {wheelhouse}")
    build_plugin_wheel(wheelhouse, env)
    build_noop_wheel(work / "noop-wrapper", wheelhouse, env)
    download = ["pip", "download", "-q", "--only-binary=:all:", "--dest", str(wheelhouse)]
    requirements = [SETUPTOOLS, "packaging>=24"]
    _run([sys.executable, "-m", *download, *requirements], env, "downloading the requirements")
    env["PIP_NO_INDEX"] = "1"
    env["PIP_FIND_LINKS"] = str(wheelhouse)

    projects = {v.name: write_project(work / v.name, v) for v in VARIANTS}
    for variant in VARIANTS:
        warm = build_once(projects[variant.name], variant, env, work / "logs")
        note(f"warm-up  {variant.name:<7} {warm.seconds:6.2f} s")
    samples = {v.name: Samples() for v in VARIANTS}
    for index in range(rounds):
        shift = index % len(VARIANTS)
        for variant in [*VARIANTS[shift:], *VARIANTS[:shift]]:
            build = build_once(projects[variant.name], variant, env, work / "logs")
            samples[variant.name].builds.append(build)
            note(f"round {index + 1}/{rounds} {variant.name:<7} {build.seconds:6.2f} s")

    print_report(samples, rounds)
    ratio = _median(samples["wrapper"]) / _median(samples["floor"])
    return 0 if ratio <= TARGET_RATIO else 1


def _run(argv: Sequence[str], env: Mapping[str, str], what: str) -> None:
    completed = subprocess.run(argv, env=dict(env), capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        msg = f"{what} failed (output above)"
        raise SystemExit(msg)


def build_noop_wheel(directory: Path, wheelhouse: Path, env: Mapping[str, str]) -> None:
    """The do-nothing wrapper, as a wheel (built with hatchling, like hatch-attest's)."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    (directory / "noop_wrapper.py").write_text(
        '"""A wrapper backend that adds nothing."""\n\nfrom setuptools.build_meta import *\n'
    )
    (directory / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        '[project]\nname = "noop-wrapper"\nversion = "1.0"\n\n'
        '[tool.hatch.build.targets.wheel]\nonly-include = ["noop_wrapper.py"]\n'
    )
    _run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(wheelhouse), str(directory)],
        env,
        "building noop-wrapper's wheel",
    )


def write_project(directory: Path, variant: Variant) -> Path:
    """A tiny setuptools project, identical across variants but for the build configuration."""
    shutil.rmtree(directory, ignore_errors=True)
    package = directory / "src" / "tiny_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""A tiny package."""\n\n__version__ = "0.1.0"\n')
    requires = ", ".join(f'"{r}"' for r in variant.requires)
    (directory / "pyproject.toml").write_text(
        f"""[build-system]
requires = [{requires}]
build-backend = "{variant.backend}"

[project]
name = "tiny-pkg"
version = "0.1.0"
description = "A tiny project for benchmarking builds"
requires-python = ">=3.10"
{variant.table}"""
    )
    return directory


def build_once(project: Path, variant: Variant, env: Mapping[str, str], logs: Path) -> Build:
    """One isolated ``python -m build``: what it cost; the wrapper must have stayed idle."""
    build = build_into_dist(project, env, logs / f"{variant.name}.log", variant.name)
    output, outdir = build.output, project / "dist"
    if any(p.name.endswith(".attestation") for p in outdir.iterdir()):
        msg = f"the {variant.name} variant wrote an attestation; the environment has an identity"
        raise SystemExit(msg)
    if (output.count(IDLE_MARKER) >= 2) != (variant.name == "wrapper"):
        sys.stderr.write(output)
        msg = f"the {variant.name} build did not take the expected path (log above)"
        raise SystemExit(msg)
    return build


def print_report(samples: Mapping[str, Samples], rounds: int) -> None:
    """The results table, the ratios, and the verdict on the target."""
    floor, plain = samples["floor"], samples["plain"]
    header = (
        "variant",
        "median s",
        "min s",
        "/floor",
        "paired /floor",
        "/plain",
        "CPU s",
        "CPU /floor",
        "CPU /plain",
    )
    rows = []
    for variant in VARIANTS:
        own = samples[variant.name]
        paired = statistics.median(
            mine / theirs for mine, theirs in zip(own.seconds, floor.seconds, strict=True)
        )
        rows.append(
            (
                variant.name,
                f"{_median(own):.2f}",
                f"{min(own.seconds):.2f}",
                f"{_median(own) / _median(floor):.3f}x",
                f"{paired:.3f}x",
                f"{_median(own) / _median(plain):.3f}x",
                f"{_cpu(own):.2f}",
                f"{_cpu(own) / _cpu(floor):.3f}x",
                f"{_cpu(own) / _cpu(plain):.3f}x",
            )
        )
    print()
    print(
        "python -m build (isolated, sdist + wheel) of a tiny setuptools project, no CI "
        f"identity, requirements from a local wheelhouse; {rounds} rounds after one warm-up "
        f"build per variant; Python {sys.version.split()[0]}"
    )
    print(table(header, rows))
    print("  paired: median over rounds of (this build / the floor build of the same round)")
    print("  CPU: median user + system time of all the build's processes")
    print()
    for variant in VARIANTS:
        print(f"  {variant.name:<7} requires = [{', '.join(variant.requires)}]")
    print()
    ratio = _median(samples["wrapper"]) / _median(floor)
    verdict = "MET" if ratio <= TARGET_RATIO else "MISSED"
    print(f"target: wrapper median <= {TARGET_RATIO:.2f}x floor: {ratio:.3f}x -> {verdict}")


def _median(samples: Samples) -> float:
    return statistics.median(samples.seconds)


def _cpu(samples: Samples) -> float:
    # User + system time of every process of the build: steadier than wall time on a
    # machine that other work is slowing down.
    return statistics.median(samples.cpu_seconds)


if __name__ == "__main__":
    sys.exit(main())
