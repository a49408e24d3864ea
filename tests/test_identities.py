"""Google Cloud, Buildkite and CircleCI identities through ``hatch-attest sign``.

Each job is emulated the way its clients meet the real one (see ``hatch_attest_testing``):
Google's metadata server and IAM at hatch-attest's own module constants, pointed at
the local instance; stand-in ``buildkite-agent`` and ``circleci`` executables on PATH
(run the way `id` runs them). What
``sign`` writes is verified with ``hatch_attest._verify`` under pypi-attestations'
own publisher policies (Google, CircleCI) or sigstore's identity policy (Buildkite,
which PyPI cannot accept yet), and the certificate is read for what Fulcio puts in.

Also: a machine that merely looks like CI or a cloud VM has no identity, which is a
skip (one line, exit 0) in ``auto`` mode and an error in ``always`` mode; an outage
is an error in both; a hung provider is given up on within ``--timeout``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypi_attestations
import pytest
from cryptography import x509
from pypi_attestations import Attestation, Distribution
from sigstore.verify.policy import Identity, VerificationPolicy

from hatch_attest._files import attestation_path
from hatch_attest._trust import load_trust_config, verifier_for
from hatch_attest._verify import verify_attestation
from hatch_attest_testing import (
    PUBLISH_V1,
    BuildkiteIdentity,
    CircleCIIdentity,
    Cli,
    CliResult,
    Fault,
    GoogleIdentity,
    LocalSigstore,
    fake_wheel,
)
from hatch_attest_testing.pytest_plugin import CIJob

FULCIO_OID = "1.3.6.1.4.1.57264.1."
NOTHING_SIGNED = {"fulcio": 0, "rekor": 0, "tsa": 0}


# No CI identity here; the conftest starts each test in an empty folder.
pytestmark = pytest.mark.usefixtures("sigstore_no_ci")


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    """A distribution file to sign: attestations only hash it, so any bytes do."""
    return fake_wheel(tmp_path / "dist")


def verified_certificate(
    dist: Path, sigstore: LocalSigstore, policy: pypi_attestations.Publisher | VerificationPolicy
) -> x509.Certificate:
    """Verify ``dist``'s attestation with ``policy`` on the local trust root; its certificate."""
    attestation = Attestation.model_validate_json(attestation_path(dist).read_bytes())
    verifier = verifier_for(load_trust_config("production", sigstore.trust_config_path))
    found = verify_attestation(attestation, Distribution.from_file(dist), policy, verifier)
    assert found == (PUBLISH_V1, None)
    return x509.load_der_x509_certificate(attestation.verification_material.certificate)


def fulcio_extensions(certificate: x509.Certificate) -> dict[int, bytes]:
    """The 1.3.6.1.4.1.57264.1.N extensions by N, as DER (1.1 is a raw string)."""
    return {
        int(ext.oid.dotted_string.removeprefix(FULCIO_OID)): ext.value.public_bytes()
        for ext in certificate.extensions
        if ext.oid.dotted_string.startswith(FULCIO_OID)
    }


def utf8(text: str) -> bytes:
    """A DER UTF8String (under 256 bytes), as Fulcio writes 1.8 to 1.24."""
    data = text.encode()
    assert len(data) < 256
    length = bytes([len(data)]) if len(data) < 128 else bytes([0x81, len(data)])
    return b"\x0c" + length + data


def _assert_skipped(result: CliResult, mode: str, reason: str, wheel: Path) -> None:
    """`mode = auto` skips with one line saying `reason`; `always` fails saying it; and
    nothing is written beside `wheel`."""
    if mode == "auto":
        assert (result.status, result.out, result.err) == (0, "", f"Not attesting: {reason}\n")
    else:
        assert result.status == 1
        assert result.err == f"hatch-attest: error: cannot attest (mode = always): {reason}\n"
    assert sorted(p.name for p in wheel.parent.iterdir()) == [wheel.name]


def unique_email(request: pytest.FixtureRequest, name: str = "release") -> str:
    return f"{name}@{abs(hash(request.node.nodeid)) % 10**8:08d}.iam.gserviceaccount.com"


# Google Cloud


