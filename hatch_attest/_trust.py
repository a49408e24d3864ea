"""Which Sigstore instance to trust and sign with.

``production`` and ``staging`` come from Sigstore's TUF repositories; a
``trust-config`` file (a sigstore ``ClientTrustConfig`` JSON) names a private
deployment, or the local instance the tests and the demo use.

Two things every caller gets for free here:

* Rekor v1 is forced. PEP 740 attestations carry no RFC 3161 timestamp, and a
  Rekor v2 entry has no integrated time, so a v2 entry would not verify.
* TUF refreshes are serialised across processes with a file lock. sigstore-python
  refreshes its TUF cache in place, and two builds refreshing at once (``uv build``
  runs builds concurrently; matrix jobs share a runner) can corrupt it
  (sigstore-python #1403).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from hatch_attest._deadline import SLOW_FIX, DeadlinePassed, ran_out, run_in_thread
from hatch_attest._redact import redact
from hatch_attest.errors import TrustConfigError

if TYPE_CHECKING:
    from sigstore.models import ClientTrustConfig
    from sigstore.verify import Verifier


#: The public-good Sigstore deployments: production and staging.
PUBLIC_GOOD_DOMAINS = ("sigstore.dev", "sigstage.dev")
# Their TUF repositories, under whose quoted URL sigstore-python embeds their roots.
_PUBLIC_GOOD_TUF_REPOSITORIES = (
    "https://tuf-repo-cdn.sigstore.dev",
    "https://tuf-repo-cdn.sigstage.dev",
)


def signs_publicly(instance: str, trust_config: Path | None) -> bool:
    """Whether a signature would go to the public-good Sigstore (its public, permanent logs).

    Judged by where the signature goes, not by a configuration key: a trust config
    whose Fulcio or Rekor lives under sigstore.dev or sigstage.dev is public; so is
    one whose trusted root holds a key of the public-good instance (its Fulcio CA, its
    Rekor log or its certificate transparency log), whatever the URLs say: a proxy or
    mirror in front of sigstore.dev signs into the same public logs. Standard library
    only, no network, and before any token is requested: a trust config that cannot
    be read fails here, with its name.

    Raises:
        TrustConfigError: the trust config file cannot be read or is not JSON.
    """
    if trust_config is None:
        return True  # "production" and "staging" are the public-good instance
    document = _read_json(trust_config)
    if not isinstance(document, dict):
        return False
    signing = document.get("signingConfig")
    urls = [
        service.get("url")
        for key in ("caUrls", "rekorTlogUrls", "tlogUrls")
        for service in _list(signing, key)
        if isinstance(service, dict)
    ]
    if any(_public_good(url) for url in urls if isinstance(url, str)):
        return True
    return not _trusted_keys(document.get("trustedRoot")).isdisjoint(public_good_keys())


def _public_good(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == domain or host.endswith(f".{domain}") for domain in PUBLIC_GOOD_DOMAINS)


def _list(document: object, key: str) -> list[Any]:
    value = document.get(key) if isinstance(document, dict) else None
    return value if isinstance(value, list) else []


def _trusted_keys(trusted_root: object) -> set[bytes]:
    """The keys and certificates a trusted root trusts for signing and logging, as bytes.

    Certificate authorities (every certificate of each chain), transparency logs and
    CT logs (public key and log ID). Timestamp authorities are left out: a timestamp
    publishes nothing, and PEP 740 signing never asks for one.
    """
    found: set[bytes] = set()

    def add(value: object) -> None:
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                found.add(base64.b64decode(value, validate=False))

    for authority in _list(trusted_root, "certificateAuthorities"):
        chain = authority.get("certChain") if isinstance(authority, dict) else None
        for certificate in _list(chain, "certificates"):
            if isinstance(certificate, dict):
                add(certificate.get("rawBytes"))
    for log in [*_list(trusted_root, "tlogs"), *_list(trusted_root, "ctlogs")]:
        if not isinstance(log, dict):
            continue
        key, log_id = log.get("publicKey"), log.get("logId")
        add(key.get("rawBytes") if isinstance(key, dict) else None)
        add(log_id.get("keyId") if isinstance(log_id, dict) else None)
    found.discard(b"")
    return found


@functools.lru_cache(maxsize=1)
def public_good_keys() -> frozenset[bytes]:
    """The public-good instance's keys and certificates (production and staging).

    Read, as data, from the trusted roots sigstore-python embeds (its bootstrap copy
    of the TUF targets), found without importing sigstore. Empty when sigstore is not
    installed: then only the URLs can tell.
    """
    spec = importlib.util.find_spec("sigstore")
    locations = (spec.submodule_search_locations or []) if spec is not None else []
    keys: set[bytes] = set()
    for location in locations:
        for repository in _PUBLIC_GOOD_TUF_REPOSITORIES:
            path = Path(location) / "_store" / quote(repository, safe="") / "trusted_root.json"
            with contextlib.suppress(OSError, ValueError, RecursionError):
                keys |= _trusted_keys(json.loads(path.read_text(encoding="utf-8")))
    return frozenset(keys)


def _read_text(trust_config: Path) -> str:
    try:
        return trust_config.read_text(encoding="utf-8")
    except OSError as e:
        msg = (
            f"cannot read the Sigstore trust config {trust_config}: {e.strerror or e}. "
            "Check `trust-config` or HATCH_ATTEST_TRUST_CONFIG."
        )
        raise TrustConfigError(msg) from e
    except UnicodeDecodeError as e:
        msg = f"the Sigstore trust config {trust_config} is not UTF-8 text"
        raise TrustConfigError(msg) from e


def _read_json(trust_config: Path) -> Any:
    raw = _read_text(trust_config)
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as e:
        msg = (
            f"{trust_config} is not a valid Sigstore ClientTrustConfig (not JSON: {e}). It "
            "must be the JSON that `ClientTrustConfig.from_json` reads: a trusted root plus "
            "a signing config."
        )
        raise TrustConfigError(msg) from e


def load_trust_config(
    instance: str,
    trust_config: Path | None,
    *,
    offline: bool = False,
    offline_hint: str | None = None,
) -> ClientTrustConfig:
    """Load the trust configuration: a ``trust_config`` file if given, else ``instance``.

    ``offline`` uses the cached (or embedded) TUF trust root without a refresh.
    ``offline_hint`` says how to ask for that (``verify``'s ``--offline``); a
    failed refresh then suggests it, instead of a CI job's network access.
    """
    from sigstore.models import ClientTrustConfig

    if trust_config is not None:
        raw = _read_text(trust_config)
        try:
            config = ClientTrustConfig.from_json(raw)
            # Touch both halves now so that a broken file fails here, with its name,
            # rather than deep inside signing.
            config.trusted_root.get_fulcio_certs()
            config.force_tlog_version = 1
            config.signing_config.get_fulcio()
            config.signing_config.get_tlogs()
        except Exception as e:  # sigstore raises ValueError, pydantic and its own errors
            text = redact(str(e)).strip()
            first_line = text.splitlines()[0] if text else type(e).__name__
            msg = (
                f"{trust_config} is not a valid Sigstore ClientTrustConfig "
                f"({first_line}). It must be the JSON that `ClientTrustConfig.from_json` "
                "reads: a trusted root plus a signing config."
            )
            raise TrustConfigError(msg) from e
        return config

    def refresh() -> ClientTrustConfig:
        with _tuf_lock():
            if instance == "staging":
                return ClientTrustConfig.staging(offline=offline)
            return ClientTrustConfig.production(offline=offline)

    try:
        # TUF fetches with its own urllib3 client (a socket timeout per read, so a
        # trickling CDN could hold it for hours) and takes no fetcher from sigstore:
        # bounded from outside. A refresh cut off at the deadline leaves the cache
        # intact (TUF writes each metadata file atomically); the abandoned worker
        # holds the lock only until this process ends.
        config = run_in_thread(refresh, f"the Sigstore {instance} TUF repository")
    except DeadlinePassed:
        msg = (
            f"cannot load the Sigstore {instance} trust root: its TUF repository "
            f"(tuf-repo-cdn.{'sigstage' if instance == 'staging' else 'sigstore'}.dev) did not "
            f"finish answering before {ran_out()}. {SLOW_FIX}"
        )
        raise TrustConfigError(msg) from None
    except Exception as e:
        msg = (
            f"cannot load the Sigstore {instance} trust root from its TUF repository: "
            f"{redact(str(e))}. "
            + (
                f"Check the network access to tuf-repo-cdn.sigstore.dev, or {offline_hint}."
                if offline_hint is not None and not offline
                else "Check the job's network access to tuf-repo-cdn.sigstore.dev."
            )
        )
        raise TrustConfigError(msg) from e
    config.force_tlog_version = 1
    return config


def verifier_for(config: ClientTrustConfig) -> Verifier:
    """A verifier that trusts exactly what ``config`` trusts (no network)."""
    from sigstore.verify import Verifier

    return Verifier(trusted_root=config.trusted_root)


@contextlib.contextmanager
def _tuf_lock() -> Iterator[None]:
    """Hold an exclusive lock on sigstore's TUF cache while it may refresh.

    POSIX only (``fcntl``); elsewhere, concurrent refreshes are not serialised.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    import platformdirs

    cache = Path(platformdirs.user_cache_dir("sigstore-python", "sigstore"))
    cache.mkdir(parents=True, exist_ok=True)
    fd = os.open(cache / ".hatch-attest-tuf.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
