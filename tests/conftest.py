"""Shared test configuration: the local Sigstore fixtures and the fault-matrix report."""

from __future__ import annotations

import pytest

from .matrix import FAULT_MATRIX

pytest_plugins = ["hatch_attest.testing.pytest_plugin"]


@pytest.fixture(autouse=True)
def _outside_any_project(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every test starts in an empty folder, not in this repository.

    The CLI reads ./pyproject.toml, and this repository's own names its GitHub
    repository in [project.urls], which (rightly) stops emulated jobs of other
    repositories from signing. A test that wants a project makes one.
    """
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the fault x endpoint -> outcome table when the fault matrix ran."""
    if not FAULT_MATRIX:
        return
    terminalreporter.write_sep("-", "fault matrix (hatch-attest sign against the local Sigstore)")
    header = f"{'endpoint':8} {'fault':22} {'mode':6} {'exit':4} {'secs':>5}  outcome"
    terminalreporter.write_line(header)
    for row in FAULT_MATRIX:
        terminalreporter.write_line(
            f"{row.endpoint:8} {row.fault:22} {row.mode:6} {row.status:<4} {row.seconds:5.1f}  "
            f"{row.outcome}"
        )
    bad = sum(row.lost_or_leaked for row in FAULT_MATRIX)
    terminalreporter.write_line(
        f"{len(FAULT_MATRIX)} scenarios; {bad} with anything lost or leaked"
    )
