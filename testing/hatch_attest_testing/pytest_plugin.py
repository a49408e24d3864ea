"""Pytest fixtures for the local Sigstore instance and the local package index.

Installed with the `hatch-attest-testing` distribution, this plugin loads itself
(entry point `pytest11`: `local_sigstore`). One instance serves the whole session
(starting one is cheap, but a shared log also exercises inclusion proofs in a
growing tree); each test gets it back as `local_sigstore`, with faults, counts and
latency cleared. `local_index` is a package index bound to that instance, emptied
for each test.

`sigstore_no_ci` takes this process out of any CI job; `sigstore_ci_job(env)` then
enters one, and `sigstore_github_job` / `sigstore_gitlab_job` enter the job of
`sigstore_github_identity` / `sigstore_gitlab_identity` (each test gets a repository
of its own; override the identity fixture in a module to run as another).
`run_main` runs a console script's `main(argv)` in-process; `run_bounded` (a
function) runs a child process with a time bound and kills its whole process group.

The credential leak scan is opt-in: `--local-sigstore-leak-scan`, or
`local_sigstore_leak_scan = true` in the ini file. It checks that no credential
the instance handed out (ID tokens, GitHub request tokens, ...), nor any piece of
one, leaks: every test report (captured stdout, stderr and log, and tracebacks) is
searched as it comes in, and at the end every file under the session's temporary
directory; a leak fails the session. A piece is any 16 consecutive characters of a
token's claims or signature segment, or of a request token (its first 16
characters included); see `hatch_attest_testing._leaks` for why a token's header
segment is not searched.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hatch_attest_testing import (
    GitHubIdentity,
    GitLabIdentity,
    LocalIndex,
    LocalSigstore,
    is_ci_variable,
)
from hatch_attest_testing._cli import CliResult, Main
from hatch_attest_testing._cli import run_main as _run_main
from hatch_attest_testing._leaks import CredentialScan

# Third-party package caches and build environments the frontends fill: large,
# and written by pip/uv, never by the code under test.
_SKIPPED_DIRECTORIES = {"uv-cache", "hatch-data", "hatch-cache", "site-packages"}
_MAX_SCANNED_FILE = 8 << 20


@dataclass
class _LeakScan:
    instances: list[LocalSigstore] = field(default_factory=list)
    roots: set[Path] = field(default_factory=set)
    reports: int = 0
    files: int = 0
    leaks: list[str] = field(default_factory=list)
    enabled: bool = False

    _cached: tuple[int, CredentialScan] | None = None

    def scan(self) -> CredentialScan:
        secrets = [s for i in self.instances for s in i.secrets()]
        if self._cached is None or self._cached[0] != len(secrets):
            self._cached = (len(secrets), CredentialScan(secrets))
        return self._cached[1]

    def secret_count(self) -> int:
        return len({s for i in self.instances for s in i.secrets()})


_scan = _LeakScan()

_LEAK_SCAN_OPTION = "local_sigstore_leak_scan"
_LEAK_SCAN_HELP = (
    "search every test report and every file under the session's temporary directory "
    "for credentials the local Sigstore handed out; a leak fails the session"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """The leak scan's switch: a command-line flag, or an ini option."""
    group = parser.getgroup("local-sigstore", "local Sigstore and package index")
    group.addoption(
        "--local-sigstore-leak-scan",
        action="store_true",
        default=None,
        dest=_LEAK_SCAN_OPTION,
        help=_LEAK_SCAN_HELP,
    )
    parser.addini(_LEAK_SCAN_OPTION, _LEAK_SCAN_HELP, type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    """Decide once whether this session scans for leaks."""
    flag = config.getoption(_LEAK_SCAN_OPTION)
    _scan.enabled = bool(config.getini(_LEAK_SCAN_OPTION) if flag is None else flag)


@pytest.fixture(scope="session")
def local_sigstore_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSigstore]:
    """The session's instance; prefer `local_sigstore`, which resets it per test."""
    with LocalSigstore.start(directory=tmp_path_factory.mktemp("local-sigstore")) as instance:
        _scan.instances.append(instance)
        _scan.roots.add(tmp_path_factory.getbasetemp())
        yield instance


@pytest.fixture
def local_sigstore(local_sigstore_session: LocalSigstore) -> Iterator[LocalSigstore]:
    """The session's instance with no faults, zero counts and no latency."""
    local_sigstore_session.reset()
    local_sigstore_session.latency = 0.0
    yield local_sigstore_session
    # A fault left behind must not break the next test.
    local_sigstore_session.reset()
    local_sigstore_session.latency = 0.0


@pytest.fixture(scope="session")
def local_index_session(
    local_sigstore_session: LocalSigstore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalIndex]:
    """The session's package index; prefer `local_index`, which empties it per test."""
    with LocalIndex.start(
        local_sigstore_session, directory=tmp_path_factory.mktemp("local-index")
    ) as index:
        yield index


@pytest.fixture
def local_index(
    local_index_session: LocalIndex, local_sigstore: LocalSigstore
) -> Iterator[LocalIndex]:
    """A package index with PyPI's upload rules, trusting `local_sigstore`.

    Empty for each test: no files, no Trusted Publishers, no faults, zero counts.
    """
    local_index_session.reset()
    yield local_index_session
    local_index_session.reset()


