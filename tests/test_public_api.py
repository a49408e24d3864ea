"""The declared public surface: what `hatch_attest` exports, cheaply, and nothing else public."""

from __future__ import annotations

import pkgutil
import sys
from pathlib import Path

import hatch_attest
from hatch_attest import errors
from hatch_attest_testing import run_bounded

PUBLIC_MODULES = {"backend", "errors", "hooks"}
"""Modules others name: the PEP 517 backend, the error classes, hatch's entry point."""


def test_every_exported_name_resolves() -> None:
    for name in hatch_attest.__all__:
        assert getattr(hatch_attest, name) is not None, name


def test_every_error_a_user_can_see_is_exported() -> None:
    classes = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.AttestError)
    }
    assert classes <= set(hatch_attest.__all__)


def test_internal_modules_are_underscored() -> None:
    package = Path(hatch_attest.__file__).parent
    public = {
        module.name
        for module in pkgutil.iter_modules([str(package)])
        if not module.name.startswith("_")
    }
    assert public == PUBLIC_MODULES


def test_importing_the_package_imports_no_signing_stack() -> None:
    code = (
        "import sys, hatch_attest; "
        "print(sorted(m for m in ('sigstore', 'pypi_attestations', 'requests', 'yaml') "
        "if m in sys.modules))"
    )
    done = run_bounded([sys.executable, "-c", code], timeout=60, check=True)
    assert done.stdout.strip() == "[]"
