"""What the benchmarks share: progress on stderr, tables on stdout, one measured build."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


def note(message: str) -> None:
    """Progress, on stderr, so stdout is the report alone."""
    print(message, file=sys.stderr, flush=True)


def table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    """The first column left-aligned, the others (numbers) right-aligned."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


@dataclass(frozen=True)
class Build:
    """What one build cost, and what it printed."""

    seconds: float
    cpu_seconds: float
    """User and system time of the build and every descendant it waited for."""
    peak_rss_kib: int
    output: str


def build_into_dist(project: Path, env: Mapping[str, str], log_path: Path, label: str) -> Build:
    """One isolated ``python -m build`` of ``project`` into a fresh ``project/dist``.

    Exits with the build's log when it fails.
    """
    outdir = project / "dist"
    shutil.rmtree(outdir, ignore_errors=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "build", "--outdir", str(outdir), str(project)]
    with log_path.open("w+b") as log:
        start = time.perf_counter()
        process = subprocess.Popen(argv, env=dict(env), stdout=log, stderr=subprocess.STDOUT)
        # wait4 reports the child's resource usage, which on Linux includes the
        # CPU time and peak RSS of every descendant it waited for (pip, the backend).
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        log.seek(0)
        output = log.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stderr.write(output)
        msg = f"`python -m build` of the {label} variant failed (log above)"
        raise SystemExit(msg)
    return Build(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, output)
