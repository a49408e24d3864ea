"""What both benchmarks print: progress on stderr, the report as aligned tables on stdout."""

from __future__ import annotations

import sys
from collections.abc import Sequence


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
