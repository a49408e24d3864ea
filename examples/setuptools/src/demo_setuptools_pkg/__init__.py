"""An example project built with setuptools and attested by hatch-attest."""

__version__ = "0.1.0"
