"""Upload distributions with their attestations, after checking them as PyPI will.

What ``hatch publish -p attest`` (:mod:`hatch_attest._hatch_publisher`) runs. Kept
free of hatch so that it can be read and tested on its own.

The uploader is twine's library (``twine.commands.upload.upload`` with
``twine.settings.Settings``): it already sends ``<dist>.*.attestation`` files with
their distribution and does PyPI's Trusted Publishing exchange (audience, then
``mint-token``) in twine >= 6.1, and it is the uploader PyPI's own documentation
names. What this module adds is the check twine does not make: before the first
byte is uploaded, every attestation must verify against the Trusted Publisher
that will upload (the one this job's identity token names), with PyPI's rules
(:func:`hatch_attest._verify.check_distribution`); otherwise nothing is uploaded.

An API token cannot carry attestations (PyPI: "Attestations are only supported
when using Trusted Publishing"). With attestations in the upload and no identity,
the upload is refused before it starts, rather than publishing a release without
the attestations the user built it to have; ``attestations = false`` uploads the
distributions alone, on purpose.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from hatch_attest import _files as files
from hatch_attest._kinds import accepted_publishers, upload_identities
from hatch_attest._redact import redact, remember
from hatch_attest.errors import AttestError, PublishError

if TYPE_CHECKING:
    from hatch_attest._kinds import Publisher

PYPI_UPLOAD_URL = "https://upload.pypi.org/legacy/"
TEST_PYPI_UPLOAD_URL = "https://test.pypi.org/legacy/"
DEFAULT_REPOSITORIES = {"main": PYPI_UPLOAD_URL, "test": TEST_PYPI_UPLOAD_URL}
"""hatch's two built-in repository names (``hatch publish -r test``)."""
TRUSTED_PUBLISHING_HOSTS = ("upload.pypi.org", "test.pypi.org")
"""Where twine attempts Trusted Publishing (``twine.auth.Resolver.is_pypi``)."""
AUDIENCE_TIMEOUT = 10.0
UPLOAD_STACK = ("twine", "sigstore", "pypi_attestations", "id")
"""What uploading needs beyond the idle install: the ``cli`` extra."""


@dataclass(frozen=True)
class UploadRequest:
    """What to upload where, and how to log in; every field as the user gave it."""

    artifacts: Sequence[Path]
    """Files or folders (``dist`` when empty), as ``hatch publish`` takes them."""
    url: str = PYPI_UPLOAD_URL
    user: str | None = None
    auth: str | None = field(default=None, repr=False)
    ca_cert: str | None = None
    client_cert: str | None = None
    no_prompt: bool = False
    attestations: bool = True
    """False: upload the distributions without their attestations, on purpose."""
    root: Path = field(default_factory=Path.cwd)
    """The project, whose ``trust-config``/``instance`` verify the attestations."""


@dataclass(frozen=True)
class Upload:
    """The files to hand to twine and the login that will send them."""

    dists: tuple[Path, ...]
    attestations: tuple[Path, ...]
    publisher: Publisher | None
    """The Trusted Publisher that will upload, when checked; None otherwise."""
    login: str
    """How twine will log in, for the one line said before uploading."""
    left_out: int = 0
    """Attestation files not uploaded (``attestations = false``)."""

    def paths(self) -> list[str]:
        return [str(p) for p in (*self.dists, *self.attestations)]


