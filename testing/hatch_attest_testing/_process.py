"""Child processes a test starts: bounded near their expected time, and killed whole.

Why: a frontend starts a build backend, which may start more processes; on a hang,
`subprocess.run(timeout=...)` kills only the direct child and then waits for the
pipes that the grandchildren still hold open, so the test hangs anyway and the
backend keeps running after the session. Each child here leads a session of its
own (`start_new_session=True`), and on timeout the whole process group is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# Once the group is killed, how long to wait for its pipes to close.
_REAP_SECONDS = 10.0


def run_bounded(
    argv: Sequence[str | Path],
    *,
    timeout: float,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    merge_stderr: bool = False,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `argv` as `subprocess.run(..., text=True, capture_output=True)` would, bounded.

    `timeout` is the wall time the command may take: set it near what the command
    needs, with room for a loaded machine. When it is up, the command's whole
    process group (the command and everything it started) is killed with SIGKILL
    and `subprocess.TimeoutExpired` is raised with whatever it printed. With
    `merge_stderr`, stderr goes into `stdout` (one stream, in order). With `check`,
    a non-zero exit status raises `subprocess.CalledProcessError`.
    """
    command = [str(arg) for arg in argv]
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=None if env is None else dict(env),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(process)
            try:
                out, err = process.communicate(timeout=_REAP_SECONDS)
            except subprocess.TimeoutExpired:
                out, err = "", ""
            raise subprocess.TimeoutExpired(command, timeout, out, err) from None
        finally:
            # Whatever the command left behind in its group (a daemon, a backend
            # that outlived its frontend) does not outlive the test either.
            kill_group(process)
    done = subprocess.CompletedProcess(command, process.returncode, out, err or "")
    if check and done.returncode:
        # Printed so that the failing test's report shows why (pytest captures it).
        print(out, err, sep="\n")
        done.check_returncode()
    return done


def run_bounded_all(
    argvs: Sequence[Sequence[str | Path]],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    merge_stderr: bool = False,
) -> list[subprocess.CompletedProcess[str]]:
    """Run every command of `argvs` at once (as `run_bounded` does each); in that order.

    For races between processes: each is started without waiting for the others,
    and each is bounded by `timeout` on its own.
    """
    with ThreadPoolExecutor(max_workers=max(1, len(argvs))) as pool:
        running = [
            pool.submit(run_bounded, argv, timeout=timeout, env=env, merge_stderr=merge_stderr)
            for argv in argvs
        ]
        return [future.result() for future in running]


def kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL `process`'s process group (it leads one: `start_new_session=True`)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
