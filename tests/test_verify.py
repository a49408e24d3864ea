"""hatch_attest._verify: PyPI's upload checks, run locally against any trust root.

The real attestations in ``fixtures/real-attestations`` were made on the public-good
Sigstore instance, so the library's own ``Attestation.verify(..., offline=True)``
(production trusted root embedded in sigstore-python, no network) can judge them
too. Every case, good or bad, must get the same verdict from both: that is what
keeps our copy of the checks from drifting away from what PyPI runs.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypi_attestations import (
    Attestation,
    Distribution,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
    Publisher,
)
from sigstore.models import ClientTrustConfig
from sigstore.verify import Verifier, policy
from sigstore.verify.policy import VerificationPolicy

from hatch_attest import _verify as verify
from hatch_attest._kinds import KINDS, from_pypi
from hatch_attest._verify import (
    DistributionReport,
    Finding,
    check_dist_filename,
    check_distribution,
    find_attestations,
    verify_attestation,
)
from hatch_attest.errors import DistributionError, VerificationError
from hatch_attest_testing import (
    PUBLISH_V1,
    SLSA_PROVENANCE_V1,
    GitHubIdentity,
    LocalSigstore,
    fake_wheel,
)

FIXTURES = Path(__file__).parent / "fixtures" / "real-attestations"
SDIST = "pypi_attestations-0.0.19.tar.gz"
GITLAB_SDIST = "gitlab_oidc_project-0.0.3.tar.gz"
SIGNER = (
    "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml"
    "@refs/tags/v0.0.19"
)
GITLAB_SIGNER = "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main"

GITHUB = GitHubPublisher(repository="trailofbits/pypi-attestations", workflow="release.yml")
GITLAB = GitLabPublisher(
    repository="facutuesca/gitlab-oidc-project", workflow_filepath=".gitlab-ci.yml"
)

FIX_PUBLISHER = (
    "Build in the workflow that PyPI knows as this project's Trusted Publisher "
    "(the same workflow file as the publish job), or correct the expected publisher"
)


@pytest.fixture(scope="module", autouse=True)
def _isolated_tuf_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Offline production verification reads (and first seeds, from the copy embedded
    # in sigstore-python) the TUF cache in the user's directories: keep it out of the
    # user's home, and keep a previously refreshed root from changing the results.
    # Module scope: the variables are restored before other test modules run.
    home = tmp_path_factory.mktemp("xdg")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(home / "cache"))
        mp.setenv("XDG_DATA_HOME", str(home / "data"))
        yield


@pytest.fixture(scope="module")
def verifier(_isolated_tuf_cache: None) -> Verifier:
    """The verifier `Attestation.verify(offline=True)` builds, here built by us."""
    return Verifier.production(offline=True)


def load(name: str) -> Attestation:
    return Attestation.model_validate_json((FIXTURES / name).read_bytes())


def raw(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / name).read_bytes())
    return document


def pypi_verdict(
    attestation: Attestation, dist: Distribution, publisher: Publisher | VerificationPolicy
) -> tuple[str, dict[str, Any] | None] | None:
    """The library's result, or None when PyPI would reject.

    Warehouse rejects the upload on *any* exception from `Attestation.verify`
    (not only `VerificationError`), so any exception counts as a rejection here.
    """
    try:
        return attestation.verify(publisher, dist, offline=True)
    except Exception:
        return None


def our_verdict(
    attestation: Attestation,
    dist: Distribution,
    publisher: Publisher | VerificationPolicy,
    verifier: Verifier,
) -> tuple[str, dict[str, Any] | None] | None:
    try:
        return verify_attestation(attestation, dist, publisher, verifier)
    except VerificationError:
        return None


# --- Parity with pypi_attestations, case by case ------------------------------------


def _sdist(name: str = SDIST, source: str = SDIST, extra: bytes = b"") -> Distribution:
    content = (FIXTURES / source).read_bytes() + extra
    return Distribution(name=name, digest=hashlib.sha256(content).hexdigest())


def _edit(name: str, change: Callable[[dict[str, Any]], None]) -> Attestation:
    document = raw(name)
    change(document)
    return Attestation.model_validate(document)


def _flip_signature(document: dict[str, Any]) -> None:
    signature = bytearray(base64.b64decode(document["envelope"]["signature"]))
    signature[-1] ^= 1
    document["envelope"]["signature"] = base64.b64encode(bytes(signature)).decode()


def _restate(document: dict[str, Any]) -> None:
    # A statement for other content, keeping the original signature.
    statement = json.loads(base64.b64decode(document["envelope"]["statement"]))
    statement["subject"][0]["digest"]["sha256"] = "0" * 64
    document["envelope"]["statement"] = base64.b64encode(json.dumps(statement).encode()).decode()


def _gitlab_certificate(document: dict[str, Any]) -> None:
    document["verification_material"]["certificate"] = raw(f"{GITLAB_SDIST}.publish.attestation")[
        "verification_material"
    ]["certificate"]


def _slsa_log_entry(document: dict[str, Any]) -> None:
    document["verification_material"]["transparency_entries"] = raw(f"{SDIST}.slsa.attestation")[
        "verification_material"
    ]["transparency_entries"]


def _later_integrated_time(document: dict[str, Any]) -> None:
    entry = document["verification_material"]["transparency_entries"][0]
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 1)


def _junk_certificate(document: dict[str, Any]) -> None:
    document["verification_material"]["certificate"] = base64.b64encode(b"junk").decode()


def _empty_log_entry(document: dict[str, Any]) -> None:
    document["verification_material"]["transparency_entries"] = [{}]


@dataclass
class Case:
    id: str
    attestation: Callable[[], Attestation]
    dist: Callable[[], Distribution]
    publisher: Publisher | VerificationPolicy
    rejected_by: str | None = None  # the Finding id of our rejection; None: accepted
    predicate_type: str = PUBLISH_V1


CASES = [
    Case("github-publish", lambda: load(f"{SDIST}.publish.attestation"), _sdist, GITHUB),
    Case(
        "github-slsa",
        lambda: load(f"{SDIST}.slsa.attestation"),
        _sdist,
        GITHUB,
        predicate_type=SLSA_PROVENANCE_V1,
    ),
    Case(
        "gitlab-publish",
        lambda: load(f"{GITLAB_SDIST}.publish.attestation"),
        lambda: _sdist(GITLAB_SDIST, GITLAB_SDIST),
        GITLAB,
    ),
    Case(
        "sigstore-identity-policy",
        lambda: load(f"{SDIST}.publish.attestation"),
        _sdist,
        policy.Identity(identity=SIGNER, issuer="https://token.actions.githubusercontent.com"),
    ),
    # The library compares parsed names: an unnormalised spelling of the same file
    # name passes (PyPI's own file name checks are separate: see check_dist_filename).
    Case(
        "unnormalised-dist-name",
        lambda: load(f"{SDIST}.publish.attestation"),
        lambda: _sdist("pypi-attestations-0.0.19.tar.gz"),
        GITHUB,
    ),
    Case(
        "tampered-dist",
        lambda: load(f"{SDIST}.publish.attestation"),
        lambda: _sdist(extra=b"\0"),
        GITHUB,
        "attestation-digest",
    ),
    Case(
        "wrong-repository",
        lambda: load(f"{SDIST}.publish.attestation"),
        _sdist,
        GitHubPublisher(repository="trailofbits/other", workflow="release.yml"),
        "attestation-publisher",
    ),
    Case(
        "repository-case",
        lambda: load(f"{SDIST}.publish.attestation"),
        _sdist,
        GitHubPublisher(repository="TrailOfBits/pypi-attestations", workflow="release.yml"),
        "attestation-publisher",
    ),
    Case(
        "wrong-workflow",
        lambda: load(f"{SDIST}.publish.attestation"),
        _sdist,
        GitHubPublisher(repository="trailofbits/pypi-attestations", workflow="build.yml"),
        "attestation-publisher",
    ),
    Case(
        "gitlab-publisher-for-github",
        lambda: load(f"{SDIST}.publish.attestation"),
        _sdist,
        GitLabPublisher(
            repository="trailofbits/pypi-attestations", workflow_filepath=".gitlab-ci.yml"
        ),
        "attestation-publisher",
    ),
    Case(
        "google-publisher-for-github",
        lambda: load(f"{SDIST}.publish.attestation"),
        _sdist,
        GooglePublisher(email="release@project.iam.gserviceaccount.com"),
        "attestation-publisher",
    ),
    Case(
        "github-publisher-for-gitlab",
        lambda: load(f"{GITLAB_SDIST}.publish.attestation"),
        lambda: _sdist(GITLAB_SDIST, GITLAB_SDIST),
        GitHubPublisher(repository="facutuesca/gitlab-oidc-project", workflow=".gitlab-ci.yml"),
        "attestation-publisher",
    ),
    Case(
        "gitlab-wrong-ci-file",
        lambda: load(f"{GITLAB_SDIST}.publish.attestation"),
        lambda: _sdist(GITLAB_SDIST, GITLAB_SDIST),
        GitLabPublisher(
            repository="facutuesca/gitlab-oidc-project", workflow_filepath="ci/release.yml"
        ),
        "attestation-publisher",
    ),
    Case(
        "identity-policy-other-san",
        lambda: load(f"{SDIST}.publish.attestation"),
        _sdist,
        policy.Identity(identity="https://github.com/x/y/.github/workflows/z.yml@refs/heads/main"),
        "attestation-publisher",
    ),
    Case(
        "other-version-same-bytes",
        lambda: load(f"{SDIST}.publish.attestation"),
        lambda: _sdist("pypi_attestations-0.0.20.tar.gz"),
        GITHUB,
        "attestation-subject",
    ),
    Case(
        "wheel-name-same-bytes",
        lambda: load(f"{SDIST}.publish.attestation"),
        lambda: _sdist("pypi_attestations-0.0.19-py3-none-any.whl"),
        GITHUB,
        "attestation-subject",
    ),
    Case(
        "attestation-of-another-project",
        lambda: load(f"{GITLAB_SDIST}.publish.attestation"),
        _sdist,
        GITLAB,
        "attestation-subject",
    ),
    Case(
        "statement-replaced",
        lambda: _edit(f"{SDIST}.publish.attestation", _restate),
        _sdist,
        GITHUB,
        "attestation-signature",
    ),
    Case(
        "signature-altered",
        lambda: _edit(f"{SDIST}.publish.attestation", _flip_signature),
        _sdist,
        GITHUB,
        "attestation-signature",
    ),
    # A genuine certificate, but not the one logged: it was not valid at the log time.
    Case(
        "certificate-swapped",
        lambda: _edit(f"{SDIST}.publish.attestation", _gitlab_certificate),
        _sdist,
        GITHUB,
        "attestation-signature",
    ),
    Case(
        "certificate-swapped-matching-publisher",
        lambda: _edit(f"{SDIST}.publish.attestation", _gitlab_certificate),
        _sdist,
        GITLAB,
        "attestation-signature",
    ),
    Case(
        "log-entry-of-other-attestation",
        lambda: _edit(f"{SDIST}.publish.attestation", _slsa_log_entry),
        _sdist,
        GITHUB,
        "attestation-signature",
    ),
    Case(
        "integrated-time-altered",
        lambda: _edit(f"{SDIST}.publish.attestation", _later_integrated_time),
        _sdist,
        GITHUB,
        "attestation-signature",
    ),
    Case(
        "certificate-not-der",
        lambda: _edit(f"{SDIST}.publish.attestation", _junk_certificate),
        _sdist,
        GITHUB,
        "attestation-material",
    ),
    Case(
        "log-entry-empty",
        lambda: _edit(f"{SDIST}.publish.attestation", _empty_log_entry),
        _sdist,
        GITHUB,
        "attestation-material",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_same_verdict_as_pypi_attestations(case: Case, verifier: Verifier) -> None:
    attestation, dist = case.attestation(), case.dist()

    expected = pypi_verdict(attestation, dist, case.publisher)
    try:
        ours: tuple[str, dict[str, Any] | None] | None = verify_attestation(
            attestation, dist, case.publisher, verifier
        )
        rejected_by = None
    except VerificationError as e:
        ours, rejected_by = None, getattr(e, "check", None)

    assert ours == expected
    assert rejected_by == case.rejected_by
    if case.rejected_by is None:
        assert ours is not None
        assert ours[0] == case.predicate_type


def test_slsa_predicate_is_returned(verifier: Verifier) -> None:
    predicate_type, predicate = verify_attestation(
        load(f"{SDIST}.slsa.attestation"), _sdist(), GITHUB, verifier
    )
    assert predicate_type == SLSA_PROVENANCE_V1
    assert predicate is not None
    assert predicate["buildDefinition"]["externalParameters"]["workflow"] == {
        "ref": "refs/tags/v0.0.19",
        "repository": "https://github.com/trailofbits/pypi-attestations",
        "path": ".github/workflows/release.yml",
    }


_LEAVES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=5,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


_PUBLISH_DOCUMENT = json.loads((FIXTURES / f"{SDIST}.publish.attestation").read_bytes())
# Every place in the document, grouped by the part of the attestation it belongs to
# (most of them are inclusion proof hashes, which would otherwise dominate).
_PATH_GROUPS: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
for _where in _paths(_PUBLISH_DOCUMENT)[1:]:
    _PATH_GROUPS.setdefault(_where[:4], []).append(_where)
_EDIT_PLACES = st.sampled_from(list(_PATH_GROUPS.values())).flatmap(st.sampled_from)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=_EDIT_PLACES, value=_LEAVES)
def test_same_verdict_as_pypi_attestations_for_any_edit(
    where: tuple[Any, ...], value: Any, verifier: Verifier
) -> None:
    document = copy.deepcopy(_PUBLISH_DOCUMENT)
    node = document
    for step in where[:-1]:
        node = node[step]
    node[where[-1]] = value
    try:
        attestation = Attestation.model_validate(document)
    except ValueError:
        return  # PyPI rejects it as malformed before verifying: see the check_distribution tests
    dist = _sdist()

    assert our_verdict(attestation, dist, GITHUB, verifier) == pypi_verdict(
        attestation, dist, GITHUB
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_maps_to_the_library_and_back(kind: str) -> None:
    # A mismatch is explained with our class of the library's publisher: the two
    # must stay one-to-one, field for field.
    cls = KINDS[kind]
    ours = cls.from_options({field.option: _example(field.option) for field in cls.fields})
    library = ours.to_pypi()
    assert type(library) in typing.get_args(typing.get_args(Publisher)[0])
    assert from_pypi(library) == ours


def _example(option: str) -> str:
    return {
        "repository": "octo-org/demo",
        "workflow": "release.yml",
        "workflow-filepath": ".gitlab-ci.yml",
        "email": "release@demo.iam.gserviceaccount.com",
    }[option]


# --- Messages ------------------------------------------------------------------------


def _error(
    attestation: Attestation,
    dist: Distribution,
    publisher: Publisher | VerificationPolicy,
    verifier: Verifier,
) -> str:
    with pytest.raises(VerificationError) as info:
        verify_attestation(attestation, dist, publisher, verifier)
    return str(info.value)


def test_wrong_workflow_names_the_build_config_uri(verifier: Verifier) -> None:
    publisher = GitHubPublisher(repository="trailofbits/pypi-attestations", workflow="build.yml")
    message = _error(load(f"{SDIST}.publish.attestation"), _sdist(), publisher, verifier)
    expected_uri = "https://github.com/trailofbits/pypi-attestations/.github/workflows/build.yml"
    assert message == (
        "the attestation was not signed by the Trusted Publisher (GitHub repository "
        "trailofbits/pypi-attestations, workflow build.yml): Build Config URI is "
        f"'{SIGNER}', expected '{expected_uri}@08802efe1f8e5fec4ad842d6b8ce97656092ee72' "
        f"or '{expected_uri}@refs/tags/v0.0.19'. {FIX_PUBLISHER}"
    )


def test_wrong_repository_names_the_repository_and_the_case_rule(verifier: Verifier) -> None:
    publisher = GitHubPublisher(repository="TrailOfBits/pypi-attestations", workflow="release.yml")
    message = _error(load(f"{SDIST}.publish.attestation"), _sdist(), publisher, verifier)
    assert message.startswith(
        "the attestation was not signed by the Trusted Publisher (GitHub repository "
        "TrailOfBits/pypi-attestations, workflow release.yml): Source Repository URI is "
        "'https://github.com/trailofbits/pypi-attestations', expected "
        "'https://github.com/TrailOfBits/pypi-attestations' (they differ only in letter "
        "case, and PyPI compares them exactly); Build Config URI is "
    )
    assert message.endswith(FIX_PUBLISHER)


def test_wrong_issuer_names_issuer_and_repository(verifier: Verifier) -> None:
    message = _error(
        load(f"{GITLAB_SDIST}.publish.attestation"),
        _sdist(GITLAB_SDIST, GITLAB_SDIST),
        GitHubPublisher(repository="facutuesca/gitlab-oidc-project", workflow="release.yml"),
        verifier,
    )
    assert message.startswith(
        "the attestation was not signed by the Trusted Publisher (GitHub repository "
        "facutuesca/gitlab-oidc-project, workflow release.yml): OIDC issuer is "
        "'https://gitlab.com', expected 'https://token.actions.githubusercontent.com'; "
        "Source Repository URI is 'https://gitlab.com/facutuesca/gitlab-oidc-project', "
        "expected 'https://github.com/facutuesca/gitlab-oidc-project'; Build Config URI is "
        f"'{GITLAB_SIGNER}', expected "
    )


def test_google_publisher_names_issuer_and_identity(verifier: Verifier) -> None:
    message = _error(
        load(f"{SDIST}.publish.attestation"),
        _sdist(),
        GooglePublisher(email="release@project.iam.gserviceaccount.com"),
        verifier,
    )
    assert message == (
        "the attestation was not signed by the Trusted Publisher (Google service account "
        "release@project.iam.gserviceaccount.com): OIDC issuer is "
        "'https://token.actions.githubusercontent.com', expected "
        "'https://accounts.google.com'; signer identity (SAN) is "
        f"'{SIGNER}', expected 'release@project.iam.gserviceaccount.com'. {FIX_PUBLISHER}"
    )


def test_tampered_dist_gives_both_digests(verifier: Verifier) -> None:
    dist = _sdist(extra=b"\0")
    message = _error(load(f"{SDIST}.publish.attestation"), dist, GITHUB, verifier)
    assert message == (
        "the attestation covers sha256 "
        "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3, but "
        f"{SDIST} has sha256 {dist.digest}: the file changed after it was signed. Sign the "
        "file that you upload (do not rebuild or modify it after signing)"
    )


def test_other_file_names_both_files(verifier: Verifier) -> None:
    message = _error(
        load(f"{SDIST}.publish.attestation"),
        _sdist("pypi_attestations-0.0.19-py3-none-any.whl"),
        GITHUB,
        verifier,
    )
    assert message == (
        "the attestation is for 'pypi_attestations-0.0.19.tar.gz', not for "
        "'pypi_attestations-0.0.19-py3-none-any.whl'; every distribution file needs its "
        "own attestation"
    )


def test_altered_signature_says_what_to_do(verifier: Verifier) -> None:
    message = _error(
        _edit(f"{SDIST}.publish.attestation", _flip_signature), _sdist(), GITHUB, verifier
    )
    assert message.startswith("the signature does not verify: ")
    assert message.endswith(
        "The attestation was altered after signing, or it was made on another Sigstore "
        "instance than the one verified against; build again to re-create it"
    )


# --- PyPI's file name rules ----------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "pypi_attestations-0.0.19.tar.gz",
        "demo_pkg-1.0.post1.tar.gz",
        "demo_pkg-0.1.0-py3-none-any.whl",
        "demo_pkg-0.1.0-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        # PyPI compares a wheel's version with the metadata as a Version, unnormalised.
        "demo_pkg-1.0.0.RC1-py3-none-any.whl",
    ],
)
def test_dist_filenames_pypi_accepts(name: str) -> None:
    check_dist_filename(name)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "pypi-attestations-0.0.19.tar.gz",
            "PyPI rejects source distribution 'pypi-attestations-0.0.19.tar.gz': by PEP 625 "
            "it must be named 'pypi_attestations-0.0.19.tar.gz' (normalised project name and "
            "version). Build with a current build backend (hatchling >= 1.26 writes "
            "normalised names)",
        ),
        (
            "demo_pkg-1.0.0.RC1.tar.gz",
            "PyPI rejects source distribution 'demo_pkg-1.0.0.RC1.tar.gz': by PEP 625 it must "
            "be named 'demo_pkg-1.0.0rc1.tar.gz' (normalised project name and version). Build "
            "with a current build backend (hatchling >= 1.26 writes normalised names)",
        ),
        (
            "Demo.Pkg-0.1.0-py3-none-any.whl",
            "PyPI rejects 'Demo.Pkg-0.1.0-py3-none-any.whl': the project name must be written "
            "in normalised form, 'demo_pkg', not 'Demo.Pkg'. Build with a current build "
            "backend (hatchling >= 1.26 writes normalised names)",
        ),
        (
            "demo_pkg-0.1.0.zip",
            "PyPI rejects 'demo_pkg-0.1.0.zip': source distributions must be .tar.gz files "
            "(PEP 625)",
        ),
        (
            "demo_pkg-0.1.0.tar.bz2",
            "'demo_pkg-0.1.0.tar.bz2' is not a distribution: PyPI accepts only .whl and "
            ".tar.gz files",
        ),
        (
            "demo_pkg-0.1.0\t.tar.gz",
            "PyPI rejects file names with control characters: 'demo_pkg-0.1.0\\t.tar.gz'",
        ),
        (
            "demo_pkg-0.1.0\\x.tar.gz",
            "PyPI rejects file names containing '/' or '\\': 'demo_pkg-0.1.0\\\\x.tar.gz'",
        ),
    ],
)
def test_dist_filenames_pypi_rejects(name: str, message: str) -> None:
    with pytest.raises(DistributionError) as info:
        check_dist_filename(name)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("demo_pkg.tar.gz", "a source distribution is named <name>-<version>.tar.gz"),
        ("demo_pkg-one-two.tar.gz", "a source distribution is named <name>-<version>.tar.gz"),
        (
            "demo_pkg-0.1.0-py3-none.whl",
            "a wheel is named <name>-<version>[-<build>]-<python tag>-<abi tag>-<platform tag>.whl",
        ),
    ],
)
def test_unparseable_dist_filenames(name: str, form: str) -> None:
    # The middle part is packaging's own reason, whose wording varies by version.
    with pytest.raises(DistributionError) as info:
        check_dist_filename(name)
    assert str(info.value).startswith(f"PyPI rejects {name!r} (")
    assert str(info.value).endswith(f"): {form}")


# --- check_distribution --------------------------------------------------------------


def _dist_dir(
    tmp_path: Path, *attestations: str, dist: str = SDIST, rename: str | None = None
) -> Path:
    """Copy ``dist`` (as ``rename``) and the given attestation files into tmp_path."""
    target = tmp_path / (rename or dist)
    shutil.copyfile(FIXTURES / dist, target)
    for name in attestations:
        shutil.copyfile(FIXTURES / name, tmp_path / name.replace(dist, target.name, 1))
    return target


def _checks(report: DistributionReport) -> list[tuple[str, str]]:
    return [(finding.check, finding.path.name) for finding in report.findings]


def test_good_github_sdist_reports_the_signers(tmp_path: Path, verifier: Verifier) -> None:
    dist = _dist_dir(tmp_path, f"{SDIST}.publish.attestation", f"{SDIST}.slsa.attestation")

    report = check_distribution(dist, GITHUB, verifier)

    assert report.ok
    assert report.findings == ()
    assert report.sha256 == "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3"
    assert [path.name for path in report.attestations] == [
        f"{SDIST}.publish.attestation",
        f"{SDIST}.slsa.attestation",
    ]
    assert [
        (info.predicate_type, info.identity, info.claims["build_config_uri"], info.log_index)
        for info in report.verified
    ] == [(PUBLISH_V1, SIGNER, SIGNER, 153454663), (SLSA_PROVENANCE_V1, SIGNER, SIGNER, 153454647)]


def test_render_ok(tmp_path: Path, verifier: Verifier) -> None:
    dist = _dist_dir(tmp_path, f"{SDIST}.publish.attestation", f"{SDIST}.slsa.attestation")

    assert check_distribution(dist, GITHUB, verifier).render() == (
        f"{dist}: OK\n"
        f"  {SDIST}.publish.attestation: {PUBLISH_V1}, signed by {SIGNER}, "
        "Rekor log index 153454663\n"
        f"  {SDIST}.slsa.attestation: {SLSA_PROVENANCE_V1}, signed by {SIGNER}, "
        "Rekor log index 153454647"
    )


def test_render_rejected(tmp_path: Path, verifier: Verifier) -> None:
    dist = _dist_dir(tmp_path, f"{SDIST}.publish.attestation")
    (tmp_path / f"{SDIST}.slsa.attestation").write_text("{}")

    assert check_distribution(dist, GITHUB, verifier).render() == (
        f"{dist}: REJECTED\n"
        f"  {SDIST}.publish.attestation: {PUBLISH_V1}, signed by {SIGNER}, "
        "Rekor log index 153454663\n"
        f"  {SDIST}.slsa.attestation: not a PEP 740 attestation (version: Field required, and "
        "2 more problem(s)); PyPI rejects the upload as 'Malformed attestations'. Delete it "
        "and build again to re-create it [attestation-schema]"
    )


def test_good_gitlab_sdist(tmp_path: Path, verifier: Verifier) -> None:
    dist = _dist_dir(tmp_path, f"{GITLAB_SDIST}.publish.attestation", dist=GITLAB_SDIST)

    report = check_distribution(dist, GITLAB, verifier)

    assert report.ok
    assert [(info.identity, info.log_index) for info in report.verified] == [
        (GITLAB_SIGNER, 149945774)
    ]


def test_explicit_attestation_paths(tmp_path: Path, verifier: Verifier) -> None:
    dist = _dist_dir(tmp_path, f"{SDIST}.publish.attestation", f"{SDIST}.slsa.attestation")
    only = tmp_path / f"{SDIST}.slsa.attestation"

    report = check_distribution(dist, GITHUB, verifier, attestation_paths=[only])

    assert report.ok
    assert report.attestations == (only,)
    assert [info.predicate_type for info in report.verified] == [SLSA_PROVENANCE_V1]


def test_missing_attestation(tmp_path: Path, verifier: Verifier) -> None:
    dist = _dist_dir(tmp_path)

    report = check_distribution(dist, GITHUB, verifier)

    assert not report.ok
    assert report.findings == (
        Finding(
            "attestation-missing",
            dist,
            f"no attestation found (expected {SDIST}.publish.attestation next to it); "
            "`twine upload --attestations` refuses to upload a file without one",
        ),
    )


def test_missing_dist(tmp_path: Path, verifier: Verifier) -> None:
    report = check_distribution(tmp_path / SDIST, GITHUB, verifier)

    assert _checks(report) == [("dist-unreadable", SDIST)]
    assert report.findings[0].message == "cannot read the distribution: No such file or directory"


def test_tampered_dist_fails_every_attestation(tmp_path: Path, verifier: Verifier) -> None:
    dist = _dist_dir(tmp_path, f"{SDIST}.publish.attestation", f"{SDIST}.slsa.attestation")
    with dist.open("ab") as file:
        file.write(b"\0")

    report = check_distribution(dist, GITHUB, verifier)

    assert not report.ok
    assert _checks(report) == [
        ("attestation-digest", f"{SDIST}.publish.attestation"),
        ("attestation-digest", f"{SDIST}.slsa.attestation"),
    ]
    assert report.verified == ()


def test_wrong_publisher(tmp_path: Path, verifier: Verifier) -> None:
    dist = _dist_dir(tmp_path, f"{SDIST}.publish.attestation")
    publisher = GitHubPublisher(repository="trailofbits/pypi-attestations", workflow="ci.yml")

    report = check_distribution(dist, publisher, verifier)

    assert _checks(report) == [("attestation-publisher", f"{SDIST}.publish.attestation")]
    assert "Build Config URI is" in report.findings[0].message


@pytest.mark.parametrize(
    ("content", "check", "message"),
    [
        (
            b'{"version": 1, "envelope": {',
            "attestation-json",
            "not valid JSON (Expecting property name enclosed in double quotes: line 1 "
            "column 29 (char 28)); `twine upload --attestations` refuses it. Delete it and "
            "build again to re-create it",
        ),
        (
            b"",
            "attestation-json",
            "not valid JSON (Expecting value: line 1 column 1 (char 0)); `twine upload "
            "--attestations` refuses it. Delete it and build again to re-create it",
        ),
        (
            b"\xff\xfe\x00garbage\x80",
            "attestation-json",
            "not valid JSON ('utf-16-le' codec can't decode byte 0x80 in position 10: "
            "truncated data); `twine upload --attestations` refuses it. Delete it and build "
            "again to re-create it",
        ),
        (
            b'{"version": 1}',
            "attestation-schema",
            "not a PEP 740 attestation (verification_material: Field required, and 1 more "
            "problem(s)); PyPI rejects the upload as 'Malformed attestations'. Delete it and "
            "build again to re-create it",
        ),
        (
            b"[]",
            "attestation-schema",
            "not a PEP 740 attestation (top level: Input should be an object); PyPI rejects "
            "the upload as 'Malformed attestations'. Delete it and build again to re-create it",
        ),
    ],
    ids=["truncated", "empty", "binary", "incomplete", "array"],
)
def test_bad_attestation_files(
    tmp_path: Path, verifier: Verifier, content: bytes, check: str, message: str
) -> None:
    dist = _dist_dir(tmp_path)
    bad = tmp_path / f"{SDIST}.publish.attestation"
    bad.write_bytes(content)

    report = check_distribution(dist, GITHUB, verifier)

    assert report.findings == (Finding(check, bad, message),)


def test_truncated_real_attestation(tmp_path: Path, verifier: Verifier) -> None:
    dist = _dist_dir(tmp_path, f"{SDIST}.slsa.attestation")
    truncated = tmp_path / f"{SDIST}.publish.attestation"
    truncated.write_bytes((FIXTURES / truncated.name).read_bytes()[:4000])

    report = check_distribution(dist, GITHUB, verifier)

    assert _checks(report) == [("attestation-json", truncated.name)]
    assert [info.predicate_type for info in report.verified] == [SLSA_PROVENANCE_V1]


def test_unreadable_attestation(tmp_path: Path, verifier: Verifier) -> None:
    dist = _dist_dir(tmp_path)
    (tmp_path / f"{SDIST}.publish.attestation").mkdir()

    report = check_distribution(dist, GITHUB, verifier)

    assert _checks(report) == [("attestation-unreadable", f"{SDIST}.publish.attestation")]
    assert report.findings[0].message == "cannot read it: Is a directory"


def test_duplicate_predicate_type(tmp_path: Path, verifier: Verifier) -> None:
    dist = _dist_dir(tmp_path, f"{SDIST}.publish.attestation")
    shutil.copyfile(
        tmp_path / f"{SDIST}.publish.attestation", tmp_path / f"{SDIST}.publish2.attestation"
    )

    report = check_distribution(dist, GITHUB, verifier)

    assert report.findings == (
        Finding(
            "attestation-duplicate-type",
            tmp_path / f"{SDIST}.publish2.attestation",
            f"{SDIST}.publish.attestation already has predicate type {PUBLISH_V1}; PyPI "
            "accepts one attestation per predicate type for a file. Remove one of them",
        ),
    )
    assert len(report.verified) == 1


def test_more_than_two_attestations(tmp_path: Path, verifier: Verifier) -> None:
    dist = _dist_dir(tmp_path, f"{SDIST}.publish.attestation", f"{SDIST}.slsa.attestation")
    shutil.copyfile(tmp_path / f"{SDIST}.slsa.attestation", tmp_path / f"{SDIST}.x.attestation")

    report = check_distribution(dist, GITHUB, verifier)

    assert _checks(report) == [
        ("attestation-count", SDIST),
        ("attestation-duplicate-type", f"{SDIST}.x.attestation"),
    ]
    assert report.findings[0].message == (
        "3 attestation files for one distribution; PyPI accepts at most 2 (one publish/v1 "
        "and one SLSA provenance v1). Remove the extra files: twine uploads every "
        "<dist>.*.attestation"
    )


@pytest.mark.parametrize("name", [f"{SDIST}.attestation", f"{SDIST}.publish.v2.attestation"])
def test_attestation_names_uv_ignores(tmp_path: Path, verifier: Verifier, name: str) -> None:
    dist = _dist_dir(tmp_path)
    shutil.copyfile(FIXTURES / f"{SDIST}.publish.attestation", tmp_path / name)

    report = check_distribution(dist, GITHUB, verifier)

    assert report.findings == (
        Finding(
            "attestation-filename",
            tmp_path / name,
            "PyPI accepts this, but uv publish will not upload it (twine does): name the file "
            f"{SDIST}.<kind>.attestation, e.g. {SDIST}.publish.attestation",
            verify.WARNING,
        ),
    )
    # twine uploads it, and PyPI accepts it: the verdict is PyPI's.
    assert report.ok
    assert len(report.verified) == 1
    assert report.render().splitlines() == [
        f"{dist}: OK",
        f"  {name}: {PUBLISH_V1}, signed by {SIGNER}, Rekor log index 153454663",
        f"  {name}: warning: PyPI accepts this, but uv publish will not upload it (twine "
        f"does): name the file {SDIST}.<kind>.attestation, e.g. {SDIST}.publish.attestation "
        "[attestation-filename]",
    ]


def test_find_attestations_follows_twine(tmp_path: Path) -> None:
    for name in [
        SDIST,
        f"{SDIST}.publish.attestation",
        f"{SDIST}.slsa.attestation",
        f"{SDIST}.attestation",  # twine: matches *.*.attestation and the prefix
        f"{SDIST}.publish.attestation.bak",
        "pypi_attestations-0.0.19-py3-none-any.whl.publish.attestation",
        "other.publish.attestation",
    ]:
        (tmp_path / name).touch()

    assert [path.name for path in find_attestations(tmp_path / SDIST)] == [
        f"{SDIST}.attestation",
        f"{SDIST}.publish.attestation",
        f"{SDIST}.slsa.attestation",
    ]


def test_unnormalised_dist_name(tmp_path: Path, verifier: Verifier) -> None:
    dist = _dist_dir(
        tmp_path,
        f"{SDIST}.publish.attestation",
        rename="pypi-attestations-0.0.19.tar.gz",
    )

    report = check_distribution(dist, GITHUB, verifier)

    # PyPI refuses the file name; the attestation itself would verify.
    assert _checks(report) == [("dist-filename", "pypi-attestations-0.0.19.tar.gz")]
    assert len(report.verified) == 1


def test_unparseable_dist_name(tmp_path: Path, verifier: Verifier) -> None:
    dist = _dist_dir(tmp_path, f"{SDIST}.publish.attestation", rename="pypi_attestations.tar.gz")

    report = check_distribution(dist, GITHUB, verifier)

    assert _checks(report) == [("dist-filename", "pypi_attestations.tar.gz")]
    assert report.verified == ()


def test_non_empty_publish_predicate_is_a_warning() -> None:
    # The full path, signed and verified against the library, is in
    # test_verdict_is_pypis_for_a_non_empty_publish_predicate.
    path = Path("x.publish.attestation")
    assert verify._predicate_findings(path, PUBLISH_V1, None, {}) == []
    assert verify._predicate_findings(path, PUBLISH_V1, {}, {}) == []
    assert verify._predicate_findings(path, PUBLISH_V1, {"builder": "me"}, {}) == [
        Finding(
            "attestation-publish-predicate",
            path,
            f"PyPI accepts this, but the {PUBLISH_V1} predicate is defined to be empty (null "
            'or {}) and tools ignore what it holds; found {"builder": "me"}. Use the SLSA '
            "provenance predicate type for build provenance",
            verify.WARNING,
        )
    ]


def test_finding_str() -> None:
    finding = Finding("attestation-json", Path("dist/x.publish.attestation"), "not valid JSON")
    assert str(finding) == "dist/x.publish.attestation: not valid JSON [attestation-json]"
    warning = Finding("staging-leftover", Path("dist/.x.tmp"), "remove it", verify.WARNING)
    assert str(warning) == "dist/.x.tmp: warning: remove it [staging-leftover]"


@settings(max_examples=40, deadline=None)
@given(content=st.binary(max_size=300) | _LEAVES.map(lambda v: json.dumps(v).encode()))
def test_never_raises_on_arbitrary_files(
    content: bytes, tmp_path_factory: pytest.TempPathFactory, verifier: Verifier
) -> None:
    directory = tmp_path_factory.mktemp("fuzz")
    dist = _dist_dir(directory)
    (directory / f"{SDIST}.publish.attestation").write_bytes(content)

    report = check_distribution(dist, GITHUB, verifier)

    assert not report.ok
    assert {finding.check for finding in report.findings} <= {
        "attestation-json",
        "attestation-schema",
    }


# --- The verdict is PyPI's: twine's file selection, warehouse's rules, the library's verify ---


def pypi_accepts(dist: Path, publisher: Publisher | VerificationPolicy) -> bool:
    """Would ``twine upload --attestations dist/*`` to PyPI accept ``dist``?

    twine sends every ``<dist>.*.attestation`` among its inputs (and refuses a file
    without one); warehouse (``IntegrityService.parse_attestations``) then parses
    the list, allows at most 2, runs ``Attestation.verify`` on each, and refuses
    unsupported or repeated predicate types. It never reads the predicate.
    """
    paths = [
        p
        for p in dist.parent.iterdir()
        if p.name.startswith(f"{dist.name}.") and p.name.endswith(".attestation")
    ]
    if not paths:
        return False
    try:
        attestations = [Attestation.model_validate_json(p.read_bytes()) for p in paths]
    except ValueError:
        return False
    if len(attestations) > len(verify.SUPPORTED_PREDICATE_TYPES):
        return False
    seen: set[str] = set()
    for attestation in attestations:
        result = pypi_verdict(attestation, Distribution.from_file(dist), publisher)
        if result is None or result[0] not in verify.SUPPORTED_PREDICATE_TYPES:
            return False
        if result[0] in seen:
            return False
        seen.add(result[0])
    return True


def _copy_as(tmp_path: Path, source: str, name: str) -> None:
    shutil.copyfile(FIXTURES / source, tmp_path / name)


VERDICT_CASES: dict[str, tuple[list[tuple[str, str]], bool]] = {
    # id: ([(fixture, copied as)], whether the distribution file is altered)
    "publish-and-slsa": (
        [(f"{SDIST}.publish.attestation",) * 2, (f"{SDIST}.slsa.attestation",) * 2],
        False,
    ),
    "two-part-kind": ([(f"{SDIST}.publish.attestation", f"{SDIST}.foo.bar.attestation")], False),
    "two-part-kind-beside-slsa": (
        [
            (f"{SDIST}.slsa.attestation",) * 2,
            (f"{SDIST}.publish.attestation", f"{SDIST}.foo.bar.attestation"),
        ],
        False,
    ),
    "no-kind": ([(f"{SDIST}.publish.attestation", f"{SDIST}.attestation")], False),
    "same-type-twice": (
        [
            (f"{SDIST}.publish.attestation",) * 2,
            (f"{SDIST}.publish.attestation", f"{SDIST}.foo.bar.attestation"),
        ],
        False,
    ),
    "three-files": (
        [
            (f"{SDIST}.publish.attestation",) * 2,
            (f"{SDIST}.slsa.attestation",) * 2,
            (f"{SDIST}.slsa.attestation", f"{SDIST}.x.y.attestation"),
        ],
        False,
    ),
    "altered-dist": ([(f"{SDIST}.publish.attestation", f"{SDIST}.a.b.attestation")], True),
}


@pytest.mark.parametrize("case", sorted(VERDICT_CASES))
def test_verdict_is_pypis(case: str, tmp_path: Path, verifier: Verifier) -> None:
    copies, altered = VERDICT_CASES[case]
    dist = _dist_dir(tmp_path)
    for source, name in copies:
        _copy_as(tmp_path, source, name)
    if altered:
        dist.write_bytes(dist.read_bytes() + b"\0")

    report = check_distribution(dist, GITHUB, verifier)

    assert report.ok == pypi_accepts(dist, GITHUB)
    assert report.render().startswith(f"{dist}: {'OK' if report.ok else 'REJECTED'}\n")
    # What PyPI accepts but something else does not is said, as a warning.
    assert all(w.message.startswith("PyPI accepts this, but ") for w in report.warnings)
    expected_ok = case in {
        "publish-and-slsa",
        "two-part-kind",
        "two-part-kind-beside-slsa",
        "no-kind",
    }
    assert report.ok is expected_ok


def test_verdict_is_pypis_for_a_non_empty_publish_predicate(
    tmp_path: Path, local_sigstore: LocalSigstore, sigstore_github_identity: GitHubIdentity
) -> None:
    # No public attestation has such a predicate: sign one on the local instance, and
    # let the library judge it against the local trusted root.
    from .test_cli import sign_statement

    wheel = fake_wheel(tmp_path)
    signed = sign_statement(
        local_sigstore, sigstore_github_identity, wheel, PUBLISH_V1, {"by": "me"}
    )
    (tmp_path / f"{wheel.name}.publish.attestation").write_text(signed.model_dump_json())
    publisher = GitHubPublisher(
        repository=sigstore_github_identity.repository, workflow=sigstore_github_identity.workflow
    )
    config = ClientTrustConfig.from_json(local_sigstore.trust_config_path.read_text())
    local = Verifier(trusted_root=config.trusted_root)

    report = check_distribution(wheel, publisher, local)
    with pytest.MonkeyPatch.context() as mp:
        # `Attestation.verify` always builds the production verifier.
        mp.setattr(Verifier, "production", lambda *_, **__: local)
        accepted = pypi_accepts(wheel, publisher)

    assert accepted
    assert report.ok
    assert [(f.check, f.severity) for f in report.findings] == [
        ("attestation-publish-predicate", verify.WARNING)
    ]
    assert report.render().splitlines()[0] == f"{wheel}: OK"
    assert (
        report.render()
        .splitlines()[-1]
        .startswith(
            f"  {wheel.name}.publish.attestation: warning: PyPI accepts this, but the {PUBLISH_V1} "
            "predicate is defined to be empty"
        )
    )
