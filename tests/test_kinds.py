"""Names and identities exactly as Fulcio and PyPI read them (issue 15, section 2).

Each end-to-end case runs ``hatch-attest sign`` in-process (the pipeline the hook and
the wrapper call) in an emulated job against the local Sigstore, and asserts what a
user sees: exit status, the one line that says why, the files on disk, whether they
verify with pypi-attestations' publisher policy, and the requests each service got.

- A workflow file may be named ``release@v2.yml``: refs split at the *last* ``@``.
- The CI's own identity comes first: a CI job on a Google Compute Engine runner signs
  as the job, never as the VM; a bare VM's default service account signs only for a
  ``publisher`` of kind ``google``.
- An issuer PyPI can never accept (GitHub Enterprise Cloud's per-enterprise issuer)
  is a skip in ``auto`` and a failure in ``always``, before Fulcio hears of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypi_attestations
import pytest
from cryptography import x509
from pypi_attestations import Attestation, Distribution

from hatch_attest._claims import certificate_claims
from hatch_attest._kinds import (
    AMBIENT,
    GitHubPublisher,
    parse_publisher_spec,
    probe,
    publisher_from_environment,
    running_job,
)
from hatch_attest._kinds.github import github_workflow_file
from hatch_attest._trust import load_trust_config, verifier_for
from hatch_attest._verify import verify_attestation
from hatch_attest_testing import (
    PUBLISH_V1,
    SLSA_PROVENANCE_V1,
    CliResult,
    GitHubIdentity,
    GitLabIdentity,
    GoogleIdentity,
    LocalSigstore,
    fake_wheel,
)
from hatch_attest_testing.pytest_plugin import CIJob

from ._shared import NO_REQUESTS, TOKEN_ONLY
from .index_release import run_cli

NOTHING = NO_REQUESTS
AT_SIGN_WORKFLOW = "release@v2.yml"
ENTERPRISE_ISSUER = "https://token.actions.githubusercontent.com/octo-enterprise"

# No CI identity until a test enters a job; the conftest starts each test in an empty folder.
pytestmark = pytest.mark.usefixtures("sigstore_no_ci")


def sign(sigstore: LocalSigstore, capsys: pytest.CaptureFixture[str], *args: str) -> CliResult:
    """``hatch-attest sign --trust-config <local> ARGS``, in-process."""
    return run_cli(capsys, "sign", "--trust-config", sigstore.trust_config_path, *args)


def assert_skipped_or_refused(result: CliResult, mode: str, line: str) -> None:
    """`auto`: exit 0 and the one line that says why; `always`: exit 1 with that reason."""
    if mode == "auto":
        assert (result.status, result.out, result.err) == (0, "", f"Not attesting: {line}\n")
    else:
        assert result.status == 1
        assert result.err == f"hatch-attest: error: cannot attest (mode = always): {line}\n"


def verified(
    path: Path, dist: Path, sigstore: LocalSigstore, policy: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """Verify one attestation file as PyPI would; its statement and certificate claims."""
    attestation = Attestation.model_validate_json(path.read_bytes())
    verifier = verifier_for(load_trust_config("production", sigstore.trust_config_path))
    verify_attestation(attestation, Distribution.from_file(dist), policy, verifier)
    certificate = x509.load_der_x509_certificate(attestation.verification_material.certificate)
    statement: dict[str, Any] = json.loads(attestation.envelope.statement)
    return statement, certificate_claims(certificate)


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return fake_wheel(tmp_path / "dist", "kinds_pkg")


# --- 1. A workflow file named with an "@" ---------------------------------------------


def test_a_workflow_ref_is_split_at_its_last_at_sign() -> None:
    """As Fulcio and pypi-attestations read ``workflow_ref`` and ``GITHUB_WORKFLOW_REF``."""
    ref = f"octo-org/demo/.github/workflows/{AT_SIGN_WORKFLOW}@refs/heads/main"
    assert github_workflow_file(ref) == ("octo-org/demo", AT_SIGN_WORKFLOW)
    env = {**GitHubIdentity(workflow=AT_SIGN_WORKFLOW).environ()}
    assert publisher_from_environment(env) == GitHubPublisher("octo-org/demo-pkg", AT_SIGN_WORKFLOW)
    assert parse_publisher_spec(f"github:octo-org/demo@{AT_SIGN_WORKFLOW}") == GitHubPublisher(
        "octo-org/demo", AT_SIGN_WORKFLOW
    )


@pytest.fixture
def at_sign_job(
    local_sigstore: LocalSigstore, sigstore_ci_job: CIJob, sigstore_github_identity: GitHubIdentity
) -> GitHubIdentity:
    """Inside a job of the workflow ``release@v2.yml``; its identity."""
    identity = GitHubIdentity(
        repository=sigstore_github_identity.repository, workflow=AT_SIGN_WORKFLOW
    )
    sigstore_ci_job(local_sigstore.github_env(identity))
    return identity


@pytest.mark.parametrize(
    ("predicate", "suffix", "predicate_type"),
    [("publish", "publish", PUBLISH_V1), ("slsa-provenance", "slsa", SLSA_PROVENANCE_V1)],
)
def test_a_workflow_named_with_an_at_sign_attests_and_verifies_with_pypi_s_policy(
    predicate: str,
    suffix: str,
    predicate_type: str,
    local_sigstore: LocalSigstore,
    at_sign_job: GitHubIdentity,
    wheel: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    identity = at_sign_job

    result = sign(local_sigstore, capsys, "--predicate", predicate, str(wheel))

    assert result.status == 0, result.err
    path = wheel.with_name(f"{wheel.name}.{suffix}.attestation")
    assert sorted(p.name for p in wheel.parent.iterdir()) == [wheel.name, path.name]
    policy = pypi_attestations.GitHubPublisher(
        repository=identity.repository, workflow=AT_SIGN_WORKFLOW
    )
    statement, claims = verified(path, wheel, local_sigstore, policy)
    assert statement["predicateType"] == predicate_type
    assert claims["build_config_uri"] == (
        f"https://github.com/{identity.repository}/.github/workflows/{AT_SIGN_WORKFLOW}"
        f"@{identity.ref}"
    )
    if predicate == "slsa-provenance":
        workflow = statement["predicate"]["buildDefinition"]["externalParameters"]["workflow"]
        assert workflow["path"] == f".github/workflows/{AT_SIGN_WORKFLOW}"
    assert local_sigstore.counts() == {"oidc": 1, "fulcio": 1, "rekor": 1, "tsa": 0}


# --- 2. The CI's own identity comes first -----------------------------------------------


@pytest.fixture
def on_compute_engine(
    tmp_path: Path, local_sigstore: LocalSigstore, request: pytest.FixtureRequest
) -> Iterator[GoogleIdentity]:
    """This process on a GCE VM (product name file and metadata server) with a service account."""
    account = GoogleIdentity(
        email=f"vm-{abs(hash(request.node.nodeid)) % 10**8:08d}@p.iam.gserviceaccount.com"
    )
    with local_sigstore.google_cloud(tmp_path / "gce", account).patched():
        yield account


Enter = Callable[[LocalSigstore, Path], dict[str, str]]

CI_JOBS: dict[str, tuple[Enter, str, int]] = {
    # (the job's environment, the issuer its certificate must name, token requests)
    "github": (
        lambda s, d: s.github_env(GitHubIdentity(repository=f"octo-org/{d.name}")),
        "https://token.actions.githubusercontent.com",
        1,
    ),
    "gitlab": (
        lambda s, d: s.gitlab_env(GitLabIdentity(project_path=f"octo-group/{d.name}")),
        "https://gitlab.com",
        0,  # SIGSTORE_ID_TOKEN is in the environment already
    ),
    "buildkite": (lambda s, d: s.buildkite_env(d / "agent"), "https://agent.buildkite.com", 1),
    "circleci": (lambda s, d: s.circleci_env(d / "cli"), "https://oidc.circleci.com", 1),
}


@pytest.mark.parametrize("job", CI_JOBS.values(), ids=CI_JOBS.keys())
def test_a_ci_job_on_a_compute_engine_runner_signs_as_the_job_not_the_vm(
    job: tuple[Enter, str, int],
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    on_compute_engine: GoogleIdentity,
    sigstore_ci_job: CIJob,
    wheel: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    enter, issuer, token_requests = job
    sigstore_ci_job(enter(local_sigstore, tmp_path))

    result = sign(local_sigstore, capsys, "--predicate", "publish", str(wheel))

    assert result.status == 0, result.err
    assert on_compute_engine.email not in result.out + result.err
    attestation = Attestation.model_validate_json(
        wheel.with_name(f"{wheel.name}.publish.attestation").read_bytes()
    )
    certificate = x509.load_der_x509_certificate(attestation.verification_material.certificate)
    assert certificate_claims(certificate)["issuer"] == issuer
    # The VM's metadata server was never asked.
    assert local_sigstore.counts() == {
        "oidc": token_requests,
        "fulcio": 1,
        "rekor": 1,
        "tsa": 0,
    }


def test_a_gitlab_job_on_a_compute_engine_runner_verifies_with_its_gitlab_publisher(
    local_sigstore: LocalSigstore,
    on_compute_engine: GoogleIdentity,
    sigstore_ci_job: CIJob,
    sigstore_gitlab_identity: GitLabIdentity,
    wheel: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sigstore_ci_job(local_sigstore.gitlab_env(sigstore_gitlab_identity))

    result = sign(local_sigstore, capsys, str(wheel))

    assert result.status == 0, result.err
    policy = pypi_attestations.GitLabPublisher(
        repository=sigstore_gitlab_identity.project_path,
        workflow_filepath=sigstore_gitlab_identity.ci_config_path,
    )
    statement, _ = verified(
        wheel.with_name(f"{wheel.name}.publish.attestation"), wheel, local_sigstore, policy
    )
    assert statement["predicateType"] == PUBLISH_V1


BARE_VM_LINE = (
    "this is a Google Compute Engine VM, and its default service account is not a Trusted "
    "Publisher unless `publisher` names it; to attest as that account, set `publisher = "
    '{ kind = "google", email = "ACCOUNT@PROJECT.iam.gserviceaccount.com" }`'
)


@pytest.mark.parametrize("publisher", [None, "github:octo-org/demo@release.yml"])
@pytest.mark.parametrize("mode", ["auto", "always"])
def test_a_bare_vm_s_default_account_signs_only_for_a_google_publisher(
    mode: str,
    publisher: str | None,
    local_sigstore: LocalSigstore,
    on_compute_engine: GoogleIdentity,
    wheel: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Signed with a google publisher: ``test_identities.test_google_vm_signs_as_its_...``."""
    named = ("--publisher", publisher) if publisher is not None else ()

    result = sign(local_sigstore, capsys, "--mode", mode, *named, str(wheel))

    assert_skipped_or_refused(result, mode, BARE_VM_LINE)
    assert result.out == ""
    assert sorted(p.name for p in wheel.parent.iterdir()) == [wheel.name]
    assert local_sigstore.counts() == NOTHING


