"""The ``hatch-attest`` command line, as a user sees it: exit status, messages, files.

Commands run in-process through ``main([...])``, in an emulated GitHub Actions
job against the local Sigstore instance; one test per command also runs the
installed console script. What ``sign`` writes is verified independently of
``hatch_attest._verify``: by pypi-attestations' own ``Attestation.verify`` (publisher
policy included) with a ``Verifier`` built on the local instance's trusted root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypi_attestations import Attestation
from sigstore.dsse import DigestSet, StatementBuilder, Subject
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext

from hatch_attest import __version__
from hatch_attest._files import attestation_path, sha256_file, stage_attestation
from hatch_attest_testing import (
    PUBLISH_V1,
    Cli,
    Fault,
    GitHubIdentity,
    LocalSigstore,
    fake_sdist,
    fake_wheel,
    log_index,
    outside_ci,
    run_bounded,
    verify_as_pypi,
)
from hatch_attest_testing.pytest_plugin import CIJob

from .hostile import HOSTILE
from .test_inspection import PUBLISH_JSON

TESTS = Path(__file__).resolve().parent
PACKAGES = TESTS / "packages"
FIXTURES = TESTS / "fixtures" / "real-attestations"
SCRIPT = Path(sys.executable).parent / "hatch-attest"
SUBPROCESS_TIMEOUT = 300

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


# No CI identity here; the conftest starts each test in an empty folder.
pytestmark = pytest.mark.usefixtures("sigstore_no_ci")


@pytest.fixture
def trust(local_sigstore: LocalSigstore) -> list[str]:
    """The flags that point a command at the local instance."""
    return ["--trust-config", str(local_sigstore.trust_config_path)]


def workflow_uri(identity: GitHubIdentity) -> str:
    """The signer identity (and Build Config URI) of a job's certificate."""
    return (
        f"https://github.com/{identity.repository}/.github/workflows/"
        f"{identity.workflow}@{identity.ref}"
    )


def accepted(dist: Path, job: GitHubIdentity, sigstore: LocalSigstore) -> Attestation:
    """What ``sign`` wrote for ``dist``, as PyPI checks it: a publish attestation, no predicate."""
    verdict = verify_as_pypi(dist, job, sigstore.trust_config_path)
    assert verdict.found == (PUBLISH_V1, None)
    return verdict.attestation


def sign_statement(
    sigstore: LocalSigstore,
    identity: GitHubIdentity,
    dist: Path,
    predicate_type: str,
    predicate: dict[str, Any] | None = None,
) -> Attestation:
    """A real, validly signed attestation for ``dist`` with any predicate type."""
    config = ClientTrustConfig.from_json(sigstore.trust_config_path.read_text())
    config.force_tlog_version = 1
    subject = Subject(name=dist.name, digest=DigestSet(root={"sha256": sha256_file(dist)}))
    statement = (
        StatementBuilder()
        .subjects([subject])
        .predicate_type(predicate_type)
        .predicate(predicate or {})
        .build()
    )
    token = IdentityToken(sigstore.mint_github_token(identity))
    with SigningContext.from_trust_config(config).signer(token) as signer:
        bundle = signer.sign_dsse(statement)
    return Attestation.from_bundle(bundle)


def findings(out: str, dist: Path) -> list[str]:
    """The check ids ``verify`` reported for ``dist``: the indented lines below its verdict."""
    ids: list[str] = []
    for line in out.split(f"{dist}: ", 1)[1].splitlines()[1:]:
        if not line.startswith("  "):
            break
        if match := re.search(r" \[([a-z-]+)\]$", line):
            ids.append(match[1])
    return ids


