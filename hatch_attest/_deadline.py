"""One deadline per artifact, and the tools that make a wait respect it.

:func:`deadline` sets, for the calling thread, the moment by which everything an
artifact needs from the network (its token, certificate and log entry, and the
trust root) must be done. A per-read timeout is not a deadline: a server that
sends one byte every few seconds never lets a read time out. So every wait here
is bounded by the wall clock:

* :func:`run_in_thread` runs a library call that we cannot bound from inside (``id``'s
  Google metadata request, a TUF refresh) in a worker thread, and stops waiting for
  it at the deadline; the worker is a daemon and is left to finish unheard.
* :func:`run_command` runs a CI agent's token command and kills it, with every
  process it started, at the deadline; :func:`run_step` does that for any bound
  (the demo's and ``rehearse``'s build and upload steps).
* :mod:`hatch_attest._http` closes an HTTP connection's socket at the deadline.

Standard library only: the token and trust-root paths use it before anything heavy
is imported.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Literal, TypeVar

T = TypeVar("T")

DEFAULT_BUDGET_SECONDS = 120.0
"""The budget of a call made outside any :func:`deadline` block."""
# After killing a command, how long to wait for its pipes to close (a grandchild
# that escaped the process group can hold them open).
_REAP_SECONDS = 2.0

_local = threading.local()


class DeadlinePassed(Exception):
    """The deadline ran out before a bounded wait ended."""


@contextlib.contextmanager
def deadline(seconds: float, *, budget: float | None = None) -> Iterator[None]:
    """Bound every wait of this thread inside the block to ``seconds`` in total.

    ``budget`` is the configured value that messages cite (option ``timeout``),
    when ``seconds`` is only what is left of it.
    """
    previous = getattr(_local, "deadline", None)
    _local.deadline = (time.monotonic() + seconds, seconds if budget is None else budget)
    try:
        yield
    finally:
        _local.deadline = previous


def end() -> float:
    """The thread's deadline (``time.monotonic()`` clock), or a default budget from now."""
    current = getattr(_local, "deadline", None)
    return current[0] if current is not None else time.monotonic() + DEFAULT_BUDGET_SECONDS


def remaining() -> float:
    """Seconds left before this thread's deadline (a default budget outside any); never negative."""
    return max(0.0, end() - time.monotonic())


def budget() -> float:
    """The configured budget this thread's deadline comes from, for messages."""
    current = getattr(_local, "deadline", None)
    return current[1] if current is not None else DEFAULT_BUDGET_SECONDS


def ran_out() -> str:
    """``the deadline (N s, option `timeout`) ran out``, with this thread's budget."""
    return f"the deadline ({budget():g} s, option `timeout`) ran out"


SLOW_FIX = (
    "Retry the job; if the service is slow rather than down, raise `timeout` "
    "(HATCH_ATTEST_TIMEOUT)."
)
"""What to do when a service did not answer by the deadline."""


def run_in_thread(action: Callable[[], T], name: str) -> T:
    """``action()``, or :class:`DeadlinePassed` when it is not done by the deadline.

    For library calls whose network waits cannot be bounded from outside. The
    worker runs under the caller's deadline too (so bounded calls inside it end on
    time), and is a daemon left behind when the time is up: it cannot hold the
    process open.
    """
    stop, total = end(), budget()
    results: list[T] = []
    errors: list[BaseException] = []

    def work() -> None:
        with deadline(max(0.0, stop - time.monotonic()), budget=total):
            try:
                results.append(action())
            except BaseException as e:  # re-raised in the caller's thread
                errors.append(e)

    worker = threading.Thread(target=work, name=name, daemon=True)
    worker.start()
    worker.join(max(0.0, stop - time.monotonic()))
    if errors:
        raise errors[0]
    if not results:
        msg = f"{name} was not done by the deadline"
        raise DeadlinePassed(msg)
    return results[0]


def run_command(
    argv: Sequence[str], *, executable: str, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with captured text output, killed (its whole process group) at the deadline.

    ``subprocess.run(timeout=...)`` kills only the direct child: a wrapper script's
    own child (the real agent) would live on, and on Windows keep the pipes open.

    Raises:
        DeadlinePassed: the command had not finished by the deadline (it was killed).
        OSError: the command could not be started.
    """
    try:
        return run_step(argv, timeout=remaining(), executable=executable, env=env)
    except subprocess.TimeoutExpired:
        msg = f"{argv[0]} was not done by the deadline"
        raise DeadlinePassed(msg) from None


Output = Literal["capture", "merge", "show"]
"""What :func:`run_step` does with a command's output: stdout and stderr captured
apart, stderr captured into stdout, or shown live on this process's own streams."""


def run_step(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str],
    cwd: str | os.PathLike[str] | None = None,
    executable: str | None = None,
    output: Output = "capture",
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (stdin empty), and kill it with every process it started after ``timeout`` s.

    The command leads a session of its own (POSIX), so that its whole process group
    can be killed: ``subprocess.run(timeout=...)`` kills only the direct child, and a
    frontend's build backend, or a wrapper script's real command, would run on (and,
    holding the pipes open, keep ``run`` waiting). On any other interruption of the
    wait (Ctrl-C) the group is killed too: in its own session, it does not get the
    terminal's SIGINT. ``output`` is an :data:`Output`; when shown, the result's
    ``stdout`` and ``stderr`` are ``""``.

    Raises:
        subprocess.TimeoutExpired: not finished in ``timeout`` s (it was killed); its
            ``output`` is what the command printed, when captured.
        OSError: the command could not be started.
    """
    posix = sys.platform != "win32"
    captured = subprocess.PIPE if output != "show" else None
    process = subprocess.Popen(
        list(argv),
        executable=executable,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=captured,
        stderr=subprocess.STDOUT if output == "merge" else captured,
        text=True,
        start_new_session=posix,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process, group=posix)
        printed: tuple[str | None, str | None] = (None, None)
        with contextlib.suppress(subprocess.TimeoutExpired):
            printed = process.communicate(timeout=_REAP_SECONDS)
        raise subprocess.TimeoutExpired(list(argv), timeout, *printed) from None
    except BaseException:
        _kill(process, group=posix)
        raise
    return subprocess.CompletedProcess(list(argv), process.returncode, stdout or "", stderr or "")


def _kill(process: subprocess.Popen[str], *, group: bool) -> None:
    if group:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(_REAP_SECONDS)
