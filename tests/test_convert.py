"""``hatch-attest convert``: Sigstore bundles to PEP 740 attestations, as a user sees it.

Bundles come from two independent producers, both against the local Sigstore
instance: the ``sigstore`` CLI (``sigstore attest``, SLSA provenance) and
sigstore-python's API (``Signer.sign_dsse``, PyPI's publish predicate). What
``convert`` writes is then checked by ``hatch-attest verify`` and by
pypi-attestations' own ``Attestation.verify`` on the local trusted root. Each
refusal is asserted with its exact message, and with nothing written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pypi_attestations import Attestation
from sigstore.dsse import DigestSet, StatementBuilder, Subject
from sigstore.errors import Error as SigstoreError
from sigstore.models import Bundle, ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import Verifier
from sigstore.verify.policy import UnsafeNoOp

from hatch_attest._files import sha256_file
from hatch_attest_testing import (
    PUBLISH_V1,
    SLSA_PROVENANCE_V1,
    Cli,
    CliResult,
    GitHubIdentity,
    LocalSigstore,
    fake_sdist,
    fake_wheel,
    outside_ci,
    run_bounded,
    verify_as_pypi,
)

SIGSTORE_CLI = Path(sys.executable).parent / "sigstore"
SUBPROCESS_TIMEOUT = 120
ERROR = "hatch-attest: error: "
SIGN_AGAIN = (
    "attest again with Rekor v1 (`sigstore attest --rekor-version 1`, or `actions/attest` "
    "in a public repository)"
)


# No CI identity here; the conftest starts each test in an empty folder.
pytestmark = pytest.mark.usefixtures("sigstore_no_ci")


def publisher_flags(identity: GitHubIdentity) -> list[str]:
    return ["--publisher", f"github:{identity.repository}@{identity.workflow}"]


@pytest.fixture
def convert(
    cli: Cli, local_sigstore: LocalSigstore, sigstore_github_identity: GitHubIdentity
) -> Cli:
    """``hatch-attest convert`` against the local instance and the job's publisher."""

    def run(*argv: str | Path) -> CliResult:
        trust = ["--trust-config", str(local_sigstore.trust_config_path)]
        return cli("convert", *trust, *publisher_flags(sigstore_github_identity), *argv)

    return run


def workflow_uri(identity: GitHubIdentity) -> str:
    return f"https://github.com/{identity.workflow_ref}"