@pytest.fixture
def on_vm(
    tmp_path: Path, local_sigstore: LocalSigstore, request: pytest.FixtureRequest
) -> Iterator[GoogleIdentity]:
    """This process on a Compute Engine VM whose default service account is unique to the test."""
    account = GoogleIdentity(email=unique_email(request))
    with local_sigstore.google_cloud(tmp_path / "gce", account).patched():
        yield account


def test_google_vm_signs_as_its_service_account(
    local_sigstore: LocalSigstore,
    on_vm: GoogleIdentity,
    wheel: Path,
    local_sign: Cli,
) -> None:
    result = local_sign("--publisher", f"google:{on_vm.email}", str(wheel))

    assert result.status == 0, result.err
    assert on_vm.email in result.out
    publisher = pypi_attestations.GooglePublisher(email=on_vm.email)
    certificate = verified_certificate(wheel, local_sigstore, publisher)
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == [on_vm.email]
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == []
    assert fulcio_extensions(certificate) == {
        1: b"https://accounts.google.com",
        8: utf8("https://accounts.google.com"),
        24: utf8(on_vm.unique_id),
    }
    assert local_sigstore.counts() == {"oidc": 1, "fulcio": 1, "rekor": 1, "tsa": 0}


def test_google_impersonation_signs_as_the_named_account(
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    wheel: Path,
    sigstore_no_ci: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    local_sign: Cli,
) -> None:
    """GOOGLE_SERVICE_ACCOUNT_NAME: the VM's account asks IAM for another account's token."""
    publisher_email = unique_email(request, "publisher")
    cloud = local_sigstore.google_cloud(
        tmp_path / "gce",
        GoogleIdentity(email=unique_email(request, "vm")),
        impersonates=(publisher_email,),
        on_compute_engine=False,
    )
    sigstore_no_ci.setenv("GOOGLE_SERVICE_ACCOUNT_NAME", publisher_email)

    with cloud.patched():
        result = local_sign(str(wheel))

    assert result.status == 0, result.err
    verified_certificate(
        wheel, local_sigstore, pypi_attestations.GooglePublisher(email=publisher_email)
    )
    # The access token from the metadata server, then IAM's generateIdToken.
    assert local_sigstore.counts() == {"oidc": 2, "fulcio": 1, "rekor": 1, "tsa": 0}


@dataclass(frozen=True)
class NoIdentityCase:
    """A machine that looks like it has an identity, and the one line that says it has none."""

    account: GoogleIdentity | None
    on_compute_engine: bool
    metadata_server: bool
    service_account_name: str | None
    reason: str
    oidc_requests: int
    publisher: str | None = None
    """``--publisher``: a VM's default account signs only when it is named."""


NO_GOOGLE_IDENTITY = {
    "laptop-with-GOOGLE_SERVICE_ACCOUNT_NAME": NoIdentityCase(
        GoogleIdentity(),
        on_compute_engine=False,
        metadata_server=False,
        service_account_name="release@demo-project.iam.gserviceaccount.com",
        reason="GOOGLE_SERVICE_ACCOUNT_NAME is set, but no Google Cloud metadata server "
        "answered, so there is no Google Cloud identity here",
        oidc_requests=0,
    ),
    "vm-without-service-account": NoIdentityCase(
        None,
        on_compute_engine=True,
        metadata_server=True,
        service_account_name=None,
        reason="this looks like a Google Compute Engine VM, but the VM has no service "
        "account (the metadata server answered HTTP 404); to attest, attach a service "
        "account to the VM",
        oidc_requests=1,
        publisher="google:release@demo-project.iam.gserviceaccount.com",
    ),
    "impersonation-not-granted": NoIdentityCase(
        GoogleIdentity(),
        on_compute_engine=True,
        metadata_server=True,
        service_account_name="other@demo-project.iam.gserviceaccount.com",
        reason="Google Cloud refused an ID token for other@demo-project.iam.gserviceaccount.com "
        "(HTTP 403); to attest, grant this VM's service account "
        "roles/iam.serviceAccountOpenIdTokenCreator on it",
        oidc_requests=2,
    ),
}


