"""The fault matrix: every fault the local instance can inject, at every endpoint, in both modes.

Each scenario runs ``hatch-attest sign`` (the same attest path as the build hook)
in an emulated GitHub Actions job against real faults served over HTTP, and
asserts what a release engineer would see: the exit status, the class of the
one-line message, that no attestation (or temporary file) was left behind, and
that no credential appears in the output. Each run is bounded (it runs in a
thread that must be done by the budget plus start-up); trickling servers are also
judged by how many bytes they had sent when the client gave up.
``tests/conftest.py`` prints the matrix at the end of the run.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from hatch_attest import _http
from hatch_attest.cli import main
from hatch_attest.testing import (
    Fault,
    GitHubIdentity,
    LocalIndex,
    LocalSigstore,
    fake_wheel,
    verify_as_pypi,
)

from .matrix import FAULT_MATRIX, MatrixRow

BUDGET = 2.0
# The budget bounds network time; interpreter work and sigstore's crypto come on top.
SLACK = 6.0
TRICKLE = 0.25
"""Seconds between two bytes of a trickled answer: every read gets a byte in time."""
# A client that gives up at the deadline has let a trickling server send its head
# (about 150 bytes, at once unless the headers trickle too) and about
# BUDGET / TRICKLE more; each whole answer trickled here is over 1000 bytes long.
TRICKLED_BYTES_LIMIT = 400
DEADLINE_RAN_OUT = f"the deadline ({BUDGET:g} s, option `timeout`) ran out"


@dataclass(frozen=True)
class Injection:
    endpoint: str
    fault: Fault
    times: int | None = None
    method: str | None = None


@dataclass(frozen=True)
class Scenario:
    endpoint: str  # the matrix's "endpoint" column
    label: str
    # What the one-line error names; None means the run must succeed.
    message: str | None
    injections: tuple[Injection, ...]
    # The error must say that the deadline ran out.
    deadline: bool = False


def _one(endpoint: str, fault: Fault, label: str, message: str | None) -> Scenario:
    """A scenario with one fault on every request to one endpoint."""
    return Scenario(endpoint, label, message, (Injection(endpoint, fault),))


def _transport(endpoint: str, service: str) -> list[Scenario]:
    return [
        _one(endpoint, Fault.status(500), "HTTP 500", service),
        _one(endpoint, Fault.status(503), "HTTP 503", service),
        _one(endpoint, Fault.status(429, retry_after=1), "HTTP 429 + Retry-After", service),
        _one(endpoint, Fault.status(400, body='{"message": "bad request"}'), "HTTP 400", service),
        _one(endpoint, Fault.status(401, body='{"message": "unauthorized"}'), "HTTP 401", service),
        _one(endpoint, Fault.delay(0.3), "delay 0.3 s", None),
        _one(endpoint, Fault.hang(), "hang", service),
        _one(endpoint, Fault.malformed(), "malformed body", service),
        _one(endpoint, Fault.drop_after_processing(), "dropped after work", service),
        # A server that echoes the request (token included) in its error body.
        _one(endpoint, Fault.echo(400), "echo request (JSON)", service),
        _one(endpoint, Fault.echo(502, json=False), "echo request (text)", service),
        # Each read gets a byte in time: only a bound on the whole exchange ends these.
        _trickle(endpoint, Fault.trickle(TRICKLE), "trickled body", service),
        _trickle(endpoint, Fault.trickle(TRICKLE, headers=True), "trickled headers", service),
    ]


def _trickle(endpoint: str, fault: Fault, label: str, message: str) -> Scenario:
    return Scenario(endpoint, label, message, (Injection(endpoint, fault),), deadline=True)


def _duplicate(label: str, message: str | None, lookup: Fault | None = None) -> Scenario:
    """Rekor logs the first POST and drops its answer; the retry gets 409, then a GET."""
    dropped = Injection("rekor", Fault.drop_after_processing(), times=1, method="POST")
    reads = () if lookup is None else (Injection("rekor", lookup, method="GET"),)
    return Scenario("rekor", label, message, (dropped, *reads))


def _everywhere(seconds: float, message: str | None) -> Scenario:
    """The same delay at the token, the certificate and the log entry of one artifact."""
    label = f"delay {seconds:g} s x3"
    endpoints = ("oidc", "fulcio", "rekor")
    return Scenario(
        "all", label, message, tuple(Injection(e, Fault.delay(seconds)) for e in endpoints)
    )


SCENARIOS = [
    *_transport("oidc", "GitHub Actions"),
    *_transport("fulcio", "Fulcio"),
    _one("fulcio", Fault.wrong_sct_key(), "SCT by unknown log", "Fulcio"),
    _one("fulcio", Fault.untrusted_ca(), "CA not trusted", "does not verify"),
    *_transport("rekor", "Rekor"),
    _one("rekor", Fault.bad_inclusion_proof(), "bad inclusion proof", "does not verify"),
    _one("rekor", Fault.bad_set(), "bad SET", "does not verify"),
    _one("rekor", Fault.bad_checkpoint(), "bad checkpoint", "does not verify"),
    _duplicate("dropped once, 409", None),
    _duplicate("dup, lookup 404", None, Fault.status(404)),
    _duplicate("dup, lookup malformed", None, Fault.malformed()),
    _duplicate("dup, lookup hangs", "Rekor logged the entry", Fault.hang()),
    _duplicate("dup, lookup trickles", "Rekor logged the entry", Fault.trickle(TRICKLE)),
    _duplicate("dup, lookup bad proof", "does not verify", Fault.bad_inclusion_proof()),
    _duplicate("dup, lookup bad SET", "does not verify", Fault.bad_set()),
    # One budget per artifact: three delays that each fit, but not together.
    _everywhere(0.4, None),
    _everywhere(0.8, "within the time budget"),
]


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.endswith(".whl"))


def _bounded_main(argv: Sequence[str], instance: LocalSigstore) -> int:
    """``main(argv)``, which must be done within the budget plus start-up.

    Past that bound, the instance is reset (a reset ends trickled answers) and the
    test fails, instead of waiting for a trickled answer to finish.
    """
    statuses: list[int] = []
    runner = threading.Thread(target=lambda: statuses.append(main(list(argv))), daemon=True)
    runner.start()
    runner.join(BUDGET + SLACK)
    if runner.is_alive():
        instance.reset()
        runner.join(SLACK)
        pytest.fail(f"hatch-attest sign --timeout {BUDGET:g} was still running after the budget")
    assert statuses, "main() raised instead of returning an exit status"
    return statuses[0]


@pytest.mark.parametrize("mode", ["auto", "always"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.endpoint}-{s.label}")
def test_fault(
    scenario: Scenario,
    mode: str,
    tmp_path: Path,
    sigstore_instance: LocalSigstore,
    github_job: GitHubIdentity,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dist = tmp_path / "dist"
    wheel = fake_wheel(dist, "matrix_pkg")
    for injection in scenario.injections:
        sigstore_instance.inject(
            injection.endpoint, injection.fault, times=injection.times, method=injection.method
        )
    trust_config = str(sigstore_instance.trust_config_path)

    started = time.monotonic()
    argv = ["sign", "--mode", mode, "--timeout", str(BUDGET), "--trust-config", trust_config]
    status = _bounded_main([*argv, str(dist)], sigstore_instance)
    elapsed = time.monotonic() - started
    sent = sigstore_instance.bytes_sent()
    out, err = capsys.readouterr()

    leaked = sigstore_instance.credential_scan().found_in(out + err)
    leftovers = _leftovers(dist)
    outcome = "attested" if status == 0 else err.strip().splitlines()[-1][:90]
    FAULT_MATRIX.append(
        MatrixRow(
            scenario.endpoint, scenario.label, mode, status, outcome, elapsed, leftovers, leaked
        )
    )

    assert not leaked
    if scenario.deadline:
        # The client hung up at the deadline, long before the whole answer went out.
        assert 0 < sent[scenario.endpoint] < TRICKLED_BYTES_LIMIT, sent
    if scenario.message is None:
        assert status == 0, err
        assert leftovers == [f"{wheel.name}.publish.attestation"]
        verify_as_pypi(wheel, github_job, sigstore_instance.trust_config_path)
    else:
        assert status == 1, (out, err)
        assert leftovers == []
        [line] = [line for line in err.splitlines() if line.startswith("hatch-attest: error:")]
        assert scenario.message in line
        if scenario.deadline:
            assert DEADLINE_RAN_OUT in line
        assert "Traceback" not in err


@pytest.mark.parametrize("endpoint", ["oidc", "fulcio", "rekor"])
def test_one_transient_failure_is_survived_by_a_retry(
    endpoint: str,
    tmp_path: Path,
    sigstore_instance: LocalSigstore,
    github_job: GitHubIdentity,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dist = tmp_path / "dist"
    fake_wheel(dist, "matrix_pkg")
    sigstore_instance.inject(endpoint, Fault.status(503), times=1)

    status = main(["sign", "--trust-config", str(sigstore_instance.trust_config_path), str(dist)])

    assert status == 0, capsys.readouterr().err
    assert len(list(dist.glob("*.publish.attestation"))) == 1
    expected = {"oidc": 1, "fulcio": 1, "rekor": 1, "tsa": 0}
    expected[endpoint] += 1  # the 503, then the retry
    assert sigstore_instance.counts() == expected


def test_retry_after_is_honoured(
    tmp_path: Path,
    sigstore_instance: LocalSigstore,
    github_job: GitHubIdentity,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dist = tmp_path / "dist"
    fake_wheel(dist, "matrix_pkg")
    sigstore_instance.inject("rekor", Fault.status(429, retry_after=1), times=1)

    started = time.monotonic()
    status = main(["sign", "--trust-config", str(sigstore_instance.trust_config_path), str(dist)])

    assert status == 0, capsys.readouterr().err
    assert time.monotonic() - started >= 1.0  # waited as told, then succeeded
    assert sigstore_instance.counts()["rekor"] == 2


def test_one_budget_covers_the_token_the_certificate_and_the_log_entry(
    tmp_path: Path,
    sigstore_instance: LocalSigstore,
    github_job: GitHubIdentity,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each phase alone fits in the budget; the artifact's three together do not."""
    dist = tmp_path / "dist"
    fake_wheel(dist, "matrix_pkg")
    for endpoint in ("oidc", "fulcio", "rekor"):
        sigstore_instance.inject(endpoint, Fault.delay(0.8))

    started = time.monotonic()
    trust_config = str(sigstore_instance.trust_config_path)
    status = main(["sign", "--timeout", "2", "--trust-config", trust_config, str(dist)])
    elapsed = time.monotonic() - started

    err = capsys.readouterr().err
    assert status == 1
    assert "hatch-attest: error: Rekor did not answer within the time budget" in err
    # Bounded by the budget; interpreter work (imports, crypto) comes on top, so leave room
    # for a busy machine.
    assert elapsed < 2 + 2.0
    assert sigstore_instance.counts() == {"oidc": 1, "fulcio": 1, "rekor": 1, "tsa": 0}
    assert _leftovers(dist) == []


