"""`LocalSigstore`: the services, their keys and the trust config, started together."""

from __future__ import annotations

import datetime
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from hatch_attest_testing._ambient import AmbientProviders, GoogleCloud
from hatch_attest_testing._faults import Fault
from hatch_attest_testing._fulcio import Fulcio
from hatch_attest_testing._http import Reply, Request, json_reply
from hatch_attest_testing._identity import (
    BuildkiteIdentity,
    CircleCIIdentity,
    Claims,
    GitHubIdentity,
    GitLabIdentity,
    GoogleIdentity,
    identity_for,
    token_claims,
)
from hatch_attest_testing._leaks import CredentialScan
from hatch_attest_testing._oidc import Issuer, Issuers
from hatch_attest_testing._rekor import Rekor
from hatch_attest_testing._server import Exchange, ServedService, Server
from hatch_attest_testing._trust import client_trust_config
from hatch_attest_testing._tsa import TimestampAuthority

if TYPE_CHECKING:
    from hatch_attest._kinds import Publisher

# Where the emulated GitHub token service listens; the query mimics the real
# ACTIONS_ID_TOKEN_REQUEST_URL, to which clients append `&audience=...`.
_ACTIONS_OIDC_PATH = "/github/idtoken"
_TSA_PATH = "/api/v1/timestamp"
# Frozen, so sharing one instance as a default is safe.
_GITHUB_JOB = GitHubIdentity()

RELEASE_WORKFLOW = """\
name: Release
on: { push: { tags: ["v*"] } }
jobs:
  release:
    runs-on: ubuntu-latest
    permissions: { id-token: write }
    steps:
      - uses: actions/checkout@v4
      - uses: astral-sh/setup-uv@v6
      - run: uv build
      - run: uv publish --trusted-publishing always
"""
"""The emulated job's workflow file: it publishes with `uv publish`."""
_GITLAB_JOB = GitLabIdentity()
_GOOGLE_ACCOUNT = GoogleIdentity()
_BUILDKITE_JOB = BuildkiteIdentity()
_CIRCLECI_JOB = CircleCIIdentity()
# Keys and CA certificates are valid from slightly before start-up, so that
# clocks that differ by a little still agree they are valid.
_BACKDATE = datetime.timedelta(minutes=5)


