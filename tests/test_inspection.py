"""hatch_attest._inspection: the unverified, human-readable view of an attestation file."""

from __future__ import annotations

import base64
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from hatch_attest._inspection import AttestationInfo, describe, render_text
from hatch_attest.errors import DistributionError, VerificationError

FIXTURES = Path(__file__).parent / "fixtures" / "real-attestations"
PUBLISH = FIXTURES / "pypi_attestations-0.0.19.tar.gz.publish.attestation"
GITLAB = FIXTURES / "gitlab_oidc_project-0.0.3.tar.gz.publish.attestation"

GITHUB_WORKFLOW = (
    "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml"
    "@refs/tags/v0.0.19"
)
GITHUB_SHA = "08802efe1f8e5fec4ad842d6b8ce97656092ee72"

PUBLISH_JSON: dict[str, Any] = {
    "path": str(PUBLISH),
    "subject": {
        "name": "pypi_attestations-0.0.19.tar.gz",
        "sha256": "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3",
    },
    "predicate_type": "https://docs.pypi.org/attestations/publish/v1",
    "identity": GITHUB_WORKFLOW,
    "claims": {
        "issuer": "https://token.actions.githubusercontent.com",
        "build_signer_uri": GITHUB_WORKFLOW,
        "build_signer_digest": GITHUB_SHA,
        "runner_environment": "github-hosted",
        "source_repository_uri": "https://github.com/trailofbits/pypi-attestations",
        "source_repository_digest": GITHUB_SHA,
        "source_repository_ref": "refs/tags/v0.0.19",
        "source_repository_identifier": "772247423",
        "source_repository_owner_uri": "https://github.com/trailofbits",
        "source_repository_owner_identifier": "2314423",
        "build_config_uri": GITHUB_WORKFLOW,
        "build_config_digest": GITHUB_SHA,
        "build_trigger": "release",
        "run_invocation_uri": (
            "https://github.com/trailofbits/pypi-attestations/actions/runs/12169989787/attempts/1"
        ),
        "source_repository_visibility": "public",
    },
    "predicate": {},
    "rekor": {"log_index": 153454663, "integrated_time": "2024-12-04T23:14:01Z"},
}


def test_github_publish_attestation_round_trips_through_json() -> None:
    info = describe(PUBLISH)

    assert json.loads(json.dumps(info.to_json_dict())) == PUBLISH_JSON
    # Claim order follows Fulcio's OIDs, so the JSON reads like the certificate.
    assert list(info.to_json_dict()["claims"]) == list(PUBLISH_JSON["claims"])


def test_fields() -> None:
    info = describe(PUBLISH)

    assert info.issuer == "https://token.actions.githubusercontent.com"
    assert info.claims["source_repository_uri"] == (
        "https://github.com/trailofbits/pypi-attestations"
    )
    assert info.integrated_time == datetime(2024, 12, 4, 23, 14, 1, tzinfo=timezone.utc)
    with pytest.raises(AttributeError):
        info.log_index = 0  # type: ignore[misc]


def test_gitlab_attestation() -> None:
    info = describe(GITLAB)

    assert info.subject_name == "gitlab_oidc_project-0.0.3.tar.gz"
    assert info.identity == (
        "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main"
    )
    assert {
        name: info.claims[name]
        for name in (
            "issuer",
            "source_repository_uri",
            "source_repository_ref",
            "runner_environment",
            "source_repository_visibility",
        )
    } == {
        "issuer": "https://gitlab.com",
        "source_repository_uri": "https://gitlab.com/facutuesca/gitlab-oidc-project",
        "source_repository_ref": "refs/heads/main",
        "runner_environment": "gitlab-hosted",
        "source_repository_visibility": "private",
    }
    assert (info.log_index, info.to_json_dict()["rekor"]["integrated_time"]) == (
        149945774,
        "2024-11-19T17:37:00Z",
    )


