"""Never a wrong file, even under races; all or nothing, for real (hardening, items 10-14).

File-level behaviour of :func:`hatch_attest._files.commit_attestations` with real
faults injected into the filesystem calls it makes, and the same guarantees seen
through ``hatch-attest sign`` against the local Sigstore.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from hatch_attest import _files as files
from hatch_attest.errors import DistributionError
from hatch_attest_testing import Cli, GitHubIdentity, LocalSigstore, fake_wheel, run_bounded


def _dists(folder: Path, count: int) -> list[Path]:
    return [fake_wheel(folder, "race_pkg", f"1.{index}", size=128) for index in range(count)]


def _items(dists: list[Path]) -> list[tuple[Path, str, bytes]]:
    return [(d, files.sha256_file(d), f"attestation of {d.name}".encode()) for d in dists]


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_an_artifact_replaced_after_its_rename_rolls_back_the_whole_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _dists(tmp_path, 2)
    items = _items([first, second])
    real_replace = os.replace
    calls = 0

    def replace_then_rebuild_the_first(src: str | Path, dst: str | Path) -> None:
        nonlocal calls
        real_replace(src, dst)
        calls += 1
        if calls == 2:  # both attestations in place: a concurrent build rewrites the first
            first.write_bytes(b"rebuilt")

    monkeypatch.setattr(os, "replace", replace_then_rebuild_the_first)
    with pytest.raises(DistributionError, match="changed while it was being signed"):
        files.commit_attestations(items)

    assert _listing(tmp_path) == sorted([first.name, second.name])


def test_a_failed_rename_restores_what_it_replaced_and_leaves_nothing_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _dists(tmp_path, 2)
    previous = files.attestation_path(first)
    previous.write_bytes(b"the previous attestation")
    real_replace = os.replace
    calls = 0

    def fail_the_second(src: str | Path, dst: str | Path) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fail_the_second)
    with pytest.raises(DistributionError) as info:
        files.commit_attestations(_items([first, second]))

    assert str(info.value) == (
        f"cannot write {files.attestation_path(second)}: No space left on device. Check that "
        f"{tmp_path} is writable. No attestation from this run was left in place."
    )
    monkeypatch.setattr(os, "replace", real_replace)
    assert previous.read_bytes() == b"the previous attestation"
    assert _listing(tmp_path) == sorted([first.name, second.name, previous.name])


def test_a_leftover_of_a_killed_run_is_removed_by_the_next_one(tmp_path: Path) -> None:
    [dist] = _dists(tmp_path, 1)
    dead = run_bounded(
        [sys.executable, "-c", "import os; print(os.getpid())"], check=True, timeout=60
    ).stdout.strip()
    leftover = tmp_path / f".{dist.name}.publish.attestation.{dead}.k3j2h1.tmp"
    leftover.write_bytes(b"half")
    staging = files.stage_attestation(dist, b"a concurrent run, still staging", "slsa")
    [ours] = tmp_path.glob(f".{dist.name}.slsa.attestation.{os.getpid()}.*.tmp")

    try:
        found = files.remove_stale_attestations(dist)
        assert ours.exists()
    finally:
        staging.discard()

    assert [(f.path.name, f.reason) for f in found] == [
        (leftover.name, "left behind by a run that was killed while writing")
    ]
    assert not leftover.exists()


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 100_000 + b"]" * 100_000,
        os.urandom(4096),
        "{}".encode("utf-16"),
        b"{" + b" " * (2 << 20) + b"}",
    ],
)
def test_a_stale_file_with_any_content_is_stale(tmp_path: Path, content: bytes) -> None:
    [dist] = _dists(tmp_path, 1)
    stale = files.attestation_path(dist)
    stale.write_bytes(content)

    [found] = files.remove_stale_attestations(dist)

    assert (found.path, found.reason) == (stale, "unreadable or not an attestation")
    assert not stale.exists()


def test_a_dangling_symlink_is_removed_and_a_directory_is_reported(tmp_path: Path) -> None:
    first, second = _dists(tmp_path, 2)
    link = files.attestation_path(first)
    link.symlink_to(tmp_path / "gone")
    folder = files.attestation_path(second)
    folder.mkdir()

    found = files.remove_stale_attestations(first) + files.remove_stale_attestations(second)

    assert [(f.path.name, f.removed) for f in found] == [(link.name, True), (folder.name, False)]
    assert not link.is_symlink()
    assert folder.is_dir()


# --- Through `hatch-attest sign` ----------------------------------------------------


def test_what_can_be_checked_on_disk_is_checked_before_any_request(
    tmp_path: Path,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    dist = tmp_path / "dist"
    long_name = dist / f"{'a' * 204}-1.0-py3-none-any.whl"
    dist.mkdir()
    long_name.write_bytes(b"wheel")

    status, _, err = local_sign(long_name)

    assert status == 1
    assert "the attestation's name would be too long for this filesystem" in err
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}

    [wheel] = _dists(tmp_path / "other", 1)
    files.attestation_path(wheel).mkdir()
    status, _, err = local_sign(wheel)

    assert status == 1
    assert f"cannot write {files.attestation_path(wheel)}: a directory has that name" in err
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


def test_a_set_pypi_would_reject_fails_the_run_and_writes_nothing(
    tmp_path: Path,
    local_sign: Cli,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
) -> None:
    # A digest-matching publish attestation from another workflow of the same repository.
    [wheel] = _dists(tmp_path / "dist", 1)
    other = GitHubIdentity(repository=sigstore_github_job.repository, workflow="ci.yml")
    with pytest.MonkeyPatch.context() as other_job:
        for name, value in local_sigstore.github_env(other).items():
            other_job.setenv(name, value)
        assert local_sign(wheel).status == 0
    foreign = files.attestation_path(wheel).rename(
        wheel.with_name(f"{wheel.name}.copy.attestation")
    )

    status, _, err = local_sign(wheel)

    assert status == 1
    assert (
        "hatch-attest: error: PyPI would reject the attestations of these files together with "
        "the new ones, so nothing was written:\n"
    ) in err
    assert f"{foreign}: the attestation was not signed by the Trusted Publisher" in err
    assert not files.attestation_path(wheel).exists()
    assert foreign.exists()


def test_clean_removes_attestations_and_leftovers_of_its_target_only(tmp_path: Path) -> None:
    [wheel] = _dists(tmp_path, 1)
    sdist = tmp_path / "race_pkg-1.0.tar.gz"
    sdist.write_bytes(b"sdist")
    dead = run_bounded(
        [sys.executable, "-c", "import os; print(os.getpid())"], check=True, timeout=60
    ).stdout.strip()
    wheel_attestation = files.attestation_path(wheel)
    wheel_attestation.write_bytes(b"{}")
    leftover = tmp_path / f".{wheel.name}.slsa.attestation.{dead}.x1y2z3.tmp"
    leftover.write_bytes(b"half")
    sdist_attestation = files.attestation_path(sdist)
    sdist_attestation.write_bytes(b"{}")
    # A concurrent build of the same target, still staging: its file is not a leftover.
    live = files.stage_attestation(wheel, b"being written", "slsa")
    [staging] = tmp_path.glob(f".{wheel.name}.slsa.attestation.{os.getpid()}.*.tmp")

    try:
        removed = files.clean_attestations(tmp_path, ".whl")
        assert staging.exists()
    finally:
        live.discard()

    assert sorted(p.name for p in removed) == sorted([wheel_attestation.name, leftover.name])
    assert _listing(tmp_path) == sorted([wheel.name, sdist.name, sdist_attestation.name])
