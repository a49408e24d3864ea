"""`hatch-attest verify pypi:NAME==VERSION` against the local index: what it serves, verified."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pytest

from hatch_attest._index_verify import MAX_ANSWER_BYTES
from hatch_attest_testing import CliResult, Fault, GitHubIdentity, LocalIndex, LocalSigstore

from .index_release import (
    PROJECT,
    Publisher,
    index,
    run_cli,
    sdist_name,
    serve_real_attestations,
    sha256,
    wheel_name,
)

__all__ = ["index"]  # the fixture, shared with test_lockfile

RELEASE = f"pypi:{PROJECT}==0.1.0"


@pytest.fixture
def publisher(local_sigstore: LocalSigstore, index: LocalIndex, tmp_path: Path) -> Publisher:
    return Publisher(local_sigstore, index, tmp_path)


@pytest.fixture
def wheel_release(publisher: Publisher, sigstore_github_identity: GitHubIdentity) -> None:
    """demo-pkg 0.1.0 on the index: a wheel, attested in ``sigstore_github_identity``'s job."""
    publisher.publish(sigstore_github_identity, "0.1.0", wheel_name("0.1.0"))


@pytest.fixture
def full_release(publisher: Publisher, sigstore_github_identity: GitHubIdentity) -> None:
    """demo-pkg 0.1.0 on the index: a wheel and an sdist, attested in the same job."""
    publisher.publish(sigstore_github_identity, "0.1.0", wheel_name("0.1.0"), sdist_name("0.1.0"))


class Verify(Protocol):
    def __call__(self, *argv: str) -> CliResult: ...


@pytest.fixture
def verify(
    capsys: pytest.CaptureFixture[str], index: LocalIndex, local_sigstore: LocalSigstore
) -> Verify:
    def run(*argv: str) -> CliResult:
        flags = ["--index", index.url, "--trust-config", str(local_sigstore.trust_config_path)]
        return run_cli(capsys, "verify", *argv, *flags)

    return run


