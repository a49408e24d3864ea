"""Starting and stopping an instance, and the trust config it publishes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests
from sigstore._internal.rekor.client import RekorClient
from sigstore.models import ClientTrustConfig

from hatch_attest_testing import LocalSigstore


def test_stop_joins_every_thread_and_closes_the_port() -> None:
    before = set(threading.enumerate())
    instance = LocalSigstore.start()
    url = instance.url
    requests.post(f"{url}/api/v1/log/entries", json={}, timeout=5)

    instance.stop()

    # Threads of other instances may end meanwhile; none of this one may remain.
    assert set(threading.enumerate()) <= before
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{url}/api/v1/log/entries", json={}, timeout=5)


def test_temporary_trust_config_is_removed_on_stop() -> None:
    with LocalSigstore.start() as instance:
        path = instance.trust_config_path
        assert path.is_file()
    assert not path.parent.exists()


def test_trust_config_in_a_given_directory_stays(tmp_path: Path) -> None:
    with LocalSigstore.start(directory=tmp_path / "sigstore") as instance:
        assert instance.trust_config_path.parent == tmp_path / "sigstore"
    assert instance.trust_config_path.is_file()


def test_trust_config_points_clients_at_the_instance(local_sigstore: LocalSigstore) -> None:
    config = ClientTrustConfig.from_json(local_sigstore.trust_config_path.read_text())
    config.force_tlog_version = 1

    signing = config.signing_config
    assert signing.get_fulcio().url == local_sigstore.url
    (rekor,) = signing.get_tlogs()
    assert isinstance(rekor, RekorClient)
    assert rekor.url == f"{local_sigstore.url}/api/v1"
    assert signing.get_tsas() == []
    assert config.trusted_root.get_timestamp_authorities() == []


def test_unknown_paths_are_404(local_sigstore: LocalSigstore) -> None:
    response = requests.get(f"{local_sigstore.url}/api/v1/log", timeout=5)

    assert response.status_code == 404
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


def test_latency_must_not_be_negative(local_sigstore: LocalSigstore) -> None:
    with pytest.raises(ValueError, match="negative"):
        local_sigstore.latency = -1
