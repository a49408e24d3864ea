"""Where the OIDC identity token comes from.

Two steps, deliberately apart:

* :func:`probe` looks at the environment only (no import of sigstore or ``id``,
  no network) and says whether this job *can* have an identity. The build hook
  calls it from ``dependencies()`` so a laptop build never installs the signing
  stack, and its answer carries the fix when the job is CI without permission.
* :func:`obtain_token` actually asks for the token. The hook calls it in
  ``finalize``, per artifact, because tokens live for minutes. When the provider
  it was told of has no token for this job (a laptop with
  ``GOOGLE_SERVICE_ACCOUNT_NAME`` set, a VM without a service account, an agent
  that refuses), it raises :class:`~hatch_attest.errors.NoIdentityError`, which
  ``auto`` mode treats as a skip; an outage (5xx, no answer in time) stays an
  :class:`~hatch_attest.errors.IdentityError`.

The token itself is wrapped in :class:`Token`, whose ``repr`` and ``str`` never
show it; it only leaves this module as a sigstore ``IdentityToken``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from hatch_attest.errors import IdentityError, NoIdentityError
from hatch_attest.redact import redact, remember, remember_environment

if TYPE_CHECKING:
    import requests
    from sigstore.oidc import IdentityToken

AUDIENCE = "sigstore"
EXPLICIT_TOKEN_VARIABLE = "SIGSTORE_IDENTITY_TOKEN"  # noqa: S105 - a variable name
#: Where a Google Compute Engine VM names itself (``id`` reads the same file).
#: A module constant, so tests can point it elsewhere.
GCP_PRODUCT_NAME_FILE = "/sys/class/dmi/id/product_name"
#: A VM's metadata server, its default service account (the URL ``id`` uses), and
#: IAM's ID token endpoint for impersonation. Module constants, like the product
#: name file, so that hatch-attest-testing's Google Cloud can stand in for them.
GCP_METADATA_URL = "http://metadata/computeMetadata/v1/instance/service-accounts/default/"
GCP_GENERATE_ID_TOKEN_URL = (
    "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{}:generateIdToken"  # noqa: S105 - a URL
)
# What ``id`` gives each request; the budget may cut it shorter.
_GOOGLE_ATTEMPT_SECONDS = 30.0
# sigstore's own leeway for clock skew between the runner and the issuer.
_LEEWAY = 5

GITHUB_PERMISSION_FIX = (
    "add `permissions: id-token: write` to the job (or workflow) that builds, "
    "in the same workflow file that publishes"
)
GITLAB_TOKEN_FIX = "add `id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore` to the job in .gitlab-ci.yml"  # noqa: S105


@dataclass(frozen=True)
class Probe:
    """What the environment says about an identity, without asking for one.

    ``source`` is set when a token can be requested: the CI provider that issues
    it (``"GitHub Actions"``, ``"GitLab CI"``, ``"Google Cloud"``, ``"Buildkite"``,
    ``"CircleCI"``), or :data:`EXPLICIT_TOKEN_VARIABLE` when the token is given
    explicitly. Otherwise ``reason`` says why not and ``fix`` (if any) what would
    make it possible.
    """

    source: str | None
    reason: str = ""
    fix: str = ""

    @property
    def available(self) -> bool:
        return self.source is not None

    def explain(self) -> str:
        """One line: why there is no identity, and what to do about it."""
        return f"{self.reason}; to attest, {self.fix}" if self.fix else self.reason


def probe(env: Mapping[str, str] | None = None) -> Probe:
    """Decide from the environment alone whether an identity token can be had.

    Mirrors the order in which ``id.detect_credential`` tries providers, so the
    provider named here is the one that will answer.
    """
    env = os.environ if env is None else env
    if env.get(EXPLICIT_TOKEN_VARIABLE):
        return Probe(EXPLICIT_TOKEN_VARIABLE)
    if env.get("GITHUB_ACTIONS") == "true":
        if env.get("ACTIONS_ID_TOKEN_REQUEST_URL") and env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
            return Probe("GitHub Actions")
        return Probe(
            None,
            "this GitHub Actions job has no OIDC permission "
            "(ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not set)",
            GITHUB_PERMISSION_FIX,
        )
    if env.get("GOOGLE_SERVICE_ACCOUNT_NAME") or _on_google_compute():
        return Probe("Google Cloud")
    if env.get("BUILDKITE"):
        if shutil.which("buildkite-agent", path=env.get("PATH")):
            return Probe("Buildkite")
        return Probe(
            None,
            "this Buildkite job has no `buildkite-agent` on PATH",
            "run the build where the Buildkite agent is available",
        )
    if env.get("GITLAB_CI"):
        if env.get("SIGSTORE_ID_TOKEN"):
            return Probe("GitLab CI")
        return Probe(None, "this GitLab CI job has no SIGSTORE_ID_TOKEN", GITLAB_TOKEN_FIX)
    if env.get("CIRCLECI"):
        if shutil.which("circleci", path=env.get("PATH")):
            return Probe("CircleCI")
        return Probe(
            None,
            "this CircleCI job has no `circleci` tool on PATH",
            "use a CircleCI image that ships the `circleci` CLI",
        )
    return Probe(
        None,
        "no CI identity found (not GitHub Actions, GitLab CI, Google Cloud, Buildkite or "
        f"CircleCI, and {EXPLICIT_TOKEN_VARIABLE} is not set)",
    )


def _on_google_compute() -> bool:
    try:
        with open(GCP_PRODUCT_NAME_FILE, encoding="utf-8") as f:
            return f.read().strip() in {"Google", "Google Compute Engine"}
    except OSError:
        return False


@dataclass(frozen=True)
class Token:
    """An identity token that never prints itself."""

    raw: str = field(repr=False)
    source: str
    """Where it came from: a :attr:`Probe.source`."""

    def __str__(self) -> str:
        return f"<identity token from {self.source}>"

    @cached_property
    def claims(self) -> dict[str, Any]:
        """The token's claims, *unverified* (Fulcio verifies; we only read)."""
        return unverified_claims(self.raw)

    def check(self) -> None:
        """Check audience and validity period from the claims alone (no import, no network).

        sigstore reports every problem as "malformed or missing claims"; the common
        ones are told apart here, so the message can say what to do, and before the
        trust root is loaded.
        """
        claims = self.claims
        now = time.time()
        audience = claims.get("aud")
        if audience != AUDIENCE and not (isinstance(audience, list) and AUDIENCE in audience):
            msg = (
                f"the identity token from {self.source} is for audience {audience!r}; "
                f"Sigstore needs a token for {AUDIENCE!r}"
            )
            raise IdentityError(msg)
        if isinstance(claims.get("exp"), (int, float)) and claims["exp"] < now - _LEEWAY:
            msg = (
                f"the identity token from {self.source} has expired. Tokens live for "
                "minutes: obtain it in the step that builds, and check the runner's clock."
            )
            raise IdentityError(msg)
        if isinstance(claims.get("nbf"), (int, float)) and claims["nbf"] > now + _LEEWAY:
            msg = (
                f"the identity token from {self.source} is not valid yet; check the runner's clock"
            )
            raise IdentityError(msg)

    def to_sigstore(self) -> IdentityToken:
        """The sigstore ``IdentityToken``, after :meth:`check`."""
        from sigstore.oidc import IdentityError as SigstoreIdentityError
        from sigstore.oidc import IdentityToken

        self.check()
        try:
            return IdentityToken(self.raw)
        except SigstoreIdentityError as e:
            reason = redact(str(e), [self.raw])
            msg = f"the identity token from {self.source} is not usable: {reason}"
            raise IdentityError(msg) from None