@pytest.fixture
def sigstore_no_ci(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """This process outside any CI job or cloud VM; returns the monkeypatch to add one.

    Removes every CI variable (see `outside_ci`). On a Google Compute Engine
    runner, a tool that tells a VM by its DMI product name still sees one: a
    project overrides this fixture to point its own probe elsewhere (see
    hatch-attest's `tests/conftest.py`), or uses `GoogleCloud.patched()`.
    """
    for name in list(os.environ):
        if is_ci_variable(name):
            monkeypatch.delenv(name)
    return monkeypatch


CIJob = Callable[[Mapping[str, str]], None]
"""What `sigstore_ci_job` returns: enter a CI job's environment."""


@pytest.fixture
def sigstore_ci_job(sigstore_no_ci: pytest.MonkeyPatch) -> CIJob:
    """Makes this process the CI job whose environment is `env`: call it with one.

    Built on `sigstore_no_ci`, so no variable of the machine's own CI, if any, remains.
    """

    def enter(env: Mapping[str, str]) -> None:
        for name, value in env.items():
            sigstore_no_ci.setenv(name, value)

    return enter


@pytest.fixture
def sigstore_github_job(
    sigstore_ci_job: CIJob,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> GitHubIdentity:
    """This process as `sigstore_github_identity`'s GitHub Actions job, with `id-token: write`.

    Override `sigstore_github_identity` in a test module to run as another repository.
    """
    sigstore_ci_job(local_sigstore.github_env(sigstore_github_identity))
    return sigstore_github_identity


@pytest.fixture
def sigstore_gitlab_job(
    sigstore_ci_job: CIJob,
    local_sigstore: LocalSigstore,
    sigstore_gitlab_identity: GitLabIdentity,
) -> GitLabIdentity:
    """This process as `sigstore_gitlab_identity`'s GitLab CI job, with a `SIGSTORE_ID_TOKEN`."""
    sigstore_ci_job(local_sigstore.gitlab_env(sigstore_gitlab_identity))
    return sigstore_gitlab_identity


def _unique_name(request: pytest.FixtureRequest) -> str:
    """A repository name of this test's own: readable, and unique per test id."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", request.node.name).strip("-.")[:60]
    digest = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:8]
    return f"{readable}-{digest}"


@pytest.fixture
def sigstore_github_identity(request: pytest.FixtureRequest) -> GitHubIdentity:
    """A GitHub Actions job in a repository no other test uses."""
    return GitHubIdentity(repository=f"octo-org/{_unique_name(request)}")


@pytest.fixture
def sigstore_gitlab_identity(request: pytest.FixtureRequest) -> GitLabIdentity:
    """A GitLab CI job in a project no other test uses."""
    return GitLabIdentity(project_path=f"octo-group/{_unique_name(request)}")


MainRunner = Callable[..., CliResult]
"""What `run_main` returns: call it with a `main` and its arguments."""


@pytest.fixture
def run_main(capsys: pytest.CaptureFixture[str]) -> MainRunner:
    """Runs a console script's `main(argv) -> int` in-process: `run_main(main, *argv)`.

    Returns a `CliResult`: the exit status and what the command printed (only what
    this call printed; earlier output is dropped).
    """

    def run(main: Main, *argv: str | Path) -> CliResult:
        return _run_main(capsys, main, *argv)

    return run


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Search what this test printed, logged and raised for any credential."""
    if not _scan.enabled:
        return
    scan = _scan.scan()
    if not scan:
        return
    _scan.reports += 1
    texts = [(title, content) for title, content in report.sections]
    texts.append(("traceback", report.longreprtext))
    for title, text in texts:
        if scan.found_in(text):
            _scan.leaks.append(f"{report.nodeid} ({report.when}): a credential in {title}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Search every file the suite wrote; a leak fails the session."""
    if not _scan.enabled:
        return
    scan = _scan.scan()
    if scan:
        for root in _scan.roots:
            for directory, subdirectories, filenames in os.walk(root):
                subdirectories[:] = [d for d in subdirectories if d not in _SKIPPED_DIRECTORIES]
                for name in filenames:
                    path = Path(directory, name)
                    try:
                        if path.is_symlink() or path.stat().st_size > _MAX_SCANNED_FILE:
                            continue
                        data = path.read_bytes()
                    except OSError:
                        continue
                    _scan.files += 1
                    if scan.found_in(data):
                        _scan.leaks.append(f"{path}: contains a credential or a piece of one")
    if _scan.leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report the leak scan, so that a green run says what it checked."""
    if not _scan.enabled or not _scan.instances:
        return
    terminalreporter.write_sep("-", "credential leak scan")
    terminalreporter.write_line(
        f"{_scan.secret_count()} credentials ({len(_scan.scan())} 16-character pieces) "
        f"searched for in {_scan.reports} test reports and {_scan.files} files: "
        f"{len(_scan.leaks)} leaks"
    )
    for leak in _scan.leaks:
        terminalreporter.write_line(f"LEAK: {leak}", red=True)
