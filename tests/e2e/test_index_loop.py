"""Close the loop: build with the hook (both predicates) in an emulated CI job, upload with
the real twine over Trusted Publishing to the local index, then check what the index
serves with `verify pypi:`, pin the publisher with `lock-identities` and `audit` it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hatch_attest_testing import GitHubIdentity, LocalIndex, LocalSigstore

from .._shared import trusted_github
from ..index_release import hand_lock, run_cli
from .frontends import EnvFactory, build, make_project, publish
from .test_upload import env_for

__all__ = ["env_for"]  # the fixture, shared with test_upload

pytestmark = pytest.mark.slow

PROJECT = "simple-pkg"


def test_published_release_verifies_pins_and_audits(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    local_sigstore: LocalSigstore,
    local_index: LocalIndex,
    sigstore_github_identity: GitHubIdentity,
    env_for: EnvFactory,
) -> None:
    trusted_github(local_index, PROJECT, sigstore_github_identity)
    project = make_project(tmp_path, 'predicate = "both"\n')
    job = local_sigstore.github_env(sigstore_github_identity)
    built = build("build-no-isolation", project, env_for(job))
    assert built.returncode == 0, built.output
    assert len(built.attestations()) == 4  # publish and SLSA provenance, for each file
    uploaded = publish(
        "twine", project, env_for(local_sigstore.github_env(sigstore_github_identity))
    )
    assert uploaded.returncode == 0, uploaded.output
    artifacts = sorted(p for p in (project / "dist").iterdir() if p.name.endswith((".whl", ".gz")))

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(local_index.ca_path))
    flags = [
        "--index",
        local_index.url,
        "--trust-config",
        str(local_sigstore.trust_config_path),
    ]
    spec = f"github:{sigstore_github_identity.repository}@{sigstore_github_identity.workflow}"
    verified = run_cli(capsys, "verify", f"pypi:{PROJECT}==1.0.0", *flags, "--publisher", spec)

    assert verified.status == 0, verified.out + verified.err
    lines = verified.out.splitlines()
    assert sorted(line.split(":", 1)[0] for line in lines) == [a.name for a in artifacts]
    assert all(f": verified as {spec}, " in line for line in lines)
    assert all(
        line.endswith(f"commit {sigstore_github_identity.sha} (2 attestations)") for line in lines
    )

    lock = tmp_path / "pylock.toml"
    [sdist] = [a for a in artifacts if a.name.endswith(".tar.gz")]
    [wheel] = [a for a in artifacts if a.name.endswith(".whl")]
    lock.write_text(hand_lock(PROJECT, "1.0.0", wheel, sdist))
    pinned = run_cli(capsys, "lock-identities", lock, *flags)
    audited = run_cli(capsys, "audit", lock, "--require-identities", *flags)

    assert pinned.status == 0, pinned.out + pinned.err
    assert pinned.out.strip() == f"OK   {PROJECT}==1.0.0: pinned {spec}"
    assert (
        f'attestation-identities = [{{kind = "GitHub", repository = '
        f'"{sigstore_github_identity.repository}", workflow = "'
        f'{sigstore_github_identity.workflow}"}}]'
    ) in lock.read_text()
    assert audited.status == 0, audited.out + audited.err
    assert len(audited.out.splitlines()) == 2
    assert all(line.startswith("OK ") for line in audited.out.splitlines())
