"""A local Sigstore deployment for tests and demos: real protocols, on 127.0.0.1.

Why: signing is only worth testing end to end, with the real clients
(sigstore-python, pypi-attestations, `id`) doing exactly what they do in CI,
and there is no network in tests. So this package runs the services those
clients talk to, in-process, on loopback, with fresh keys per instance::

    with LocalSigstore.start() as sigstore:
        env = sigstore.github_env(GitHubIdentity(repository="octo-org/demo-pkg"))
        # run a build with `env`, configured with `sigstore.trust_config_path`

What it emulates, closely enough that signing and `sigstore.verify.Verifier`
accept everything, and the publisher policies PyPI applies pass:

- the GitHub Actions ID-token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`/`_TOKEN`)
  and GitLab's `SIGSTORE_ID_TOKEN`, minting ES256 tokens with the real issuer
  URLs and claims;
- Fulcio v2 `signingCert`: a two-level CA issuing 10-minute certificates with the
  SAN and 1.3.6.1.4.1.57264.1.* extensions Fulcio derives from those claims, and
  an embedded SCT from a CT log key listed in the trusted root;
- Rekor v1 `log/entries` for `hashedrekord` and `dsse`: an RFC 6962 Merkle tree,
  inclusion proofs, signed checkpoints and signed entry timestamps;
- optionally (`tsa=True`) an RFC 3161 timestamp authority;
- a ClientTrustConfig (trusted root and signing config v0.2) describing all that.

What it does not emulate: TUF (the trust config is a plain file), Rekor v2,
Rekor's read APIs (entry lookup, log info, consistency proofs), the CT log API,
OIDC discovery and JWKS (Fulcio trusts the local issuer keys directly, since the
tokens name the real GitHub and GitLab issuers), interactive OAuth sign-in,
other identity providers, and persistence (everything lives in memory).

`LocalIndex` runs PyPI's upload path next to it (over HTTPS, with its own CA):
Trusted Publishing token exchange against these issuers, the legacy upload API
with warehouse's attestation rules and wording, and the simple and Integrity APIs
to read back what it accepted. `client_env()` lets the real twine and uv upload
to it as `https://upload.pypi.org/legacy/`::

    with LocalSigstore.start() as sigstore, LocalIndex.start(sigstore) as index:
        index.add_publisher("demo-pkg", GitHubPublisher(repository=..., workflow=...))
        # run `twine upload --attestations dist/*` with github_env() | client_env()

`Fault` makes one endpoint misbehave, to test how callers cope with outages
and with answers only a verifier can catch. The package `hatch_attest` never
imports this module; tests and `hatch-attest demo` do, explicitly.
"""

from hatch_attest.testing._environ import is_ci_variable, outside_ci
from hatch_attest.testing._faults import Fault
from hatch_attest.testing._identity import GitHubIdentity, GitLabIdentity
from hatch_attest.testing._index import LocalIndex, UploadedFile
from hatch_attest.testing._instance import LocalSigstore

__all__ = [
    "Fault",
    "GitHubIdentity",
    "GitLabIdentity",
    "LocalIndex",
    "LocalSigstore",
    "UploadedFile",
    "is_ci_variable",
    "outside_ci",
]
