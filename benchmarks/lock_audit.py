"""Lock audit: ``hatch-attest audit pylock.toml`` of 300 packages (600 files), 50 ms per request.

What: the wall time of auditing a PEP 751 lock against the local index
(``hatch_attest_testing.LocalIndex``) with ``latency`` seconds added to every
request (default 0.05 s): each release's JSON API answer and each file's Integrity
API answer fetched once, concurrently (``--jobs``, default the CLI's), and every
attestation verified in full (signature, certificate chain, Rekor inclusion,
publisher, subject name and sha256), then matched with the pinned identities.

How: N packages ``pkg-<i>`` 1.0, each with an sdist and a wheel whose bytes are
distinct, so every file has its own name and digest. Every file gets its own real
publish attestation, signed once before timing against the local Sigstore instance
(one certificate, one Rekor entry per file), and served by the index as that file's
provenance; nothing is shared between files, so verification runs fully per file.
The lock pins each package's publisher. The audit runs in-process
(``hatch_attest._lockfile.lock_command``, what the CLI calls) with a fresh client
each time, so no connection or answer is reused between runs. Sizes are subsets of
the lock (the first packages); ``--rounds`` runs per size, the median reported.

Baseline (same run): the smallest size. The report gives each size's time as a
ratio to it, next to the ratio of file counts (linear scaling), and, for context,
the same audit of the smallest size with one request at a time (``--jobs 1``).
Request counts of the last run at the largest size are printed: one JSON API
request per package and one Integrity API request per file is the target.
Nothing here is asserted in the test suite; the exit status is 1 when the request
counts miss that target or the audit fails.

    python benchmarks/lock_audit.py [--sizes 60,150,300,600] [--latency 0.05] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _report import note, table
from pypi_attestations import (
    Attestation,
    AttestationBundle,
    Distribution,
    GitHubPublisher,
    Provenance,
)
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext

from hatch_attest._index_verify import DEFAULT_JOBS, load_verifier
from hatch_attest._lockfile import lock_command
from hatch_attest_testing import GitHubIdentity, LocalIndex, LocalSigstore


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the report; returns the exit status."""
    parser = argparse.ArgumentParser(description="hatch-attest audit of a large pylock.toml")
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=(60, 150, 300, 600),
        help="numbers of files, even (default: 60,150,300,600)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds per request (default: 0.05)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs per size (default: 3)")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help="concurrent requests")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.latency < 0 or args.jobs < 1:
        parser.error("--rounds and --jobs must be at least 1, --latency not negative")
    with tempfile.TemporaryDirectory(prefix="lock-audit-") as work:
        return run(Path(work), args.sizes, args.latency, args.rounds, args.jobs)


def _sizes(value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted({int(part) for part in value.split(",")}))
    except ValueError:
        sizes = ()
    if not sizes or sizes[0] < 2 or any(size % 2 for size in sizes):
        msg = "a comma-separated list of even numbers of files, e.g. 60,150,300,600"
        raise argparse.ArgumentTypeError(msg)
    return sizes


def publish_files(
    sigstore: LocalSigstore, index: LocalIndex, job: GitHubIdentity, packages: int
) -> str:
    """Publishes ``packages`` packages of two attested files each; returns the pylock text."""
    publisher = GitHubPublisher(repository=job.repository, workflow=job.workflow)
    config = ClientTrustConfig.from_json(sigstore.trust_config_path.read_text())
    config.force_tlog_version = 1
    token = IdentityToken(sigstore.mint_github_token(job))
    pins = f'[{{ kind = "GitHub", repository = "{job.repository}", workflow = "{job.workflow}" }}]'
    lines = ['lock-version = "1.0"', 'created-by = "benchmarks/lock_audit.py"', ""]
    start = time.perf_counter()
    with SigningContext.from_trust_config(config).signer(token, cache=True) as signer:
        for i in range(packages):
            hashes = {}
            for filename in (f"pkg_{i}-1.0.tar.gz", f"pkg_{i}-1.0-py3-none-any.whl"):
                content = f"{filename}: the bytes of file {i}".encode()
                digest = hashlib.sha256(content).hexdigest()
                attestation = Attestation.sign(signer, Distribution(name=filename, digest=digest))
                bundle = AttestationBundle(publisher=publisher, attestations=[attestation])
                provenance = Provenance(attestation_bundles=[bundle]).model_dump(mode="json")
                index.add_file(f"pkg-{i}", "1.0", filename, content, provenance=provenance)
                hashes[filename] = digest
            sdist, wheel = hashes
            lines += [
                "[[packages]]",
                f'name = "pkg-{i}"',
                'version = "1.0"',
                f"attestation-identities = {pins}",
                f'sdist = {{ name = "{sdist}", hashes = {{ sha256 = "{hashes[sdist]}" }} }}',
                f'wheels = [{{ name = "{wheel}", hashes = {{ sha256 = "{hashes[wheel]}" }} }}]',
                "",
            ]
    note(f"signed {2 * packages} attestations in {time.perf_counter() - start:.1f} s")
    return "\n".join(lines)


