"""Google Cloud: the ``google`` publisher kind (a service account) and the VM's identity.

A Compute Engine VM (the DMI product name says Google) or a job that names an
account to impersonate (``GOOGLE_SERVICE_ACCOUNT_NAME``) gets its token from the
metadata server, through ``id``. A VM's *default* service account is the machine's
identity, not a CI job's: it signs only for a ``publisher`` of kind ``google``, and
any CI job on that VM signs with its own identity first.

Only the standard library is imported at module level (the idle build path).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hatch_attest._identity import AUDIENCE, Probe
from hatch_attest._kinds.base import USE_PUBLISH, Ambient, Field, Publisher, _quote
from hatch_attest._redact import remember
from hatch_attest.errors import IdentityError, NoIdentityError, PredicateError

if TYPE_CHECKING:
    import requests

__all__ = [
    "GCP_PRODUCT_NAME_FILE",
    "GoogleCloud",
    "GooglePublisher",
    "check_google_email",
]

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
_ACCOUNT_VARIABLE = "GOOGLE_SERVICE_ACCOUNT_NAME"

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def check_google_email(value: str) -> str | None:
    """Return what is wrong with a service account email address, or None if it is valid."""
    if not _EMAIL.fullmatch(value):
        return (
            "must be the service account's email address, e.g. "
            f'"release@my-project.iam.gserviceaccount.com", not {_quote(value)}'
        )
    return None


@dataclass(frozen=True)
class GooglePublisher(Publisher):
    """A Google Cloud service account Trusted Publisher.

    Its environment says nothing certain about the account, so nothing is read
    from it: the token's ``email`` claim is what counts.
    """

    email: str
    """The service account's email address."""

    kind: ClassVar[str] = "google"
    pypi_kind: ClassVar[str] = "Google"
    pypi_name: ClassVar[str] = "Google"
    issuer: ClassVar[str] = "https://accounts.google.com"
    fields: ClassVar[tuple[Field, ...]] = (
        Field("email", "email", "email", check_google_email, "the service account's email address"),
    )
    spec_form: ClassVar[str] = "google:EMAIL"
    spec_example: ClassVar[str] = "google:release@my-project.iam.gserviceaccount.com"

    def describe(self) -> str:
        return f"Google service account {self.email}"

    def expected_certificate_claims(self, found: Mapping[str, str]) -> list[tuple[str, list[str]]]:
        return [("issuer", [self.issuer]), ("identity", [self.email])]

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> GooglePublisher | None:
        email = claims.get("email")
        if claims.get("iss") != cls.issuer or not isinstance(email, str):
            return None
        return cls(email=email)

    def _token_differs(self, named: GooglePublisher) -> str:
        return f"the token is for {named.email}, expected {self.email}"

    @classmethod
    def provenance(cls, claims: Mapping[str, Any]) -> dict[str, Any]:
        msg = (
            "SLSA provenance cannot be made for a Google Cloud identity: its token names "
            "a service account, not the repository, commit or build configuration that "
            f"provenance describes; {USE_PUBLISH}"
        )
        raise PredicateError(msg)


def _on_google_compute() -> bool:
    try:
        with open(GCP_PRODUCT_NAME_FILE, encoding="utf-8") as f:
            return f.read().strip() in {"Google", "Google Compute Engine"}
    except OSError:
        return False


class GoogleCloud(Ambient):
    """A Compute Engine VM, or a job that names a service account to impersonate."""

    source: ClassVar[str] = "Google Cloud"
    ci: ClassVar[bool] = False
    publisher: ClassVar[type[Publisher] | None] = GooglePublisher

    @classmethod
    def runs_here(cls, env: Mapping[str, str]) -> bool:
        return bool(env.get(_ACCOUNT_VARIABLE)) or _on_google_compute()

    @classmethod
    def probe(cls, env: Mapping[str, str]) -> Probe:
        return Probe(cls.source)

    @classmethod
    def unrequested(cls, expected: Publisher | None, env: Mapping[str, str]) -> str | None:
        # GOOGLE_SERVICE_ACCOUNT_NAME names the account on purpose; a VM's default
        # account is whatever the machine happens to run as (a runner's, a dev box's).
        if env.get(_ACCOUNT_VARIABLE) or isinstance(expected, GooglePublisher):
            return None
        return (
            "this is a Google Compute Engine VM, and its default service account is not a "
            "Trusted Publisher unless `publisher` names it; to attest as that account, set "
            '`publisher = { kind = "google", email = "ACCOUNT@PROJECT.iam.gserviceaccount.com" }`'
        )

    @classmethod
    def fetch_token(cls, env: Mapping[str, str]) -> str:
        return _google_token(env)


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
