"""No credential, nor a piece of one, in what a user sees: servers that echo, bad env files.

End to end: ``hatch-attest sign`` in an emulated GitHub Actions job, against the
local instance with a Fulcio that echoes the request (its ``Authorization``
header holds the identity token) in its error body. Then the text-level rules of
``hatch_attest._redact`` on their own, with the exact text a message would show.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest

from hatch_attest._redact import REDACTED, redact, remember
from hatch_attest_testing import Cli, CliResult, Fault, GitHubIdentity, LocalSigstore, fake_wheel
from hatch_attest_testing.pytest_plugin import CIJob


@pytest.fixture
def redact_wheel(tmp_path: Path) -> Path:
    """A fake wheel alone in `tmp_path / "dist"`, the folder each test signs."""
    return fake_wheel(tmp_path / "dist", "redact_pkg")


@pytest.fixture
def request_token(
    sigstore_ci_job: CIJob, local_sigstore: LocalSigstore, sigstore_github_identity: GitHubIdentity
) -> str:
    """The job's ACTIONS_ID_TOKEN_REQUEST_TOKEN, in a GitHub job as `sigstore_github_identity`."""
    env = local_sigstore.github_env(sigstore_github_identity)
    sigstore_ci_job(env)
    return env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]


@pytest.fixture
def sign_with_request_token(
    redact_wheel: Path, sigstore_no_ci: pytest.MonkeyPatch, request_token: str, local_sign: Cli
) -> Callable[[str], CliResult]:
    """Sign the dist folder with ACTIONS_ID_TOKEN_REQUEST_TOKEN set to the value given."""

    def sign(value: str) -> CliResult:
        sigstore_no_ci.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", value)
        return local_sign(str(redact_wheel.parent))

    return sign


def _shows_any_piece(sigstore: LocalSigstore, text: str) -> bool:
    """Stricter than the session's leak scan: any 16 characters of any token, header too."""
    return any(
        secret[i : i + 16] in text
        for secret in sigstore.secrets()
        for i in range(len(secret) - 15)
        if "." not in secret[i : i + 16]
    )


@pytest.mark.parametrize("as_json", [True, False], ids=["json-error", "text-error"])
def test_fulcio_echoing_the_request_shows_no_token(
    as_json: bool,
    redact_wheel: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
    local_sign: Cli,
) -> None:
    dist = redact_wheel.parent
    local_sigstore.inject("fulcio", Fault.echo(400, json=as_json))

    status, out, err = local_sign(str(dist))

    assert status == 1
    [line] = err.splitlines()[-1:]
    # The server's reason is still shown, on one line, with the credential taken out.
    assert line.startswith(
        "hatch-attest: error: Fulcio refused the request (HTTP 400: invalid request POST "
        "/api/v2/signingCert: header=map[Accept:[application/pem-certificate-chain] "
        f"Accept-Encoding:[gzip, deflate, zstd] Authorization:[Bearer {REDACTED}] "
    )
    assert line.endswith("). Check the identity token and the trust config.")
    assert not _shows_any_piece(local_sigstore, out + err)
    assert sorted(p.name for p in dist.iterdir()) == ["redact_pkg-1.0-py3-none-any.whl"]


def test_verbose_traceback_and_logs_show_no_token(
    redact_wheel: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
    local_sign: Cli,
) -> None:
    # -v prints the traceback and the debug logs; the chained errors may quote Fulcio.
    local_sigstore.inject("fulcio", Fault.echo(400))

    status, out, err = local_sign("-v", redact_wheel.parent)

    assert status == 1
    assert "Traceback (most recent call last):" in err
    assert "hatch_attest.errors.SigningError: Fulcio refused the request (HTTP 400: " in err
    assert f"Authorization:[Bearer {REDACTED}]" in err
    assert not _shows_any_piece(local_sigstore, out + err)


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r", " "])
def test_request_token_from_a_crlf_env_file_still_signs(
    line_end: str,
    redact_wheel: Path,
    request_token: str,
    local_sigstore: LocalSigstore,
    sign_with_request_token: Callable[[str], CliResult],
) -> None:
    status, out, err = sign_with_request_token(request_token + line_end)

    assert status == 0, err
    assert redact_wheel.with_name(f"{redact_wheel.name}.publish.attestation").is_file()
    assert local_sigstore.counts()["oidc"] == 1
    assert not local_sigstore.credential_scan().found_in(out + err)


