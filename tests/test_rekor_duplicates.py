"""A Rekor answer lost after the entry landed: ``hatch-attest sign`` still ends attested.

The bounded adapter retries a POST whose connection dropped; Rekor v1 answers
the identical resubmission with 409 and the existing entry's location. The run
reads that entry back (as cosign and sigstore-js do), or, when it cannot, signs
again with a fresh signature; it fails, saying why, only when neither works.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from hatch_attest_testing import (
    PUBLISH_V1,
    Cli,
    CliResult,
    Fault,
    GitHubIdentity,
    LocalSigstore,
    PyPIVerdict,
    fake_wheel,
    verify_as_pypi,
)


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return fake_wheel(tmp_path / "dist", "dup_pkg")


def _sign_after_a_lost_answer(
    sigstore: LocalSigstore, sign: Callable[[str], CliResult], then: Fault, timeout: str = "10"
) -> CliResult:
    """Sign with `--timeout timeout`; Rekor logs the first POST but its answer is lost, and
    reading the entry back meets `then`."""
    sigstore.inject("rekor", Fault.drop_after_processing(), times=1, method="POST")
    sigstore.inject("rekor", then, method="GET")
    return sign(timeout)


def _rekor(sigstore: LocalSigstore) -> list[tuple[str, int | None]]:
    return [(e.method, e.status) for e in sigstore.exchanges("rekor")]


@pytest.fixture
def sign(
    sigstore_github_job: GitHubIdentity, local_sign: Cli, wheel: Path
) -> Callable[[str], CliResult]:
    """`hatch-attest sign --timeout T` of the wheel's folder, in the GitHub job."""
    return lambda timeout: local_sign("--timeout", timeout, wheel.parent)


@pytest.fixture
def verified(
    wheel: Path, sigstore_github_job: GitHubIdentity, local_sigstore: LocalSigstore
) -> Callable[[], PyPIVerdict]:
    """The attestation next to ``wheel``, checked with the publisher policy PyPI applies."""

    def verdict() -> PyPIVerdict:
        verdict = verify_as_pypi(wheel, sigstore_github_job, local_sigstore.trust_config_path)
        assert verdict.found == (PUBLISH_V1, None)
        return verdict

    return verdict


def test_a_lost_answer_is_recovered_by_reading_the_logged_entry(
    wheel: Path,
    local_sigstore: LocalSigstore,
    sign: Callable[[str], CliResult],
    verified: Callable[[], PyPIVerdict],
) -> None:
    local_sigstore.inject("rekor", Fault.drop_after_processing(), times=1)

    status, out, err = sign("10")

    assert status == 0, err
    verdict = verified()
    # The POST landed unanswered, its retry got 409, the GET the entry: one log entry.
    assert _rekor(local_sigstore) == [("POST", None), ("POST", 409), ("GET", 200)]
    [row] = out.splitlines()[2:]  # under the header and its rule
    assert row.startswith(wheel.name)
    assert row.split()[-1] == str(verdict.log_index)  # the "Rekor log index" column
    assert sorted(p.name for p in wheel.parent.iterdir()) == [
        wheel.name,
        f"{wheel.name}.publish.attestation",
    ]


@pytest.mark.parametrize(
    "read_fault",
    [Fault.status(404), Fault.malformed()],
    ids=["lookup 404", "lookup malformed"],
)
def test_an_unreadable_entry_is_replaced_by_a_fresh_signature(
    read_fault: Fault,
    wheel: Path,
    local_sigstore: LocalSigstore,
    sign: Callable[[str], CliResult],
    verified: Callable[[], PyPIVerdict],
) -> None:
    status, _, err = _sign_after_a_lost_answer(local_sigstore, sign, read_fault)

    assert status == 0, err
    verified()
    assert [method for method, _ in _rekor(local_sigstore)] == ["POST", "POST", "GET", "POST"]
    assert _rekor(local_sigstore)[-1] == ("POST", 201)


def test_when_neither_the_entry_nor_a_new_one_can_be_had_the_error_says_so(
    wheel: Path, local_sigstore: LocalSigstore, sign: Callable[[str], CliResult]
) -> None:
    # The budget must outlast the token, the certificate and both POSTs, so that it runs out
    # in the read-back (0.5 s did not, on a loaded machine): the run waits it out.
    status, out, err = _sign_after_a_lost_answer(local_sigstore, sign, Fault.hang(), "2")

    assert status == 1
    assert re.fullmatch(
        re.escape(
            f"hatch-attest: error: Rekor logged the entry for {wheel.name}, but its answer was "
            "lost and reading entry "
        )
        + "[0-9a-f]{80}"
        + re.escape(
            " back failed (no answer within the time budget); signing again failed too (no "
            "answer within the time budget). Retry the job; if Rekor is slow rather than down, "
            "raise `timeout` (HATCH_ATTEST_TIMEOUT)."
        ),
        err.splitlines()[-1],
    )
    assert "Traceback" not in err
    assert out == ""
    assert sorted(p.name for p in wheel.parent.iterdir()) == [wheel.name]
    # The fresh signature never reached Rekor: the budget was spent waiting for the
    # GET (which, hung, is counted but never ends).
    assert _rekor(local_sigstore) == [("POST", None), ("POST", 409)]
    assert local_sigstore.counts()["rekor"] == 3


def test_a_read_back_entry_that_does_not_verify_is_not_written(
    wheel: Path, local_sigstore: LocalSigstore, sign: Callable[[str], CliResult]
) -> None:
    status, _, err = _sign_after_a_lost_answer(local_sigstore, sign, Fault.bad_inclusion_proof())

    assert status == 1
    assert f"the fresh attestation for {wheel.name} does not verify" in err
    assert sorted(p.name for p in wheel.parent.iterdir()) == [wheel.name]


def test_a_conflict_without_location_is_read_by_the_uuid_in_its_message(
    wheel: Path, local_sigstore: LocalSigstore, sign: Callable[[str], CliResult]
) -> None:
    """A 409 (with no Location) for an entry the log cannot find, to every POST."""
    unknown = "ab" * 40
    message = f"an equivalent entry already exists in the transparency log with UUID {unknown}"
    body = json.dumps({"code": 409, "message": message})
    local_sigstore.inject("rekor", Fault.status(409, body=body), method="POST")

    status, _, err = sign("10")

    assert status == 1
    lost = f"reading entry {unknown} back failed (HTTP 404: Not Found)"
    assert err.splitlines()[-1] == (
        f"hatch-attest: error: Rekor logged the entry for {wheel.name}, but its answer was lost "
        f"and {lost}; signing again failed too ({lost}). Retry the job; if Rekor is slow "
        "rather than down, raise `timeout` (HATCH_ATTEST_TIMEOUT)."
    )
    assert _rekor(local_sigstore) == [("POST", 409), ("GET", 404)] * 2
    assert sorted(p.name for p in wheel.parent.iterdir()) == [wheel.name]


def test_a_conflict_that_names_no_entry_is_signed_again(
    local_sigstore: LocalSigstore,
    sign: Callable[[str], CliResult],
    verified: Callable[[], PyPIVerdict],
) -> None:
    local_sigstore.inject("rekor", Fault.status(409, body="conflict"), times=1)

    status, _, err = sign("10")

    assert status == 0, err
    verified()
    assert _rekor(local_sigstore) == [("POST", 409), ("POST", 201)]