def test_every_file_of_a_release_verifies(
    capsys: pytest.CaptureFixture[str],
    index: LocalIndex,
    local_sigstore: LocalSigstore,
    publisher: Publisher,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    wheel, sdist = publisher.publish(
        sigstore_github_identity, "0.1.0", wheel_name("0.1.0"), sdist_name("0.1.0")
    )
    before = index.counts()

    result = run_cli(
        capsys,
        "verify",
        RELEASE,
        "--index",
        index.url,
        "--trust-config",
        local_sigstore.trust_config_path,
    )

    assert result.status == 0, result.err
    lines = result.out.splitlines()
    who = (
        f"verified as github:{sigstore_github_identity.repository}@"
        f"{sigstore_github_identity.workflow}, "
        f"workflow https://github.com/{sigstore_github_identity.repository}/.github/workflows/"
        f"{sigstore_github_identity.workflow}@{sigstore_github_identity.ref}, commit "
        f"{sigstore_github_identity.sha} "
        "(1 attestation)"
    )
    assert lines == [f"{wheel.name}: {who}", f"{sdist.name}: {who}"]
    assert "all 2 file(s) of demo-pkg 0.1.0 verify" in result.err
    after = index.counts()
    # The release listed once, each file's provenance fetched once.
    assert after["json"] - before["json"] == 1
    assert after["integrity"] - before["integrity"] == 2
    assert after["files"] == before["files"]
    assert sha256(wheel) in {f.sha256 for f in index.files()}


def test_publisher_flag_must_match_the_bundle(
    verify: Verify, wheel_release: None, sigstore_github_identity: GitHubIdentity
) -> None:
    spec = f"github:{sigstore_github_identity.repository}@{sigstore_github_identity.workflow}"

    same = verify(RELEASE, "--publisher", spec)
    other = verify(RELEASE, "--publisher", spec + "x.yml")

    assert same.status == 0, same.err
    assert other.status == 1
    assert other.out.strip() == (
        f"{wheel_name('0.1.0')}: FAILED: published by {spec}, not by the expected "
        f"{spec}x.yml (--publisher)"
    )


def test_release_without_provenance_says_so(verify: Verify, publisher: Publisher) -> None:
    publisher.publish_unattested("0.1.0", wheel_name("0.1.0"), sdist_name("0.1.0"))

    result = verify(RELEASE)

    assert result.status == 1
    assert result.out.splitlines() == [
        f"{wheel_name('0.1.0')}: no provenance",
        f"{sdist_name('0.1.0')}: no provenance",
        "demo-pkg 0.1.0 has no provenance at all: none of its 2 file(s) was uploaded "
        "with attestations",
    ]


def test_one_file_without_provenance_fails_the_release(
    verify: Verify, publisher: Publisher, sigstore_github_identity: GitHubIdentity
) -> None:
    publisher.publish(sigstore_github_identity, "0.1.0", wheel_name("0.1.0"))
    publisher.publish_unattested("0.1.0", sdist_name("0.1.0"))

    result = verify(RELEASE)

    assert result.status == 1
    lines = result.out.splitlines()
    assert lines[0].startswith(f"{wheel_name('0.1.0')}: verified as github:")
    assert lines[1:] == [f"{sdist_name('0.1.0')}: no provenance"]
    assert "1 of 2 file(s) of demo-pkg 0.1.0 do not verify" in result.err


def test_tampered_file_fails(verify: Verify, index: LocalIndex, wheel_release: None) -> None:
    index.inject("json", Fault.tampered())

    result = verify(RELEASE)

    assert result.status == 1
    line = result.out.strip()
    assert line.startswith(f"{wheel_name('0.1.0')}: FAILED: an attestation of github:")
    assert "the file changed after it was signed" in line


def test_provenance_for_another_file_fails(
    verify: Verify, index: LocalIndex, full_release: None
) -> None:
    index.inject("integrity", Fault.provenance_of(sdist_name("0.1.0")))

    result = verify(RELEASE)

    assert result.status == 1
    wheel_line, sdist_line = result.out.splitlines()
    assert wheel_line.startswith(f"{wheel_name('0.1.0')}: FAILED: ")
    assert f"the attestation is for '{sdist_name('0.1.0')}', not for" in wheel_line
    assert sdist_line.startswith(f"{sdist_name('0.1.0')}: verified as ")


def test_no_such_release(verify: Verify, index: LocalIndex) -> None:
    result = verify(RELEASE)

    assert result.status == 1
    assert f"{index.url} has no release demo-pkg 0.1.0 (404 from" in result.err
    assert "Traceback" not in result.err


def test_malformed_answer_is_a_clear_error(
    verify: Verify, index: LocalIndex, wheel_release: None
) -> None:
    index.inject("json", Fault.malformed())

    result = verify(RELEASE)

    assert result.status == 1
    assert result.err.splitlines()[-1] == (
        f"hatch-attest: error: {index.url}/pypi/demo-pkg/0.1.0/json: the answer is not JSON "
        "(it starts with '<html>not the answer you expected')"
    )


def test_provenance_that_is_not_provenance_fails_the_file(
    verify: Verify, index: LocalIndex, wheel_release: None
) -> None:
    index.inject("integrity", Fault.oversized(100))

    result = verify(RELEASE)

    assert result.status == 1
    assert "the answer is not PEP 740 provenance" in result.out
    assert "Traceback" not in result.out + result.err


def test_oversized_answer_is_refused(
    verify: Verify, index: LocalIndex, wheel_release: None
) -> None:
    index.inject("integrity", Fault.oversized(MAX_ANSWER_BYTES + 1))

    result = verify(RELEASE)

    assert result.status == 1
    assert (
        f"the answer is {MAX_ANSWER_BYTES + 1} bytes long, more than the {MAX_ANSWER_BYTES} "
        "bytes any real answer needs" in result.out
    )


def test_failing_index_is_retried_then_reported(
    verify: Verify, index: LocalIndex, wheel_release: None
) -> None:
    index.inject("json", Fault.status(503, body="maintenance"))

    result = verify(RELEASE, "--timeout", "2")

    assert result.status == 1
    assert result.err.splitlines()[-1].startswith(
        f"hatch-attest: error: {index.url}/pypi/demo-pkg/0.1.0/json: the index answered 503"
    )
    assert ": maintenance; try again later" in result.err
    assert index.counts()["json"] > 1  # retried with backoff within the budget


def test_failing_index_recovers_within_the_budget(
    verify: Verify, index: LocalIndex, wheel_release: None
) -> None:
    index.inject("integrity", Fault.status(429, retry_after=0), times=1)
    index.inject("json", Fault.status(502), times=1)

    result = verify(RELEASE)

    assert result.status == 0, result.err
    assert index.counts()["json"] == 2
    assert index.counts()["integrity"] == 2


def test_hung_index_is_bounded(verify: Verify, index: LocalIndex, wheel_release: None) -> None:
    index.inject("json", Fault.hang())

    result = verify(RELEASE, "--timeout", "1.5")

    assert result.status == 1
    last = result.err.splitlines()[-1]
    assert last.startswith(f"hatch-attest: error: {index.url}/pypi/demo-pkg/0.1.0/json did not ")
    assert last.endswith("the deadline (1.5 s, option `timeout`) ran out; raise it with --timeout")


def test_bad_release_spec_is_misuse(verify: Verify) -> None:
    result = verify("pypi:demo-pkg")

    assert result.status == 2
    assert "use pypi:NAME==VERSION" in result.err


@pytest.fixture
def offline_production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """sigstore's TUF cache in a private folder, seeded from the root it embeds."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def test_real_public_good_provenance_verifies_offline(
    capsys: pytest.CaptureFixture[str], index: LocalIndex, offline_production: None
) -> None:
    serve_real_attestations(index)
    flags = ["--index", index.url, "--instance", "production", "--offline"]

    github = run_cli(capsys, "verify", "pypi:pypi-attestations==0.0.19", *flags)
    gitlab = run_cli(capsys, "verify", "pypi:gitlab-oidc-project==0.0.3", *flags)
    wrong = run_cli(
        capsys,
        "verify",
        "pypi:gitlab-oidc-project==0.0.3",
        *flags,
        "--publisher",
        "gitlab:facutuesca/other@.gitlab-ci.yml",
    )

    assert github.status == 0, github.out + github.err
    assert github.out.startswith(
        "pypi_attestations-0.0.19.tar.gz: verified as "
        "github:trailofbits/pypi-attestations@release.yml, workflow "
        "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@"
    )
    assert github.out.strip().endswith("(2 attestations)")
    assert gitlab.status == 0, gitlab.out + gitlab.err
    assert gitlab.out.startswith(
        "gitlab_oidc_project-0.0.3.tar.gz: verified as "
        "gitlab:facutuesca/gitlab-oidc-project@.gitlab-ci.yml"
    )
    assert wrong.status == 1
    assert "not by the expected gitlab:facutuesca/other@.gitlab-ci.yml" in wrong.out


def test_real_provenance_under_another_publisher_fails(
    capsys: pytest.CaptureFixture[str], index: LocalIndex, offline_production: None
) -> None:
    """An index that claims another publisher for a real attestation is caught."""
    serve_real_attestations(index)
    real = index.files("gitlab-oidc-project")[0]
    assert real.provenance is not None
    provenance = dict(real.provenance)
    bundle = dict(provenance["attestation_bundles"][0])
    bundle["publisher"] = {**bundle["publisher"], "repository": "mallory/gitlab-oidc-project"}
    provenance["attestation_bundles"] = [bundle]
    index.reset()
    index.add_file(
        "gitlab-oidc-project", "0.0.3", real.filename, real.content, provenance=provenance
    )

    result = run_cli(
        capsys,
        "verify",
        "pypi:gitlab-oidc-project==0.0.3",
        "--index",
        index.url,
        "--instance",
        "production",
        "--offline",
    )

    assert result.status == 1
    assert "an attestation of gitlab:mallory/gitlab-oidc-project@.gitlab-ci.yml does not" in (
        result.out
    )


def test_slow_index_within_the_budget_verifies(
    verify: Verify, index: LocalIndex, full_release: None
) -> None:
    index.inject("integrity", Fault.delay(0.3))

    result = verify(RELEASE, "--timeout", "20")

    assert result.status == 0, result.err
    assert index.counts()["integrity"] == 2


def test_slow_index_past_the_budget_fails_each_file_clearly(
    verify: Verify, index: LocalIndex, full_release: None
) -> None:
    index.inject("integrity", Fault.delay(30))

    result = verify(RELEASE, "--timeout", "1")

    assert result.status == 1
    lines = result.out.splitlines()
    assert [line.split(": ", 2)[:2] for line in lines] == [
        [wheel_name("0.1.0"), "FAILED"],
        [sdist_name("0.1.0"), "FAILED"],
    ]
    assert all("did not finish answering" in line for line in lines)
    assert all(
        line.endswith("the deadline (1 s, option `timeout`) ran out; raise it with --timeout")
        for line in lines
    )