def test_request_token_that_requests_refuses_is_not_quoted(
    request_token: str,
    local_sigstore: LocalSigstore,
    sign_with_request_token: Callable[[str], CliResult],
) -> None:
    # A line break inside the value: requests refuses the header and quotes it whole.
    status, out, err = sign_with_request_token(f"{request_token}\r\n{request_token}")

    assert status == 1
    assert err == (
        "hatch-attest: error: ACTIONS_ID_TOKEN_REQUEST_TOKEN holds a line break or another "
        "character that cannot be sent in an HTTP header; check how the job sets it (an env "
        "file with CRLF line ends?)\n"
    )
    assert request_token[:16] not in out + err
    assert not local_sigstore.credential_scan().found_in(out + err)
    assert local_sigstore.counts()["oidc"] == 0


# --- The rules, on text ------------------------------------------------------------


def _b64(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


HEADER = _b64({"alg": "ES256", "typ": "JWT", "kid": "someone-else"})
CLAIMS = _b64({"sub": "repo:octo-org/secret-project:ref:refs/heads/main", "aud": "sigstore"})
SIGNATURE = "QmFkU2lnbmF0dXJlQmFkU2lnbmF0dXJlQmFkU2lnbmF0dXJl"
UNKNOWN_JWT = f"{HEADER}.{CLAIMS}.{SIGNATURE}"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"token {UNKNOWN_JWT} rejected", f"token {REDACTED} rejected"),
        (f'{{"oidcIdentityToken": "{UNKNOWN_JWT}"}}', f'{{"oidcIdentityToken": "{REDACTED}"}}'),
        # A JWT's claims or header on their own, or cut short, still decode to JSON.
        (f"claims {CLAIMS} follow", f"claims {REDACTED} follow"),
        (f"cut: {HEADER}.{CLAIMS[:41]}", f"cut: {REDACTED}.{REDACTED}"),
        ("Authorization: Bearer opaque-value_123", f"Authorization: Bearer {REDACTED}"),
        ("{'authorization': 'opaque-value_123'}", f"{{'authorization': '{REDACTED}'}}"),
        # Ordinary messages are left alone: words, digests, hosts, URLs.
        (
            "Bearer token required; authorization failed at rekor.sigstore.dev",
            "Bearer token required; authorization failed at rekor.sigstore.dev",
        ),
        (
            "sha256 9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3 "
            "https://github.com/octo-org/demo/.github/workflows/release.yml@refs/tags/v1",
            "sha256 9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3 "
            "https://github.com/octo-org/demo/.github/workflows/release.yml@refs/tags/v1",
        ),
    ],
    ids=[
        "jwt",
        "jwt-in-json",
        "claims-alone",
        "cut-short",
        "bearer",
        "authorization",
        "plain-words",
        "digest-and-uri",
    ],
)
def test_redact(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_redact_known_credentials_and_their_pieces() -> None:
    opaque = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0"  # not a JWT, not JSON
    remember(opaque)

    assert redact(f"got {opaque}!") == f"got {REDACTED}!"
    assert redact(f"got x{opaque[5:30]}y") == f"got {REDACTED}"
    assert redact(f"got {opaque[:15]}") == f"got {opaque[:15]}"  # too short to matter


def test_redact_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    value = "env-held-credential-0123456789abcdef"
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", f"{value}\r\n")

    assert redact(f"the server said: {value[3:25]}") == f"the server said: {REDACTED}"


@pytest.mark.parametrize("door", ["build", "cli"])
def test_every_door_renders_an_unexpected_error_redacted(door: Literal["build", "cli"]) -> None:
    from hatch_attest._messages import error_text, traceback_text

    header = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').decode().rstrip("=")
    claims = base64.urlsafe_b64encode(b'{"sub":"repo:octo-org/x"}').decode().rstrip("=")
    token = f"{header}.{claims}.c2lnbmF0dXJlLWJ5dGVz"

    def fail() -> None:
        raise RuntimeError(f"the server answered: {token}")

    try:
        fail()
    except RuntimeError as e:
        text = error_text(e, door=door)
        trace = traceback_text(e)

    where = "-v shows the traceback" if door == "cli" else "its traceback is above"
    assert text == (
        f"hatch-attest: {'error: ' if door == 'cli' else ''}unexpected RuntimeError: the server "
        f"answered: {REDACTED} (a bug in hatch-attest; {where}, please report it)"
    )
    assert trace.startswith("Traceback (most recent call last):")
    assert f"RuntimeError: the server answered: {REDACTED}" in trace
    assert header not in text + trace