class LocalSigstore(ServedService):
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
        self._ambient = AmbientProviders(
            self.url,
            self._issuers,
            lambda issuer, claims, audience: self._mint(issuer, claims, audience, 300, None),
        )

        self._server.route("GET", _ACTIONS_OIDC_PATH, "oidc", self._github_token)
        self._ambient.register(self._server)
        self._server.route("POST", "/api/v2/signingCert", "fulcio", self._fulcio.signing_cert)
        entries = self._rekor.entries_path
        self._server.route("POST", entries, "rekor", self._rekor.create_entry)
        self._server.route("GET", entries + "/", "rekor", self._rekor.get_entry, prefix=True)
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

    def github_env(
        self,
        identity: GitHubIdentity = _GITHUB_JOB,
        *,
        id_token_permission: bool = True,
        workflow: str | None = RELEASE_WORKFLOW,
    ) -> dict[str, str]:
        """The environment of a GitHub Actions job running as `identity`.

        With `id_token_permission` (the workflow's `id-token: write`), it includes
        ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN; the request token is bound to
        `identity`, so the token service mints that identity's tokens.

        As in a real job, GITHUB_WORKSPACE is a checkout holding the job's own
        workflow file, with the text `workflow` (by default one that publishes with
        `uv publish`; `predicate = "auto"` reads it). `workflow=None` leaves the
        checkout out.
        """
        env = identity.environ()
        if workflow is not None:
            workspace = self._directory / "workspaces" / identity.repository
            path = workspace / ".github" / "workflows" / identity.workflow
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(workflow)
            env["GITHUB_WORKSPACE"] = str(workspace)
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

    def job_env(
        self,
        job: Publisher,
        *,
        workspace: Path | None = None,
        tag: str = "rehearsal",
        upload: bool = False,
    ) -> dict[str, str]:
        """The environment of a CI job of the publisher ``job``, running on the tag ``tag``.

        For any kind :func:`identity_for` knows: the job can get ``sigstore`` tokens
        as its CI hands them out, and its checkout variable names ``workspace``.
        With ``upload``, it also has what its CI needs for a Trusted Publishing
        upload that its uploader does not ask for itself (GitLab's
        ``PYPI_ID_TOKEN``, fresh per call: PyPI refuses a reused token).
        """
        identity = identity_for(job, tag=tag)
        if isinstance(identity, GitHubIdentity):
            env = self.github_env(identity, workflow=None)
        else:
            env = self.gitlab_env(identity)
            if upload:
                env["PYPI_ID_TOKEN"] = self.mint_gitlab_token(identity, audience="pypi")
        if workspace is not None:
            env[identity.workspace_variable] = str(workspace)
        return env

    def mint_job_token(
        self, job: Publisher, *, tag: str = "rehearsal", audience: str = "sigstore"
    ) -> str:
        """An ID token of a CI job of the publisher ``job`` (see :meth:`job_env`)."""
        identity = identity_for(job, tag=tag)
        if isinstance(identity, GitHubIdentity):
            return self.mint_github_token(identity, audience=audience)
        return self.mint_gitlab_token(identity, audience=audience)

    def google_cloud(
        self,
        directory: Path,
        service_account: GoogleIdentity | None = _GOOGLE_ACCOUNT,
        *,
        impersonates: tuple[str, ...] = (),
        on_compute_engine: bool = True,
        metadata_server: bool = True,
    ) -> GoogleCloud:
        """Google Cloud around a process: a VM's metadata server and Google's IAM.

        `service_account` is the VM's default account (None: a VM without one,
        whose metadata server answers 404); the VM may impersonate the accounts
        named in `impersonates` (emails), for jobs that set
        GOOGLE_SERVICE_ACCOUNT_NAME. `on_compute_engine` decides what the DMI
        product name file says; without `metadata_server`, nothing answers at the
        metadata and IAM URLs (a laptop). Files go to `directory`. Enter it with
        `GoogleCloud.patched()` (this process) or `GoogleCloud.environ()` (a child).
        """
        return self._ambient.google_cloud(
            directory,
            service_account,
            impersonates=impersonates,
            on_compute_engine=on_compute_engine,
            metadata_server=metadata_server,
        )

    def buildkite_env(
        self,
        directory: Path,
        identity: BuildkiteIdentity = _BUILDKITE_JOB,
        *,
        path: str | None = None,
        access_token: bool = True,
    ) -> dict[str, str]:
        """The environment of a Buildkite job running as `identity`.

        Writes a stand-in `buildkite-agent` to `directory` and puts it first on
        PATH (before `path`, default this process's PATH). With `access_token`,
        the job has BUILDKITE_AGENT_ACCESS_TOKEN, bound to `identity`; without it,
        the agent cannot issue a token and exits 1.
        """
        return self._ambient.buildkite_env(
            identity,
            directory,
            path=os.environ.get("PATH", "") if path is None else path,
            access_token=access_token,
        )

    def circleci_env(
        self,
        directory: Path,
        identity: CircleCIIdentity = _CIRCLECI_JOB,
        *,
        path: str | None = None,
        can_issue: bool = True,
    ) -> dict[str, str]:
        """The environment of a CircleCI job running as `identity`.

        Writes a stand-in `circleci` CLI to `directory` and puts it first on PATH
        (before `path`, default this process's PATH). Without `can_issue`, the
        CLI cannot reach a token service and exits 1.
        """
        return self._ambient.circleci_env(
            identity,
            directory,
            path=os.environ.get("PATH", "") if path is None else path,
            token_channel=can_issue,
        )

    def mint_token(
        self,
        identity: GoogleIdentity | BuildkiteIdentity | CircleCIIdentity,
        *,
        audience: str = "sigstore",
        lifetime: int = 300,
        issued_at: float | None = None,
    ) -> str:
        """An ID token for a Google account, a Buildkite job or a CircleCI job (root issuer)."""
        if isinstance(identity, GoogleIdentity):
            issuer = self._issuers.google
        elif isinstance(identity, BuildkiteIdentity):
            issuer = self._issuers.buildkite
        else:
            issuer = self._issuers.circleci
        return self._mint(issuer, identity.claims(), audience, lifetime, issued_at)

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
        """Every credential handed out so far: ID tokens, request and access tokens.

        For leak checks: none of these may appear in any output, log or file.
        """
        with self._tokens_lock:
            own = [*self._issued, *self._request_tokens]
        return [*own, *self._ambient.secrets()]

    def credential_scan(self) -> CredentialScan:
        """A search for any 16-character piece of a secret segment of `secrets()`.

        See `hatch_attest_testing._leaks` for what is searched and why a token's
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

    def verify_id_token(self, token: str, *, audience: str) -> Claims:
        """The claims of an ID token this instance minted, checked as a relying party would.

        Checks the signature against the issuer's key, the audience, and the
        expiry; raises `TokenError` saying what is wrong. The local index uses
        this in place of fetching the issuer's JWKS.
        """
        return self._issuers.verify(token, audience=audience)

    def exchanges(self, endpoint: str | None = None) -> list[Exchange]:
        """The requests received (to `endpoint`, or to all), each with the status it got.

        In the order they ended; a status of None means no answer was sent (a
        `hang` or a `drop_after_processing` fault).
        """
        return [e for e in self._server.exchanges() if endpoint in {None, e.endpoint}]

    def inject(
        self, endpoint: str, fault: Fault, *, times: int | None = None, method: str | None = None
    ) -> None:
        """Makes `endpoint` misbehave: on every request, or on the next `times` ones.

        With `method` ("GET" or "POST"), only that method's requests, and before
        any fault set for the whole endpoint: Rekor reads entries with GET and
        creates them with POST. Replaces the previous fault of the same endpoint
        and method. Raises ValueError for an unknown endpoint or method, or a
        fault that does not apply to the endpoint (see `Fault`).
        """
        self._server.faults.set(endpoint, fault, times, method)

    def reset(self) -> None:
        """Clears faults, counts and exchanges; keys, log entries and tokens stay."""
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