@pytest.mark.parametrize("case", NO_GOOGLE_IDENTITY.values(), ids=NO_GOOGLE_IDENTITY.keys())
@pytest.mark.parametrize("mode", ["auto", "always"])
def test_no_google_identity_is_a_skip_in_auto_mode(
    case: NoIdentityCase,
    mode: str,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    wheel: Path,
    sigstore_no_ci: pytest.MonkeyPatch,
    local_sign: Cli,
) -> None:
    cloud = local_sigstore.google_cloud(
        tmp_path / "gce",
        case.account,
        on_compute_engine=case.on_compute_engine,
        metadata_server=case.metadata_server,
    )
    if case.service_account_name is not None:
        sigstore_no_ci.setenv("GOOGLE_SERVICE_ACCOUNT_NAME", case.service_account_name)

    named = ("--publisher", case.publisher) if case.publisher is not None else ()
    with cloud.patched():
        result = local_sign("--mode", mode, *named, str(wheel))

    _assert_skipped(result, mode, case.reason, wheel)
    assert local_sigstore.counts() == {"oidc": case.oidc_requests, **NOTHING_SIGNED}


def test_google_metadata_outage_fails_even_in_auto_mode(
    local_sigstore: LocalSigstore,
    on_vm: GoogleIdentity,
    wheel: Path,
    local_sign: Cli,
) -> None:
    """A VM with a service account whose metadata server fails: an outage, not "no identity"."""
    local_sigstore.inject("oidc", Fault.status(503))

    result = local_sign("--mode", "auto", "--publisher", f"google:{on_vm.email}", str(wheel))

    assert result.status == 1
    assert result.err == (
        "hatch-attest: error: Google Cloud's metadata server is unavailable (HTTP 503). "
        "Retry the job.\n"
    )
    assert not attestation_path(wheel).exists()


def test_slow_google_metadata_server_is_given_up_on_in_time(
    local_sigstore: LocalSigstore,
    on_vm: GoogleIdentity,
    wheel: Path,
    local_sign: Cli,
) -> None:
    # Late rather than never: the answer comes after the budget is spent, and the
    # request is not made again.
    local_sigstore.inject("oidc", Fault.delay(8))

    started = time.monotonic()
    result = local_sign(
        "--mode", "auto", "--timeout", "2", "--publisher", f"google:{on_vm.email}", str(wheel)
    )
    elapsed = time.monotonic() - started

    assert result.status == 1
    assert "Google Cloud's metadata server did not answer within the time budget (2 s)" in (
        result.err
    )
    assert elapsed < 6
    assert local_sigstore.counts()["fulcio"] == 0


# Buildkite and CircleCI: a job whose agent tool issues the token

AgentJob = Callable[..., dict[str, str]]


@pytest.fixture
def agent_job(tmp_path: Path, local_sigstore: LocalSigstore, sigstore_ci_job: CIJob) -> AgentJob:
    """Start a Buildkite or CircleCI job whose agent tool sits under `tmp_path`; its environment.

    The arguments after the provider go to `buildkite_env` / `circleci_env`, after the folder.
    """

    def start(provider: str, *args: Any, **options: Any) -> dict[str, str]:
        if provider == "buildkite":
            env = local_sigstore.buildkite_env(tmp_path / "agent", *args, **options)
        else:
            env = local_sigstore.circleci_env(tmp_path / "cli", *args, **options)
        sigstore_ci_job(env)
        return env

    return start


@pytest.fixture
def buildkite_job(tmp_path: Path, agent_job: AgentJob) -> BuildkiteIdentity:
    """This process as a Buildkite job (pipeline unique to the test) with a working agent."""
    identity = BuildkiteIdentity(pipeline_slug=f"demo-{tmp_path.name}")
    agent_job("buildkite", identity)
    return identity


