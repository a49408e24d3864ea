"""Pytest fixtures for the local Sigstore instance and the local package index.

Enable with `pytest_plugins = ["hatch_attest.testing.pytest_plugin"]` in a
conftest. One instance serves the whole session (starting one is cheap, but a
shared log also exercises inclusion proofs in a growing tree); each test gets it
back with faults, counts and latency cleared. `local_index` is a package index
bound to that instance, emptied for each test.

`no_ci` takes this process out of any CI job; `ci_job(env)` then enters one,
and `github_job` / `gitlab_job` enter the job of `github_identity` /
`gitlab_identity` (each test gets a repository of its own; override the identity
fixture in a module to run as another).

It also checks that no credential the instance handed out (ID tokens, GitHub
request tokens), nor any piece of one, leaks: every test report (captured stdout,
stderr and log, and tracebacks) is searched as it comes in, and at the end every
file under the session's temporary directory; a leak fails the session. A piece
is any 16 consecutive characters of a token's claims or signature segment, or of
a request token (its first 16 characters included); see
`hatch_attest.testing._leaks` for why a token's header segment is not searched.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hatch_attest.testing import (
    GitHubIdentity,
    GitLabIdentity,
    LocalIndex,
    LocalSigstore,
    is_ci_variable,
)
from hatch_attest.testing._leaks import CredentialScan

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

    _cached: tuple[int, CredentialScan] | None = None

    def scan(self) -> CredentialScan:
        secrets = [s for i in self.instances for s in i.secrets()]
        if self._cached is None or self._cached[0] != len(secrets):
            self._cached = (len(secrets), CredentialScan(secrets))
        return self._cached[1]

    def secret_count(self) -> int:
        return len({s for i in self.instances for s in i.secrets()})


_scan = _LeakScan()


@pytest.fixture(scope="session")
def local_sigstore(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSigstore]:
    """The session's instance; prefer `sigstore_instance`, which resets it per test."""
    with LocalSigstore.start(directory=tmp_path_factory.mktemp("local-sigstore")) as instance:
        _scan.instances.append(instance)
        _scan.roots.add(tmp_path_factory.getbasetemp())
        yield instance


@pytest.fixture
def sigstore_instance(local_sigstore: LocalSigstore) -> Iterator[LocalSigstore]:
    """The session's instance with no faults, zero counts and no latency."""
    local_sigstore.reset()
    local_sigstore.latency = 0.0
    yield local_sigstore
    # A fault left behind must not break the next test that uses `local_sigstore`.
    local_sigstore.reset()
    local_sigstore.latency = 0.0


@pytest.fixture(scope="session")
def local_index_session(
    local_sigstore: LocalSigstore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalIndex]:
    """The session's package index; prefer `local_index`, which empties it per test."""
    with LocalIndex.start(
        local_sigstore, directory=tmp_path_factory.mktemp("local-index")
    ) as index:
        yield index


@pytest.fixture
def local_index(
    local_index_session: LocalIndex, sigstore_instance: LocalSigstore
) -> Iterator[LocalIndex]:
    """A package index with PyPI's upload rules, trusting `sigstore_instance`.

    Empty for each test: no files, no Trusted Publishers, no faults, zero counts.
    """
    local_index_session.reset()
    yield local_index_session
    local_index_session.reset()


@pytest.fixture
def no_ci(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """This process outside any CI job or cloud VM; returns the monkeypatch to add one.

    Removes every CI variable (see `outside_ci`), and points the DMI product name
    file that `id` and hatch-attest read to tell a Google Compute Engine VM at an
    empty file, so that a test means the same on a laptop and on a GCE runner.
    """
    for name in list(os.environ):
        if is_ci_variable(name):
            monkeypatch.delenv(name)
    monkeypatch.setattr("hatch_attest.kinds.google.GCP_PRODUCT_NAME_FILE", os.devnull)
    monkeypatch.setattr("id._internal.oidc.ambient._GCP_PRODUCT_NAME_FILE", os.devnull)
    return monkeypatch


CIJob = Callable[[Mapping[str, str]], None]
"""What `ci_job` returns: enter a CI job's environment."""


@pytest.fixture
def ci_job(no_ci: pytest.MonkeyPatch) -> CIJob:
    """Makes this process the CI job whose environment is `env`: call it with one.

    Built on `no_ci`, so no variable of the machine's own CI, if any, remains.
    """

    def enter(env: Mapping[str, str]) -> None:
        for name, value in env.items():
            no_ci.setenv(name, value)

    return enter


@pytest.fixture
def github_job(
    ci_job: CIJob, sigstore_instance: LocalSigstore, github_identity: GitHubIdentity
) -> GitHubIdentity:
    """This process as `github_identity`'s GitHub Actions job, with `id-token: write`.

    Override `github_identity` in a test module to run as another repository.
    """
    ci_job(sigstore_instance.github_env(github_identity))
    return github_identity


@pytest.fixture
def gitlab_job(
    ci_job: CIJob, sigstore_instance: LocalSigstore, gitlab_identity: GitLabIdentity
) -> GitLabIdentity:
    """This process as `gitlab_identity`'s GitLab CI job, with a `SIGSTORE_ID_TOKEN`."""
    ci_job(sigstore_instance.gitlab_env(gitlab_identity))
    return gitlab_identity


def _unique_name(request: pytest.FixtureRequest) -> str:
    """A repository name of this test's own: readable, and unique per test id."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", request.node.name).strip("-.")[:60]
    digest = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:8]
    return f"{readable}-{digest}"


@pytest.fixture
def github_identity(request: pytest.FixtureRequest) -> GitHubIdentity:
    """A GitHub Actions job in a repository no other test uses."""
    return GitHubIdentity(repository=f"octo-org/{_unique_name(request)}")


@pytest.fixture
def gitlab_identity(request: pytest.FixtureRequest) -> GitLabIdentity:
    """A GitLab CI job in a project no other test uses."""
    return GitLabIdentity(project_path=f"octo-group/{_unique_name(request)}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Search what this test printed, logged and raised for any credential."""
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
    if not _scan.instances:
        return
    terminalreporter.write_sep("-", "credential leak scan")
    terminalreporter.write_line(
        f"{_scan.secret_count()} credentials ({len(_scan.scan())} 16-character pieces) "
        f"searched for in {_scan.reports} test reports and {_scan.files} files: "
        f"{len(_scan.leaks)} leaks"
    )
    for leak in _scan.leaks:
        terminalreporter.write_line(f"LEAK: {leak}", red=True)