@pytest.mark.parametrize("headers", [False, True], ids=["body", "headers"])
def test_a_trickling_https_server_is_cut_off_at_the_deadline(
    headers: bool, local_index: LocalIndex
) -> None:
    """Every read gets a byte in time; the deadline still ends the whole exchange (over TLS)."""
    local_index.inject("simple", Fault.trickle(TRICKLE, headers=headers))
    session = _http.mount(requests.Session(), _http.BoundedAdapter())
    errors: list[BaseException] = []

    def fetch() -> None:
        with _http.deadline(1.0, budget=7), pytest.raises(_http.BudgetExhausted) as caught:
            session.get(f"{local_index.url}/simple/nothing/", verify=str(local_index.ca_path))
        errors.append(caught.value)

    fetcher = threading.Thread(target=fetch, daemon=True)
    fetcher.start()
    fetcher.join(1.0 + SLACK)
    sent, requested = local_index.bytes_sent()["simple"], local_index.counts()["simple"]
    local_index.reset()  # ends the trickle if the client is still reading
    fetcher.join(SLACK)
    session.close()

    [error] = errors
    assert str(error).endswith(
        "/simple/nothing/ did not finish answering (timed out): the deadline (7 s, option "
        "`timeout`) ran out"
    )
    assert 0 < sent < TRICKLED_BYTES_LIMIT
    assert requested == 1  # the deadline left no time for a retry


