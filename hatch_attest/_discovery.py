"""What the PATH arguments of ``sign``, ``verify`` and ``inspect`` name: one reading for all three.

A PATH is a file, a directory (its files, not recursively) or a glob. Files are
sorted into distributions, attestations and others; a file named directly (not
found in a directory or by a glob) that is neither is remembered as such, because
naming it is a mistake (``sign README.md``), while a directory's other files are
ordinary company. Standard library and :mod:`hatch_attest._files` only.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hatch_attest import _files as files
from hatch_attest.errors import ConfigError, DistributionError

if TYPE_CHECKING:
    from hatch_attest._attest import Reporter

__all__ = ["Found", "distributions", "find"]


@dataclass
class Found:
    """The files the PATH arguments name, each once, in the order given."""

    distributions: list[Path] = field(default_factory=list)
    attestations: list[Path] = field(default_factory=list)
    """Attestation files (``*.attestation``) named or found in a directory."""
    others: list[Path] = field(default_factory=list)
    """Other visible files found in directories or by globs."""
    named_others: list[Path] = field(default_factory=list)
    """Files named directly that are neither distributions nor attestations."""
    empty_directories: list[Path] = field(default_factory=list)
    """Directories given that hold no file at all."""


def find(raw: Sequence[str]) -> Found:
    """Read PATH arguments; a missing file or a glob that matches nothing is an error.

    Raises:
        DistributionError: a PATH names nothing on disk.
    """
    found = Found()
    seen: set[Path] = set()
    for item in raw:
        for path, named in _files_named_by(item, found):
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            if files.is_distribution(path):
                found.distributions.append(path)
            elif path.name.endswith(files.ATTESTATION_SUFFIX):
                found.attestations.append(path)
            elif named:
                found.named_others.append(path)
            elif not path.name.startswith("."):
                found.others.append(path)
    return found


def _files_named_by(item: str, found: Found) -> list[tuple[Path, bool]]:
    """The files one PATH argument names, each with whether it was named directly."""
    matches = [item]
    globbed = False
    if any(char in item for char in "*?[") and not Path(item).exists():
        matches = sorted(glob.glob(item))
        globbed = True
        if not matches:
            msg = f"{item}: no such file (the pattern matched nothing)"
            raise DistributionError(msg)
    named: list[tuple[Path, bool]] = []
    for match in matches:
        path = Path(match)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file())
            if not inside:
                found.empty_directories.append(path)
            named.extend((p, False) for p in inside)
        elif path.is_file():
            named.append((path, not globbed))
        else:
            msg = f"{path}: no such file or directory"
            raise DistributionError(msg)
    return named


def distributions(paths: Sequence[str], reporter: Reporter, *, verb: str) -> list[Path]:
    """The distributions ``paths`` name, for ``sign`` and ``verify``.

    Other files are skipped with a note (attestations and hidden files silently).

    Raises:
        ConfigError: nothing to ``verb``, and a file named directly is not a
            distribution (``sign README.md``: misuse, exit status 2).
        DistributionError: a path names nothing on disk, or there is nothing to
            ``verb`` in the folders and globs given.
    """
    found = find(paths)
    for path in (*found.named_others, *found.others):
        reporter.display_info(f"skipping {path}: not a wheel or sdist")
    if found.distributions:
        return found.distributions
    if found.named_others:
        names = ", ".join(str(p) for p in found.named_others)
        msg = (
            f"{names}: not a wheel or sdist; {verb} takes distribution files "
            "(*.whl, *.tar.gz), folders that hold them, or globs"
        )
        raise ConfigError([msg])
    msg = f"no wheels or sdists to {verb} in " + " ".join(paths)
    raise DistributionError(msg)