def subset(lock_text: str, packages: int) -> str:
    """The lock's header and first ``packages`` packages."""
    head, *tables = lock_text.split("[[packages]]\n")
    return head + "".join("[[packages]]\n" + t for t in tables[:packages])


def audit_once(lock: Path, index: LocalIndex, verifier: Any, jobs: int) -> tuple[float, int]:
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        status = lock_command(
            lock,
            action="audit",
            verifier=verifier,
            index=index.url,
            timeout=600,
            jobs=jobs,
            require_identities=True,
            info=lambda _: None,
        )
    seconds = time.perf_counter() - start
    if status != 0:
        sys.stderr.write(out.getvalue()[-2000:])
    return seconds, status


def run(work: Path, sizes: Sequence[int], latency: float, rounds: int, jobs: int) -> int:
    """Publish the largest lock, audit each size ``rounds`` times; print the report."""
    job = GitHubIdentity()
    times: dict[str, list[float]] = {}
    failed = 0
    with (
        LocalSigstore.start(directory=work / "sigstore") as sigstore,
        LocalIndex.start(sigstore, directory=work / "index") as index,
    ):
        os.environ["REQUESTS_CA_BUNDLE"] = str(index.ca_path)
        lock_text = publish_files(sigstore, index, job, sizes[-1] // 2)
        verifier = load_verifier("production", sigstore.trust_config_path, offline=False)
        index.latency = latency
        locks = {}
        for size in sizes:
            locks[size] = work / f"pylock.{size}.toml"
            locks[size].write_text(subset(lock_text, size // 2))
        counts: dict[str, int] = {}
        for r in range(rounds):
            for size in sizes:
                before = index.counts()
                seconds, status = audit_once(locks[size], index, verifier, jobs)
                failed += status != 0
                times.setdefault(f"{size}", []).append(seconds)
                note(f"{size:>4} files  round {r + 1}/{rounds}  {seconds:6.2f} s")
                if size == sizes[-1]:
                    counts = {k: v - before[k] for k, v in index.counts().items()}
            seconds, status = audit_once(locks[sizes[0]], index, verifier, 1)
            failed += status != 0
            times.setdefault("sequential", []).append(seconds)
            note(f"{sizes[0]:>4} files  round {r + 1}/{rounds}  {seconds:6.2f} s  (--jobs 1)")

    base = statistics.median(times[f"{sizes[0]}"])
    rows = [
        (
            f"{size} files ({size // 2} packages)",
            f"{statistics.median(times[str(size)]):.2f}",
            f"{statistics.median(times[str(size)]) / base:.2f}x",
            f"{size / sizes[0]:.1f}x",
        )
        for size in sizes
    ]
    sequential = statistics.median(times["sequential"])
    rows.append(
        (f"{sizes[0]} files, --jobs 1", f"{sequential:.2f}", f"{sequential / base:.2f}x", "")
    )
    print(
        f"audit of a pylock.toml, {latency * 1000:g} ms per request, --jobs {jobs}, "
        f"median of {rounds}; baseline: {sizes[0]} files"
    )
    print(table(("lock", "seconds", "vs baseline", "files vs baseline"), rows))
    packages = sizes[-1] // 2
    print(
        f"requests at {sizes[-1]} files: json {counts.get('json')} (target {packages}), "
        f"integrity {counts.get('integrity')} (target {sizes[-1]}), "
        f"files {counts.get('files')} (target 0)"
    )
    ok = counts.get("json") == packages and counts.get("integrity") == sizes[-1]
    return 0 if ok and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
