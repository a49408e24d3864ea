"""`run_bounded`: what a test's child process leaves behind when it outlives its bound."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hatch_attest_testing import run_bounded, run_bounded_all

# A frontend in miniature: it starts a backend that would outlive it, keeps the
# pipes open through it, and hangs.
HANGING_FRONTEND = textwrap.dedent(
    """
    import subprocess, sys, time
    backend = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    with open(sys.argv[1], "w") as f:
        f.write(str(backend.pid))
    print("building", flush=True)
    time.sleep(120)
    """
)


def _gone(pid: int) -> bool:
    """No such process, or only its zombie (killed, not yet reaped by whoever adopted it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in {"Z", "X"}


def test_on_timeout_the_whole_process_group_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "backend.pid"

    with pytest.raises(subprocess.TimeoutExpired) as timed_out:
        run_bounded([sys.executable, "-c", HANGING_FRONTEND, pid_file], timeout=3)

    assert timed_out.value.timeout == 3
    assert "building" in (timed_out.value.output or "")  # what it printed is kept
    backend = int(pid_file.read_text())
    for _ in range(50):  # SIGKILL is delivered at once; the reaping may lag
        if _gone(backend):
            break
        time.sleep(0.1)
    assert _gone(backend)


def test_output_status_and_check() -> None:
    done = run_bounded(
        [sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr)"],
        timeout=60,
    )
    merged = run_bounded(
        [sys.executable, "-c", "import sys; print('out', flush=True); sys.exit(3)"],
        timeout=60,
        merge_stderr=True,
    )
    together = run_bounded_all(
        [[sys.executable, "-c", f"print({n})"] for n in range(3)], timeout=60
    )

    assert (done.returncode, done.stdout, done.stderr) == (0, "out\n", "err\n")
    assert (merged.returncode, merged.stdout) == (3, "out\n")
    assert [p.stdout for p in together] == ["0\n", "1\n", "2\n"]
    with pytest.raises(subprocess.CalledProcessError):
        run_bounded([sys.executable, "-c", "raise SystemExit(1)"], timeout=60, check=True)
