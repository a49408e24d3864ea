"""Run a console script's `main(argv) -> int` in-process, as a user would see it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    # Only for the annotation: the package imports without pytest (`hatch-attest demo`).
    import pytest

Main = Callable[[Sequence[str]], int]
"""A console script's entry point: `main(argv) -> exit status`."""


class CliResult(NamedTuple):
    """What one command did: its exit status and what it printed.

    A tuple, so that a test can write `status, out, err = cli(...)`.
    """

    status: int
    out: str
    err: str

    def error_lines(self) -> list[str]:
        """The lines of stderr that report an error (`prog: error: ...`), whole."""
        return [line for line in self.err.splitlines() if _error_text(line) is not None]

    def errors(self) -> list[str]:
        """What each error line says, without its `prog: error: ` prefix."""
        return [text for line in self.err.splitlines() if (text := _error_text(line)) is not None]


class Cli(Protocol):
    """A console script bound to its `main`: call it with the command's arguments."""

    def __call__(self, *argv: str | Path) -> CliResult: ...


def _error_text(line: str) -> str | None:
    program, separator, rest = line.partition(": error: ")
    if not separator or not program or " " in program:
        return None
    return rest


def run_main(capsys: pytest.CaptureFixture[str], main: Main, *argv: str | Path) -> CliResult:
    """`main(argv)` in-process; its status, and what it printed (captured by `capsys`)."""
    capsys.readouterr()
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return CliResult(status, out, err)