def collect(artifacts: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """The wheels and sdists among ``artifacts`` (folders are listed), and their attestations.

    Attestations are found with twine's rule (:func:`hatch_attest._files.find_attestations`),
    so that what is checked is what twine will send.
    """
    dists: list[Path] = []
    for artifact in artifacts:
        candidates = sorted(artifact.iterdir()) if artifact.is_dir() else [artifact]
        dists += [p for p in candidates if p.is_file() and files.is_distribution(p)]
    attestations = [a for dist in dists for a in files.find_attestations(dist)]
    return dists, attestations


def plan(request: UploadRequest, env: Mapping[str, str] | None = None) -> Upload:
    """Decide the login, and check every attestation, before anything is uploaded.

    Raises:
        PublishError: nothing to upload, attestations with a login PyPI rejects them
            with, or an attestation PyPI would reject from the job's publisher.
    """
    env = os.environ if env is None else env
    missing = [name for name in UPLOAD_STACK if importlib.util.find_spec(name) is None]
    if missing:
        msg = (
            f"{', '.join(missing)} not installed next to hatch; `-p attest` uploads with twine "
            "and verifies with sigstore: install the extra into hatch's environment, e.g. "
            "`uv tool install hatch --with 'hatch-attest[cli]'`"
        )
        raise PublishError(msg)
    dists, attestations = collect(request.artifacts)
    if not dists:
        where = ", ".join(str(a) for a in request.artifacts)
        msg = f"no wheels or sdists to upload in {where}; build them first (`hatch build`)"
        raise PublishError(msg)
    if not request.attestations:
        return Upload(tuple(dists), (), None, _login(request), left_out=len(attestations))

    publisher = None
    if request.auth is None and _trusted_publishing_host(request.url):
        publisher = job_publisher(request, env)
    login = (
        f"with Trusted Publishing as {publisher.describe()}"
        if publisher is not None
        else _login(request)
    )
    if not attestations:
        return Upload(tuple(dists), (), publisher, login)
    if publisher is None:
        how = (
            "a password or API token was given"
            if request.auth is not None
            else "this job has no identity token for Trusted Publishing"
            if _trusted_publishing_host(request.url)
            else f"{request.url} is not PyPI or TestPyPI, the indexes that take Trusted Publishing"
        )
        msg = (
            f"not uploading: {len(attestations)} attestation file(s) are next to the "
            f"distributions, and PyPI accepts attestations only from a Trusted Publisher, but "
            f"{how}. Publish from the CI job registered as the project's Trusted Publisher "
            f"({upload_identities()}), or upload the distributions alone with "
            "`-o attestations=false` "
            "(`attestations = false` in [tool.hatch.publish.attest])"
        )
        raise PublishError(msg)
    check(dists, publisher, env, request.root)
    return Upload(tuple(dists), tuple(attestations), publisher, login)


def _login(request: UploadRequest) -> str:
    if request.auth is not None:
        return "with the given password or API token"
    if _trusted_publishing_host(request.url):
        return "with twine's login (Trusted Publishing in a job with an identity, else keyring)"
    return "with twine's login (keyring, or a prompt)"


def job_publisher(request: UploadRequest, env: Mapping[str, str]) -> Publisher | None:
    """The Trusted Publisher this job would upload as, read from its identity token.

    Asks the index for its audience and the CI system for a token, as twine does
    before its ``mint-token`` exchange; None when the job has no identity.
    """
    import requests
    from id import AmbientCredentialError, detect_credential

    from hatch_attest._identity import unverified_claims
    from hatch_attest._kinds import publisher_from_claims

    host = urlparse(request.url).netloc
    session = requests.Session()
    if request.ca_cert:
        session.verify = request.ca_cert
    try:
        answer = session.get(f"https://{host}/_/oidc/audience", timeout=AUDIENCE_TIMEOUT)
        answer.raise_for_status()
        audience = answer.json()["audience"]
    except (requests.RequestException, ValueError, KeyError, TypeError) as e:
        msg = f"cannot ask {host} for its Trusted Publishing audience: {redact(str(e))}"
        raise PublishError(msg) from None
    try:
        token = detect_credential(audience)
    except AmbientCredentialError as e:
        msg = f"this job's identity token for Trusted Publishing: {redact(str(e))}"
        raise PublishError(msg) from None
    if token is None:
        return None
    remember(token)
    try:
        publisher = publisher_from_claims(unverified_claims(token))
    except AttestError as e:
        raise PublishError(str(e)) from None
    if publisher is None:
        msg = (
            "this job's identity token names no Trusted Publisher kind PyPI checks "
            f"attestations for ({accepted_publishers()})"
        )
        raise PublishError(msg)
    return publisher


def check(dists: Sequence[Path], publisher: Publisher, env: Mapping[str, str], root: Path) -> None:
    """Raise :class:`PublishError` unless PyPI would accept every attestation from ``publisher``.

    The checks are ``hatch-attest verify``'s (:func:`hatch_attest._verify.check_distribution`):
    signature and certificate against the publisher, subject name and digest, predicate
    types supported and not repeated, at most two per file, and every file attested.
    The Sigstore trust root is the project's at ``root`` (``trust-config``/``instance``,
    ``HATCH_ATTEST_TRUST_CONFIG``).
    """
    from hatch_attest._config import read_pyproject
    from hatch_attest._trust import load_trust_config, verifier_for
    from hatch_attest._verify import check_distribution

    config = read_pyproject(root).config(env)
    verifier = verifier_for(load_trust_config(config.instance, config.trust_config))
    policy = publisher.to_pypi()
    reports = [check_distribution(dist, policy, verifier) for dist in dists]
    rejected = [report for report in reports if not report.ok]
    if rejected:
        details = "\n".join(report.render() for report in rejected)
        msg = (
            f"not uploading: PyPI would reject {len(rejected)} of {len(dists)} distribution(s) "
            f"uploaded by {publisher.describe()}; nothing was uploaded.\n{details}"
        )
        raise PublishError(msg)


def upload(request: UploadRequest, planned: Upload) -> None:
    """Upload with twine's library; twine prints its progress and the release URLs."""
    from twine import exceptions
    from twine.commands.upload import upload as twine_upload
    from twine.settings import Settings

    if request.auth is not None:
        remember(request.auth)
    settings = Settings(
        repository_url=request.url,
        username=request.user,
        password=request.auth,
        non_interactive=request.no_prompt,
        attestations=bool(planned.attestations),
        cacert=request.ca_cert,
        client_cert=request.client_cert,
        disable_progress_bar=True,
    )
    try:
        twine_upload(settings, planned.paths())
    except (exceptions.TwineException, OSError, ValueError) as e:
        raise PublishError(f"upload to {request.url} failed: {redact(str(e))}") from None
    except Exception as e:  # requests' HTTPError and the like: say what, never a traceback
        msg = f"upload to {request.url} failed: {type(e).__name__}: {redact(str(e))}"
        raise PublishError(msg) from None


def _trusted_publishing_host(url: str) -> bool:
    return urlparse(url).netloc in TRUSTED_PUBLISHING_HOSTS


def describe(planned: Upload) -> str:
    """One line: what will be uploaded, and as whom."""
    what = f"{len(planned.dists)} distribution(s)"
    if planned.attestations:
        what += f" and {len(planned.attestations)} checked attestation(s)"
    if planned.left_out:
        what += f", leaving out {planned.left_out} attestation(s) (attestations = false),"
    return f"Uploading {what} {planned.login}"


def as_bool(value: Any, where: str) -> bool:
    """A boolean from TOML or from ``-o key=value`` text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "1", "yes", "false", "0", "no"}:
        return value.lower() in {"true", "1", "yes"}
    msg = f"{where} must be true or false, not {value!r}"
    raise PublishError(msg)
