"""Attestation files on disk: names, stale detection, atomic and checked writes."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from hatch_attest import _files as files
from hatch_attest.errors import DistributionError


def _attestation_for(sha256: str, name: str = "pkg-1.0.tar.gz") -> bytes:
    statement = {"subject": [{"name": name, "digest": {"sha256": sha256}}]}
    envelope = {"statement": base64.b64encode(json.dumps(statement).encode()).decode()}
    return json.dumps({"version": 1, "envelope": envelope}).encode()


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    path = tmp_path / "pkg-1.0.tar.gz"
    path.write_bytes(b"the sdist")
    return path


def test_attestation_path_is_what_twine_and_uv_look_for(dist: Path) -> None:
    assert files.attestation_path(dist).name == "pkg-1.0.tar.gz.publish.attestation"
    assert files.attestation_path(dist, "slsa").name == "pkg-1.0.tar.gz.slsa.attestation"


def test_find_attestations_follows_twine(dist: Path) -> None:
    """twine sends every `*.*.attestation` whose name starts with the dist's name."""
    for name in [
        "pkg-1.0.tar.gz.publish.attestation",
        "pkg-1.0.tar.gz.slsa.attestation",
        "pkg-1.0.tar.gz.publish.attestation.bak",
        "pkg-1.0.tar.gz-copy.attestation",
        "pkg-1.0.tar.gz.attestation",
        "other-1.0.tar.gz.publish.attestation",
    ]:
        (dist.parent / name).write_text("{}")
    assert [p.name for p in files.find_attestations(dist)] == [
        "pkg-1.0.tar.gz-copy.attestation",
        "pkg-1.0.tar.gz.attestation",
        "pkg-1.0.tar.gz.publish.attestation",
        "pkg-1.0.tar.gz.slsa.attestation",
    ]


def test_matching_attestation_is_kept_and_others_are_removed(dist: Path) -> None:
    good = dist.parent / "pkg-1.0.tar.gz.publish.attestation"
    good.write_bytes(_attestation_for(files.sha256_file(dist)))
    wrong = dist.parent / "pkg-1.0.tar.gz.slsa.attestation"
    wrong.write_bytes(_attestation_for("ab" * 32))

    removed = files.remove_stale_attestations(dist)

    assert [(r.path.name, r.reason) for r in removed] == [
        (
            "pkg-1.0.tar.gz.slsa.attestation",
            f"it attests sha256 {'ab' * 6}…, the file is {files.sha256_file(dist)[:12]}…",
        )
    ]
    assert good.exists()
    assert not wrong.exists()


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"[]", b'{"envelope": {"statement": "!!"}}', _attestation_for("x")[:-3]],
)
def test_unreadable_attestation_is_stale(dist: Path, content: bytes) -> None:
    broken = dist.parent / "pkg-1.0.tar.gz.publish.attestation"
    broken.write_bytes(content)
    [removed] = files.remove_stale_attestations(dist)
    assert removed.reason == "unreadable or not an attestation"
    assert not broken.exists()


def test_write_refuses_when_the_artifact_changed_while_signing(dist: Path) -> None:
    signed = files.sha256_file(dist)
    dist.write_bytes(b"rebuilt by a concurrent job")

    with pytest.raises(DistributionError, match="changed while it was being signed"):
        files.commit_attestations([(dist, signed, b"{}")])
    assert files.find_attestations(dist) == []


def test_interrupted_write_leaves_the_old_file_whole(
    dist: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = files.attestation_path(dist)
    target.write_bytes(b"old")

    def crash(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        files.commit_attestations([(dist, files.sha256_file(dist), b"new" * 1000)])

    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in dist.parent.iterdir()) == [dist.name, target.name]


def test_written_file_is_complete_and_readable(dist: Path) -> None:
    [path] = files.commit_attestations([(dist, files.sha256_file(dist), b"payload")])
    assert path.read_bytes() == b"payload"
    assert path.stat().st_mode & 0o777 == 0o644