def unverified_claims(raw: str) -> dict[str, Any]:
    """Decode a JWT's payload without verifying it. Errors never include the token."""
    try:
        payload = raw.split(".")[1]
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        msg = "the identity token is not a JWT"
        raise IdentityError(msg) from None
    if not isinstance(decoded, dict):
        msg = "the identity token's payload is not a JSON object"
        raise IdentityError(msg)
    return decoded


def obtain_token(env: Mapping[str, str] | None = None) -> Token:
    """Ask the ambient provider for a token with the ``sigstore`` audience.

    Never falls back to an interactive browser login. Every provider is asked
    within the calling thread's :func:`hatch_attest._http.deadline`: the GitHub
    Actions request goes through :mod:`hatch_attest._http` (bounded and retried
    like every other call); ``buildkite-agent`` and ``circleci`` are run here,
    with the argv ``id`` uses, and stopped when the time is up; Google's metadata
    server (and IAM) are asked here, as ``id`` would, each request bounded by what is
    left of the time.

    Raises :class:`~hatch_attest.errors.NoIdentityError` when there is no token
    to be had here, :class:`~hatch_attest.errors.IdentityError` for a provider
    that fails or does not answer in time.
    """
    env = os.environ if env is None else env
    # Whatever a server or library says later is shown only without these.
    remember_environment(env)
    found = probe(env)
    if found.source is None:
        raise NoIdentityError(found.explain())
    raw = _raw_token(found.source, env)
    remember(raw)
    return Token(raw, found.source)


