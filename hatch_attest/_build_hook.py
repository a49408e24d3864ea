"""The ``attest`` build hook: a PEP 740 attestation next to every wheel and sdist.

Hatchling calls, per target and per build process: ``dependencies()`` (through
the frontend's ``get_requires_for_build_*``), ``initialize()``, the build, then
``finalize()`` with the artifact path. ``python -m build`` and ``uv build``
build the sdist and then the wheel in separate processes, so every call here
works from the configuration and the environment alone, with no state shared
between artifacts. All the deciding is done by :mod:`hatch_attest._attest`; this
module only passes hatchling's inputs in and shows the results.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

from hatch_attest import _files as files
from hatch_attest._attest import attest, preflight, requirements_for
from hatch_attest._config import HOOK_TABLE, AttestConfig, load_config
from hatch_attest._messages import PROG, error_text, traceback_text
from hatch_attest.errors import AttestError


class AttestBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Signs each wheel and sdist with the job's ambient identity (see the README)."""

    PLUGIN_NAME = "attest"

    @cached_property
    def attest_config(self) -> AttestConfig:
        """The validated hook table; a bad table aborts the build with every error."""
        try:
            return load_config(self.config, root=Path(self.root), env=os.environ, prefix=HOOK_TABLE)
        except AttestError as e:
            self._abort(e)
            raise  # abort() exits; this is for type checkers

    def dependencies(self) -> list[str]:
        """Ask for the signing stack only when this build is going to sign."""
        if self.target_name not in files.DISTRIBUTIONS:
            return []
        return requirements_for(self.attest_config, os.environ, project_urls=self._project_urls())

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        # Validate now, and refuse now (mode = always), so that nothing is built in vain.
        config = self.attest_config
        if version == "editable" or self.target_name not in files.DISTRIBUTIONS:
            return
        try:
            preflight(config, os.environ, project_urls=self._project_urls())
        except Exception as e:
            self._abort(e)
            raise  # abort() exits; this is for type checkers

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if version == "editable" or self.target_name not in files.DISTRIBUTIONS:
            return
        try:
            written = attest(
                [Path(artifact_path)],
                self.attest_config,
                os.environ,
                _BuildLog(self.app),
                project_urls=self._project_urls(),
            )
        except Exception as e:
            self._abort(e)
            raise  # abort() exits; this is for type checkers
        for item in written:
            self.app.display_success(item.describe())

    def clean(self, versions: list[str]) -> None:
        """Remove the attestations of the artifacts hatchling's own clean removes."""
        suffix = files.DISTRIBUTIONS.get(self.target_name)
        directory = Path(self.directory)
        if suffix is None or not directory.is_dir():
            return
        for path in files.clean_attestations(directory, suffix):
            self.app.display_info(f"Removed {path.name}")

    def _abort(self, error: Exception) -> None:
        if not isinstance(error, AttestError):
            # A bug: its traceback helps, but only redacted (it may quote a server).
            self.app.display_error(traceback_text(error).rstrip("\n"))
        # The same (redacted) text as the wrapper backend prints; abort() exits.
        self.app.abort(error_text(error, door="build", table=HOOK_TABLE))

    def _project_urls(self) -> dict[str, str]:
        try:
            urls = self.metadata.core.urls
        except (ValueError, TypeError):
            return {}
        return dict(urls) if isinstance(urls, dict) else {}


class _BuildLog:
    """hatchling's ``app`` as a :class:`~hatch_attest._attest.Reporter`.

    hatchling prints a warning as plain text under a PEP 517 frontend, so a warning
    says so itself, as the wrapper backend's and the CLI's do: a skip that needs
    attention must not read like a laptop's quiet skip.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def display_info(self, message: str) -> None:
        self.app.display_info(message)

    def display_warning(self, message: str) -> None:
        self.app.display_warning(f"{PROG}: warning: {message}")
