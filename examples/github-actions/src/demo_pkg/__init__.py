"""A tiny package to show hatch-attest."""

__version__ = "0.1.0"


def greet(name: str) -> str:
    return f"Hello, {name}!"