def test_buildkite_job_signs_with_its_pipeline_identity(
    local_sigstore: LocalSigstore,
    buildkite_job: BuildkiteIdentity,
    wheel: Path,
    local_sign: Cli,
) -> None:
    pipeline = f"https://buildkite.com/octo-org/{buildkite_job.pipeline_slug}"

    result = local_sign(str(wheel))

    assert result.status == 0, result.err
    assert pipeline in result.out
    policy = Identity(identity=pipeline, issuer="https://agent.buildkite.com")
    certificate = verified_certificate(wheel, local_sigstore, policy)
    claims = buildkite_job.claims()
    assert fulcio_extensions(certificate) == {
        1: b"https://agent.buildkite.com",
        8: utf8("https://agent.buildkite.com"),
        11: utf8("buildkite-hosted"),
        13: utf8(buildkite_job.commit),
        20: utf8("webhook"),
        21: utf8(f"{pipeline}/builds/42#{buildkite_job.job_id}"),
        24: utf8(claims["sub"]),
    }
    assert local_sigstore.counts() == {"oidc": 1, "fulcio": 1, "rekor": 1, "tsa": 0}


# CircleCI


def test_circleci_job_signs_as_its_pipeline_definition(
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    wheel: Path,
    agent_job: AgentJob,
    local_sign: Cli,
) -> None:
    job = CircleCIIdentity(vcs_origin=f"github.com/octo-org/demo-{tmp_path.name}")
    agent_job("circleci", job)
    build_signer = (
        f"https://circleci.com/api/v2/projects/{job.project_id}"
        f"/pipeline-definitions/{job.pipeline_definition_id}"
    )

    result = local_sign(str(wheel))

    assert result.status == 0, result.err
    assert build_signer in result.out
    # pypi-attestations' own CircleCI publisher policy reads the issuer, the
    # Build Signer URI and the source repository URI and ref.
    publisher = pypi_attestations.CircleCIPublisher(
        project_id=job.project_id,
        pipeline_definition_id=job.pipeline_definition_id,
        vcs_origin=job.vcs_origin,
        vcs_ref=job.vcs_ref,
    )
    certificate = verified_certificate(wheel, local_sigstore, publisher)
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [build_signer]
    extensions = fulcio_extensions(certificate)
    assert extensions[8] == utf8("https://oidc.circleci.com")
    assert extensions[9] == utf8(build_signer)
    assert extensions[18] == utf8(f"https://circleci.com/api/v2/pipeline/{job.pipeline_id}/config")


# A job whose agent cannot issue a token


def _no_agent_token(provider: str) -> tuple[dict[str, bool], str]:
    """The `agent_job` options of an agent that cannot issue a token, and what is said."""
    if provider == "buildkite":
        options = {"access_token": False}
        reason = (
            "Buildkite was detected, but `buildkite-agent` could not issue an OIDC token "
            "(exit status 1: fatal: missing agent access token (BUILDKITE_AGENT_ACCESS_TOKEN))"
        )
    else:
        options = {"can_issue": False}
        reason = (
            "CircleCI was detected, but `circleci` could not issue an OIDC token (exit status "
            "1: Error: failed to get OIDC token: this command must run inside a CircleCI job)"
        )
    return options, reason


@pytest.mark.parametrize("provider", ["buildkite", "circleci"])
@pytest.mark.parametrize("mode", ["auto", "always"])
def test_agent_that_cannot_issue_a_token_is_a_skip_in_auto_mode(
    provider: str,
    mode: str,
    local_sigstore: LocalSigstore,
    wheel: Path,
    agent_job: AgentJob,
    local_sign: Cli,
) -> None:
    options, reason = _no_agent_token(provider)
    agent_job(provider, **options)

    result = local_sign("--mode", mode, str(wheel))

    _assert_skipped(result, mode, reason, wheel)
    assert local_sigstore.counts() == {"oidc": 0, **NOTHING_SIGNED}


def test_agent_refused_by_the_token_service_is_a_skip(
    local_sigstore: LocalSigstore,
    buildkite_job: BuildkiteIdentity,
    wheel: Path,
    local_sign: Cli,
) -> None:
    """The agent reaches Buildkite, which refuses (a pipeline without OIDC, say): exit 1."""
    local_sigstore.inject("oidc", Fault.status(403))

    result = local_sign("--mode", "auto", str(wheel))

    assert result.status == 0
    assert result.err.startswith(
        "Not attesting: Buildkite was detected, but `buildkite-agent` could not issue an OIDC "
        "token (exit status 1: fatal: OIDC token request failed: POST "
    )
    assert result.err.endswith(": 403 Forbidden)\n")
    assert local_sigstore.counts() == {"oidc": 1, **NOTHING_SIGNED}