class _TricklingProxy:
    """An HTTP proxy that answers every CONNECT one byte per ``interval`` seconds.

    sigstore's TUF client (urllib3, a socket timeout per read) reaches
    tuf-repo-cdn.sigstore.dev through ``HTTPS_PROXY``: this stands for a CDN or
    proxy that trickles, without any connection leaving the machine.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.sent = 0
        self.connections = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with connection, contextlib.suppress(OSError):
                connection.recv(4096)
                for byte in b"HTTP/1.1 200 Connection established\r\n\r\n":
                    if self._stop.wait(self.interval):
                        return
                    connection.sendall(bytes([byte]))
                    self.sent += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(SLACK)
        self._listener.close()


def test_a_trickling_tuf_repository_is_given_up_on_at_the_deadline(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sigstore_instance: LocalSigstore,
    github_job: GitHubIdentity,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The production trust root's TUF refresh is part of the artifact's budget."""
    # sigstore's TUF cache in a private folder, seeded from the root it embeds.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    proxy = _TricklingProxy(TRICKLE)
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, proxy.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1")  # the local token service stays direct
    dist = tmp_path / "dist"
    fake_wheel(dist, "matrix_pkg")

    try:
        status = _bounded_main(
            ["sign", "--instance", "production", "--timeout", str(BUDGET), str(dist)],
            sigstore_instance,
        )
    finally:
        proxy.close()

    err = capsys.readouterr().err
    assert status == 1
    assert err.splitlines()[-1] == (
        "hatch-attest: error: cannot load the Sigstore production trust root: its TUF "
        "repository (tuf-repo-cdn.sigstore.dev) did not finish answering before "
        f"{DEADLINE_RAN_OUT}. Retry the job; if the service is slow rather than down, raise "
        "`timeout` (HATCH_ATTEST_TIMEOUT)."
    )
    assert proxy.connections == 1
    assert 0 < proxy.sent < 39  # the CONNECT answer was still trickling
    assert sigstore_instance.counts() == {"oidc": 1, "fulcio": 0, "rekor": 0, "tsa": 0}
    assert _leftovers(dist) == []