@pytest.mark.parametrize("variable", ["GITLAB_CI", "BUILDKITE", "CIRCLECI", "GITHUB_ACTIONS"])
@pytest.mark.parametrize("value", ["1", "yes", "True"])
def test_a_ci_is_recognised_by_one_rule_everywhere(variable: str, value: str) -> None:
    """Only "true" (what every CI sets) makes a job: the probe and the job name agree."""
    env = {variable: value, "PATH": "", "SIGSTORE_ID_TOKEN": "a.b.c"}
    assert probe(env).explain().startswith("no CI identity found")
    assert running_job(env) is None
    assert publisher_from_environment(env) is None
    env[variable] = "true"
    source = next(s for s in AMBIENT if s.runs_here(env))
    found = probe(env)
    # The probe names that CI: it has a token, or it says what this job of it lacks.
    assert found.source == source.source or found.reason.startswith(f"this {source.source} job")
    assert running_job(env) == f"a {source.source} job"


# --- 3. An issuer PyPI can never accept -------------------------------------------------


@dataclass(frozen=True)
class EnterpriseIdentity(GitHubIdentity):
    """A GitHub Enterprise Cloud job whose enterprise uses a per-enterprise issuer."""

    def claims(self) -> dict[str, Any]:
        return {**super().claims(), "iss": ENTERPRISE_ISSUER}