def _raw_token(source: str, env: Mapping[str, str]) -> str:
    if env.get(EXPLICIT_TOKEN_VARIABLE):
        return env[EXPLICIT_TOKEN_VARIABLE].strip()
    if source == "GitHub Actions":
        return _github_token(env)
    if source == "GitLab CI":
        return env["SIGSTORE_ID_TOKEN"].strip()
    if source == "Buildkite":
        argv = ["buildkite-agent", "oidc", "request-token", "--audience", AUDIENCE]
        return _agent_token(source, argv, env)
    if source == "CircleCI":
        claims = json.dumps({"aud": AUDIENCE})
        argv = ["circleci", "run", "oidc", "get", "--claims", claims, "--root-issuer"]
        return _agent_token(source, argv, env)
    return _google_token(env)


def _github_token(env: Mapping[str, str]) -> str:
    import requests

    from hatch_attest import _http

    # An env file with CRLF line ends leaves a "\r" (or "\n") on the value; requests
    # then refuses the header and quotes it whole in its error.
    request_token = env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"].strip()
    session = _http.mount(requests.Session(), _http.BoundedAdapter())
    try:
        response = session.get(
            env["ACTIONS_ID_TOKEN_REQUEST_URL"],
            params={"audience": AUDIENCE},
            headers={"Authorization": f"bearer {request_token}"},
        )
    except requests.exceptions.InvalidHeader:
        # requests quotes the whole header in this error: never show it.
        msg = (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN holds a line break or another character that "
            "cannot be sent in an HTTP header; check how the job sets it (an env file "
            "with CRLF line ends?)"
        )
        raise IdentityError(msg) from None
    except requests.RequestException as e:
        detail = redact(str(e), [request_token])
        msg = f"GitHub Actions did not issue an OIDC token: {detail}"
        raise IdentityError(msg) from None
    finally:
        session.close()
    if response.status_code >= 500 or response.status_code == 429:
        msg = (
            f"GitHub Actions' OIDC token service is unavailable (HTTP {response.status_code}); "
            "retry the job"
        )
        raise IdentityError(msg)
    if response.status_code != 200:
        msg = (
            f"GitHub Actions refused the OIDC token request (HTTP {response.status_code}); "
            "check that the job has `permissions: id-token: write`"
        )
        raise IdentityError(msg)
    try:
        value = response.json()["value"]
    except (ValueError, KeyError, TypeError):
        value = None
    if not isinstance(value, str) or not value:
        msg = "GitHub Actions answered the OIDC token request with a malformed body"
        raise IdentityError(msg)
    return value


_CREDENTIAL_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|KEY", re.IGNORECASE)
_MAX_DETAIL = 200


