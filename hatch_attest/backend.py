"""``hatch_attest.backend``: a PEP 517 backend that wraps another one and attests what it builds.

For projects that do not build with hatchling (setuptools, flit-core, pdm-backend,
poetry-core, ...)::

    [build-system]
    requires = ["setuptools>=77", "hatch-attest"]
    build-backend = "hatch_attest.backend"

    [tool.hatch-attest]
    build-backend = "setuptools.build_meta"   # the backend that really builds

``build_sdist`` and ``build_wheel`` call the wrapped backend, then hand the file it
returns to :func:`hatch_attest._attest.attest`, which makes every decision (the
same pipeline as the hatchling hook). ``get_requires_for_build_sdist``/``_wheel``
add the signing stack only when this build will sign. Every other hook
(``prepare_metadata_for_build_*``, the PEP 660 editable hooks, ...) is the wrapped
backend's own, present here exactly when it is present there, and called with the
same arguments: editable installs are never attested.

Each hook call runs in a fresh process (the frontend's choice), from the project
root. Only the standard library is imported until a hook is called; the
signing stack only when signing.

A wrapped backend without ``prepare_metadata_for_build_wheel`` (none of the
common ones) lets a frontend that asks for metadata first (pip) build the wheel
inside the metadata folder and later copy it without calling ``build_wheel``; the
copy carries no attestation. pip builds are skipped anyway (see the README).
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TypeAlias

    from hatch_attest._config import AttestConfig, BuildBackend

    ConfigSettings: TypeAlias = Mapping[str, Any] | None

__all__ = [
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
]


class _Host:
    """The project's configuration and the wrapped backend, loaded once per hook process."""

    config: AttestConfig
    project_urls: Mapping[str, str]
    backend: Any

    def __init__(self, root: Path) -> None:
        from hatch_attest._config import load_wrapper_config, read_pyproject
        from hatch_attest.errors import ConfigError

        try:
            project = read_pyproject(root)
            self.config, spec = load_wrapper_config(project, os.environ)
        except ConfigError as e:
            _fail(e)
        self.project_urls = project.project_urls
        self.backend = _import_backend(spec)

    def requirements(self) -> list[str]:
        from hatch_attest._attest import requirements_for

        return requirements_for(self.config, os.environ, project_urls=self.project_urls)

    def preflight(self) -> None:
        from hatch_attest._attest import preflight

        try:
            preflight(self.config, os.environ, project_urls=self.project_urls)
        except Exception as e:
            _fail(e)

    def attest(self, artifact: Path) -> None:
        from hatch_attest._attest import StderrReporter, attest

        reporter = StderrReporter()
        try:
            written = attest(
                [artifact], self.config, os.environ, reporter, project_urls=self.project_urls
            )
        except Exception as e:
            _fail(e)
        for item in written:
            reporter.display_info(item.describe())


def _host() -> _Host:
    # The frontend runs every hook from the project root (PEP 517); keyed by it for
    # a caller that runs hooks of several projects in one process.
    return _load_host(Path.cwd())


@functools.cache
def _load_host(root: Path) -> _Host:
    return _Host(root)


def _fail(error: BaseException) -> NoReturn:
    from hatch_attest._config import WRAPPER_TABLE
    from hatch_attest._messages import error_text, traceback_text
    from hatch_attest.errors import AttestError

    if not isinstance(error, AttestError):
        # A bug: its traceback helps, but only redacted (it may quote a server).
        print(traceback_text(error), end="", file=sys.stderr)
    # Frontends show a backend's stderr and exit status; SystemExit prints just the
    # message, like hatchling's abort(), instead of a traceback through our frames.
    raise SystemExit(error_text(error, door="build", table=WRAPPER_TABLE)) from error


def _fail_config(errors: list[str]) -> NoReturn:
    from hatch_attest.errors import ConfigError

    _fail(ConfigError(errors))


def _import_backend(spec: BuildBackend) -> Any:
    """Import the wrapped backend as a frontend would, from ``backend-path`` first."""
    where = "tool.hatch-attest.build-backend"
    if spec.path:
        sys.path[:0] = [str(folder) for folder in spec.path]
    try:
        backend: Any = importlib.import_module(spec.module)
    except ImportError as e:
        in_tree = (
            "; a backend inside the project is found through tool.hatch-attest.backend-path "
            '(e.g. backend-path = ["_build"]), not [build-system] backend-path'
        )
        _fail_config(
            [
                f"{where}: cannot import {spec.module!r} ({type(e).__name__}: {e}); add the "
                f"package that provides it to [build-system] requires{in_tree}"
            ]
        )
    for part in filter(None, spec.object_path.split(".")):
        try:
            backend = getattr(backend, part)
        except AttributeError:
            _fail_config([f"{where}: module {spec.module!r} has no attribute path {spec.spec!r}"])
    return backend


def get_requires_for_build_sdist(config_settings: ConfigSettings = None) -> list[str]:
    """The wrapped backend's requirements, plus the signing stack if this build will sign."""
    host = _host()
    hook = getattr(host.backend, "get_requires_for_build_sdist", None)
    requires = list(hook(config_settings)) if hook is not None else []
    return requires + host.requirements()


def get_requires_for_build_wheel(config_settings: ConfigSettings = None) -> list[str]:
    """The wrapped backend's requirements, plus the signing stack if this build will sign."""
    host = _host()
    hook = getattr(host.backend, "get_requires_for_build_wheel", None)
    requires = list(hook(config_settings)) if hook is not None else []
    return requires + host.requirements()


def build_sdist(sdist_directory: str, config_settings: ConfigSettings = None) -> str:
    """Build with the wrapped backend, then attest the sdist next to it."""
    host = _host()
    host.preflight()
    name: str = host.backend.build_sdist(sdist_directory, config_settings)
    host.attest(Path(sdist_directory) / name)
    return name


def build_wheel(
    wheel_directory: str,
    config_settings: ConfigSettings = None,
    metadata_directory: str | None = None,
) -> str:
    """Build with the wrapped backend, then attest the wheel next to it."""
    host = _host()
    host.preflight()
    name: str = host.backend.build_wheel(wheel_directory, config_settings, metadata_directory)
    host.attest(Path(wheel_directory) / name)
    return name


def __getattr__(name: str) -> Any:
    """Every other hook is the wrapped backend's, present only when it is there."""
    if name.startswith("__"):
        # Import machinery and tools probe dunders; never load the project for them.
        raise AttributeError(name)
    try:
        return getattr(_host().backend, name)
    except AttributeError:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg) from None
