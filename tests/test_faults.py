"""The fault matrix: every fault the local instance can inject, at every endpoint, in both modes.

Each scenario runs ``hatch-attest sign`` (the same attest path as the build hook)
in an emulated GitHub Actions job against real faults served over HTTP, and
asserts what a release engineer would see: the exit status, the class of the
one-line message, that the time stayed within the configured budget, that no
attestation (or temporary file) was left behind, and that no credential appears
in the output. Each run is bounded (it runs in a thread that must be done by its
budget plus slack); trickling servers are also judged by how many bytes they had
sent when the client gave up. ``tests/conftest.py`` prints the matrix at the end
of the run.

Budgets are short where a run waits its budget out (a hang, retries until the time
is up), so that the matrix costs its work rather than its waiting: what is tested is
that the run stops at the budget, whatever its length.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from hatch_attest import _http
from hatch_attest_testing import (
    Cli,
    CliResult,
    Fault,
    GitHubIdentity,
    LocalIndex,
    LocalSigstore,
    fake_wheel,
    verify_as_pypi,
)

from .matrix import FAULT_MATRIX, MatrixRow

# A run that waits its budget out (a hang, or retries until the time is up) costs its
# budget: keep it short, with room for the token and certificate on a loaded machine.
FAIL_BUDGET = 1.0
WAITS_OUT_ITS_BUDGET = {
    "HTTP 500",
    "HTTP 503",
    "hang",
    "dropped after work",
    "echo request (text)",  # HTTP 502: retried
    "dup, lookup hangs",
}
# Any other run ends long before its budget (it succeeds, or fails at once): room for a
# busy machine costs nothing.
PASS_BUDGET = 2.0
# The budget bounds network time; interpreter work and sigstore's crypto come on top.
SLACK = 6.0
TRICKLE = 0.25
"""Seconds between two bytes of a trickled answer: every read gets a byte in time."""
# A run cut off in the middle of a trickle: as long as FAIL_BUDGET, so that even an
# answer whose headers trickle (or a read-back after a retried POST) has begun by the
# deadline.
TRICKLE_BUDGET = 1.0
# A client that gives up at the deadline has let a trickling server send its head
# (about 150 bytes, at once unless the headers trickle too) and about
# TRICKLE_BUDGET / TRICKLE more; each whole answer trickled here is over 1000 bytes long.
TRICKLED_BYTES_LIMIT = 400


def _ran_out(budget: float) -> str:
    """What an error says when the deadline of a run with ``--timeout budget`` ran out."""
    return f"the deadline ({budget:g} s, option `timeout`) ran out"


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
    # `--timeout`; None: FAIL_BUDGET for a run that waits its budget out, else PASS_BUDGET.
    timeout: float | None = None
    # Requests each service received, where the scenario says how many it must be.
    counts: dict[str, int] | None = None
    # How far past its budget the run may end (interpreter work and crypto on top).
    slack: float = SLACK
    # How long the run must at least take (a Retry-After it must honour).
    wait: float = 0.0
    # The error must say that the deadline ran out, and the faulty endpoint must have
    # sent only part of its answer (the client hung up at the deadline).
    deadline: bool = False

    @property
    def budget(self) -> float:
        if self.timeout is not None:
            return self.timeout
        return FAIL_BUDGET if self.label in WAITS_OUT_ITS_BUDGET else PASS_BUDGET


def _one(
    endpoint: str, fault: Fault, label: str, message: str | None, timeout: float | None = None
) -> Scenario:
    """A scenario with one fault on every request to one endpoint."""
    return Scenario(endpoint, label, message, (Injection(endpoint, fault),), timeout)


def _transport(endpoint: str, service: str) -> list[Scenario]:
    return [
        _one(endpoint, Fault.status(500), "HTTP 500", service),
        _one(endpoint, Fault.status(503), "HTTP 503", service),
        # Room for one wait as told (1 s), not for a second: honoured, then given up.
        _one(
            endpoint,
            Fault.status(429, retry_after=1),
            "HTTP 429 + Retry-After",
            service,
            timeout=1.5,
        ),
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
    injection = Injection(endpoint, fault)
    return Scenario(endpoint, label, message, (injection,), TRICKLE_BUDGET, deadline=True)


def _duplicate(
    label: str, message: str | None, lookup: Fault | None = None, timeout: float | None = None
) -> Scenario:
    """Rekor logs the first POST and drops its answer; the retry gets 409, then a GET."""
    dropped = Injection("rekor", Fault.drop_after_processing(), times=1, method="POST")
    reads = () if lookup is None else (Injection("rekor", lookup, method="GET"),)
    return Scenario("rekor", label, message, (dropped, *reads), timeout)


def _once(endpoint: str, fault: Fault, label: str, wait: float = 0.0) -> Scenario:
    """One transient failure, survived by a retry: one request more at that endpoint."""
    counts = {"oidc": 1, "fulcio": 1, "rekor": 1, "tsa": 0}
    counts[endpoint] += 1  # the failure, then the retry
    injection = Injection(endpoint, fault, times=1)
    return Scenario(endpoint, label, None, (injection,), counts=counts, wait=wait)


# The budget of the `_everywhere` pair: each delay fits in it alone, three of one do not.
EVERYWHERE_BUDGET = 1.0


def _everywhere(seconds: float, message: str | None) -> Scenario:
    """The same delay at the token, the certificate and the log entry of one artifact.

    Each phase alone fits in the budget; when three of them together do not, the log
    entry is the one that runs out of time, and nothing is asked twice.
    """
    label = f"delay {seconds:g} s x3"
    endpoints = ("oidc", "fulcio", "rekor")
    injections = tuple(Injection(e, Fault.delay(seconds)) for e in endpoints)
    counts = {"oidc": 1, "fulcio": 1, "rekor": 1, "tsa": 0}
    # Bounded by the budget; leave room for a busy machine, but less than SLACK.
    return Scenario("all", label, message, injections, EVERYWHERE_BUDGET, counts, slack=2.0)


ENDPOINTS = ("oidc", "fulcio", "rekor")

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
    # Room for the POST's retry before the read-back starts to hang or trickle.
    _duplicate("dup, lookup hangs", "Rekor logged the entry", Fault.hang(), TRICKLE_BUDGET),
    _duplicate(
        "dup, lookup trickles", "Rekor logged the entry", Fault.trickle(TRICKLE), TRICKLE_BUDGET
    ),
    _duplicate("dup, lookup bad proof", "does not verify", Fault.bad_inclusion_proof()),
    _duplicate("dup, lookup bad SET", "does not verify", Fault.bad_set()),
    *(_once(endpoint, Fault.status(503), "HTTP 503 once") for endpoint in ENDPOINTS),
    # Retry-After is honoured: the retry comes after the time the server asked for.
    _once("rekor", Fault.status(429, retry_after=1), "HTTP 429 once + Retry-After", wait=1.0),
    # One budget per artifact: three delays that each fit, but not together.
    _everywhere(0.2, None),
    _everywhere(0.4, "hatch-attest: error: Rekor did not answer within the time budget"),
]


@pytest.fixture
def matrix_wheel(tmp_path: Path) -> Path:
    """The fake wheel each scenario signs, alone in `tmp_path / "dist"`."""
    return fake_wheel(tmp_path / "dist", "matrix_pkg")


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.endswith(".whl"))


def _bounded(
    run: Callable[[], CliResult], instance: LocalSigstore, budget: float, slack: float = SLACK
) -> CliResult:
    """``run()`` (a ``hatch-attest sign --timeout budget``), which must be done by the
    budget plus ``slack``.

    Past that bound, the instance is reset (a reset ends trickled answers) and the
    test fails, instead of waiting for a trickled answer to finish.
    """
    results: list[CliResult] = []
    runner = threading.Thread(target=lambda: results.append(run()), daemon=True)
    runner.start()
    runner.join(budget + slack)
    if runner.is_alive():
        instance.reset()
        runner.join(SLACK)
        pytest.fail(f"hatch-attest sign --timeout {budget:g} was still running after the budget")
    assert results, "main() raised instead of returning an exit status"
    return results[0]


@pytest.mark.parametrize("mode", ["auto", "always"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.endpoint}-{s.label}")
def test_fault(
    scenario: Scenario,
    mode: str,
    matrix_wheel: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
    local_sign: Cli,
) -> None:
    wheel, dist = matrix_wheel, matrix_wheel.parent
    for injection in scenario.injections:
        local_sigstore.inject(
            injection.endpoint, injection.fault, times=injection.times, method=injection.method
        )

    started = time.monotonic()
    status, out, err = _bounded(
        lambda: local_sign("--mode", mode, "--timeout", str(scenario.budget), dist),
        local_sigstore,
        scenario.budget,
        scenario.slack,
    )
    elapsed = time.monotonic() - started
    sent = local_sigstore.bytes_sent()

    leaked = local_sigstore.credential_scan().found_in(out + err)
    leftovers = _leftovers(dist)
    outcome = "attested" if status == 0 else err.strip().splitlines()[-1][:90]
    FAULT_MATRIX.append(
        MatrixRow(
            scenario.endpoint, scenario.label, mode, status, outcome, elapsed, leftovers, leaked
        )
    )

    assert not leaked
    assert scenario.wait <= elapsed < scenario.budget + scenario.slack
    if scenario.counts is not None:
        assert local_sigstore.counts() == scenario.counts
    if scenario.deadline:
        # The client hung up at the deadline, long before the whole answer went out.
        assert 0 < sent[scenario.endpoint] < TRICKLED_BYTES_LIMIT, sent
    if scenario.message is None:
        assert status == 0, err
        assert leftovers == [f"{wheel.name}.publish.attestation"]
        verify_as_pypi(wheel, sigstore_github_job, local_sigstore.trust_config_path)
    else:
        assert status == 1, (out, err)
        assert leftovers == []
        [line] = [line for line in err.splitlines() if line.startswith("hatch-attest: error:")]
        assert scenario.message in line
        if scenario.deadline:
            assert _ran_out(scenario.budget) in line
        assert "Traceback" not in err


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
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
    cli: Cli,
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
        status, _, err = _bounded(
            lambda: cli("sign", "--instance", "production", "--timeout", str(TRICKLE_BUDGET), dist),
            local_sigstore,
            TRICKLE_BUDGET,
        )
    finally:
        proxy.close()

    assert status == 1
    assert err.splitlines()[-1] == (
        "hatch-attest: error: cannot load the Sigstore production trust root: its TUF "
        "repository (tuf-repo-cdn.sigstore.dev) did not finish answering before "
        f"{_ran_out(TRICKLE_BUDGET)}. Retry the job; if the service is slow rather than down, "
        "raise `timeout` (HATCH_ATTEST_TIMEOUT)."
    )
    assert proxy.connections == 1
    assert 0 < proxy.sent < 39  # the CONNECT answer was still trickling
    assert local_sigstore.counts() == {"oidc": 1, "fulcio": 0, "rekor": 0, "tsa": 0}
    assert _leftovers(dist) == []
