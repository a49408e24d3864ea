"""The other ambient identities `id` knows: Google Cloud, Buildkite and CircleCI.

Each is reached the way `id` (and hatch-attest) reach the real one, with a seam
where the real one cannot be redirected:

- **Google Cloud.** hatch-attest asks the VM's metadata server (and, to
  impersonate `GOOGLE_SERVICE_ACCOUNT_NAME`, Google's IAM credentials API) at URLs
  that are module constants of `hatch_attest._kinds.google`, and tells a Compute Engine
  VM by the DMI product name file, another constant there. `GoogleCloud` points
  those constants at this instance: `patched()` in this process, `environ()` for a
  child process (a `sitecustomize` on `PYTHONPATH` sets them as the module is
  imported). Nothing of `id` is patched: its own Google detector keeps its URLs in
  private constants, and is not served here.
- **Buildkite and CircleCI.** `id` runs `buildkite-agent oidc request-token
  --audience sigstore` and `circleci run oidc get --claims '{"aud": "sigstore"}'
  --root-issuer`. Stand-in executables of those names, put first on `PATH`, ask
  this instance for the token: the Buildkite one through the agent API
  (`BUILDKITE_AGENT_ENDPOINT`, `BUILDKITE_AGENT_ACCESS_TOKEN`), the CircleCI one
  through a channel of this emulation (`CIRCLE_OIDC_REQUEST_URL`,
  `CIRCLE_OIDC_REQUEST_TOKEN`). Without the credential variable they fail the
  way the real tools do: a message on stderr and exit status 1.

Every request counts under the "oidc" endpoint, so its faults apply too.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import secrets
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hatch_attest_testing._http import Reply, Request, json_reply
from hatch_attest_testing._identity import (
    BuildkiteIdentity,
    CircleCIIdentity,
    Claims,
    GoogleIdentity,
)
from hatch_attest_testing._oidc import Issuer, Issuers
from hatch_attest_testing._server import Server

#: What `LocalSigstore._mint` does: sign claims as an issuer, remember the token.
Mint = Callable[[Issuer, Claims, str], str]

_GCE = "/gce/"
_METADATA = "/computeMetadata/v1/instance/service-accounts/default/"
_IAM = "/iamcredentials/v1/projects/-/serviceAccounts/"
_BUILDKITE = "/buildkite/v3"
_CIRCLECI = "/circleci/oidc"
_SEAM_VARIABLE = "LOCAL_SIGSTORE_MODULE_CONSTANTS"
# The client whose constants name the metadata server, IAM and the DMI product file:
# hatch-attest's own Google token path (`id` keeps its copies private, so it is not
# pointed here).
_CLIENT_MODULE = "hatch_attest._kinds.google"
_SEAM = Path(__file__).with_name("_seam.py")
# The stand-in agents wait this long for an answer: a hung service keeps them
# hanging (as a hung real agent would) until the caller gives up on them.
_AGENT_WAIT_SECONDS = 300


@dataclass(frozen=True)
class _VM:
    service_account: GoogleIdentity | None
    impersonates: frozenset[str]


@dataclass(frozen=True)
class GoogleCloud:
    """Google Cloud around a process, as `id` and hatch-attest's probe see it.

    Holds the module constants that point them at this instance (or at nothing).
    """

    constants: Mapping[str, Mapping[str, str]]
    """Module name -> constant name -> value."""
    seam_directory: Path

    @contextlib.contextmanager
    def patched(self) -> Iterator[None]:
        """This process on that VM: sets the constants, and restores them afterwards."""
        saved: list[tuple[Any, str, Any]] = []
        try:
            for module_name, values in self.constants.items():
                module = importlib.import_module(module_name)
                for name, value in values.items():
                    saved.append((module, name, getattr(module, name)))
                    setattr(module, name, value)
            yield
        finally:
            for module, name, value in reversed(saved):
                setattr(module, name, value)

    def environ(self) -> dict[str, str]:
        """Variables that put a child Python process on that VM.

        `PYTHONPATH` names a folder with a `sitecustomize` module (which replaces
        any other `sitecustomize`); frontends that clear `PYTHONPATH` for their
        isolated build environments (`python -m build` without `--no-isolation`)
        drop it.
        """
        return {
            "PYTHONPATH": str(self.seam_directory),
            _SEAM_VARIABLE: json.dumps(self.constants),
        }


def _closed_port_url() -> str:
    """A loopback URL where nothing listens: connections are refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class AmbientProviders:
    """Google's metadata server and IAM, Buildkite's agent API, CircleCI's token channel."""

    def __init__(self, url: str, issuers: Issuers, mint: Mint) -> None:
        self._url = url
        self._issuers = issuers
        self._mint = mint
        self._lock = threading.Lock()
        self._vms: dict[str, _VM] = {}
        self._access_tokens: dict[str, str] = {}
        self._agent_tokens: dict[str, BuildkiteIdentity] = {}
        self._circleci_tokens: dict[str, CircleCIIdentity] = {}

    def register(self, server: Server) -> None:
        """Adds the providers' routes to `server`."""
        server.route("GET", _GCE, "oidc", self._metadata, prefix=True)
        server.route("POST", _IAM, "oidc", self._generate_id_token, prefix=True)
        server.route("POST", f"{_BUILDKITE}/jobs/", "oidc", self._buildkite_token, prefix=True)
        server.route("POST", _CIRCLECI, "oidc", self._circleci_token)

    def secrets(self) -> list[str]:
        """Credentials handed out besides ID tokens: access and request tokens."""
        with self._lock:
            return [*self._access_tokens, *self._agent_tokens, *self._circleci_tokens]

    # Google Cloud

    def google_cloud(
        self,
        directory: Path,
        service_account: GoogleIdentity | None,
        *,
        impersonates: tuple[str, ...],
        on_compute_engine: bool,
        metadata_server: bool,
    ) -> GoogleCloud:
        """See `LocalSigstore.google_cloud`."""
        directory.mkdir(parents=True, exist_ok=True)
        product_name = directory / "product_name"
        product_name.write_text(
            "Google Compute Engine\n" if on_compute_engine else "Standard PC (Q35 + ICH9, 2009)\n"
        )
        seam = directory / "seam"
        seam.mkdir(exist_ok=True)
        (seam / "sitecustomize.py").write_text(_SEAM.read_text())
        if metadata_server:
            vm = secrets.token_hex(8)
            with self._lock:
                self._vms[vm] = _VM(service_account, frozenset(impersonates))
            metadata = f"{self._url}{_GCE}{vm}{_METADATA}"
            iam = f"{self._url}{_IAM}"
        else:
            metadata = f"{_closed_port_url()}{_METADATA}"
            iam = f"{_closed_port_url()}{_IAM}"
        constants = {
            _CLIENT_MODULE: {
                "GCP_PRODUCT_NAME_FILE": str(product_name),
                "GCP_METADATA_URL": metadata,
                "GCP_GENERATE_ID_TOKEN_URL": iam + "{}:generateIdToken",
            },
        }
        return GoogleCloud(constants, seam)

    def _metadata(self, request: Request, fault: object) -> Reply:
        vm_name, _, rest = request.path.removeprefix(_GCE).partition("/")
        with self._lock:
            vm = self._vms.get(vm_name)
        if vm is None or not ("/" + rest).startswith(_METADATA):
            return _text(404, "Not Found")
        if request.headers.get("Metadata-Flavor") != "Google":
            return _text(403, "Missing Metadata-Flavor:Google header.")
        if vm.service_account is None:
            # A VM without a service account has no `default` one.
            return _text(404, "Not Found")
        what = ("/" + rest).removeprefix(_METADATA)
        if what == "identity":
            audience = request.query.get("audience")
            if not audience:
                return _text(400, "non-empty audience parameter required")
            claims = vm.service_account.claims()
            if request.query.get("format") == "full":
                claims["google"] = {
                    "compute_engine": {
                        "instance_id": "4000000000000000001",
                        "instance_name": "release-runner",
                        "project_id": "demo-project",
                        "project_number": 300000000001,
                        "zone": "europe-west1-b",
                    }
                }
            return _text(200, self._mint(self._issuers.google, claims, audience))
        if what == "token":
            access_token = f"ya29.{secrets.token_urlsafe(32)}"
            with self._lock:
                self._access_tokens[access_token] = vm_name
            return json_reply(
                200, {"access_token": access_token, "expires_in": 3599, "token_type": "Bearer"}
            )
        return _text(404, "Not Found")

    def _generate_id_token(self, request: Request, fault: object) -> Reply:
        scheme, _, access_token = (request.headers.get("Authorization") or "").partition(" ")
        with self._lock:
            vm_name = self._access_tokens.get(access_token) if scheme == "Bearer" else None
            vm = None if vm_name is None else self._vms.get(vm_name)
        if vm is None:
            return _google_error(401, "Request had invalid authentication credentials.")
        account = request.path.removeprefix(_IAM).removesuffix(":generateIdToken")
        if account not in vm.impersonates:
            return _google_error(
                403,
                "Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource "
                "(or it may not exist).",
            )
        try:
            body = json.loads(request.body)
            audience = body["audience"]
        except (ValueError, KeyError, TypeError):
            return _google_error(400, "Invalid JSON payload received.")
        claims = GoogleIdentity(email=account).claims()
        if not body.get("includeEmail"):
            del claims["email"], claims["email_verified"]
        return json_reply(200, {"token": self._mint(self._issuers.google, claims, audience)})

    # Buildkite

    def buildkite_env(
        self, identity: BuildkiteIdentity, directory: Path, *, path: str, access_token: bool
    ) -> dict[str, str]:
        """See `LocalSigstore.buildkite_env`."""
        env = identity.environ()
        _write_agent(directory, "buildkite-agent", _BUILDKITE_AGENT)
        env["PATH"] = f"{directory}{os.pathsep}{path}"
        env["BUILDKITE_AGENT_ENDPOINT"] = f"{self._url}{_BUILDKITE}"
        if access_token:
            token = secrets.token_urlsafe(24)
            with self._lock:
                self._agent_tokens[token] = identity
            env["BUILDKITE_AGENT_ACCESS_TOKEN"] = token
        return env

    def _buildkite_token(self, request: Request, fault: object) -> Reply:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        with self._lock:
            identity = self._agent_tokens.get(token) if scheme == "Token" else None
        if identity is None:
            return json_reply(401, {"message": "Unauthorized"})
        job = request.path.removeprefix(f"{_BUILDKITE}/jobs/").removesuffix("/oidc/tokens")
        if job != identity.job_id:
            return json_reply(403, {"message": "Forbidden: the token is for another job"})
        try:
            audience = json.loads(request.body)["audience"]
        except (ValueError, KeyError, TypeError):
            return json_reply(422, {"message": "audience is required"})
        token = self._mint(self._issuers.buildkite, identity.claims(), audience)
        return json_reply(201, {"token": token})

    # CircleCI

    def circleci_env(
        self, identity: CircleCIIdentity, directory: Path, *, path: str, token_channel: bool
    ) -> dict[str, str]:
        """See `LocalSigstore.circleci_env`."""
        env = identity.environ()
        _write_agent(directory, "circleci", _CIRCLECI_CLI)
        env["PATH"] = f"{directory}{os.pathsep}{path}"
        if token_channel:
            token = secrets.token_urlsafe(24)
            with self._lock:
                self._circleci_tokens[token] = identity
            env["CIRCLE_OIDC_REQUEST_URL"] = f"{self._url}{_CIRCLECI}"
            env["CIRCLE_OIDC_REQUEST_TOKEN"] = token
        return env

    def _circleci_token(self, request: Request, fault: object) -> Reply:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        with self._lock:
            identity = self._circleci_tokens.get(token) if scheme == "Bearer" else None
        if identity is None:
            return json_reply(401, {"message": "unauthorized"})
        try:
            body = json.loads(request.body)
            audience = body["claims"]["aud"]
            root_issuer = bool(body.get("root_issuer"))
        except (ValueError, KeyError, TypeError):
            return json_reply(400, {"message": "claims.aud is required"})
        claims = identity.claims(root_issuer=root_issuer)
        return json_reply(200, {"token": self._mint(self._issuers.circleci, claims, audience)})


