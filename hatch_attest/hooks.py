"""Registers the ``attest`` build hook with hatchling (entry point only)."""

from __future__ import annotations

from hatchling.plugin import hookimpl

from hatch_attest.build_hook import AttestBuildHook


@hookimpl
def hatch_register_build_hook() -> type[AttestBuildHook]:
    return AttestBuildHook