ENTERPRISE_LINE = (
    f"the identity token was issued by '{ENTERPRISE_ISSUER}', not "
    "https://token.actions.githubusercontent.com, and PyPI accepts GitHub attestations only "
    "from https://token.actions.githubusercontent.com (GitHub Enterprise Cloud issues tokens "
    "under a per-enterprise issuer when the enterprise asks for one); to attest, let this "
    "job's tokens use the standard issuer"
)


@pytest.mark.parametrize("configured", [False, True])
@pytest.mark.parametrize("mode", ["auto", "always"])
def test_an_enterprise_issuer_is_a_skip_in_auto_and_a_failure_in_always(
    mode: str,
    configured: bool,
    local_sigstore: LocalSigstore,
    sigstore_ci_job: CIJob,
    sigstore_github_identity: GitHubIdentity,
    wheel: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    identity = EnterpriseIdentity(repository=sigstore_github_identity.repository)
    sigstore_ci_job(local_sigstore.github_env(identity))
    named = (
        ("--publisher", f"github:{identity.repository}@{identity.workflow}") if configured else ()
    )

    result = sign(local_sigstore, capsys, "--mode", mode, *named, str(wheel))

    assert_skipped_or_refused(result, mode, ENTERPRISE_LINE)
    assert sorted(p.name for p in wheel.parent.iterdir()) == [wheel.name]
    # The token was fetched (only it can tell the issuer); Fulcio and Rekor never heard of it.
    assert local_sigstore.counts() == TOKEN_ONLY
