"""`LocalSigstore`: the services, their keys and the trust config, started together."""

from __future__ import annotations

import datetime
import json
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

from hatch_attest.testing._faults import Fault
from hatch_attest.testing._fulcio import Fulcio
from hatch_attest.testing._http import Reply, Request, json_reply
from hatch_attest.testing._identity import Claims, GitHubIdentity, GitLabIdentity, token_claims
from hatch_attest.testing._leaks import CredentialScan
from hatch_attest.testing._oidc import Issuer, Issuers
from hatch_attest.testing._rekor import Rekor
from hatch_attest.testing._server import Server
from hatch_attest.testing._trust import client_trust_config
from hatch_attest.testing._tsa import TimestampAuthority

# Where the emulated GitHub token service listens; the query mimics the real
# ACTIONS_ID_TOKEN_REQUEST_URL, to which clients append `&audience=...`.
_ACTIONS_OIDC_PATH = "/github/idtoken"
_TSA_PATH = "/api/v1/timestamp"
# Frozen, so sharing one instance as a default is safe.
_GITHUB_JOB = GitHubIdentity()
_GITLAB_JOB = GitLabIdentity()
# Keys and CA certificates are valid from slightly before start-up, so that
# clocks that differ by a little still agree they are valid.
_BACKDATE = datetime.timedelta(minutes=5)


