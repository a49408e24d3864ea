"""``hatch publish -p attest``: how hatch finds it, and how it reads its settings.

The uploads themselves are tested end to end with the real hatch CLI in
tests/e2e/test_hatch_publish.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import pytest

from hatch_attest._hatch_publisher import AttestPublisher
from hatch_attest._uploading import PYPI_UPLOAD_URL, TEST_PYPI_UPLOAD_URL
from hatch_attest.errors import PublishError
from hatch_attest_testing import run_bounded


def publisher(
    tmp_path: Path, project: dict[str, Any] | None = None, user: dict[str, Any] | None = None
) -> AttestPublisher:
    # hatch's PublisherInterface.__init__ has no annotations.
    return AttestPublisher(  # type: ignore[no-untyped-call]
        None, tmp_path, tmp_path / "cache", project or {}, user or {}
    )


def test_hatch_finds_the_attest_publisher() -> None:
    """hatch's own plugin manager, through this package's `hatch` entry point."""
    from hatch.plugin.manager import PluginManager

    assert PluginManager().publisher.collect()["attest"] is AttestPublisher


def test_build_hook_registration_does_not_import_the_publisher() -> None:
    """hatchling imports hooks.py in every build: no hatch, twine or sigstore there."""
    heavy = ["hatch", "hatch_attest._hatch_publisher", "twine", "sigstore", "requests"]
    code = f"import sys, hatch_attest.hooks; print(sorted(set({heavy}) & set(sys.modules)))"
    result = run_bounded([sys.executable, "-c", code], timeout=60, check=True)
    assert result.stdout == "[]\n"


def test_defaults_upload_dist_to_pypi(tmp_path: Path) -> None:
    request = publisher(tmp_path).request([], {"no_prompt": False})

    assert request.url == PYPI_UPLOAD_URL
    assert request.artifacts == [tmp_path / "dist"]
    assert request.user is None
    assert request.auth is None
    assert request.attestations is True


def test_options_override_flags_override_project_override_user_config(tmp_path: Path) -> None:
    pub = publisher(
        tmp_path,
        project={"repo": "test", "user": "project-user", "attestations": True},
        user={"repo": "main", "user": "global-user", "ca-cert": "/ca.pem"},
    )
    # hatch parses -r/-u/-a into its command's parameters, and passes only -o to plugins.
    command = click.Command("publish")
    with click.Context(command) as context:
        context.params.update({"repo": None, "user": "flag-user", "auth": None})
        request = pub.request(["out"], {"no_prompt": True, "attestations": "false"})

    assert request.url == TEST_PYPI_UPLOAD_URL
    assert request.user == "flag-user"
    assert request.ca_cert == "/ca.pem"
    assert request.no_prompt is True
    assert request.attestations is False
    assert request.artifacts == [tmp_path / "out"]


def test_named_repository_brings_its_own_settings(tmp_path: Path) -> None:
    pub = publisher(
        tmp_path,
        project={"repo": "corp", "repos": {"corp": {"url": "https://corp/legacy/", "user": "u"}}},
    )

    request = pub.request([], {"no_prompt": False})

    assert (request.url, request.user) == ("https://corp/legacy/", "u")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"repo": "nowhere"}, "unknown repository 'nowhere': use one of main, test, or a URL"),
        ({"attestation": "no"}, "unknown option(s) attestation for `hatch publish -p attest`"),
        ({"attestations": "maybe"}, "attestations must be true or false, not 'maybe'"),
        ({"client_key": "/key.pem"}, "--client-key is not supported by `-p attest`"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(
    tmp_path: Path, options: dict[str, str], message: str
) -> None:
    with pytest.raises(PublishError) as error:
        publisher(tmp_path).request([], {"no_prompt": False, **options})
    assert message in str(error.value)


def test_no_distributions_is_refused_before_any_request(tmp_path: Path) -> None:
    from hatch_attest._uploading import plan

    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "notes.txt").write_text("")
    request = publisher(tmp_path).request([], {"no_prompt": False})

    with pytest.raises(PublishError, match=r"no wheels or sdists to upload in .*dist"):
        plan(request, env={})
