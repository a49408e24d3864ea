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
- Google Cloud (`google_cloud()`, for hatch-attest's Google token path): a VM's
  metadata server (`.../service-accounts/default/identity?audience=...&format=full`,
  and `.../token` plus IAM's `generateIdToken` for GOOGLE_SERVICE_ACCOUNT_NAME
  impersonation), minting tokens from `https://accounts.google.com` with an `email`
  claim;
- Buildkite and CircleCI (`buildkite_env()`, `circleci_env()`): stand-in
  `buildkite-agent` and `circleci` executables on PATH that fetch tokens from
  this instance (issuers `https://agent.buildkite.com`, `https://oidc.circleci.com`);
- Fulcio v2 `signingCert`: a two-level CA issuing 10-minute certificates with what
  the real Fulcio derives from each issuer's claims (GitHub, GitLab, Buildkite,
  CircleCI: SAN URI and 1.3.6.1.4.1.57264.1.* extensions; Google: the email SAN),
  and an embedded SCT from a CT log key listed in the trusted root;
- Rekor v1 `log/entries` for `hashedrekord` and `dsse`: an RFC 6962 Merkle tree,
  inclusion proofs, signed checkpoints and signed entry timestamps; it remembers
  its entries, answers an identical resubmission with 409 and the existing
  entry's `Location`, and serves that entry at `GET log/entries/<uuid>`;
- optionally (`tsa=True`) an RFC 3161 timestamp authority;
- a ClientTrustConfig (trusted root and signing config v0.2) describing all that.

The Google seam: no variable redirects a client to a metadata server, so
hatch-attest's Google token path reads the metadata server's and IAM's URLs, and
the DMI product name file that tells a Compute Engine VM, from module constants of
its own (`hatch_attest._kinds.google.GCP_*`). `GoogleCloud.patched()` points those
constants at this instance in this process; `GoogleCloud.environ()` does it in a
child Python process through a `sitecustomize` on PYTHONPATH (so only frontends
that keep PYTHONPATH, such as `python -m build --no-isolation`). Nothing of `id`
is patched: its own Google detector keeps its URLs in private constants and is not
served.

What it does not emulate: TUF (the trust config is a plain file), Rekor v2,
Rekor's other read APIs (lookup by log index, search, log info, consistency
proofs, public key), sharding (there is one tree, whose ID prefixes every UUID),
the CT log API, OIDC discovery and JWKS (Fulcio trusts the local issuer keys directly, since the
tokens name the real issuers), interactive OAuth sign-in,
other identity providers, and persistence (everything lives in memory).

`LocalIndex` runs PyPI's upload path next to it (over HTTPS, with its own CA):
Trusted Publishing token exchange against these issuers, the legacy upload API
with warehouse's attestation rules and wording, and the simple and Integrity APIs
to read back what it accepted. `client_env()` lets the real twine and uv upload
to it as `https://upload.pypi.org/legacy/`::

    with LocalSigstore.start() as sigstore, LocalIndex.start(sigstore) as index:
        index.add_publisher("demo-pkg", GitHubPublisher(repository=..., workflow=...))
        # run `twine upload --attestations dist/*` with github_env() | client_env()

For tests: `fake_wheel` and `fake_sdist` write distribution files, `unsigned_jwt`
makes a token of any issuer for checks made before Fulcio;
`verify_as_pypi` checks an attestation with pypi-attestations' own
`Attestation.verify`, independently of `hatch_attest._verify` (which it keeps
honest); `log_index` reads an attestation's Rekor log index; `PUBLISH_V1` and
`SLSA_PROVENANCE_V1` are the two predicate types PyPI accepts; `run_bounded` runs
a child process within a time bound and kills its whole process group on timeout
(`run_bounded_all`: several at once);
`CliResult` is what the `run_main` fixture returns (`Cli`: a `main` bound to it). The pytest plugin
(`hatch_attest_testing.pytest_plugin`, loaded through the `pytest11` entry point)
adds the fixtures `local_sigstore`, `local_index`, `sigstore_github_identity`,
`sigstore_gitlab_identity`, `sigstore_no_ci`, `sigstore_ci_job`,
`sigstore_github_job`, `sigstore_gitlab_job` and `run_main`, and an opt-in
credential leak scan (`--local-sigstore-leak-scan`, or the ini option
`local_sigstore_leak_scan = true`).

`Fault` makes one endpoint (or one of its methods) misbehave, to test how
callers cope with outages and with answers only a verifier can catch
(`Fault.trickle` sends an answer one byte at a time, which only a deadline on the
whole exchange ends); `LocalSigstore.exchanges()` shows each request and the
status it got, and `bytes_sent()` how many bytes of answers went out.
`LocalIndex.refusals()` keeps each refused upload or token exchange with
warehouse's words (what `hatch-attest rehearse` reports per file). The
package `hatch_attest` never imports this module; tests and `hatch-attest demo`
do, explicitly; it ships as its own distribution, `hatch-attest-testing`, so that
a build never installs it.
"""

from hatch_attest_testing._ambient import GoogleCloud
from hatch_attest_testing._artifacts import fake_sdist, fake_wheel, unsigned_jwt
from hatch_attest_testing._cli import Cli, CliResult
from hatch_attest_testing._environ import is_ci_variable, outside_ci
from hatch_attest_testing._faults import Fault
from hatch_attest_testing._identity import (
    BuildkiteIdentity,
    CircleCIIdentity,
    GitHubIdentity,
    GitLabIdentity,
    GoogleIdentity,
    identity_for,
)
from hatch_attest_testing._index import LocalIndex, Refusal, UploadedFile
from hatch_attest_testing._instance import LocalSigstore
from hatch_attest_testing._process import run_bounded, run_bounded_all
from hatch_attest_testing._pypi import (
    PUBLISH_V1,
    SLSA_PROVENANCE_V1,
    PyPIVerdict,
    log_index,
    verify_as_pypi,
)
from hatch_attest_testing._server import Exchange

__all__ = [
    "PUBLISH_V1",
    "SLSA_PROVENANCE_V1",
    "BuildkiteIdentity",
    "CircleCIIdentity",
    "Cli",
    "CliResult",
    "Exchange",
    "Fault",
    "GitHubIdentity",
    "GitLabIdentity",
    "GoogleCloud",
    "GoogleIdentity",
    "LocalIndex",
    "LocalSigstore",
    "PyPIVerdict",
    "Refusal",
    "UploadedFile",
    "fake_sdist",
    "fake_wheel",
    "identity_for",
    "is_ci_variable",
    "log_index",
    "outside_ci",
    "run_bounded",
    "run_bounded_all",
    "unsigned_jwt",
    "verify_as_pypi",
]
