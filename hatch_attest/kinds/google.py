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
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from hatch_attest.errors import IdentityError, NoIdentityError, PredicateError
from hatch_attest.identity import AUDIENCE, Probe
from hatch_attest.kinds.base import USE_PUBLISH, Ambient, Field, Publisher, _quote

__all__ = [
    "GCP_PRODUCT_NAME_FILE",
    "GoogleCloud",
    "GooglePublisher",
    "check_google_email",
]

#: Where a Google Compute Engine VM names itself (``id`` reads the same file).
#: A module constant, so tests can point it elsewhere.
GCP_PRODUCT_NAME_FILE = "/sys/class/dmi/id/product_name"
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
        """Ask Google Cloud's metadata server (through ``id``), within the time budget.

        ``id`` gives each request 30 s and urllib3's retries; past the budget the
        request is left to finish in a daemon thread, unheard.
        """
        from hatch_attest import _http

        outcome: list[str | BaseException | None] = []

        def ask() -> None:
            # id's own GCP detector, not detect_credential: only the provider that
            # probe() named is asked, never an agent that `id` would run unbounded.
            from id._internal.oidc.ambient import detect_gcp

            try:
                outcome.append(detect_gcp(AUDIENCE))
            except Exception as e:  # id also lets JSON errors through; sorted below
                outcome.append(e)

        budget = _http.remaining()
        worker = threading.Thread(target=ask, name="hatch-attest-google-token", daemon=True)
        worker.start()
        worker.join(budget)
        if worker.is_alive() or not outcome:
            msg = (
                f"Google Cloud's metadata server did not answer within the time budget "
                f"({budget:.0f} s). Retry the job; if it is slow rather than hung, raise "
                "`timeout` (HATCH_ATTEST_TIMEOUT)."
            )
            raise IdentityError(msg)
        result = outcome[0]
        if isinstance(result, BaseException):
            raise _google_failure(result, env) from None
        if not result:
            msg = "Google Cloud was detected, but `id` found no credential"
            raise NoIdentityError(msg)
        return result


def _google_failure(error: BaseException, env: Mapping[str, str]) -> IdentityError:
    """Sort ``id``'s GCP errors: no identity here (a skip in ``auto``), or a failure.

    ``id`` says "timed out" for any connection failure and quotes the server's body;
    neither reaches the user. The connection error it wraps, and the status code in
    its message, tell the cases apart.
    """
    import urllib3.exceptions

    account = env.get(_ACCOUNT_VARIABLE)
    where = (
        "GOOGLE_SERVICE_ACCOUNT_NAME is set"
        if account
        else "this looks like a Google Compute Engine VM"
    )
    cause = error.__context__
    if isinstance(cause, urllib3.exceptions.MaxRetryError):
        if isinstance(cause.reason, urllib3.exceptions.NewConnectionError):
            return NoIdentityError(
                f"{where}, but no Google Cloud metadata server answered, so there is no "
                "Google Cloud identity here"
            )
        return IdentityError(
            "Google Cloud's metadata server did not answer in time. Retry the job."
        )
    status = re.search(r"\(code=(\d+)", str(error))
    if status is None:
        return IdentityError(
            "Google Cloud's metadata server answered with something that is not an OIDC token"
        )
    code = int(status.group(1))
    if code >= 500 or code == 429:
        return IdentityError(
            f"Google Cloud's metadata server is unavailable (HTTP {code}). Retry the job."
        )
    if account and str(error).startswith("GCP: OIDC token request"):
        return NoIdentityError(
            f"Google Cloud refused an ID token for {account} (HTTP {code}); to attest, grant "
            "this VM's service account roles/iam.serviceAccountOpenIdTokenCreator on it"
        )
    if code == 404:
        return NoIdentityError(
            f"{where}, but the VM has no service account (the metadata server answered "
            "HTTP 404); to attest, attach a service account to the VM"
        )
    return NoIdentityError(
        f"{where}, but its metadata server refused an identity token (HTTP {code})"
    )
