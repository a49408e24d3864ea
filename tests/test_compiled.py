"""Compiled wheels: never sign a wheel cibuildwheel will replace; sign the repaired one after it.

In-process, through ``hatch-attest sign`` (the pipeline the hook and the wrapper
call too), in an emulated GitHub job against the local Sigstore. The real
frontends, auditwheel and the upload are in ``tests/e2e/test_compiled.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hatch_attest._attest import SIGNING_REQUIREMENTS, preflight, requirements_for
from hatch_attest._cli import main
from hatch_attest._config import AttestConfig
from hatch_attest._files import attestation_path
from hatch_attest_testing import GitHubIdentity, LocalSigstore, fake_wheel, verify_as_pypi
from hatch_attest_testing.pytest_plugin import CIJob

NO_REQUESTS = {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}
REASON = (
    "cibuildwheel will repair this wheel and keep only the repaired copy, so an attestation "
    "made here would be lost; sign the wheels cibuildwheel writes with `hatch-attest sign` "
    'in a step after it (see README "Compiled wheels")'
)


def _sign(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str]:
    capsys.readouterr()
    status = main(["sign", *map(str, argv)])
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    ("mode", "line"),
    [
        ("auto", f"Not attesting: {REASON}\n"),
        # The job's HATCH_ATTEST_MODE reaches cibuildwheel's builds; failing them would
        # break the release whose sign step (where `always` holds) comes after.
        ("always", f"hatch-attest: warning: Not attesting: {REASON}\n"),
    ],
)
def test_inside_cibuildwheel_nothing_is_signed_and_the_step_after_it_signs(
    tmp_path: Path,
    sigstore_ci_job: CIJob,
    sigstore_github_job: GitHubIdentity,
    local_sigstore: LocalSigstore,
    capsys: pytest.CaptureFixture[str],
    mode: str,
    line: str,
) -> None:
    # What cibuildwheel leaves in its temporary folder (e.g. a repair-wheel-command
    # that signs): the attestation would stay behind when the wheel is moved out.
    wheel = fake_wheel(tmp_path / "repaired_wheel", "cext_pkg")
    trust = local_sigstore.trust_config_path
    sigstore_ci_job({"CIBUILDWHEEL": "1"})

    status, err = _sign(capsys, "--mode", mode, "--trust-config", trust, wheel)

    assert (status, err) == (0, line)
    assert list(wheel.parent.iterdir()) == [wheel]
    assert local_sigstore.counts() == NO_REQUESTS

    # The step after cibuildwheel, in the same job: cibuildwheel's variable is gone.
    sigstore_ci_job({"CIBUILDWHEEL": ""})
    status, err = _sign(capsys, "--mode", mode, "--trust-config", trust, wheel)

    assert status == 0, err
    verify_as_pypi(wheel, sigstore_github_job, trust)
    assert attestation_path(wheel).is_file()


def test_a_build_under_cibuildwheel_needs_no_signing_stack_and_is_never_refused(
    local_sigstore: LocalSigstore, sigstore_github_identity: GitHubIdentity
) -> None:
    """What the hook and the wrapper ask before building: install nothing, refuse nothing."""
    job = local_sigstore.github_env(sigstore_github_identity)
    always = AttestConfig(mode="always")

    assert requirements_for(AttestConfig(), job) == list(SIGNING_REQUIREMENTS)
    assert requirements_for(AttestConfig(), job | {"CIBUILDWHEEL": "1"}) == []
    preflight(always, job | {"CIBUILDWHEEL": "1"})  # does not raise