def _text(status: int, text: str) -> Reply:
    return Reply(status, text.encode(), "text/html")


def _google_error(status: int, message: str) -> Reply:
    names = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}
    return json_reply(
        status, {"error": {"code": status, "message": message, "status": names[status]}}
    )


def _write_agent(directory: Path, name: str, body: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / name
    script.write_text(
        f"#!{sys.executable}\n"
        f"# A stand-in for `{name}`, written by hatch_attest_testing.\n"
        + _AGENT_COMMON.replace("WAIT_SECONDS", str(_AGENT_WAIT_SECONDS))
        + body
    )
    script.chmod(0o755)


_AGENT_COMMON = """
import json
import os
import sys
import urllib.error
import urllib.request


def fail(message, status=1):
    print(message, file=sys.stderr)
    sys.exit(status)


def post(url, document, authorization):
    request = urllib.request.Request(
        url,
        data=json.dumps(document).encode(),
        headers={"Authorization": authorization, "Content-Type": "application/json"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=WAIT_SECONDS) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:
        fail(f"fatal: OIDC token request failed: POST {url}: {e.code} {e.reason}")
    except (OSError, ValueError) as e:
        fail(f"fatal: OIDC token request failed: POST {url}: {e}")
"""

_BUILDKITE_AGENT = """

args = sys.argv[1:]
if len(args) != 4 or args[:3] != ["oidc", "request-token", "--audience"]:
    fail(f"buildkite-agent: unexpected arguments {args}", 2)
token = os.environ.get("BUILDKITE_AGENT_ACCESS_TOKEN")
if not token:
    fail("fatal: missing agent access token (BUILDKITE_AGENT_ACCESS_TOKEN)")
endpoint = os.environ["BUILDKITE_AGENT_ENDPOINT"]
job = os.environ.get("BUILDKITE_JOB_ID", "")
answer = post(f"{endpoint}/jobs/{job}/oidc/tokens", {"audience": args[3]}, f"Token {token}")
print(answer["token"])
"""

_CIRCLECI_CLI = """

args = sys.argv[1:]
if len(args) not in (5, 6) or args[:4] != ["run", "oidc", "get", "--claims"] or (
    len(args) == 6 and args[5] != "--root-issuer"
):
    fail(f"circleci: unexpected arguments {args}", 2)
try:
    claims = json.loads(args[4])
except ValueError:
    fail("Error: --claims is not a JSON object")
url = os.environ.get("CIRCLE_OIDC_REQUEST_URL")
token = os.environ.get("CIRCLE_OIDC_REQUEST_TOKEN")
if not url or not token:
    fail("Error: failed to get OIDC token: this command must run inside a CircleCI job")
document = {"claims": claims, "root_issuer": len(args) == 6}
print(post(url, document, f"Bearer {token}")["token"])
"""
