"""Shared test configuration: the CLI runner, hatch-attest's own probe off any VM, and the
fault-matrix report. The local Sigstore fixtures come from the `hatch-attest-testing`
plugin (loaded through its `pytest11` entry point)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hatch_attest._cli import main
from hatch_attest_testing import Cli, CliResult, GitHubIdentity, LocalSigstore
from hatch_attest_testing.pytest_plugin import CIJob, MainRunner

from ._shared import GitHubJobAs
from .matrix import FAULT_MATRIX


@pytest.fixture
def cli(run_main: MainRunner) -> Cli:
    """``hatch-attest ARGS`` in-process: its exit status and what it printed."""

    def run(*argv: str | Path) -> CliResult:
        return run_main(main, *argv)

    return run


@pytest.fixture
def local_sign(cli: Cli, local_sigstore: LocalSigstore) -> Cli:
    """``hatch-attest sign --trust-config <the local instance's> ARGS`` in-process."""

    def run(*argv: str | Path) -> CliResult:
        return cli("sign", "--trust-config", local_sigstore.trust_config_path, *argv)

    return run


@pytest.fixture
def github_job_as(sigstore_ci_job: CIJob, local_sigstore: LocalSigstore) -> GitHubJobAs:
    """Make this process a GitHub job of ``GitHubIdentity(**fields)``; that identity."""

    def start(**fields: str) -> GitHubIdentity:
        identity = GitHubIdentity(**fields)
        sigstore_ci_job(local_sigstore.github_env(identity))
        return identity

    return start


@pytest.fixture
def sigstore_no_ci(sigstore_no_ci: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The plugin's `sigstore_no_ci`, and hatch-attest's probe off any Compute Engine VM.

    The probe tells a VM by its DMI product name file; an empty one means the same
    on a laptop and on a GCE runner.
    """
    sigstore_no_ci.setattr("hatch_attest._kinds.google.GCP_PRODUCT_NAME_FILE", os.devnull)
    return sigstore_no_ci


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
