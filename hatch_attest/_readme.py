"""The README's generated parts: the configuration table, the keys, the CLI's help.

Each part sits between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->``
in README.md. ``python -m hatch_attest._readme README.md`` rewrites them;
``tests/test_options.py`` fails when README.md differs from what this generates.
The help is argparse's at 80 columns, as a terminal of that width shows it.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from hatch_attest._options import readme_keys, readme_table

__all__ = ["HELP_COLUMNS", "help_output", "render", "sections"]

HELP_COLUMNS = 80
COMMANDS = ("sign", "verify", "convert", "inspect", "demo")


@contextlib.contextmanager
def _columns(width: int) -> Iterator[None]:
    # argparse sizes help to the terminal, read from COLUMNS first.
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def help_output(*argv: str) -> str:
    """What ``hatch-attest ARGV`` prints (``--help``), at :data:`HELP_COLUMNS` columns."""
    from hatch_attest._cli import main

    out = io.StringIO()
    with _columns(HELP_COLUMNS), contextlib.redirect_stdout(out):
        main(list(argv))
    return out.getvalue()


def _usage(command: str) -> str:
    """The usage paragraph of ``hatch-attest COMMAND --help``."""
    return help_output(command, "--help").split("\n\n", 1)[0] + "\n"


def sections() -> dict[str, str]:
    """Every generated part of the README, by name."""
    usages = "".join(f"$ hatch-attest {c} --help    # its usage\n{_usage(c)}" for c in COMMANDS)
    return {
        "options-table": readme_table(),
        "options-keys": readme_keys(),
        "cli-help": (
            f"```console\n$ hatch-attest --help\n{help_output('--help')}```\n\n"
            f"```console\n{usages}```\n"
        ),
    }


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated:{re.escape(name)} -->\n?)(.*?)(<!-- /generated:{re.escape(name)} -->)",
        re.DOTALL,
    )


def render(text: str, parts: Mapping[str, str]) -> str:
    """``text`` with every generated part replaced; a missing marker is an error."""
    for name, body in parts.items():
        match = _pattern(name).search(text)
        if match is None:
            msg = f"README: no <!-- generated:{name} --> ... <!-- /generated:{name} --> markers"
            raise ValueError(msg)
        text = text[: match.start(2)] + body + text[match.end(2) :]
    return text


def main(argv: list[str]) -> int:
    """Rewrite the generated parts of the README file ``argv[0]``."""
    path = Path(argv[0] if argv else "README.md")
    path.write_text(render(path.read_text(encoding="utf-8"), sections()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
