"""Fulcio: short-lived code-signing certificates bound to an OIDC identity.

Implements `POST /api/v2/signingCert` with a CSR, as sigstore-python calls it.
The certificate carries what the real Fulcio derives from each issuer's tokens
(`config/identity/config.yaml`, `pkg/identity/ciprovider` and `pkg/identity/email`
in sigstore/fulcio; OIDs in its `docs/oid-info.md`):

- GitHub, GitLab, Buildkite, CircleCI (`ci-provider` issuers): the SAN URI and the
  1.3.6.1.4.1.57264.1.* extensions of the provider's templates;
- Google (an `email` issuer): the verified `email` claim as an email SAN, with
  only the issuer and subject extensions.

Every certificate also has the deprecated raw issuer (1.1), the issuer (1.8) and
the token's subject (1.24).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import secrets
from dataclasses import dataclass, replace

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hatch_attest_testing import _der, _x509
from hatch_attest_testing._ctlog import CTLog
from hatch_attest_testing._faults import CertifiedClaim, Fault, UntrustedCA, WrongSCTKey
from hatch_attest_testing._http import Reply, Request, json_reply
from hatch_attest_testing._identity import (
    BUILDKITE_ISSUER,
    CIRCLECI_ISSUER,
    GITHUB_ISSUER,
    GITLAB_ISSUER,
    GOOGLE_ISSUER,
    Claims,
)
from hatch_attest_testing._oidc import Issuers, TokenError

_LEAF_LIFETIME = datetime.timedelta(minutes=10)
_CA_LIFETIME = datetime.timedelta(days=3650)
_FULCIO_OID = "1.3.6.1.4.1.57264.1."
_GITHUB = "https://github.com/"
_GITLAB = "https://gitlab.com/"
_BUILDKITE = "https://buildkite.com/"
# Fulcio's `default-template-values` for CircleCI; a claim of the same name wins.
_CIRCLECI_DEFAULTS = {
    "api_url": "https://circleci.com/api/v2",
    "platform_url": "https://app.circleci.com/",
}
# gRPC status codes, which Fulcio's HTTP gateway puts in its error bodies.
_INVALID_ARGUMENT = 3
_UNAUTHENTICATED = 16


@dataclass(frozen=True)
class CertificateAuthority:
    """A root and the intermediate that issues leaves, like Fulcio's."""

    root: x509.Certificate
    intermediate: x509.Certificate
    intermediate_key: ec.EllipticCurvePrivateKey

    @classmethod
    def create(cls, organization: str, not_before: datetime.datetime) -> CertificateAuthority:
        """A fresh two-level CA valid from `not_before`."""
        root_key = ec.generate_private_key(ec.SECP256R1())
        intermediate_key = ec.generate_private_key(ec.SECP256R1())
        root_name = _name(organization, "sigstore")
        intermediate_name = _name(organization, "sigstore-intermediate")
        ca_usage = _x509.key_usage(ca=True)
        root = (
            _ca_builder(root_name, root_name, root_key.public_key(), not_before)
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(ca_usage, critical=True)
            .sign(root_key, hashes.SHA256())
        )
        intermediate = (
            _ca_builder(intermediate_name, root_name, intermediate_key.public_key(), not_before)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(ca_usage, critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                critical=False,
            )
            .sign(root_key, hashes.SHA256())
        )
        return cls(root, intermediate, intermediate_key)

    @property
    def chain(self) -> list[x509.Certificate]:
        """Intermediate then root: the order of a trusted root's `certChain`."""
        return [self.intermediate, self.root]


def _name(organization: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePublicKey,
    not_before: datetime.datetime,
) -> x509.CertificateBuilder:
    return _x509.builder(subject, issuer, key, not_before, not_before + _CA_LIFETIME)


@dataclass(frozen=True)
class Principal:
    """What a certificate says about its subject: SAN and claim extensions."""

    san: str
    extensions: dict[int, str | None]
    # Fulcio still writes the deprecated 1.1-1.6 extensions as raw strings.
    legacy_extensions: dict[int, str]
    # An email SAN (Fulcio's `email` issuers) instead of a URI.
    san_is_email: bool = False


def principal(claims: Claims) -> Principal:
    """Maps verified token claims to certificate contents, as Fulcio does."""
    issuer = claims["iss"]
    try:
        if issuer == GITHUB_ISSUER:
            return _github_principal(claims)
        if issuer == GITLAB_ISSUER:
            return _gitlab_principal(claims)
        if issuer == GOOGLE_ISSUER:
            return _email_principal(claims)
        if issuer == BUILDKITE_ISSUER:
            return _buildkite_principal(claims)
        if issuer == CIRCLECI_ISSUER or issuer.startswith(f"{CIRCLECI_ISSUER}/org/"):
            return _circleci_principal(claims)
    except KeyError as e:
        msg = f"token is missing the {e.args[0]!r} claim"
        raise TokenError(msg) from e
    msg = f"unsupported issuer {claims['iss']!r}"
    raise TokenError(msg)