def sigstore_cli_attest(
    sigstore: LocalSigstore, identity: GitHubIdentity, dist: Path, tmp_path: Path
) -> Path:
    """``sigstore attest --rekor-version 1`` with SLSA provenance; returns the bundle."""
    predicate = tmp_path / "provenance.json"
    predicate.write_text(json.dumps(identity.slsa_provenance()))
    # The token goes in the environment, never on a command line.
    env = {**outside_ci(), "SIGSTORE_IDENTITY_TOKEN": sigstore.mint_github_token(identity)}
    result = run_bounded(
        [
            SIGSTORE_CLI,
            "--trust-config",
            sigstore.trust_config_path,
            "attest",
            "--rekor-version",
            "1",
            "--predicate-type",
            SLSA_PROVENANCE_V1,
            "--predicate",
            predicate,
            dist,
        ],
        env=env,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    bundle = dist.with_name(f"{dist.name}.sigstore.json")
    assert bundle.is_file()
    return bundle


def api_bundle(
    sigstore: LocalSigstore,
    identity: GitHubIdentity,
    subjects: list[tuple[str, str]],
    predicate_type: str = PUBLISH_V1,
    predicate: dict[str, Any] | None = None,
) -> Bundle:
    """sigstore-python's ``Signer.sign_dsse`` over a statement with ``(name, sha256)`` subjects."""
    config = ClientTrustConfig.from_json(sigstore.trust_config_path.read_text())
    config.force_tlog_version = 1
    statement = (
        StatementBuilder()
        .subjects([Subject(name=n, digest=DigestSet(root={"sha256": d})) for n, d in subjects])
        .predicate_type(predicate_type)
        .predicate(predicate or {})
        .build()
    )
    token = IdentityToken(sigstore.mint_github_token(identity))
    with SigningContext.from_trust_config(config).signer(token) as signer:
        return signer.sign_dsse(statement)


def save(bundle: Bundle | dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = bundle.to_json() if isinstance(bundle, Bundle) else json.dumps(bundle)
    path.write_text(text)
    return path


def edited(bundle: Bundle, edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(bundle.to_json())
    edit(document)
    return document


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# --- two producers, converted and verified -------------------------------------------


def test_a_sigstore_cli_bundle_becomes_an_slsa_attestation_that_verifies(
    cli: Cli,
    convert: Cli,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    dist = tmp_path / "dist"
    wheel = fake_wheel(dist)
    bundle = sigstore_cli_attest(local_sigstore, sigstore_github_identity, wheel, tmp_path)
    bundle_text = bundle.read_text()
    before = local_sigstore.counts()

    result = convert(bundle)

    assert result.status == 0, result.err
    attestation = dist / f"{wheel.name}.slsa.attestation"
    assert listing(dist) == sorted([wheel.name, bundle.name, attestation.name])
    assert result.out == (
        f"{attestation}: slsa attestation for {wheel.name}, signed by "
        f"{workflow_uri(sigstore_github_identity)}, Rekor log index "
        f"{json.loads(bundle_text)['verificationMaterial']['tlogEntries'][0]['logIndex']}; "
        f"digest checked against {wheel}\n"
    )
    assert result.err == (
        f"Verifying against GitHub repository {sigstore_github_identity.repository}, workflow "
        f"{sigstore_github_identity.workflow}\n"
    )
    assert bundle.read_text() == bundle_text
    # Converting is offline: no token, certificate or log entry.
    assert local_sigstore.counts() == before
    verdict = verify_as_pypi(
        wheel, sigstore_github_identity, local_sigstore.trust_config_path, kind="slsa"
    )
    assert verdict.found == (SLSA_PROVENANCE_V1, sigstore_github_identity.slsa_provenance())

    verified = cli(
        "verify",
        "--trust-config",
        local_sigstore.trust_config_path,
        *publisher_flags(sigstore_github_identity),
        dist,
    )
    assert verified.status == 0, verified.out + verified.err
    assert verified.out.startswith(
        f"{wheel}: OK\n  {attestation.name}: {SLSA_PROVENANCE_V1}, signed by"
    )


def test_an_api_bundle_becomes_a_publish_attestation_in_the_output_dir(
    cli: Cli,
    convert: Cli,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    dist = tmp_path / "dist"
    wheel = fake_wheel(dist)
    sdist = fake_sdist(dist, size=300)
    bundles = [
        save(
            api_bundle(local_sigstore, sigstore_github_identity, [(d.name, sha256_file(d))]),
            tmp_path / "bundles" / f"{d.name}.sigstore.json",
        )
        for d in (wheel, sdist)
    ]

    result = convert("--output-dir", dist, *bundles)

    assert result.status == 0, result.err
    written = [dist / f"{d.name}.publish.attestation" for d in (wheel, sdist)]
    assert listing(dist) == sorted([wheel.name, sdist.name, *(w.name for w in written)])
    lines = result.out.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [str(w) for w in written]
    assert lines[1].endswith(f"; digest checked against {sdist}")
    for path, d in zip(written, (wheel, sdist), strict=True):
        verdict = verify_as_pypi(
            d, sigstore_github_identity, local_sigstore.trust_config_path, attestation=path
        )
        assert verdict.found == (PUBLISH_V1, {})

    verified = cli(
        "verify",
        "--trust-config",
        local_sigstore.trust_config_path,
        *publisher_flags(sigstore_github_identity),
        dist,
    )
    assert verified.status == 0, verified.out + verified.err
    assert verified.err.endswith("all 2 distributions pass PyPI's attestation checks\n")


def test_without_the_distribution_beside_it_only_the_subject_is_verified(
    convert: Cli,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    bundle = save(
        api_bundle(local_sigstore, sigstore_github_identity, [(wheel.name, sha256_file(wheel))]),
        tmp_path / "bundles" / "provenance.json",
    )

    result = convert(bundle)

    assert result.status == 0, result.err
    attestation = bundle.parent / f"{wheel.name}.publish.attestation"
    assert result.out.endswith(
        f"; no {wheel.name} beside it, so verified against the subject's own name and sha256 only\n"
    )
    assert result.out.startswith(f"{attestation}: publish attestation for {wheel.name}, ")
    verdict = verify_as_pypi(
        wheel, sigstore_github_identity, local_sigstore.trust_config_path, attestation=attestation
    )
    assert verdict.found == (PUBLISH_V1, {})


@pytest.mark.parametrize(
    "media_type",
    [
        "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
        "application/vnd.dev.sigstore.bundle+json;version=0.3",
    ],
)
def test_older_bundle_formats_give_the_same_attestation(
    convert: Cli,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    media_type: str,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    bundle = api_bundle(
        local_sigstore, sigstore_github_identity, [(wheel.name, sha256_file(wheel))]
    )
    current = save(bundle, tmp_path / "v0.3" / "bundle.json")

    def older(document: dict[str, Any]) -> None:
        # Before v0.3, the signing certificate is the first of a "chain".
        document["mediaType"] = media_type
        material = document["verificationMaterial"]
        if not media_type.endswith("0.3"):
            material["x509CertificateChain"] = {"certificates": [material.pop("certificate")]}

    old = save(edited(bundle, older), tmp_path / "old" / "bundle.json")

    assert convert(current).status == 0
    result = convert(old)

    assert result.status == 0, result.err
    name = f"{wheel.name}.publish.attestation"
    assert (old.parent / name).read_bytes() == (current.parent / name).read_bytes()


def test_a_bundle_that_also_carries_an_rfc3161_timestamp_converts(
    cli: Cli, tmp_path: Path, tsa_instance: LocalSigstore, sigstore_github_identity: GitHubIdentity
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    bundle = api_bundle(tsa_instance, sigstore_github_identity, [(wheel.name, sha256_file(wheel))])
    assert json.loads(bundle.to_json())["verificationMaterial"]["timestampVerificationData"]
    path = save(bundle, wheel.with_name("bundle.json"))

    result = cli(
        "convert",
        "--trust-config",
        tsa_instance.trust_config_path,
        *publisher_flags(sigstore_github_identity),
        path,
    )

    # The timestamp is dropped; the Rekor v1 inclusion promise carries the signing time.
    assert result.status == 0, result.err
    verdict = verify_as_pypi(wheel, sigstore_github_identity, tsa_instance.trust_config_path)
    assert verdict.found == (PUBLISH_V1, {})


# --- where it goes, and never over an existing file ------------------------------------


def test_output_names_the_file_and_warns_when_uploaders_would_miss_it(
    convert: Cli,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    bundle = save(
        api_bundle(local_sigstore, sigstore_github_identity, [(wheel.name, sha256_file(wheel))]),
        tmp_path / "bundle.json",
    )
    output = wheel.with_name("attestation.json")

    result = convert("--output", output, bundle)

    assert result.status == 0, result.err
    assert result.out.startswith(f"{output}: publish attestation for {wheel.name}, ")
    assert result.out.endswith(f"; digest checked against {wheel}\n")
    assert result.err.splitlines()[-1] == (
        "hatch-attest: warning: twine and uv publish upload attestation.json only if it is "
        f"named {wheel.name}.publish.attestation, next to {wheel.name}"
    )
    Attestation.model_validate_json(output.read_bytes())


def test_output_takes_one_bundle(convert: Cli, tmp_path: Path) -> None:
    result = convert("--output", tmp_path / "a.attestation", "one.json", "two.json")

    assert result.status == 2
    assert result.errors() == [
        "--output names one file, but 2 bundles were given; use --output-dir DIR for several"
    ]


def test_output_and_output_dir_exclude_each_other(convert: Cli, tmp_path: Path) -> None:
    result = convert("--output", "a.attestation", "--output-dir", tmp_path, "one.json")

    assert result.status == 2
    assert result.err.splitlines()[-1].endswith(
        "argument --output-dir: not allowed with argument --output"
    )


def test_an_existing_attestation_is_replaced_only_with_overwrite(
    convert: Cli,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    bundle = save(
        api_bundle(local_sigstore, sigstore_github_identity, [(wheel.name, sha256_file(wheel))]),
        wheel.with_name("bundle.json"),
    )
    existing = wheel.with_name(f"{wheel.name}.publish.attestation")
    existing.write_text("made by the build\n")

    refused = convert(bundle)

    assert refused.status == 1
    assert refused.errors() == [f"{existing} already exists; pass --overwrite to replace it"]
    assert existing.read_text() == "made by the build\n"

    replaced = convert("--overwrite", bundle)

    assert replaced.status == 0, replaced.err
    verdict = verify_as_pypi(
        wheel, sigstore_github_identity, local_sigstore.trust_config_path, attestation=existing
    )
    assert verdict.found == (PUBLISH_V1, {})


def test_one_bad_bundle_and_nothing_is_written(
    convert: Cli,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    dist = tmp_path / "dist"
    wheel = fake_wheel(dist)
    good = save(
        api_bundle(local_sigstore, sigstore_github_identity, [(wheel.name, sha256_file(wheel))]),
        dist / "good.json",
    )
    bad = dist / "bad.json"
    bad.write_text("{}")

    result = convert(good, bad)

    assert result.status == 1
    assert len(result.errors()) == 1
    assert result.errors()[0].startswith(f"{bad}: not a Sigstore bundle")
    assert result.err.splitlines()[-1] == "no attestation was written (all or nothing)"
    assert listing(dist) == sorted([wheel.name, good.name, bad.name])


def test_a_write_that_fails_leaves_nothing(
    convert: Cli,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    dist = tmp_path / "dist"
    wheel = fake_wheel(dist)
    # A valid distribution name whose attestation's name is too long for the filesystem.
    long_name = f"{'a' * 230}-1.0-py3-none-any.whl"
    bundles = [
        save(
            api_bundle(local_sigstore, sigstore_github_identity, [(name, sha256_file(wheel))]),
            dist / f"{n}.json",
        )
        for n, name in enumerate([wheel.name, long_name])
    ]

    result = convert(*bundles)

    assert result.status == 1
    target = dist / f"{long_name}.publish.attestation"
    assert result.errors() == [f"cannot write {target}: File name too long"]
    assert listing(dist) == sorted([wheel.name, *(b.name for b in bundles)])


def test_two_bundles_for_the_same_attestation(
    convert: Cli,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    first, second = (
        save(
            api_bundle(
                local_sigstore, sigstore_github_identity, [(wheel.name, sha256_file(wheel))]
            ),
            tmp_path / f"b{n}" / "bundle.json",
        )
        for n in range(2)
    )

    result = convert("--output-dir", wheel.parent, first, second)

    assert result.status == 1
    assert result.errors() == [
        f"{second}: would write {wheel.parent / wheel.name}.publish.attestation, as {first} "
        "does; PyPI accepts one attestation per predicate type for a file, so keep one of them"
    ]
    assert listing(wheel.parent) == [wheel.name]


# --- what PyPI would reject is refused, one line each ----------------------------------


def refused_once(result: CliResult, bundle: Path, message: str) -> None:
    assert result.status == 1
    assert (result.out, result.errors()) == ("", [f"{bundle}: {message}"])
    assert not list(bundle.parent.glob("*.attestation"))


def test_a_statement_with_several_subjects(
    convert: Cli,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    dist = tmp_path / "dist"
    wheels = [fake_wheel(dist, f"pkg{n}") for n in range(4)]
    bundle = save(
        api_bundle(
            local_sigstore, sigstore_github_identity, [(w.name, sha256_file(w)) for w in wheels]
        ),
        dist / "multiple.sigstore.json",
    )

    refused_once(
        convert(bundle),
        bundle,
        "the statement has 4 subjects (pkg0-1.0-py3-none-any.whl, pkg1-1.0-py3-none-any.whl, "
        "pkg2-1.0-py3-none-any.whl, ...); a PEP 740 attestation covers exactly one "
        "distribution file. Attest each file on its own (one `actions/attest` step per file, "
        "or `sigstore attest FILE...`, which writes one bundle per file)",
    )


@pytest.mark.parametrize(
    ("predicate_type", "predicate", "message"),
    [
        (
            "https://slsa.dev/provenance/v0.2",
            lambda identity: {"builder": {"id": workflow_uri(identity)}},
            "PyPI does not accept the predicate type 'https://slsa.dev/provenance/v0.2'; attest "
            "with 'https://docs.pypi.org/attestations/publish/v1' or "
            "'https://slsa.dev/provenance/v1'",
        ),
        (
            PUBLISH_V1,
            GitHubIdentity.slsa_provenance,
            "the https://docs.pypi.org/attestations/publish/v1 predicate must be empty (null or "
            "{}), and PyPI rejects this one; attest build provenance as "
            "'https://slsa.dev/provenance/v1'",
        ),
    ],
    ids=["predicate-type-pypi-does-not-accept", "publish-predicate-not-empty"],
)
def test_a_predicate_pypi_would_reject(
    predicate_type: str,
    predicate: Callable[[GitHubIdentity], dict[str, Any]],
    message: str,
    convert: Cli,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    bundle = save(
        api_bundle(
            local_sigstore,
            sigstore_github_identity,
            [(wheel.name, sha256_file(wheel))],
            predicate_type=predicate_type,
            predicate=predicate(sigstore_github_identity),
        ),
        wheel.with_name("bundle.json"),
    )

    refused_once(convert(bundle), bundle, message)


def test_a_message_signature_bundle(
    convert: Cli,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    config = ClientTrustConfig.from_json(local_sigstore.trust_config_path.read_text())
    config.force_tlog_version = 1
    token = IdentityToken(local_sigstore.mint_github_token(sigstore_github_identity))
    with SigningContext.from_trust_config(config).signer(token) as signer:
        signature = signer.sign_artifact(wheel.read_bytes())
    bundle = save(signature, wheel.with_name(f"{wheel.name}.sigstore.json"))

    refused_once(
        convert(bundle),
        bundle,
        "this is a message-signature bundle (`sigstore sign`, `cosign sign-blob`): it signs "
        "the file itself, while a PEP 740 attestation signs an in-toto statement in a DSSE "
        "envelope. Attest the file instead (`actions/attest`, `sigstore attest`, "
        "`cosign attest-blob`)",
    )


@pytest.fixture(scope="module")
def tsa_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSigstore]:
    """An instance with an RFC 3161 timestamp authority: bundles carry both times."""
    with LocalSigstore.start(tsa=True, directory=tmp_path_factory.mktemp("tsa")) as instance:
        yield instance


@pytest.fixture
def timestamped(
    tsa_instance: LocalSigstore, sigstore_github_identity: GitHubIdentity, tmp_path: Path
) -> tuple[Bundle, Path]:
    """A bundle with a Rekor v1 entry and an RFC 3161 timestamp, and its wheel."""
    wheel = fake_wheel(tmp_path / "dist")
    bundle = api_bundle(tsa_instance, sigstore_github_identity, [(wheel.name, sha256_file(wheel))])
    return bundle, wheel


def tsa_convert(cli: Cli, tsa: LocalSigstore, identity: GitHubIdentity, bundle: Path) -> CliResult:
    trust = ["--trust-config", str(tsa.trust_config_path)]
    return cli("convert", *trust, *publisher_flags(identity), bundle)


def test_a_rekor_v2_entry_with_only_a_timestamp(
    cli: Cli,
    tsa_instance: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    timestamped: tuple[Bundle, Path],
) -> None:
    bundle, wheel = timestamped

    def rekor_v2(document: dict[str, Any]) -> None:
        # What Rekor v2 returns for a DSSE envelope: a hashedrekord/0.0.2 entry with an
        # inclusion proof and checkpoint, but no integrated time and no inclusion promise.
        (entry,) = document["verificationMaterial"]["tlogEntries"]
        entry["kindVersion"] = {"kind": "hashedrekord", "version": "0.0.2"}
        del entry["integratedTime"], entry["inclusionPromise"]

    path = save(edited(bundle, rekor_v2), wheel.with_name("bundle.json"))

    refused_once(
        tsa_convert(cli, tsa_instance, sigstore_github_identity, path),
        path,
        "the bundle's log entry is a Rekor v2 entry (hashedrekord/0.0.2), whose signing time "
        "comes only from the bundle's RFC 3161 timestamp; a PEP 740 attestation cannot carry "
        f"that timestamp (the conversion drops it), so it would not verify: {SIGN_AGAIN}",
    )


def test_a_rekor_v1_entry_without_its_inclusion_promise(
    cli: Cli,
    tsa_instance: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    timestamped: tuple[Bundle, Path],
) -> None:
    bundle, wheel = timestamped

    def strip_promise(document: dict[str, Any]) -> None:
        del document["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]

    stripped = Bundle.from_json(json.dumps(edited(bundle, strip_promise)))
    # The bundle itself verifies, by its timestamp; the attestation made from it cannot.
    trusted_root = ClientTrustConfig.from_json(
        tsa_instance.trust_config_path.read_text()
    ).trusted_root
    Verifier(trusted_root=trusted_root).verify_dsse(stripped, UnsafeNoOp())
    with pytest.raises(SigstoreError, match="inclusion promise or signed timestamp"):
        Attestation.from_bundle(stripped).to_bundle()
    path = save(stripped, wheel.with_name("bundle.json"))

    refused_once(
        tsa_convert(cli, tsa_instance, sigstore_github_identity, path),
        path,
        "the bundle's Rekor v1 entry has no inclusion promise (signed entry timestamp), so its "
        "signing time would come only from an RFC 3161 timestamp, which a PEP 740 "
        "attestation cannot carry; it would not verify. Use the bundle as the Sigstore client "
        f"wrote it, with its inclusion promise, or {SIGN_AGAIN}",
    )


@pytest.mark.parametrize("absent", [False, True], ids=["empty-list", "no-list"])
def test_no_transparency_log_entry_at_all(
    cli: Cli,
    tsa_instance: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    timestamped: tuple[Bundle, Path],
    absent: bool,
) -> None:
    bundle, wheel = timestamped

    def timestamp_only(document: dict[str, Any]) -> None:
        # GitHub's own instance, for private repositories: a timestamp and no log.
        if absent:
            del document["verificationMaterial"]["tlogEntries"]
        else:
            document["verificationMaterial"]["tlogEntries"] = []

    path = save(edited(bundle, timestamp_only), wheel.with_name("bundle.json"))

    refused_once(
        tsa_convert(cli, tsa_instance, sigstore_github_identity, path),
        path,
        "the bundle has no transparency log entry (only an RFC 3161 timestamp); a PEP 740 "
        f"attestation verifies only with a Rekor v1 entry: {SIGN_AGAIN}",
    )


def test_another_log_entry_type(
    convert: Cli,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    bundle = api_bundle(
        local_sigstore, sigstore_github_identity, [(wheel.name, sha256_file(wheel))]
    )

    def intoto(document: dict[str, Any]) -> None:
        # cosign's older `attest` records in-toto envelopes as intoto/0.0.2 in Rekor v1.
        document["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"] = "intoto"
        document["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["version"] = "0.0.2"

    path = save(edited(bundle, intoto), wheel.with_name("bundle.json"))

    refused_once(
        convert(path),
        path,
        "the bundle's log entry has type intoto/0.0.2; PyPI verifies attestations only with "
        f"a Rekor v1 dsse/0.0.1 entry: {SIGN_AGAIN}",
    )


def test_another_publisher(
    cli: Cli,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    bundle = save(
        api_bundle(local_sigstore, sigstore_github_identity, [(wheel.name, sha256_file(wheel))]),
        wheel.with_name("bundle.json"),
    )

    result = cli(
        "convert",
        "--trust-config",
        local_sigstore.trust_config_path,
        "--publisher",
        f"github:{sigstore_github_identity.repository}@other.yml",
        bundle,
    )

    workflows = f"https://github.com/{sigstore_github_identity.repository}/.github/workflows"
    refused_once(
        result,
        bundle,
        "the converted attestation does not verify: the attestation was not signed by the "
        f"Trusted Publisher (GitHub repository {sigstore_github_identity.repository}, workflow "
        f"other.yml): Build Config URI is "
        f"'{workflows}/release.yml@{sigstore_github_identity.ref}', "
        f"expected '{workflows}/other.yml@{sigstore_github_identity.sha}' or "
        f"'{workflows}/other.yml@{sigstore_github_identity.ref}'. Build in the workflow that PyPI "
        "knows as this project's Trusted Publisher (the same workflow file as the publish "
        "job), or correct the expected publisher",
    )


def test_a_distribution_beside_it_with_other_bytes(
    convert: Cli,
    tmp_path: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    signed = sha256_file(wheel)
    bundle = save(
        api_bundle(local_sigstore, sigstore_github_identity, [(wheel.name, signed)]),
        wheel.with_name("bundle.json"),
    )
    wheel.write_bytes(b"rebuilt")

    refused_once(
        convert(bundle),
        bundle,
        f"the converted attestation does not verify: the attestation covers sha256 {signed}, "
        f"but {wheel.name} has sha256 {sha256_file(wheel)}: the file changed after it was "
        "signed. Sign the file that you upload (do not rebuild or modify it after signing)",
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.json", None, "cannot read it: No such file or directory"),
        (
            "bundle.json",
            b"<html>Not Found</html>",
            "not a Sigstore bundle: not valid JSON (Expecting value: line 1 column 1 (char 0)); "
            "pass the bundle's JSON file (e.g. <file>.sigstore.json)",
        ),
        (
            "attestations.jsonl",
            b'{"mediaType": "a"}\n{"mediaType": "b"}\n',
            "not a Sigstore bundle: not valid JSON (Extra data: line 2 column 1 (char 19)); "
            "a .jsonl file (`gh attestation download`) holds one bundle per line: save the "
            "line you need as its own file",
        ),
        (
            "bundle.json",
            b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}',
            "not a Sigstore bundle (verificationMaterial: Field required); expected the bundle "
            "JSON (v0.1 to v0.3) that `actions/attest`, `sigstore attest` or "
            "`cosign attest-blob --new-bundle-format` write",
        ),
        (
            "cosign.bundle",
            b'{"base64Signature": "", "cert": "", "rekorBundle": {}}',
            "this is cosign's legacy bundle format, not a Sigstore bundle; make one with "
            "`cosign attest-blob --new-bundle-format --bundle FILE`",
        ),
    ],
    ids=["missing", "not-json", "jsonl", "not-a-bundle", "cosign-legacy"],
)
def test_unreadable_bundles(
    convert: Cli, tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)

    refused_once(convert(path), path, message)


def test_without_a_publisher_says_how_to_pass_one(
    cli: Cli, tmp_path: Path, local_sigstore: LocalSigstore
) -> None:
    result = cli("convert", "--trust-config", local_sigstore.trust_config_path, tmp_path / "b.json")

    assert result.status == 2
    assert result.errors()[0].startswith("no Trusted Publisher to verify against: pass --publisher")


def test_help(cli: Cli) -> None:
    result = cli("convert", "--help")

    assert (result.status, result.err) == (0, "")
    assert result.out.startswith(
        "usage: hatch-attest convert [-h] [-v] [--output FILE | --output-dir DIR]"
    )
    text = " ".join(result.out.split())
    for phrase in ["--overwrite", "--publisher SPEC", "Rekor v1", "All or nothing"]:
        assert phrase in text, phrase


def test_console_script(
    tmp_path: Path, local_sigstore: LocalSigstore, sigstore_github_identity: GitHubIdentity
) -> None:
    wheel = fake_wheel(tmp_path / "dist")
    bundle = save(
        api_bundle(local_sigstore, sigstore_github_identity, [(wheel.name, sha256_file(wheel))]),
        tmp_path / "bundle.json",
    )
    env = {**outside_ci(), "HATCH_ATTEST_TRUST_CONFIG": str(local_sigstore.trust_config_path)}
    script = Path(sys.executable).parent / "hatch-attest"

    result = run_bounded(
        [
            script,
            "convert",
            *publisher_flags(sigstore_github_identity),
            "--output-dir",
            "dist",
            bundle,
        ],
        env=env,
        cwd=tmp_path,
        timeout=SUBPROCESS_TIMEOUT,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"dist/{wheel.name}.publish.attestation: publish attestation")
    assert (wheel.parent / f"{wheel.name}.publish.attestation").is_file()


def test_output_dir_must_exist(convert: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "dist"

    result = convert("--output-dir", missing, tmp_path / "bundle.json")

    assert result.status == 1
    assert result.errors() == [f"{missing}: no such directory (--output-dir must exist)"]
    assert not missing.exists()
