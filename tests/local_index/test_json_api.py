"""The local index's JSON API and its read-back faults."""

from __future__ import annotations

import hashlib

import pytest

from hatch_attest_testing import Fault, LocalIndex

from .client import request


def test_json_api_lists_a_release(local_index: LocalIndex) -> None:
    local_index.add_file("Demo.Pkg", "1.0", "demo_pkg-1.0.tar.gz", b"sdist")
    local_index.add_file("demo-pkg", "1.0", "demo_pkg-1.0-py3-none-any.whl", b"wheel")
    local_index.add_file("demo-pkg", "2.0", "demo_pkg-2.0.tar.gz", b"other")

    answer = request(local_index, "/pypi/demo-pkg/1.0.0/json")

    assert answer.status == 200
    document = answer.json()
    assert document["info"] == {"name": "Demo.Pkg", "version": "1.0"}
    assert [
        (u["filename"], u["digests"]["sha256"], u["url"], u["packagetype"])
        for u in document["urls"]
    ] == [
        (
            "demo_pkg-1.0.tar.gz",
            hashlib.sha256(b"sdist").hexdigest(),
            f"{local_index.url}/files/demo_pkg-1.0.tar.gz",
            "sdist",
        ),
        (
            "demo_pkg-1.0-py3-none-any.whl",
            hashlib.sha256(b"wheel").hexdigest(),
            f"{local_index.url}/files/demo_pkg-1.0-py3-none-any.whl",
            "bdist_wheel",
        ),
    ]
    assert request(local_index, "/files/demo_pkg-1.0.tar.gz").body == b"sdist"
    assert request(local_index, "/pypi/demo-pkg/3.0/json").status == 404
    assert local_index.counts()["json"] == 2


def test_read_back_faults(local_index: LocalIndex) -> None:
    provenance = {"version": 1, "attestation_bundles": []}
    local_index.add_file("demo-pkg", "1.0", "demo_pkg-1.0.tar.gz", b"a", provenance=provenance)
    local_index.add_file("demo-pkg", "1.0", "demo_pkg-1.0-py3-none-any.whl", b"b")

    local_index.inject("json", Fault.tampered(), times=1)
    tampered = request(local_index, "/pypi/demo-pkg/1.0/json").json()["urls"][0]
    local_index.inject("integrity", Fault.provenance_of("demo_pkg-1.0.tar.gz"), times=1)
    swapped = request(
        local_index, "/integrity/demo-pkg/1.0/demo_pkg-1.0-py3-none-any.whl/provenance"
    )
    local_index.inject("json", Fault.oversized(1000), times=1)
    oversized = request(local_index, "/pypi/demo-pkg/1.0/json")

    assert tampered["digests"]["sha256"] != hashlib.sha256(b"a").hexdigest()
    assert (swapped.status, swapped.json()) == (200, provenance)
    assert (oversized.status, len(oversized.body)) == (200, 1000)
    assert oversized.json()["padding"].startswith("x")
    with pytest.raises(ValueError, match="applies to json, integrity"):
        local_index.inject("files", Fault.oversized(10))


def test_latency_must_not_be_negative(local_index: LocalIndex) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        local_index.latency = -1
