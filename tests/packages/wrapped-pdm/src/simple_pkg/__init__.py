"""A test package for hatch-attest's wrapper backend."""

__version__ = "1.0.0"
