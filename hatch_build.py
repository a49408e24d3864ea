"""hatch-attest's own build hook, loaded from this checkout: how hatch-attest releases itself.

A project cannot list itself in ``[build-system] requires``, and hatchling finds
``[tool.hatch.build.hooks.attest]`` only in an installed package's entry points.
So this repository uses hatchling's documented in-tree mechanism instead:
``[tool.hatch.build.hooks.custom]`` loads this file (hatchling's default script
name) and takes the hook class from ``get_build_hook()``. The class is the one
users get, :class:`hatch_attest._build_hook.AttestBuildHook`, imported from this
checkout (put first on ``sys.path``), so a release is signed by the code it ships.

Off CI it is idle, as for every user: ``pip install -e .`` and laptop builds
install and import nothing more (the hook returns early for editable builds).
"""

from __future__ import annotations

import sys
from pathlib import Path


def get_build_hook() -> type:
    """The ``attest`` hook class of this checkout."""
    root = str(Path(__file__).resolve().parent)
    if root not in sys.path:
        # An isolated build environment has hatchling, not hatch-attest: use the tree.
        sys.path.insert(0, root)
    from hatch_attest._build_hook import AttestBuildHook

    return AttestBuildHook