@pytest.mark.parametrize("fault", [Fault.hang(), Fault.trickle(0.25)], ids=["hang", "trickle"])
@pytest.mark.parametrize("provider", ["buildkite", "circleci"])
def test_hung_agent_is_stopped_within_the_timeout(
    provider: str,
    fault: Fault,
    local_sigstore: LocalSigstore,
    wheel: Path,
    agent_job: AgentJob,
    local_sign: Cli,
) -> None:
    """`id` would wait for the agent forever; the budget stops it, and that is an error."""
    agent_job(provider)
    tool = "buildkite-agent" if provider == "buildkite" else "circleci"
    # The agent's own request to its token service hangs, or is answered a byte at a time.
    local_sigstore.inject("oidc", fault)

    started = time.monotonic()
    result = local_sign("--mode", "auto", "--timeout", "2", str(wheel))
    elapsed = time.monotonic() - started

    assert result.status == 1
    assert result.err == (
        f"hatch-attest: error: `{tool}` did not issue an OIDC token within the time budget "
        "(2 s) and was stopped. Retry the job; if the agent is slow rather than hung, raise "
        "`timeout` (HATCH_ATTEST_TIMEOUT).\n"
    )
    assert elapsed < 6
    assert local_sigstore.counts() == {"oidc": 1, **NOTHING_SIGNED}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_an_agent_wrapper_is_stopped_with_every_process_it_started(
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    wheel: Path,
    sigstore_ci_job: CIJob,
    local_sign: Cli,
) -> None:
    """A hung wrapper script's child is stopped too (``subprocess.run`` kills only the wrapper)."""
    env = local_sigstore.circleci_env(tmp_path / "cli")
    wrapper = tmp_path / "wrapper" / "circleci"
    wrapper.parent.mkdir()
    child_file = tmp_path / "child"
    wrapper.write_text(f'#!/bin/sh\nsleep 30 &\necho $! > "{child_file}"\nwait\n')
    wrapper.chmod(0o755)
    env["PATH"] = f"{wrapper.parent}{os.pathsep}{env['PATH']}"
    sigstore_ci_job(env)

    outcome: list[CliResult] = []
    runner = threading.Thread(
        target=lambda: outcome.append(local_sign("--mode", "auto", "--timeout", "2", wheel)),
        daemon=True,
    )
    runner.start()
    runner.join(2 + 8)  # the budget plus start-up
    child = int(child_file.read_text())
    try:
        assert not runner.is_alive(), "hatch-attest was still waiting for the agent"
        [result] = outcome
        assert result.status == 1
        assert result.err.startswith(
            "hatch-attest: error: `circleci` did not issue an OIDC token within the time budget"
        )
        assert not _running(child)  # nothing the agent started lives on
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child, signal.SIGKILL)
        runner.join(30)
    assert not attestation_path(wheel).exists()


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (a killed child not yet reaped)."""
    try:
        # "pid (comm) state ...": comm may hold spaces, so split after the last ")".
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def test_agent_failure_output_never_shows_a_credential(
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    wheel: Path,
    sigstore_no_ci: pytest.MonkeyPatch,
    agent_job: AgentJob,
    local_sign: Cli,
) -> None:
    """An agent that echoes its access token and a token in its error: neither is shown."""
    agent_job("buildkite")
    leaked = local_sigstore.mint_token(BuildkiteIdentity())
    sigstore_no_ci.setenv("ECHOED_ID_TOKEN", leaked)
    (tmp_path / "agent" / "buildkite-agent").write_text(
        "#!/bin/sh\n"
        'echo "fatal: request with $BUILDKITE_AGENT_ACCESS_TOKEN refused; '
        'got $ECHOED_ID_TOKEN" >&2\n'
        "exit 1\n"
    )

    result = local_sign("--mode", "auto", str(wheel))

    assert result.status == 0
    assert result.err == (
        "Not attesting: Buildkite was detected, but `buildkite-agent` could not issue an OIDC "
        "token (exit status 1: fatal: request with [redacted] refused; got [redacted])\n"
    )