def test_render_text_says_unverified_first() -> None:
    text = render_text(describe(PUBLISH))

    assert text.splitlines()[0] == (
        "UNVERIFIED: shown as written in the file; anyone can write these values."
    )
    assert f"Signer identity: {GITHUB_WORKFLOW}\n" in text
    assert (
        "  Source Repository URI:                   "
        "https://github.com/trailofbits/pypi-attestations\n"
    ) in text
    assert "  Source Repository Visibility At Signing: public\n" in text
    assert text.endswith("Rekor log index: 153454663 (integrated 2024-12-04T23:14:01Z)\n")


def test_render_text_without_claims(tmp_path: Path) -> None:
    info = AttestationInfo(
        path=tmp_path / "x.publish.attestation",
        subject_name="x-1.0.tar.gz",
        subject_sha256=None,
        predicate_type="https://docs.pypi.org/attestations/publish/v1",
        identity=None,
        claims={},
        log_index=7,
        integrated_time=datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    )

    text = render_text(info)

    assert "Certificate claims" not in text
    assert "SHA-256:         (none)\n" in text
    assert "Signer identity: (none)\n" in text
    assert text.endswith("Rekor log index: 7 (integrated 2025-01-02T03:04:05Z)\n")


# --- Errors: clear messages, never a traceback ----------------------------------------


def _write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "x-1.0.tar.gz.publish.attestation"
    path.write_text(json.dumps(document))
    return path


def _edited(change: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(PUBLISH.read_bytes())
    change(document)
    return document


def _refusal(path: Path) -> str:
    """The message `describe` refuses the file with."""
    with pytest.raises(VerificationError) as info:
        describe(path)
    return str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing.publish.attestation"
    with pytest.raises(DistributionError) as info:
        describe(path)
    assert str(info.value) == f"{path}: cannot read it: No such file or directory"


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "x.publish.attestation"
    shutil.copyfile(PUBLISH, path)
    path.write_bytes(path.read_bytes()[:100])
    assert _refusal(path) == (
        f"{path} is not a PEP 740 attestation (top level: Invalid JSON: EOF while parsing a "
        "string at line 1 column 100); PyPI would reject it. Delete it and build again to "
        "re-create it"
    )


def test_wrong_shape(tmp_path: Path) -> None:
    path = _write(tmp_path, {"version": 1, "envelope": {}, "verification_material": {}})
    assert _refusal(path) == (
        f"{path} is not a PEP 740 attestation (verification_material.certificate: Field "
        "required, and 3 more problem(s)); PyPI would reject it. Delete it and build again "
        "to re-create it"
    )


def test_statement_not_json(tmp_path: Path) -> None:
    def change(document: dict[str, Any]) -> None:
        document["envelope"]["statement"] = base64.b64encode(b"{not json").decode()

    path = _write(tmp_path, _edited(change))
    assert _refusal(path) == (
        f"{path}: the signed statement is not JSON (Expecting property name enclosed in "
        "double quotes: line 1 column 2 (char 1))"
    )


def test_two_subjects(tmp_path: Path) -> None:
    def change(document: dict[str, Any]) -> None:
        statement = json.loads(base64.b64decode(document["envelope"]["statement"]))
        statement["subject"] *= 2
        document["envelope"]["statement"] = base64.b64encode(json.dumps(statement).encode())
        document["envelope"]["statement"] = document["envelope"]["statement"].decode()

    path = _write(tmp_path, _edited(change))
    assert _refusal(path) == (
        f"{path}: the statement has 2 subjects; a PEP 740 attestation has exactly one"
    )


def test_certificate_not_der(tmp_path: Path) -> None:
    def change(document: dict[str, Any]) -> None:
        document["verification_material"]["certificate"] = base64.b64encode(b"junk").decode()

    path = _write(tmp_path, _edited(change))
    assert _refusal(path).startswith(
        f"{path}: the signing certificate is not a DER X.509 certificate ("
    )


def test_log_entry_without_index(tmp_path: Path) -> None:
    def change(document: dict[str, Any]) -> None:
        del document["verification_material"]["transparency_entries"][0]["logIndex"]

    path = _write(tmp_path, _edited(change))
    assert _refusal(path) == (
        f"{path}: the transparency log entry has no valid logIndex/integratedTime "
        "(KeyError('logIndex'))"
    )
