"""OIDC: the ID tokens of GitHub Actions, GitLab CI, Google Cloud, Buildkite and CircleCI.

Tokens are signed with local keys but carry the real issuer URLs
(`https://token.actions.githubusercontent.com`, `https://gitlab.com`,
`https://accounts.google.com`, ...) because the certificate's issuer extension must say so for
pypi-attestations' publisher policies to pass. Nothing can discover those issuers'
keys offline, so the local Fulcio trusts the local signing keys directly instead
of fetching `/.well-known/openid-configuration` and JWKS the way the real one does.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from hatch_attest_testing._identity import (
    BUILDKITE_ISSUER,
    CIRCLECI_ISSUER,
    GITHUB_ISSUER,
    GITLAB_ISSUER,
    GOOGLE_ISSUER,
    Claims,
)

# A P-256 coordinate or signature half is 32 bytes (RFC 7518, section 3.4).
_P256_SIZE = 32
# Tolerated clock skew between the issuer and the verifier, like Fulcio's.
_LEEWAY = 5


class TokenError(Exception):
    """A token is malformed, forged, expired or meant for someone else."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Issuer:
    """One OIDC issuer: its URL and its ES256 signing key."""

    url: str
    key: ec.EllipticCurvePrivateKey
    key_id: str

    def mint(self, claims: Claims) -> str:
        """A compact JWS over `claims`, signed ES256."""
        header = {"alg": "ES256", "typ": "JWT", "kid": self.key_id}
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        r, s = decode_dss_signature(
            self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        )
        signature = r.to_bytes(_P256_SIZE, "big") + s.to_bytes(_P256_SIZE, "big")
        return f"{signing_input}.{_b64url(signature)}"


class Issuers:
    """The issuers this deployment emulates, and the verification Fulcio does."""

    def __init__(self) -> None:
        self.github = Issuer(GITHUB_ISSUER, ec.generate_private_key(ec.SECP256R1()), "github-1")
        self.gitlab = Issuer(GITLAB_ISSUER, ec.generate_private_key(ec.SECP256R1()), "gitlab-1")
        self.google = Issuer(GOOGLE_ISSUER, ec.generate_private_key(ec.SECP256R1()), "google-1")
        self.buildkite = Issuer(
            BUILDKITE_ISSUER, ec.generate_private_key(ec.SECP256R1()), "buildkite-1"
        )
        self.circleci = Issuer(
            CIRCLECI_ISSUER, ec.generate_private_key(ec.SECP256R1()), "circleci-1"
        )
        self._by_url = {
            issuer.url: issuer
            for issuer in (self.github, self.gitlab, self.google, self.buildkite, self.circleci)
        }

    def _issuer(self, url: str) -> Issuer | None:
        # CircleCI's per-organization issuers (`.../org/<id>`) share the root's
        # key here; Fulcio accepts them through its `oidc.circleci.com/org/*` meta-issuer.
        if url.startswith(f"{CIRCLECI_ISSUER}/org/") and "/" not in url.removeprefix(
            f"{CIRCLECI_ISSUER}/org/"
        ):
            return self.circleci
        return self._by_url.get(url)

    def verify(self, token: str, *, audience: str) -> Claims:
        """The claims of a token from a known issuer, or `TokenError` saying why not."""
        try:
            header_part, payload_part, signature_part = token.split(".")
            header = json.loads(_unb64url(header_part))
            claims: Any = json.loads(_unb64url(payload_part))
            signature = _unb64url(signature_part)
        except (ValueError, binascii.Error) as e:
            msg = "token is not a compact JWS"
            raise TokenError(msg) from e
        if not isinstance(header, dict) or not isinstance(claims, dict):
            msg = "token header or payload is not a JSON object"
            raise TokenError(msg)
        if header.get("alg") != "ES256" or len(signature) != 2 * _P256_SIZE:
            msg = f"unsupported token algorithm {header.get('alg')!r}"
            raise TokenError(msg)
        issuer = self._issuer(str(claims.get("iss")))
        if issuer is None:
            msg = f"unknown issuer {claims.get('iss')!r}"
            raise TokenError(msg)
        der_signature = encode_dss_signature(
            int.from_bytes(signature[:_P256_SIZE], "big"),
            int.from_bytes(signature[_P256_SIZE:], "big"),
        )
        try:
            issuer.key.public_key().verify(
                der_signature,
                f"{header_part}.{payload_part}".encode(),
                ec.ECDSA(hashes.SHA256()),
            )
        except InvalidSignature as e:
            msg = "token signature does not verify"
            raise TokenError(msg) from e
        _check_registered_claims(claims, audience=audience)
        return claims


def _check_registered_claims(claims: Claims, *, audience: str) -> None:
    now = time.time()
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if audience not in audiences:
        msg = f"token audience {aud!r} is not {audience!r}"
        raise TokenError(msg)
    for name in ("exp", "iat", "sub"):
        if name not in claims:
            msg = f"token has no {name!r} claim"
            raise TokenError(msg)
    if not isinstance(claims["exp"], int) or claims["exp"] <= now - _LEEWAY:
        msg = "token has expired"
        raise TokenError(msg)
    not_before = claims.get("nbf", claims["iat"])
    if not isinstance(not_before, int) or not_before > now + _LEEWAY:
        msg = "token is not valid yet"
        raise TokenError(msg)
