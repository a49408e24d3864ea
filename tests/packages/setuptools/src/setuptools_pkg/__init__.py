"""A setuptools-built package that `hatch-attest sign` attests."""
