"""Shared test configuration."""

pytest_plugins = ["hatch_attest.testing.pytest_plugin"]