def _tool_output(text: str, env: Mapping[str, str]) -> str:
    """The last line a tool printed, safe to show: no credential of the job, no JWT."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    # Besides what every message drops (tokens, JWT-shaped text), an agent may print
    # any secret of the job's environment.
    secrets = [v for n, v in env.items() if len(v) >= 8 and _CREDENTIAL_NAME.search(n)]
    line = redact(lines[-1], secrets)
    return line if len(line) <= _MAX_DETAIL else line[: _MAX_DETAIL - 3] + "..."


def _agent_token(provider: str, argv: list[str], env: Mapping[str, str]) -> str:
    """Run a CI agent's token command (``id``'s exact argv), within the time budget.

    ``id`` runs these without a timeout, so a hung agent would hold the build for as
    long as it hangs; here the agent is killed when the budget is spent. The
    executable is looked up on the job's PATH, as ``id`` does.
    """
    from hatch_attest import _http

    tool = argv[0]
    executable = shutil.which(tool, path=env.get("PATH"))
    if executable is None:
        msg = f"{provider} was detected, but `{tool}` is not on PATH"
        raise NoIdentityError(msg)
    budget = _http.remaining()
    try:
        done = subprocess.run(
            argv,
            executable=executable,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=budget,
            check=False,
        )
    except subprocess.TimeoutExpired:
        msg = (
            f"`{tool}` did not issue an OIDC token within the time budget ({budget:.0f} s) "
            "and was stopped. Retry the job; if the agent is slow rather than hung, raise "
            "`timeout` (HATCH_ATTEST_TIMEOUT)."
        )
        raise IdentityError(msg) from None
    except OSError as e:
        msg = f"{provider} was detected, but `{tool}` could not be run: {e.strerror or e}"
        raise NoIdentityError(msg) from None
    if done.returncode != 0:
        detail = _tool_output(done.stderr, env) or _tool_output(done.stdout, env)
        msg = (
            f"{provider} was detected, but `{tool}` could not issue an OIDC token "
            f"(exit status {done.returncode}{': ' + detail if detail else ''})"
        )
        raise NoIdentityError(msg)
    token = done.stdout.strip()
    if not token:
        msg = f"`{tool}` exited successfully but printed no OIDC token"
        raise IdentityError(msg)
    return token


def _google_token(env: Mapping[str, str]) -> str:
    """Ask Google Cloud's metadata server (and IAM, to impersonate), within the time budget.

    The requests ``id``'s GCP detector makes, made here: ``id`` reaches them only at
    private module constants, with 30 s per request and retries past any budget.
    Each request here gets what is left of the budget, and no retry: a VM's metadata
    server answers at once, or is not there.
    """
    import requests

    account = env.get("GOOGLE_SERVICE_ACCOUNT_NAME")
    where = (
        "GOOGLE_SERVICE_ACCOUNT_NAME is set"
        if account
        else "this looks like a Google Compute Engine VM"
    )
    metadata = {"Metadata-Flavor": "Google"}
    with requests.Session() as session:
        # The job's proxy settings are for the internet, not for the VM's own server.
        session.trust_env = False
        if not account:
            answer = _google_request(
                session,
                "GET",
                GCP_METADATA_URL + "identity",
                where,
                params={"audience": AUDIENCE, "format": "full"},
                headers=metadata,
            )
            return _google_value(answer.text.strip())
        answer = _google_request(
            session,
            "GET",
            GCP_METADATA_URL + "token",
            where,
            params={"scopes": "https://www.googleapis.com/auth/cloud-platform"},
            headers=metadata,
        )
        access_token = _json_field(answer, "access_token")
        if not access_token:
            msg = "Google Cloud's metadata server answered with no access token"
            raise IdentityError(msg)
        remember(access_token)
        session.trust_env = True  # IAM is on the internet
        answer = _google_request(
            session,
            "POST",
            GCP_GENERATE_ID_TOKEN_URL.format(account),
            where,
            json={"audience": AUDIENCE, "includeEmail": True},
            headers={"Authorization": f"Bearer {access_token}"},
            impersonating=account,
        )
        return _google_value(_json_field(answer, "token"))


def _google_request(
    session: requests.Session,
    method: str,
    url: str,
    where: str,
    *,
    impersonating: str | None = None,
    **options: Any,
) -> requests.Response:
    """One request to Google, bounded by the budget; a refusal or an outage as our error."""
    import requests

    from hatch_attest import _http

    budget = _http.remaining()
    late = (
        f"Google Cloud's metadata server did not answer within the time budget "
        f"({budget:.0f} s). Retry the job; if it is slow rather than hung, raise "
        "`timeout` (HATCH_ATTEST_TIMEOUT)."
    )
    if budget <= 0:
        raise IdentityError(late)
    try:
        answer = session.request(
            method, url, timeout=min(budget, _GOOGLE_ATTEMPT_SECONDS), **options
        )
    except requests.Timeout:
        raise IdentityError(late) from None
    except requests.ConnectionError:
        msg = (
            f"{where}, but no Google Cloud metadata server answered, so there is no "
            "Google Cloud identity here"
        )
        raise NoIdentityError(msg) from None
    code = answer.status_code
    if code == 200:
        return answer
    if code >= 500 or code == 429:
        msg = f"Google Cloud's metadata server is unavailable (HTTP {code}). Retry the job."
        raise IdentityError(msg)
    if impersonating is not None:
        msg = (
            f"Google Cloud refused an ID token for {impersonating} (HTTP {code}); to attest, "
            "grant this VM's service account roles/iam.serviceAccountOpenIdTokenCreator on it"
        )
        raise NoIdentityError(msg)
    if code == 404:
        msg = (
            f"{where}, but the VM has no service account (the metadata server answered "
            "HTTP 404); to attest, attach a service account to the VM"
        )
        raise NoIdentityError(msg)
    msg = f"{where}, but its metadata server refused an identity token (HTTP {code})"
    raise NoIdentityError(msg)


def _json_field(answer: requests.Response, name: str) -> str:
    try:
        value = answer.json()[name]
    except (ValueError, KeyError, TypeError):
        return ""
    return value if isinstance(value, str) else ""


def _google_value(token: str) -> str:
    if not token or token.count(".") != 2:
        msg = "Google Cloud's metadata server answered with something that is not an OIDC token"
        raise IdentityError(msg)
    return token