def _github_principal(c: Claims) -> Principal:
    repository_url = _GITHUB + c["repository"]
    build_signer = _GITHUB + c["job_workflow_ref"]
    return Principal(
        san=build_signer,
        extensions={
            8: c["iss"],
            9: build_signer,
            10: c["job_workflow_sha"],
            11: c["runner_environment"],
            12: repository_url,
            13: c["sha"],
            14: c["ref"],
            15: c["repository_id"],
            16: _GITHUB + c["repository_owner"],
            17: c["repository_owner_id"],
            18: _GITHUB + c["workflow_ref"],
            19: c["workflow_sha"],
            20: c["event_name"],
            21: f"{repository_url}/actions/runs/{c['run_id']}/attempts/{c['run_attempt']}",
            22: c.get("repository_visibility"),
            24: c["sub"],
        },
        legacy_extensions={
            1: c["iss"],
            2: c["event_name"],
            3: c["sha"],
            4: c["workflow"],
            5: c["repository"],
            6: c["ref"],
        },
    )


def _gitlab_principal(c: Claims) -> Principal:
    repository_url = _GITLAB + c["project_path"]
    config_uri = "https://" + c["ci_config_ref_uri"]
    kind = "heads" if c["ref_type"] == "branch" else "tags"
    return Principal(
        san=config_uri,
        extensions={
            8: c["iss"],
            9: config_uri,
            10: c["ci_config_sha"],
            11: c["runner_environment"],
            12: repository_url,
            13: c["sha"],
            14: f"refs/{kind}/{c['ref']}",
            15: c["project_id"],
            16: _GITLAB + c["namespace_path"],
            17: c["namespace_id"],
            18: config_uri,
            19: c["ci_config_sha"],
            20: c["pipeline_source"],
            21: f"{repository_url}/-/jobs/{c['job_id']}",
            22: c["project_visibility"],
            24: c["sub"],
        },
        legacy_extensions={1: c["iss"]},
    )


def _email_principal(c: Claims) -> Principal:
    # pkg/identity/email: the email must be verified; only issuer and subject go in.
    if c["email_verified"] is not True:
        msg = "email_verified claim was false"
        raise TokenError(msg)
    return Principal(
        san=c["email"],
        extensions={8: c["iss"], 24: c["sub"]},
        legacy_extensions={1: c["iss"]},
        san_is_email=True,
    )