@pytest.fixture(scope="module")
def setuptools_dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A wheel and an sdist that setuptools built (once per module)."""
    work = tmp_path_factory.mktemp("setuptools-build")
    source = work / "project"
    shutil.copytree(PACKAGES / "setuptools", source)  # setuptools writes into the tree
    out = work / "dist"
    run_bounded(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "-o", out, "."],
        cwd=source,
        env=outside_ci(),
        check=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    return out / "setuptools_pkg-2.0.0-py3-none-any.whl", out / "setuptools_pkg-2.0.0.tar.gz"


# --- sign -----------------------------------------------------------------------------


def test_sign_attests_the_distributions_of_a_mixed_directory(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
    setuptools_dists: tuple[Path, Path],
) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    for built in setuptools_dists:
        shutil.copy2(built, dist)
    (dist / "README.md").write_text("# Release notes\n")
    wheel, sdist = dist / setuptools_dists[0].name, dist / setuptools_dists[1].name

    result = cli("sign", *trust, dist)

    assert result.status == 0, result.err
    assert f"skipping {dist / 'README.md'}: not a wheel or sdist\n" in result.err
    assert sorted(p.name for p in dist.iterdir()) == sorted(
        [
            "README.md",
            wheel.name,
            sdist.name,
            f"{wheel.name}.publish.attestation",
            f"{sdist.name}.publish.attestation",
        ]
    )
    indexes = {
        d.name: log_index(accepted(d, sigstore_github_job, local_sigstore)) for d in (wheel, sdist)
    }
    # The table: artifact, identity, Rekor log index; one row per file, in file name order.
    lines = result.out.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["artifact", "identity", "Rekor log index"]
    assert set(lines[1]) == {"-", " "}
    rows = [re.split(r"\s{2,}", line) for line in lines[2:]]
    assert rows == [
        [name, workflow_uri(sigstore_github_job), str(indexes[name])] for name in sorted(indexes)
    ]
    # One token, one certificate, one log entry per distribution.
    assert local_sigstore.counts() == {"oidc": 1, "fulcio": 1, "rekor": 2, "tsa": 0}


def test_sign_appends_the_table_to_the_github_step_summary(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sigstore_github_job: GitHubIdentity,
) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("Earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    wheel = fake_wheel(tmp_path / "dist")

    result = cli("sign", *trust, wheel)

    assert result.status == 0, result.err
    index = log_index(Attestation.model_validate_json(attestation_path(wheel).read_bytes()))
    assert summary.read_text() == (
        "Earlier step\n"
        "### PEP 740 attestations\n"
        "\n"
        "| artifact | identity | Rekor log index |\n"
        "| --- | --- | --- |\n"
        f"| `{wheel.name}` | `{workflow_uri(sigstore_github_job)}` | {index} |\n"
        "\n"
    )


def test_one_certificate_and_concurrent_log_entries_for_many_artifacts(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    dist = tmp_path / "dist"
    wheels = [fake_wheel(dist, f"pkg{n}") for n in range(6)]

    result = cli("sign", "--jobs", "3", *trust, dist)

    assert result.status == 0, result.err
    assert local_sigstore.counts() == {"oidc": 1, "fulcio": 1, "rekor": 6, "tsa": 0}
    attestations = [accepted(w, sigstore_github_job, local_sigstore) for w in wheels]
    # One certificate signed them all, each in its own log entry.
    assert len({a.verification_material.certificate for a in attestations}) == 1
    assert len({log_index(a) for a in attestations}) == 6
    assert len(result.out.splitlines()) == 2 + 6


def test_a_name_pypi_rejects_stops_the_run_before_anything_is_signed(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    dist = tmp_path / "dist"
    fake_wheel(dist)
    bad = fake_wheel(dist, "Demo_Pkg", "2.0")

    result = cli("sign", *trust, dist)

    assert result.status == 1
    assert result.err == (
        "hatch-attest: error: PyPI would reject this file name, so nothing was signed: "
        f"PyPI rejects '{bad.name}': the project name must be written in normalised form, "
        "'demo_pkg', not 'Demo_Pkg'. Build with a current build backend (hatchling >= 1.26 "
        "writes normalised names)\n"
    )
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}
    assert not list(dist.glob("*.attestation"))


def test_every_rejected_name_is_listed(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    dist = tmp_path / "dist"
    fake_wheel(dist, "Demo.Pkg")
    (dist / "demo-pkg-1.0.tar.gz").write_bytes(b"sdist")

    result = cli("sign", *trust, dist)

    assert result.status == 1
    assert result.err.splitlines() == [
        "hatch-attest: error: PyPI would reject these file names, so nothing was signed:",
        "  PyPI rejects 'Demo.Pkg-1.0-py3-none-any.whl': the project name must be written in "
        "normalised form, 'demo_pkg', not 'Demo.Pkg'. Build with a current build backend "
        "(hatchling >= 1.26 writes normalised names)",
        "  PyPI rejects source distribution 'demo-pkg-1.0.tar.gz': by PEP 625 it must be named "
        "'demo_pkg-1.0.tar.gz' (normalised project name and version). Build with a current "
        "build backend (hatchling >= 1.26 writes normalised names)",
    ]
    assert local_sigstore.counts()["fulcio"] == 0


def test_an_existing_attestation_is_kept_unless_overwrite(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    assert cli("sign", *trust, wheel).status == 0
    first = attestation_path(wheel).read_bytes()
    local_sigstore.reset()

    refused = cli("sign", *trust, wheel)

    assert refused.status == 1
    assert refused.err == (
        f"hatch-attest: error: attestations already exist: {attestation_path(wheel)}. "
        "Pass --overwrite to replace them.\n"
    )
    assert attestation_path(wheel).read_bytes() == first
    assert local_sigstore.counts()["oidc"] == 0

    replaced = cli("sign", "--overwrite", *trust, wheel)

    assert replaced.status == 0, replaced.err
    assert attestation_path(wheel).read_bytes() != first
    second = accepted(wheel, sigstore_github_job, local_sigstore)
    assert log_index(second) > log_index(Attestation.model_validate_json(first))


def test_a_stale_attestation_is_reported_and_replaced(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    assert cli("sign", *trust, wheel).status == 0
    old_digest = sha256_file(wheel)
    wheel.write_bytes(b"rebuilt")

    result = cli("sign", *trust, wheel)

    assert result.status == 0, result.err
    assert (
        f"hatch-attest: warning: removed stale {wheel.name}.publish.attestation: it attests "
        f"sha256 {old_digest[:12]}…, the file is {sha256_file(wheel)[:12]}…\n"
    ) in result.err
    accepted(wheel, sigstore_github_job, local_sigstore)


def test_all_or_nothing_when_one_log_entry_fails(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    dist = tmp_path / "dist"
    for n in range(3):
        fake_wheel(dist, f"pkg{n}")
    local_sigstore.inject("rekor", Fault.status(400, body='{"message": "entry rejected"}'), times=1)

    result = cli("sign", *trust, dist)

    assert result.status == 1
    assert result.error_lines() == [
        "hatch-attest: error: Rekor refused the request (HTTP 400: entry rejected). "
        "Check the identity token and the trust config."
    ]
    assert "Traceback" not in result.err
    assert result.out == ""
    # The other two were signed, but nothing of this run is left: not even temporary files.
    assert local_sigstore.counts()["rekor"] == 3
    assert sorted(p.name for p in dist.iterdir()) == [
        f"pkg{n}-1.0-py3-none-any.whl" for n in range(3)
    ]


def test_a_failed_overwrite_keeps_the_previous_attestations(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    dist = tmp_path / "dist"
    wheels = [fake_wheel(dist, f"pkg{n}") for n in range(3)]
    assert cli("sign", *trust, dist).status == 0
    before = {w: attestation_path(w).read_bytes() for w in wheels}
    local_sigstore.inject("rekor", Fault.status(400), times=1)

    result = cli("sign", "--overwrite", *trust, dist)

    assert result.status == 1
    assert {w: attestation_path(w).read_bytes() for w in wheels} == before


def test_without_an_identity_always_fails_and_auto_skips(
    cli: Cli, trust: list[str], tmp_path: Path, local_sigstore: LocalSigstore
) -> None:
    wheel = fake_wheel(tmp_path / "dist")

    always = cli("sign", *trust, wheel)
    auto = cli("sign", "--mode", "auto", *trust, wheel)

    assert always.status == 1
    [line] = always.error_lines()
    assert line.startswith("hatch-attest: error: cannot attest (mode = always): ")
    assert auto.status == 0
    assert auto.err.startswith("Not attesting: ")
    assert auto.out == ""
    assert not attestation_path(wheel).exists()
    assert local_sigstore.counts()["fulcio"] == 0


def test_mode_flag_beats_the_environment(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    monkeypatch.setenv("HATCH_ATTEST_MODE", "never")

    off = cli("sign", *trust, wheel)

    assert (off.status, off.out) == (0, "")
    assert off.err == "Not attesting: attestations are off (mode = never)\n"
    assert local_sigstore.counts()["oidc"] == 0

    forced = cli("sign", "--mode", "always", *trust, wheel)

    assert forced.status == 0, forced.err
    accepted(wheel, sigstore_github_job, local_sigstore)


def test_pyproject_publisher_applies_but_not_the_hooks_mode(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    pyproject = Path("pyproject.toml")
    pyproject.write_text(
        "[tool.hatch.build.hooks.attest]\n"
        'mode = "never"\n'
        'publisher = { kind = "github", repository = "octo-org/elsewhere", '
        'workflow = "release.yml" }\n'
    )

    refused = cli("sign", *trust, wheel)

    assert refused.status == 1
    assert refused.err == (
        "hatch-attest: error: cannot attest (mode = always): expected GitHub repository "
        f"octo-org/elsewhere, found {sigstore_github_job.repository} "
        f"(GITHUB_REPOSITORY); not signing "
        "as somebody else's CI\n"
    )
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}

    # --publisher overrides the table.
    signed = cli(
        "sign", "--publisher", f"github:{sigstore_github_job.repository}@release.yml", *trust, wheel
    )

    assert signed.status == 0, signed.err
    accepted(wheel, sigstore_github_job, local_sigstore)


def test_sign_reads_the_wrapper_table(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    """In a project built through hatch_attest.backend, [tool.hatch-attest] is the table."""
    wheel = fake_wheel(tmp_path / "dist")
    Path("pyproject.toml").write_text(
        "[build-system]\n"
        'build-backend = "hatch_attest.backend"\n'
        "[tool.hatch-attest]\n"
        'build-backend = "setuptools.build_meta"\n'
        'backend-path = ["_build"]\n'
        'publisher = { kind = "github", repository = "octo-org/elsewhere", '
        'workflow = "release.yml" }\n'
    )

    refused = cli("sign", *trust, wheel)

    assert refused.status == 1
    assert refused.err == (
        "hatch-attest: error: cannot attest (mode = always): expected GitHub repository "
        f"octo-org/elsewhere, found {sigstore_github_job.repository} "
        f"(GITHUB_REPOSITORY); not signing "
        "as somebody else's CI\n"
    )
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


def test_both_tables_are_a_conflict(cli: Cli, trust: list[str], tmp_path: Path) -> None:
    Path("pyproject.toml").write_text(
        '[tool.hatch.build.hooks.attest]\nmode = "auto"\n'
        '[tool.hatch-attest]\nbuild-backend = "setuptools.build_meta"\n'
    )

    result = cli("sign", *trust, fake_wheel(tmp_path / "dist"))

    assert result.status == 2
    assert result.err == (
        f"hatch-attest: error: {Path.cwd() / 'pyproject.toml'}: both "
        "[tool.hatch.build.hooks.attest] and [tool.hatch-attest] are set; keep the one of the "
        'backend that builds: [tool.hatch-attest] with build-backend = "hatch_attest.backend", '
        "[tool.hatch.build.hooks.attest] with hatchling\n"
    )


def test_a_wrong_publisher_flag_refuses_before_any_token(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")

    result = cli(
        "sign", "--publisher", f"github:{sigstore_github_job.repository}@ci.yml", *trust, wheel
    )

    assert result.status == 1
    assert result.err == (
        "hatch-attest: error: cannot attest (mode = always): expected workflow ci.yml, found "
        "release.yml (GITHUB_WORKFLOW_REF): this job of the project's own repository is not "
        "the Trusted Publisher, and PyPI would reject its attestations. Build in the "
        "publishing workflow, or correct `publisher`\n"
    )
    assert local_sigstore.counts()["oidc"] == 0


def test_trust_config_from_the_environment_and_the_flag_beating_it(
    cli: Cli,
    local_sign: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    first, second = fake_wheel(tmp_path / "a"), fake_wheel(tmp_path / "b")
    monkeypatch.setenv("HATCH_ATTEST_TRUST_CONFIG", str(local_sigstore.trust_config_path))

    assert cli("sign", first).status == 0

    monkeypatch.setenv("HATCH_ATTEST_TRUST_CONFIG", str(tmp_path / "missing.json"))
    broken = cli("sign", second)
    assert broken.status == 1
    assert "missing.json" in broken.error_lines()[0]

    fixed = local_sign(second)
    assert fixed.status == 0, fixed.err
    for wheel in (first, second):
        accepted(wheel, sigstore_github_job, local_sigstore)


def test_globs_files_and_duplicates(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    dist = tmp_path / "dist"
    wheel = fake_wheel(dist)
    sdist = dist / "demo_pkg-1.0.tar.gz"
    sdist.write_bytes(b"sdist")

    result = cli("sign", *trust, f"{dist}/*.whl", wheel)

    assert result.status == 0, result.err
    assert local_sigstore.counts()["rekor"] == 1
    assert attestation_path(wheel).exists()
    assert not attestation_path(sdist).exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.whl", "{d}/missing.whl: no such file or directory"),
        (lambda d: d / "*.zip", "{d}/*.zip: no such file (the pattern matched nothing)"),
        (lambda d: d, "no wheels or sdists to sign in {d}"),
    ],
    ids=["missing", "empty-glob", "nothing-to-sign"],
)
def test_sign_path_errors(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    sigstore_github_job: GitHubIdentity,
    make: Callable[[Path], Path],
    message: str,
) -> None:
    directory = tmp_path / "dist"
    directory.mkdir()

    result = cli("sign", *trust, make(directory))

    assert (result.status, result.out) == (1, "")
    assert result.err == f"hatch-attest: error: {message.format(d=directory)}\n"


def test_verbose_shows_debug_logs_and_the_traceback_but_never_the_token(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    token = local_sigstore.mint_github_token(sigstore_github_identity)
    monkeypatch.setenv("SIGSTORE_IDENTITY_TOKEN", token)
    wheel = fake_wheel(tmp_path / "dist")

    signed = cli("-v", "sign", *trust, wheel)

    assert signed.status == 0, signed.err
    assert "hatch_attest._cli: configuration: AttestConfig(mode='always'" in signed.err
    assert "sigstore." in signed.err  # sigstore's own debug logs
    assert token not in signed.out + signed.err
    accepted(wheel, sigstore_github_identity, local_sigstore)

    # An error: one line, unless -v (before or after the command) asks for the traceback.
    quiet = cli("sign", *trust, tmp_path / "missing.whl")
    verbose = cli("sign", "-v", *trust, tmp_path / "missing.whl")

    expected = f"hatch-attest: error: {tmp_path / 'missing.whl'}: no such file or directory\n"
    assert (quiet.status, quiet.err) == (1, expected)
    assert verbose.status == 1
    assert verbose.err.startswith("hatch_attest._cli: configuration:")
    assert "Traceback (most recent call last):" in verbose.err
    assert "hatch_attest.errors.DistributionError" in verbose.err
    assert verbose.err.endswith(expected)
    assert token not in quiet.err + verbose.err


# --- verify ---------------------------------------------------------------------------


@pytest.fixture
def signed(
    cli: Cli, trust: list[str], tmp_path: Path, sigstore_github_job: GitHubIdentity
) -> tuple[Path, Path]:
    """A dist/ folder with a wheel and an sdist, both attested by this job."""
    dist = tmp_path / "dist"
    wheel = fake_wheel(dist)
    sdist = fake_sdist(dist, size=128)
    result = cli("sign", *trust, dist)
    assert result.status == 0, result.err
    return wheel, sdist


def test_verify_passes_a_good_set(
    cli: Cli,
    trust: list[str],
    signed: tuple[Path, Path],
    sigstore_github_job: GitHubIdentity,
) -> None:
    wheel, sdist = signed
    publisher = f"github:{sigstore_github_job.repository}@release.yml"

    result = cli("verify", "--publisher", publisher, *trust, wheel.parent)

    assert result.status == 0, result.out
    for dist in (sdist, wheel):
        index = log_index(Attestation.model_validate_json(attestation_path(dist).read_bytes()))
        assert (
            f"{dist}: OK\n  {dist.name}.publish.attestation: {PUBLISH_V1}, signed by "
            f"{workflow_uri(sigstore_github_job)}, Rekor log index {index}\n"
        ) in result.out
    assert result.err == (
        f"Verifying against GitHub repository {sigstore_github_job.repository}, "
        f"workflow release.yml\n"
        "all 2 distributions pass PyPI's attestation checks\n"
    )


def _tamper(wheel: Path, sigstore: LocalSigstore, identity: GitHubIdentity) -> list[str]:
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    return []


def _wrong_repository(wheel: Path, sigstore: LocalSigstore, identity: GitHubIdentity) -> list[str]:
    return ["--publisher", "github:octo-org/another-repo@release.yml"]


def _wrong_workflow(wheel: Path, sigstore: LocalSigstore, identity: GitHubIdentity) -> list[str]:
    return ["--publisher", f"github:{identity.repository}@ci.yml"]


def _second_publish(wheel: Path, sigstore: LocalSigstore, identity: GitHubIdentity) -> list[str]:
    again = sign_statement(sigstore, identity, wheel, PUBLISH_V1)
    wheel.with_name(f"{wheel.name}.again.attestation").write_text(again.model_dump_json())
    return []


def _missing(wheel: Path, sigstore: LocalSigstore, identity: GitHubIdentity) -> list[str]:
    attestation_path(wheel).unlink()
    return []


def _unknown_predicate(wheel: Path, sigstore: LocalSigstore, identity: GitHubIdentity) -> list[str]:
    custom = sign_statement(sigstore, identity, wheel, "https://example.com/custom/v1", {"a": 1})
    attestation_path(wheel).write_text(custom.model_dump_json())
    return []


def _invalid_json(wheel: Path, sigstore: LocalSigstore, identity: GitHubIdentity) -> list[str]:
    attestation_path(wheel).write_text('{"version": 1, "envelope": ')
    return []


@dataclass(frozen=True)
class Breakage:
    id: str
    make: Callable[[Path, LocalSigstore, GitHubIdentity], list[str]]
    check: str
    message: str  # in the finding's line; {repo}, {wheel} and {identity} are filled in


BREAKAGES = [
    Breakage(
        "tampered-artifact",
        _tamper,
        "attestation-digest",
        "the file changed after it was signed. Sign the file that you upload",
    ),
    Breakage(
        "wrong-repository",
        _wrong_repository,
        "attestation-publisher",
        "the attestation was not signed by the Trusted Publisher (GitHub repository "
        "octo-org/another-repo, workflow release.yml): Source Repository URI is "
        "'https://github.com/{repo}', expected 'https://github.com/octo-org/another-repo'",
    ),
    Breakage(
        "wrong-workflow",
        _wrong_workflow,
        "attestation-publisher",
        "(GitHub repository {repo}, workflow ci.yml): Build Config URI is '{identity}', "
        "expected 'https://github.com/{repo}/.github/workflows/ci.yml@",
    ),
    Breakage(
        "two-publish-attestations",
        _second_publish,
        "attestation-duplicate-type",
        "{wheel}.publish.attestation: {wheel}.again.attestation already has predicate type "
        f"{PUBLISH_V1}; PyPI accepts one attestation per predicate type for a file",
    ),
    Breakage(
        "missing-attestation",
        _missing,
        "attestation-missing",
        "{wheel}: no attestation found (expected {wheel}.publish.attestation next to it); "
        "`twine upload --attestations` refuses to upload a file without one",
    ),
    Breakage(
        "unknown-predicate-type",
        _unknown_predicate,
        "attestation-predicate-type",
        "unknown predicate type 'https://example.com/custom/v1'; PyPI accepts only",
    ),
    Breakage(
        "invalid-json",
        _invalid_json,
        "attestation-json",
        "{wheel}.publish.attestation: not valid JSON (",
    ),
]


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda b: b.id)
def test_verify_detects(
    breakage: Breakage,
    cli: Cli,
    trust: list[str],
    signed: tuple[Path, Path],
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    wheel, sdist = signed
    flags = breakage.make(wheel, local_sigstore, sigstore_github_job)
    if not flags:
        flags = ["--publisher", f"github:{sigstore_github_job.repository}@release.yml"]

    result = cli("verify", *flags, *trust, wheel.parent)

    assert result.status == 1
    assert findings(result.out, wheel) == [breakage.check]
    message = breakage.message.format(
        repo=sigstore_github_job.repository,
        wheel=wheel.name,
        identity=workflow_uri(sigstore_github_job),
    )
    assert message in result.out
    if breakage.check == "attestation-missing":
        # PyPI accepts a file without attestations; only twine's --attestations refuses it.
        assert f"{wheel}: NOT ATTESTED\n" in result.out
        assert "rejected" not in result.err
        assert result.err.endswith(
            "1 of 2 distributions has no attestation: PyPI accepts it without one, but "
            "`twine upload --attestations` refuses to upload it; attest it with "
            "`hatch-attest sign`, or upload without --attestations\n"
        )
        return
    assert f"{wheel}: REJECTED\n" in result.out
    # Only the publisher is wrong for the sdist too; everything else concerns the wheel.
    sdist_ok = breakage.check != "attestation-publisher"
    assert (f"{sdist}: OK\n" in result.out) is sdist_ok
    assert result.err.endswith(
        f"{1 if sdist_ok else 2} of 2 distributions would be rejected by PyPI\n"
    )


def test_each_breakage_has_its_own_message() -> None:
    assert len({(b.check, b.message) for b in BREAKAGES}) == len(BREAKAGES)


def test_verify_reports_a_name_pypi_rejects_as_a_finding(
    cli: Cli, trust: list[str], tmp_path: Path
) -> None:
    bad = fake_wheel(tmp_path / "dist", "Demo_Pkg")

    result = cli("verify", "--publisher", "github:octo-org/demo@release.yml", *trust, bad)

    assert result.status == 1
    assert findings(result.out, bad) == ["dist-filename", "attestation-missing"]


def test_verify_takes_the_publisher_from_pyproject_toml(
    cli: Cli,
    trust: list[str],
    signed: tuple[Path, Path],
    sigstore_github_job: GitHubIdentity,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wheel, _ = signed
    Path("pyproject.toml").write_text(
        "[tool.hatch.build.hooks.attest]\n"
        f'publisher = {{ kind = "github", repository = "{sigstore_github_job.repository}", '
        'workflow = "release.yml" }\n'
    )
    # The CI job would say otherwise: the table wins.
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo-org/not-this-one")

    good = cli("verify", *trust, wheel)

    assert good.status == 0, good.out
    assert good.err.startswith(
        f"Verifying against GitHub repository {sigstore_github_job.repository}, "
        f"workflow release.yml\n"
    )

    overridden = cli("verify", "--publisher", "github:octo-org/other@release.yml", *trust, wheel)

    assert overridden.status == 1
    assert findings(overridden.out, wheel) == ["attestation-publisher"]


def test_verify_infers_the_publisher_from_the_ci_job(
    cli: Cli, trust: list[str], signed: tuple[Path, Path], sigstore_github_job: GitHubIdentity
) -> None:
    result = cli("verify", *trust, signed[0].parent)

    assert result.status == 0, result.out
    assert result.err.startswith(
        f"Verifying against GitHub repository {sigstore_github_job.repository}, "
        f"workflow release.yml\n"
    )


def test_verify_without_a_publisher_says_how_to_pass_one(
    cli: Cli, trust: list[str], tmp_path: Path
) -> None:
    wheel = fake_wheel(tmp_path / "dist")

    result = cli("verify", *trust, wheel)

    assert (result.status, result.out) == (2, "")
    assert result.err == (
        "hatch-attest: error: no Trusted Publisher to verify against: pass --publisher "
        "github:OWNER/REPO@WORKFLOW.yml, gitlab:NAMESPACE/PROJECT@PATH/TO/.gitlab-ci.yml or "
        "google:EMAIL, or set `publisher` in [tool.hatch.build.hooks.attest] of "
        "./pyproject.toml, or run in the GitHub Actions or GitLab CI job that publishes\n"
    )


def test_verify_reports_every_error_of_a_bad_pyproject_table(
    cli: Cli, trust: list[str], tmp_path: Path
) -> None:
    Path("pyproject.toml").write_text(
        '[tool.hatch.build.hooks.attest]\nmode = "sometimes"\ntimeout = -1\n'
    )

    result = cli("verify", *trust, fake_wheel(tmp_path / "dist"))

    assert result.status == 2
    assert result.err.splitlines() == [
        "hatch-attest: error: pyproject.toml tool.hatch.build.hooks.attest.mode: must be one of "
        '"auto", "always", "never", not "sometimes"',
        "hatch-attest: error: pyproject.toml tool.hatch.build.hooks.attest.timeout: must be a "
        "number of seconds, more than 0 and at most 3600, not -1",
    ]


@pytest.fixture
def offline_production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """sigstore's TUF cache in a private folder, seeded from the root it embeds."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def test_verify_real_pypi_attestations_offline(
    cli: Cli, tmp_path: Path, offline_production: None
) -> None:
    dist = tmp_path / "real"
    dist.mkdir()
    for name in ("pypi_attestations-0.0.19.tar.gz", "gitlab_oidc_project-0.0.3.tar.gz"):
        for path in FIXTURES.glob(f"{name}*"):
            shutil.copy2(path, dist)
    flags = ["--instance", "production", "--offline"]

    github = cli(
        "verify",
        *flags,
        "--publisher",
        "github:trailofbits/pypi-attestations@release.yml",
        dist / "pypi_attestations-0.0.19.tar.gz",
    )
    gitlab = cli(
        "verify",
        *flags,
        "--publisher",
        "gitlab:facutuesca/gitlab-oidc-project@.gitlab-ci.yml",
        dist / "gitlab_oidc_project-0.0.3.tar.gz",
    )

    assert github.status == 0, github.out
    assert "pypi_attestations-0.0.19.tar.gz.slsa.attestation: https://slsa.dev/provenance/v1" in (
        github.out
    )
    assert gitlab.status == 0, gitlab.out


