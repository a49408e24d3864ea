"""A tiny package to show hatch-attest on GitLab CI."""

__version__ = "0.1.0"