def _go_string(value: object) -> str:
    """A claim as Fulcio's templates see it (Go's `%v`; whole floats without a fraction)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None:
        return "<nil>"
    return str(value)


def _buildkite_principal(c: Claims) -> Principal:
    pipeline_url = f"{_BUILDKITE}{c['organization_slug']}/{c['pipeline_slug']}"
    return Principal(
        san=pipeline_url,
        extensions={
            8: c["iss"],
            11: _go_string(c["runner_environment"]),
            13: _go_string(c["build_commit"]),
            20: _go_string(c["build_source"]),
            21: f"{pipeline_url}/builds/{_go_string(c['build_number'])}#{_go_string(c['job_id'])}",
            24: c["sub"],
        },
        legacy_extensions={1: c["iss"]},
    )


def _circleci_principal(claims: Claims) -> Principal:
    c = {**_CIRCLECI_DEFAULTS, **{k: _go_string(v) for k, v in claims.items()}}
    build_signer = (
        f"{c['api_url']}/projects/{c['oidc.circleci.com/project-id']}"
        f"/pipeline-definitions/{c['oidc.circleci.com/pipeline-definition-id']}"
    )
    # The template writes the two characters `""` when there was no SSH rerun,
    # and Fulcio keeps any non-empty value: so does this emulation.
    ssh_rerun = c["oidc.circleci.com/ssh-rerun"] == "true"
    return Principal(
        san=build_signer,
        extensions={
            8: claims["iss"],
            9: build_signer,
            11: "ssh-rerun" if ssh_rerun else '""',
            12: c["oidc.circleci.com/vcs-origin"],
            14: c["oidc.circleci.com/vcs-ref"],
            18: f"{c['api_url']}/pipeline/{c['oidc.circleci.com/pipeline-id']}/config",
            # platform_url ends in "/" and the template adds one: Fulcio's URI has "//".
            21: (
                f"{c['platform_url']}/workflow/{c['oidc.circleci.com/workflow-id']}"
                f"/job/{c['oidc.circleci.com/job-id']}"
            ),
            24: claims["sub"],
        },
        legacy_extensions={1: claims["iss"]},
    )


def _error(status: int, code: int, message: str) -> Reply:
    return json_reply(status, {"code": code, "message": message, "details": []})


class Fulcio:
    """The CA service; the untrusted CA and rogue CT log exist only for faults."""

    def __init__(self, issuers: Issuers, not_before: datetime.datetime) -> None:
        self._issuers = issuers
        self.ca = CertificateAuthority.create("sigstore.local", not_before)
        self.ct_log = CTLog()
        self._untrusted_ca = CertificateAuthority.create("untrusted.invalid", not_before)
        self._rogue_ct_log = CTLog()

    def signing_cert(self, request: Request, fault: Fault | None) -> Reply:
        """`POST /api/v2/signingCert`."""
        try:
            document = json.loads(request.body)
            csr_pem = base64.b64decode(document["certificateSigningRequest"], validate=True)
            csr = x509.load_pem_x509_csr(csr_pem)
        except (ValueError, KeyError, TypeError, binascii.Error):
            return _error(
                400,
                _INVALID_ARGUMENT,
                "There was an error processing the certificate signing request",
            )
        # Fulcio takes the token from the Authorization header or the body.
        token = _bearer(request.headers.get("Authorization")) or document.get(
            "credentials", {}
        ).get("oidcIdentityToken")
        if not token:
            return _error(401, _UNAUTHENTICATED, "There was an error processing the identity token")
        try:
            subject = principal(self._issuers.verify(token, audience="sigstore"))
        except TokenError:
            return _error(401, _UNAUTHENTICATED, "There was an error processing the identity token")
        public_key = csr.public_key()
        if not csr.is_signature_valid or not isinstance(public_key, ec.EllipticCurvePublicKey):
            return _error(
                400,
                _INVALID_ARGUMENT,
                "The signature supplied in the request could not be verified",
            )
        if isinstance(fault, CertifiedClaim):
            subject = replace(
                subject, extensions={**subject.extensions, fault.extension: fault.value}
            )
        ca = self._untrusted_ca if isinstance(fault, UntrustedCA) else self.ca
        ct_log = self._rogue_ct_log if isinstance(fault, WrongSCTKey) else self.ct_log
        leaf = _issue(ca, ct_log, public_key, subject)
        chain = [leaf, ca.intermediate, ca.root]
        pems = [cert.public_bytes(serialization.Encoding.PEM).decode() for cert in chain]
        return json_reply(201, {"signedCertificateEmbeddedSct": {"chain": {"certificates": pems}}})


def _bearer(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _issue(
    ca: CertificateAuthority,
    ct_log: CTLog,
    key: ec.EllipticCurvePublicKey,
    subject: Principal,
) -> x509.Certificate:
    # X.509 times have whole seconds; truncating keeps notBefore <= Rekor's time.
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(ca.intermediate.subject)
        .public_key(key)
        .serial_number(int.from_bytes(secrets.token_bytes(20), "big") >> 1)
        .not_valid_before(now)
        .not_valid_after(now + _LEAF_LIFETIME)
        .add_extension(_x509.key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.intermediate_key.public_key()),
            critical=False,
        )
        # The subject is empty, so RFC 5280 makes the SAN critical.
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.RFC822Name(subject.san)
                    if subject.san_is_email
                    else x509.UniformResourceIdentifier(subject.san)
                ]
            ),
            critical=True,
        )
    )
    for number, value in sorted(subject.legacy_extensions.items()):
        builder = builder.add_extension(
            x509.UnrecognizedExtension(
                x509.ObjectIdentifier(f"{_FULCIO_OID}{number}"), value.encode()
            ),
            critical=False,
        )
    for number, claim in sorted(subject.extensions.items()):
        if claim is None:  # a claim the token lacks: Fulcio omits its extension
            continue
        builder = builder.add_extension(
            x509.UnrecognizedExtension(
                x509.ObjectIdentifier(f"{_FULCIO_OID}{number}"), _der.utf8_string(claim)
            ),
            critical=False,
        )
    # Issue the precertificate, have the CT log countersign it, then issue the
    # same TBS with the SCT list in place of the poison: RFC 6962's flow.
    precertificate = builder.add_extension(x509.PrecertPoison(), critical=True).sign(
        ca.intermediate_key, hashes.SHA256()
    )
    sct_list = ct_log.sct_list_extension(precertificate, ca.intermediate)
    return builder.add_extension(sct_list, critical=False).sign(
        ca.intermediate_key, hashes.SHA256()
    )
