"""Where the OIDC identity token comes from.

Two steps, deliberately apart:

* :func:`probe` looks at the environment only (no import of sigstore or ``id``,
  no network) and says whether this job *can* have an identity. The build hook
  calls it from ``dependencies()`` so a laptop build never installs the signing
  stack, and its answer carries the fix when the job is CI without permission.
* :func:`obtain_token` actually asks for the token. The hook calls it in
  ``finalize``, per artifact, because tokens live for minutes.

The token itself is wrapped in :class:`Token`, whose ``repr`` and ``str`` never
show it; it only leaves this module as a sigstore ``IdentityToken``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from hatch_attest.errors import IdentityError
from hatch_attest.redact import redact, remember, remember_environment

if TYPE_CHECKING:
    from sigstore.oidc import IdentityToken

AUDIENCE = "sigstore"
EXPLICIT_TOKEN_VARIABLE = "SIGSTORE_IDENTITY_TOKEN"  # noqa: S105 - a variable name
_GCP_PRODUCT_NAME_FILE = "/sys/class/dmi/id/product_name"
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

    ``provider`` is set when a token can be requested. Otherwise ``reason`` says
    why not and ``fix`` (if any) what would make it possible.
    """

    provider: str | None
    reason: str = ""
    fix: str = ""

    @property
    def available(self) -> bool:
        return self.provider is not None

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
        with open(_GCP_PRODUCT_NAME_FILE, encoding="utf-8") as f:
            return f.read().strip() in {"Google", "Google Compute Engine"}
    except OSError:
        return False


@dataclass(frozen=True)
class Token:
    """An identity token that never prints itself."""

    raw: str = field(repr=False)
    provider: str

    def __str__(self) -> str:
        return f"<identity token from {self.provider}>"

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
                f"the identity token from {self.provider} is for audience {audience!r}; "
                f"Sigstore needs a token for {AUDIENCE!r}"
            )
            raise IdentityError(msg)
        if isinstance(claims.get("exp"), (int, float)) and claims["exp"] < now - _LEEWAY:
            msg = (
                f"the identity token from {self.provider} has expired. Tokens live for "
                "minutes: obtain it in the step that builds, and check the runner's clock."
            )
            raise IdentityError(msg)
        if isinstance(claims.get("nbf"), (int, float)) and claims["nbf"] > now + _LEEWAY:
            msg = (
                f"the identity token from {self.provider} is not valid yet; check the "
                "runner's clock"
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
            msg = f"the identity token from {self.provider} is not usable: {reason}"
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

    Never falls back to an interactive browser login. The GitHub Actions request
    goes through :mod:`hatch_attest._http` so it is bounded and retried like every
    other call; the other providers are reached through ``id``.
    """
    env = os.environ if env is None else env
    # Whatever a server or library says later is shown only without these.
    remember_environment(env)
    found = probe(env)
    if found.provider is None:
        raise IdentityError(found.explain())
    if env.get(EXPLICIT_TOKEN_VARIABLE):
        raw = env[EXPLICIT_TOKEN_VARIABLE].strip()
    elif found.provider == "GitHub Actions":
        raw = _github_token(env)
    elif found.provider == "GitLab CI":
        raw = env["SIGSTORE_ID_TOKEN"].strip()
    else:
        raw = _id_token(found.provider)
    remember(raw)
    return Token(raw, found.provider)


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


def _id_token(provider: str) -> str:
    import id as id_

    try:
        token = id_.detect_credential(AUDIENCE)
    except id_.IdentityError as e:
        msg = f"{provider} did not issue an OIDC token: {redact(str(e))}"
        raise IdentityError(msg) from None
    if token is None:
        msg = f"{provider} was detected, but `id` found no credential"
        raise IdentityError(msg)
    return token
