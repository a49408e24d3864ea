"""The fault matrix: every fault the local instance can inject, at every endpoint, in both modes.

Each scenario runs ``hatch-attest sign`` (the same attest path as the build hook)
in an emulated GitHub Actions job against real faults served over HTTP, and
asserts what a release engineer would see: the exit status, the class of the
one-line message, that the time stayed within the configured budget, that no
attestation (or temporary file) was left behind, and that no credential appears
in the output. ``tests/conftest.py`` prints the matrix at the end of the run.

Budgets are short where a run waits its budget out (a hang, retries until the time
is up), so that the matrix costs its work rather than its waiting: what is tested is
that the run stops at the budget, whatever its length.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from hatch_attest_testing import (
    Cli,
    Fault,
    GitHubIdentity,
    LocalSigstore,
    fake_wheel,
    verify_as_pypi,
)

from .matrix import FAULT_MATRIX, MatrixRow

# A run that waits its budget out (a hang, or retries until the time is up) costs its
# budget: keep it short.
FAIL_BUDGET = 0.5
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
    ]


def _duplicate(label: str, message: str | None, lookup: Fault | None = None) -> Scenario:
    """Rekor logs the first POST and drops its answer; the retry gets 409, then a GET."""
    dropped = Injection("rekor", Fault.drop_after_processing(), times=1, method="POST")
    reads = () if lookup is None else (Injection("rekor", lookup, method="GET"),)
    return Scenario("rekor", label, message, (dropped, *reads))


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
    _duplicate("dup, lookup hangs", "Rekor logged the entry", Fault.hang()),
    _duplicate("dup, lookup bad proof", "does not verify", Fault.bad_inclusion_proof()),
    _duplicate("dup, lookup bad SET", "does not verify", Fault.bad_set()),
    *(_once(endpoint, Fault.status(503), "HTTP 503 once") for endpoint in ENDPOINTS),
    # Retry-After is honoured: the retry comes after the time the server asked for.
    _once("rekor", Fault.status(429, retry_after=1), "HTTP 429 once + Retry-After", wait=1.0),
    # One budget per artifact: three delays that each fit, but not together.
    _everywhere(0.2, None),
    _everywhere(0.4, "hatch-attest: error: Rekor did not answer within the time budget"),
]


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.endswith(".whl"))


@pytest.mark.parametrize("mode", ["auto", "always"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.endpoint}-{s.label}")
def test_fault(
    scenario: Scenario,
    mode: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
    local_sign: Cli,
) -> None:
    dist = tmp_path / "dist"
    wheel = fake_wheel(dist, "matrix_pkg")
    for injection in scenario.injections:
        local_sigstore.inject(
            injection.endpoint, injection.fault, times=injection.times, method=injection.method
        )

    started = time.monotonic()
    status, out, err = local_sign("--mode", mode, "--timeout", str(scenario.budget), dist)
    elapsed = time.monotonic() - started

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
    if scenario.message is None:
        assert status == 0, err
        assert leftovers == [f"{wheel.name}.publish.attestation"]
        verify_as_pypi(wheel, sigstore_github_job, local_sigstore.trust_config_path)
    else:
        assert status == 1, (out, err)
        assert leftovers == []
        [line] = [line for line in err.splitlines() if line.startswith("hatch-attest: error:")]
        assert scenario.message in line
        assert "Traceback" not in err