class LocalSigstore:
    """A Sigstore deployment on 127.0.0.1: OIDC, Fulcio, Rekor v1 and optionally a TSA.

    Start it with `LocalSigstore.start()` (or use it as a context manager), point
    clients at `trust_config_path`, and give jobs `github_env()` or `gitlab_env()`.
    """

    def __init__(self, *, tsa: bool, directory: Path | None) -> None:
        """Use `LocalSigstore.start()`; this builds the keys but serves nothing."""
        self._server = Server()
        self.url: str = self._server.url
        """Base URL of every service: `http://127.0.0.1:<port>`."""
        not_before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - _BACKDATE
        self._issuers = Issuers()
        self._fulcio = Fulcio(self._issuers, not_before)
        self._rekor = Rekor(self.url)
        self._tsa = TimestampAuthority(not_before) if tsa else None
        self._request_tokens: dict[str, GitHubIdentity] = {}
        self._issued: list[str] = []
        self._tokens_lock = threading.Lock()

        self._server.route("GET", _ACTIONS_OIDC_PATH, "oidc", self._github_token)
        self._server.route("POST", "/api/v2/signingCert", "fulcio", self._fulcio.signing_cert)
        self._server.route("POST", "/api/v1/log/entries", "rekor", self._rekor.create_entry)
        if self._tsa is not None:
            self._server.route("POST", _TSA_PATH, "tsa", self._tsa.timestamp)

        self._own_directory = directory is None
        self._directory = (
            Path(tempfile.mkdtemp(prefix="local-sigstore-")) if directory is None else directory
        )
        self.trust_config_path: Path = self._directory / "trust_config.json"
        """The ClientTrustConfig JSON (trusted root and signing config) of this instance."""
        document = client_trust_config(
            url=self.url,
            not_before=not_before,
            ca_chain=self._fulcio.ca.chain,
            ct_log_key=self._fulcio.ct_log.key.public_key(),
            rekor_key=self._rekor.key.public_key(),
            tsa_url=None if self._tsa is None else self.url + _TSA_PATH,
            tsa_chain=None if self._tsa is None else self._tsa.chain,
        )
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            self.trust_config_path.write_text(json.dumps(document, indent=2) + "\n")
        except OSError:
            self._server.server_close()
            raise

    @classmethod
    def start(cls, *, tsa: bool = False, directory: Path | None = None) -> LocalSigstore:
        """Generates fresh keys, writes the trust config and starts serving.

        `tsa` adds an RFC 3161 timestamp authority (listed in the signing config
        only then). The trust config goes to `directory`, or to a temporary
        directory that `stop()` removes.
        """
        instance = cls(tsa=tsa, directory=directory)
        instance._server.start()
        return instance

    def stop(self) -> None:
        """Stops serving, releases hung requests and joins every thread."""
        self._server.close()
        if self._own_directory:
            shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> LocalSigstore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def latency(self) -> float:
        """Seconds added to every request (for benchmarks); 0 by default."""
        return self._server.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            msg = f"latency must not be negative, got {seconds}"
            raise ValueError(msg)
        self._server.latency = seconds

    def github_env(
        self, identity: GitHubIdentity = _GITHUB_JOB, *, id_token_permission: bool = True
    ) -> dict[str, str]:
        """The environment of a GitHub Actions job running as `identity`.

        With `id_token_permission` (the workflow's `id-token: write`), it includes
        ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN; the request token is bound to
        `identity`, so the token service mints that identity's tokens.
        """
        env = identity.environ()
        if id_token_permission:
            request_token = secrets.token_urlsafe(24)
            with self._tokens_lock:
                self._request_tokens[request_token] = identity
            env["ACTIONS_ID_TOKEN_REQUEST_URL"] = f"{self.url}{_ACTIONS_OIDC_PATH}?api-version=2.0"
            env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = request_token
        return env

    def gitlab_env(
        self, identity: GitLabIdentity = _GITLAB_JOB, *, with_token: bool = True
    ) -> dict[str, str]:
        """The environment of a GitLab CI job running as `identity`.

        With `with_token` (an `id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore` entry
        in `.gitlab-ci.yml`), it includes SIGSTORE_ID_TOKEN, minted now.
        """
        env = identity.environ()
        if with_token:
            env["SIGSTORE_ID_TOKEN"] = self.mint_gitlab_token(identity)
        return env

    def mint_github_token(
        self,
        identity: GitHubIdentity = _GITHUB_JOB,
        *,
        audience: str = "sigstore",
        lifetime: int = 300,
        issued_at: float | None = None,
    ) -> str:
        """A GitHub Actions ID token; `issued_at` is POSIX time (default: now)."""
        return self._mint(self._issuers.github, identity.claims(), audience, lifetime, issued_at)

    def mint_gitlab_token(
        self,
        identity: GitLabIdentity = _GITLAB_JOB,
        *,
        audience: str = "sigstore",
        lifetime: int = 300,
        issued_at: float | None = None,
    ) -> str:
        """A GitLab CI ID token; `issued_at` is POSIX time (default: now)."""
        return self._mint(self._issuers.gitlab, identity.claims(), audience, lifetime, issued_at)

    def secrets(self) -> list[str]:
        """Every credential handed out so far: ID tokens and GitHub request tokens.

        For leak checks: none of these may appear in any output, log or file.
        """
        with self._tokens_lock:
            return [*self._issued, *self._request_tokens]

    def credential_scan(self) -> CredentialScan:
        """A search for any 16-character piece of a secret segment of `secrets()`.

        See `hatch_attest.testing._leaks` for what is searched and why a token's
        header segment is not.
        """
        return CredentialScan(self.secrets())

    def _mint(
        self,
        issuer: Issuer,
        identity_claims: Claims,
        audience: str,
        lifetime: int,
        issued_at: float | None,
    ) -> str:
        claims = token_claims(
            identity_claims, audience=audience, issued_at=_seconds(issued_at), lifetime=lifetime
        )
        token = issuer.mint(claims)
        with self._tokens_lock:
            self._issued.append(token)
        return token

    def counts(self) -> dict[str, int]:
        """Requests received per endpoint: "oidc", "fulcio", "rekor" and "tsa"."""
        return self._server.counts()

    def inject(self, endpoint: str, fault: Fault, *, times: int | None = None) -> None:
        """Makes `endpoint` misbehave: on every request, or on the next `times` ones.

        Replaces the endpoint's previous fault. Raises ValueError for an unknown
        endpoint or a fault that does not apply to it (see `Fault`).
        """
        self._server.faults.set(endpoint, fault, times)

    def reset(self) -> None:
        """Clears faults and counts; keys, log entries and tokens stay."""
        self._server.reset()

    def _github_token(self, request: Request, fault: Fault | None) -> Reply:
        scheme, _, request_token = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not request_token:
            return json_reply(401, {"message": "Bearer token required"})
        with self._tokens_lock:
            identity = self._request_tokens.get(request_token)
        if identity is None:
            return json_reply(403, {"message": "Invalid request token"})
        # Without `audience`, GitHub uses the repository owner's URL.
        audience = request.query.get("audience") or f"https://github.com/{identity.owner}"
        return json_reply(200, {"value": self.mint_github_token(identity, audience=audience)})


def _seconds(moment: float | None) -> int:
    return int(time.time() if moment is None else moment)