# --- inspect --------------------------------------------------------------------------


def test_inspect_json_round_trips_a_real_attestation(cli: Cli) -> None:
    path = FIXTURES / "pypi_attestations-0.0.19.tar.gz.publish.attestation"

    result = cli("inspect", "--json", path)

    assert (result.status, result.err) == (0, "")
    assert json.loads(result.out) == [PUBLISH_JSON]


def test_inspect_a_distribution_shows_all_its_attestations(cli: Cli) -> None:
    result = cli("inspect", "--json", FIXTURES / "pypi_attestations-0.0.19.tar.gz")

    assert result.status == 0
    assert [(i["path"], i["predicate_type"]) for i in json.loads(result.out)] == [
        (str(FIXTURES / "pypi_attestations-0.0.19.tar.gz.publish.attestation"), PUBLISH_V1),
        (
            str(FIXTURES / "pypi_attestations-0.0.19.tar.gz.slsa.attestation"),
            "https://slsa.dev/provenance/v1",
        ),
    ]


def test_inspect_json_round_trips_a_fresh_attestation(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    sigstore_github_job: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    signed = cli("sign", *trust, wheel)
    assert signed.status == 0, signed.err
    table_index = int(signed.out.splitlines()[2].rsplit(maxsplit=1)[1])

    result = cli("inspect", "--json", wheel)

    assert result.status == 0, result.err
    [info] = json.loads(result.out)
    repository_uri = f"https://github.com/{sigstore_github_job.repository}"
    assert info["path"] == str(attestation_path(wheel))
    assert info["subject"] == {"name": wheel.name, "sha256": sha256_file(wheel)}
    assert info["predicate_type"] == PUBLISH_V1
    assert info["identity"] == workflow_uri(sigstore_github_job)
    assert {
        name: info["claims"][name]
        for name in (
            "issuer",
            "source_repository_uri",
            "build_config_uri",
            "source_repository_ref",
            "source_repository_digest",
            "source_repository_visibility",
        )
    } == {
        "issuer": GITHUB_ISSUER,
        "source_repository_uri": repository_uri,
        "build_config_uri": workflow_uri(sigstore_github_job),
        "source_repository_ref": sigstore_github_job.ref,
        "source_repository_digest": sigstore_github_job.sha,
        "source_repository_visibility": "public",
    }
    attestation = Attestation.model_validate_json(attestation_path(wheel).read_bytes())
    assert info["rekor"]["log_index"] == table_index == log_index(attestation)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", info["rekor"]["integrated_time"])


def test_inspect_text_says_unverified_and_reports_bad_files(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "broken.publish.attestation"
    bad.write_text("{}")

    result = cli("inspect", FIXTURES / "gitlab_oidc_project-0.0.3.tar.gz.publish.attestation", bad)

    assert result.status == 1
    assert result.out.startswith(
        "UNVERIFIED: shown as written in the file; anyone can write these values.\n"
    )
    assert "Signer identity: https://gitlab.com/facutuesca/gitlab-oidc-project//" in result.out
    [line] = result.err.splitlines()
    assert line.startswith(f"hatch-attest: error: {bad} is not a PEP 740 attestation (")


@pytest.mark.parametrize("flags", [[], ["--json"]])
def test_inspect_without_attestations(cli: Cli, tmp_path: Path, flags: list[str]) -> None:
    wheel = fake_wheel(tmp_path / "dist")

    result = cli("inspect", *flags, wheel)

    assert (result.status, result.out) == (1, "")
    assert result.err == (
        f"{wheel}: no attestation next to it\n"
        f"hatch-attest: error: no attestation files found in {wheel}\n"
    )


# --- the command line itself ----------------------------------------------------------


def test_version(cli: Cli) -> None:
    result = cli("--version")

    assert (result.status, result.out, result.err) == (0, f"hatch-attest {__version__}\n", "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["publish"], "argument COMMAND: invalid choice: 'publish'"),
        (["sign"], "the following arguments are required: PATH"),
        (["sign", "--jobs", "0", "x.whl"], "argument --jobs: must be at least 1, not 0"),
        (
            ["sign", "--timeout", "0", "x.whl"],
            "argument --timeout: must be a number of seconds, more than 0 and at most 3600, "
            "not '0'",
        ),
        (["sign", "--mode", "sometimes", "x.whl"], "argument --mode: invalid choice: 'sometimes'"),
        (
            ["verify", "--instance", "staging", "--trust-config", "t.json", "x.whl"],
            "argument --trust-config: not allowed with argument --instance",
        ),
        (
            ["verify", "--publisher", "github:octo-org/demo", "x.whl"],
            'argument --publisher: invalid publisher "github:octo-org/demo": must be '
            '"github:OWNER/REPO@WORKFLOW.yml"',
        ),
        (["inspect", "--yaml", "x"], "unrecognized arguments: --yaml"),
    ],
)
def test_misuse_exits_2_with_the_usage(cli: Cli, argv: list[str], message: str) -> None:
    result = cli(*argv)

    assert (result.status, result.out) == (2, "")
    assert result.err.startswith("usage: hatch-attest")
    assert message in result.err.splitlines()[-1]


@pytest.mark.parametrize(
    ("command", "phrases"),
    [
        (
            "sign",
            ["--overwrite", "--jobs N", "--publisher SPEC", "All or nothing", "HATCH_ATTEST_MODE"],
        ),
        ("verify", ["--publisher SPEC", "--offline", "./pyproject.toml", "twine upload"]),
        ("inspect", ["--json", "Nothing is verified"]),
        ("demo", ["--keep DIR", "NOT the public"]),
    ],
)
def test_help(cli: Cli, command: str, phrases: list[str]) -> None:
    result = cli(command, "--help")

    assert (result.status, result.err) == (0, "")
    assert result.out.startswith(f"usage: hatch-attest {command} [-h] [-v]")
    for phrase in phrases:
        assert phrase in " ".join(result.out.split()), phrase
    assert result.out.rstrip().endswith("2 misuse or invalid configuration.")


# --- the installed console script and `python -m` ---------------------------------------


def run_script(
    argv: Sequence[str | Path], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return run_bounded([str(arg) for arg in argv], env=env, cwd=cwd, timeout=SUBPROCESS_TIMEOUT)


def test_python_m_hatch_attest(tmp_path: Path) -> None:
    result = run_script(
        [sys.executable, "-m", "hatch_attest", "--version"], dict(os.environ), tmp_path
    )

    assert (result.returncode, result.stdout) == (0, f"hatch-attest {__version__}\n")


@pytest.fixture
def job_env(
    local_sigstore: LocalSigstore, sigstore_github_identity: GitHubIdentity
) -> dict[str, str]:
    """A child process's environment: the GitHub job, pointed at the local instance."""
    env = outside_ci()
    env.update(local_sigstore.github_env(sigstore_github_identity))
    env["HATCH_ATTEST_TRUST_CONFIG"] = str(local_sigstore.trust_config_path)
    return env


def test_console_script_sign(
    tmp_path: Path,
    job_env: dict[str, str],
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")

    sign = run_script([SCRIPT, "sign", "dist"], job_env, tmp_path)

    assert sign.returncode == 0, sign.stderr
    assert sign.stdout.splitlines()[2].startswith(
        f"{wheel.name}  {workflow_uri(sigstore_github_identity)}  "
    )
    accepted(wheel, sigstore_github_identity, local_sigstore)


def test_console_script_verify(
    tmp_path: Path, job_env: dict[str, str], signed: tuple[Path, Path]
) -> None:
    wheel, _ = signed

    good = run_script([SCRIPT, "verify", "dist"], job_env, tmp_path)

    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.startswith(f"{Path('dist', wheel.name)}: OK\n")

    wheel.write_bytes(b"tampered")
    rejected = run_script([SCRIPT, "verify", "dist"], job_env, tmp_path)

    assert rejected.returncode == 1
    assert f"{Path('dist', wheel.name)}: REJECTED\n" in rejected.stdout
    assert "[attestation-digest]" in rejected.stdout
    assert rejected.stderr.endswith("1 of 2 distributions would be rejected by PyPI\n")


def test_console_script_inspect(tmp_path: Path) -> None:
    path = FIXTURES / "pypi_attestations-0.0.19.tar.gz.publish.attestation"

    inspect = run_script([SCRIPT, "inspect", "--json", path], outside_ci(), tmp_path)

    assert (inspect.returncode, inspect.stderr) == (0, "")
    assert json.loads(inspect.stdout) == [PUBLISH_JSON]


def test_console_script_demo_as_the_readme_shows_it(tmp_path: Path) -> None:
    readme = (TESTS.parent / "README.md").read_text()
    assert ".venv/bin/hatch-attest demo\n" in readme

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    demo = run_script([SCRIPT, "demo"], {**os.environ, "TMPDIR": str(scratch)}, tmp_path)

    assert demo.returncode == 0, demo.stdout + demo.stderr
    out = demo.stdout
    assert "NOT the public Sigstore" in " ".join(out.split())
    assert "LOCAL Sigstore stand-in on 127.0.0.1" in out
    assert "demo_pkg-0.1.0-py3-none-any.whl.publish.attestation" in out
    assert "demo_pkg-0.1.0.tar.gz.publish.attestation" in out
    assert "dist/demo_pkg-0.1.0-py3-none-any.whl: OK\n" in out
    assert "dist/demo_pkg-0.1.0.tar.gz: OK\n" in out
    assert (
        "Verification passed: these files and their attestations pass PyPI's upload\n"
        "checks, verified against the local test instance's trust root.\n"
    ) in out
    # The whole story: twine over Trusted Publishing to the local index, and what it kept.
    assert "$ twine upload --attestations dist/*\n" in out
    for name in ("demo_pkg-0.1.0-py3-none-any.whl", "demo_pkg-0.1.0.tar.gz"):
        assert f"     {name}: 1 attestation ({PUBLISH_V1})\n" in out
    assert "Upload passed: the local index applied PyPI's rules to every attestation.\n" in out
    # A folder that is gone when the demo ends is never offered to `cd` into.
    assert "$ cd " not in out
    assert out.endswith("Demo succeeded.\n")
    assert "all 2 distributions pass PyPI's attestation checks" in demo.stderr
    # Without --keep, nothing is left behind.
    assert f"2. Building {scratch}/hatch-attest-demo-" in out
    assert list(scratch.iterdir()) == []


def test_demo_keep_leaves_a_project_that_verifies_later(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep = tmp_path / "kept"

    demo = cli("demo", "--keep", keep)

    assert demo.status == 0, demo.out + demo.err
    project = keep / "demo-pkg"
    assert f"The project, its dist/ and the trust config are kept in {keep}; check\n" in demo.out
    assert sorted(p.name for p in (project / "dist").iterdir()) == [
        "demo_pkg-0.1.0-py3-none-any.whl",
        "demo_pkg-0.1.0-py3-none-any.whl.publish.attestation",
        "demo_pkg-0.1.0.tar.gz",
        "demo_pkg-0.1.0.tar.gz.publish.attestation",
    ]
    # Step 4's command, after the stand-in stopped: verifying needs only its trust root,
    # and the publisher comes from the example's pyproject.toml.
    monkeypatch.chdir(project)
    again = cli("verify", "--trust-config", "../sigstore/trust_config.json", "dist/")

    assert again.status == 0, again.out
    assert again.err == (
        "Verifying against GitHub repository octo-org/demo-pkg, workflow release.yml\n"
        "all 2 distributions pass PyPI's attestation checks\n"
    )


def test_demo_keep_refuses_an_existing_project(cli: Cli, tmp_path: Path) -> None:
    mine = tmp_path / "keep" / "demo-pkg"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("my own work")

    result = cli("demo", "--keep", tmp_path / "keep")

    assert result.status == 2
    assert result.err == (
        f"hatch-attest: error: --keep: {mine} already exists, and the demo does not "
        "overwrite it. Remove it, or pass another directory\n"
    )
    assert (mine / "notes.txt").read_text() == "my own work"
    assert sorted(p.name for p in (tmp_path / "keep").iterdir()) == ["demo-pkg"]


def test_step_summary_escapes_backticks_and_pipes(
    cli: Cli,
    trust: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sigstore_ci_job: CIJob,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    job = GitHubIdentity(repository=sigstore_github_identity.repository, workflow="re`lease|x.yml")
    sigstore_ci_job(local_sigstore.github_env(job))
    summary = tmp_path / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    wheel = fake_wheel(tmp_path / "dist")

    result = cli("sign", *trust, wheel)

    assert result.status == 0, result.err
    index = log_index(Attestation.model_validate_json(attestation_path(wheel).read_bytes()))
    identity = workflow_uri(job).replace("|", "\\|")
    row = f"| `{wheel.name}` | ``{identity}`` | {index} |"
    assert row in summary.read_text().splitlines()
    # Three cells: every `|` left is escaped or a cell border.
    assert re.sub(r"\\\|", "", row).count("|") == 4


HOSTILE_CHECK = {
    "binary": "attestation-json",
    "deep-array": "attestation-json",
    "deep-object": "attestation-json",
    "deep-statement": "attestation-signature",
    "huge": "attestation-schema",
    "latin-1": "attestation-json",
    "utf-16": "attestation-schema",
}


@pytest.mark.parametrize("content", sorted(HOSTILE))
def test_inspect_and_verify_say_what_is_wrong_with_any_content(
    content: str, cli: Cli, trust: list[str], tmp_path: Path
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    hostile = attestation_path(wheel)
    hostile.write_bytes(HOSTILE[content])

    inspected = cli("inspect", wheel.parent)
    verified = cli("verify", "--publisher", "github:octo-org/demo@release.yml", *trust, wheel)

    assert (inspected.status, inspected.out) == (1, "")
    [line] = inspected.err.splitlines()
    assert line.startswith(f"hatch-attest: error: {hostile}")
    assert verified.status == 1
    assert findings(verified.out, wheel) == [HOSTILE_CHECK[content]]
    assert len(verified.out.splitlines()) == 2  # the verdict, and one line for the finding
    assert verified.err.endswith("1 of 1 distribution would be rejected by PyPI\n")
    assert sorted(HOSTILE_CHECK) == sorted(HOSTILE)


def test_verify_reports_staging_leftovers_of_a_killed_run(
    cli: Cli, trust: list[str], signed: tuple[Path, Path], sigstore_github_job: GitHubIdentity
) -> None:
    wheel, _ = signed
    dead = run_bounded(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    leftover = wheel.parent / f".{wheel.name}.publish.attestation.{dead.stdout.strip()}.x1y2.tmp"
    leftover.write_text('{"version": 1')
    # A live writer's staging file (it holds it locked) is none of verify's business.
    live = stage_attestation(wheel, b"")
    try:
        result = cli(
            "verify",
            "--publisher",
            f"github:{sigstore_github_job.repository}@release.yml",
            *trust,
            wheel,
        )
    finally:
        live.discard()

    assert result.status == 0, result.out
    assert result.out.splitlines()[0] == f"{wheel}: OK"
    assert result.out.splitlines()[-1] == (
        f"  {leftover.name}: warning: a staging file left by a killed run; remove it (the next "
        "build or `hatch-attest sign` of this file also does) [staging-leftover]"
    )
    assert findings(result.out, wheel) == ["staging-leftover"]
    assert result.err.endswith("the distribution passes PyPI's attestation checks (1 warning)\n")
    assert leftover.exists()  # verify reports; it never deletes


def test_inspect_and_verify_do_not_read_a_huge_file(
    cli: Cli, trust: list[str], tmp_path: Path
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    huge = attestation_path(wheel)
    with huge.open("wb") as f:
        f.truncate((64 << 20) + 1)  # sparse: no disk space, but 64 MiB and a byte to read
    message = (
        "larger than 64 MiB, so not read: a PEP 740 attestation is a few kilobytes. Delete it "
        "and build again to re-create it"
    )

    inspected = cli("inspect", huge)
    verified = cli("verify", "--publisher", "github:octo-org/demo@release.yml", *trust, wheel)

    assert (inspected.status, inspected.err) == (1, f"hatch-attest: error: {huge}: {message}\n")
    assert verified.status == 1
    assert verified.out == f"{wheel}: REJECTED\n  {huge.name}: {message} [attestation-unreadable]\n"
