"""A compiled test package for hatch-attest: ``add`` and ``twice`` are implemented in C."""

from cext_pkg._add import add, twice

__all__ = ["add", "twice"]
__version__ = "1.0.0"
