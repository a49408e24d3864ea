"""The text every door prints for an error: one renderer, always redacted.

The hatchling hook, the wrapper backend and the command line each show errors in
their host's convention, but through :func:`error_text` only, so that no door can
print a message that skipped :func:`hatch_attest._redact.redact` (messages quote
servers, libraries and environment variables). Standard library only: the
wrapper backend and the hook import it on the idle path.
"""

from __future__ import annotations

import traceback
from typing import Final, Literal

from hatch_attest._redact import redact
from hatch_attest.errors import AttestError, BundleError, ConfigError

__all__ = [
    "CLI_EXTRA",
    "INSTALL_CLI",
    "INSTALL_DEMO",
    "PROG",
    "Door",
    "count",
    "error_text",
    "missing_extra",
    "traceback_text",
]

PROG: Final = "hatch-attest"

Door = Literal["build", "cli"]
"""``build``: the hook and the wrapper backend (``hatch-attest: ...`` under the
frontend's log, as hatchling's own aborts read); ``cli``: ``hatch-attest: error:
...``, argparse's convention."""

INSTALL_CLI: Final = "pip install 'hatch-attest[cli]'"
"""How to install what the command line needs beyond the build hook."""
INSTALL_DEMO: Final = "pip install -e ./testing -e '.[demo]'"
"""How ``demo`` and ``rehearse`` get the local Sigstore (hatch-attest-testing, from a checkout)."""

CLI_EXTRA: Final = frozenset(
    # The top-level modules of the `cli` extra's distributions and of what they pull
    # in that we import directly: a plain install has none of them.
    {
        "build",
        "cryptography",
        "hatchling",
        "pydantic",
        "pypi_attestations",
        "requests",
        "sigstore",
        "sigstore_models",
        "twine",
        "hatch_attest_testing",
    }
)


def missing_extra(error: BaseException) -> str | None:
    """The module of the ``cli`` extra whose absence ``error`` reports, else None."""
    if isinstance(error, ModuleNotFoundError) and error.name:
        top = error.name.split(".")[0]
        if top in CLI_EXTRA:
            return top
    return None


def error_text(error: BaseException, *, door: Door, table: str | None = None) -> str:
    """What ``door`` prints for ``error``, redacted, without a trailing newline.

    ``table`` is the TOML path of the hatch-attest table the configuration came
    from (builds head a configuration error's lines with it).
    """
    return redact(_text(error, door, table))


def _text(error: BaseException, door: Door, table: str | None) -> str:
    error_prefix = f"{PROG}: error: " if door == "cli" else f"{PROG}: "
    if isinstance(error, ConfigError):
        if door == "cli":
            # Each line names its flag, variable or TOML path already.
            return "\n".join(f"{error_prefix}{line}" for line in error.errors)
        where = f" in pyproject.toml [{table}]" if table else ""
        lines = "\n".join(f"  {line}" for line in error.errors)
        return f"{PROG}: invalid configuration{where}:\n{lines}"
    if isinstance(error, BundleError):
        return "\n".join(f"{error_prefix}{problem}" for problem in error.problems)
    module = missing_extra(error) if door == "cli" else None
    if module == "hatch_attest_testing":
        return (
            f"{error_prefix}hatch-attest-testing is not installed: `hatch-attest demo` and "
            "`rehearse` run its local Sigstore and index; it is not on an index yet, so "
            f"install it from a checkout of hatch-attest: {INSTALL_DEMO}"
        )
    if module is not None:
        return (
            f"{error_prefix}{module} is not installed: the `hatch-attest` command needs the "
            f"`cli` extra; install it with: {INSTALL_CLI}"
        )
    if isinstance(error, AttestError):
        return f"{error_prefix}{error}"
    if isinstance(error, OSError):
        # A file or folder that cannot be read or written, said in one line.
        return f"{error_prefix}{error}"
    where = "-v shows the traceback" if door == "cli" else "its traceback is above"
    return (
        f"{error_prefix}unexpected {type(error).__name__}: {error} (a bug in hatch-attest; "
        f"{where}, please report it)"
    )


def traceback_text(error: BaseException) -> str:
    """``error``'s traceback, redacted: what ``-v`` and an unexpected build failure show.

    A chained library error may hold a server's text (sigstore's FulcioClientError
    carries Fulcio's error message), so even a traceback is shown only redacted.
    """
    return redact("".join(traceback.format_exception(error)))


def count(number: int, one: str, many: str | None = None) -> str:
    """``1 file``, ``2 files``; ``many`` for a plural that is not ``one + "s"``."""
    return f"{number} {one if number == 1 else (many or one + 's')}"
