"""Installed as ``sitecustomize.py`` by ``hatch_attest_testing`` (see ``GoogleCloud.environ``).

Sets module constants as each named module is imported, in a child process:
``LOCAL_SIGSTORE_MODULE_CONSTANTS`` maps a module name to ``{constant: value}``.
Standard library only, since it runs in any Python the child starts (pip's, a
build environment's) before anything else is importable.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any


class _SetConstants(importlib.abc.MetaPathFinder):
    def __init__(self, constants: dict[str, dict[str, Any]]) -> None:
        self._constants = constants

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        values = self._constants.get(fullname)
        if values is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        loader = None if spec is None else spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        execute = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            execute(module)
            for name, value in values.items():
                setattr(module, name, value)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _install() -> None:
    try:
        constants = json.loads(os.environ.get("LOCAL_SIGSTORE_MODULE_CONSTANTS") or "{}")
    except ValueError:
        return
    if isinstance(constants, dict) and constants:
        sys.meta_path.insert(0, _SetConstants(constants))


_install()
