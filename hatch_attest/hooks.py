"""Registers hatch-attest's plugins with hatchling and hatch (entry point only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hatchling.plugin import hookimpl

from hatch_attest._build_hook import AttestBuildHook

if TYPE_CHECKING:
    from hatch_attest._hatch_publisher import AttestPublisher


@hookimpl
def hatch_register_build_hook() -> type[AttestBuildHook]:
    return AttestBuildHook


@hookimpl
def hatch_register_publisher() -> type[AttestPublisher]:
    """``hatch publish -p attest``; imported only when hatch asks, never in a build."""
    from hatch_attest._hatch_publisher import AttestPublisher

    return AttestPublisher
