"""Predicates without signing: which identities can have provenance, and how it reads."""

from __future__ import annotations

import pytest

from hatch_attest._kinds.gitlab import GITLAB_BUILD_TYPE
from hatch_attest._predicates import PUBLISH, SLSA_PROVENANCE
from hatch_attest.errors import PredicateError
from hatch_attest_testing import GitHubIdentity, GitLabIdentity


def test_provenance_needs_a_ci_identity() -> None:
    google = {"iss": "https://accounts.google.com", "email": "release@proj.iam.gserviceaccount.com"}
    with pytest.raises(PredicateError) as google_error:
        SLSA_PROVENANCE.build(google)
    assert str(google_error.value) == (
        "SLSA provenance cannot be made for a Google Cloud identity: its token names a service "
        "account, not the repository, commit or build configuration that provenance "
        'describes; use `predicate = "publish"` instead'
    )

    with pytest.raises(PredicateError) as circleci:
        SLSA_PROVENANCE.build({"iss": "https://oidc.circleci.com/org/1"})
    assert str(circleci.value) == (
        "SLSA provenance is made for GitHub Actions and GitLab CI identities only; this token "
        "was issued by 'https://oidc.circleci.com/org/1'; use `predicate = \"publish\"` instead"
    )

    incomplete = {k: v for k, v in GitHubIdentity().claims().items() if k != "run_attempt"}
    with pytest.raises(PredicateError) as missing:
        SLSA_PROVENANCE.build(incomplete)
    assert str(missing.value) == (
        "the identity token has no 'run_attempt' claim, which SLSA provenance needs; "
        'use `predicate = "publish"` instead'
    )


def test_a_gitlab_ci_configuration_from_another_project_is_refused() -> None:
    claims = {
        **GitLabIdentity(project_path="octo-group/app").claims(),
        "ci_config_ref_uri": "gitlab.com/octo-group/ci-templates//release.yml@refs/heads/main",
    }

    with pytest.raises(PredicateError, match="is not a file of the project octo-group/app"):
        SLSA_PROVENANCE.build(claims)


def test_describe_shows_the_provenance_for_inspect() -> None:
    github = GitHubIdentity(repository="octo-org/demo", ref="refs/tags/v1.0", run_id="42")
    gitlab = GitLabIdentity(project_path="octo-group/demo", ref="v1.0", ref_type="tag")

    assert SLSA_PROVENANCE.describe(SLSA_PROVENANCE.build(github.claims())) == [
        ("Build type", "https://actions.github.io/buildtypes/workflow/v1"),
        ("Repository", "https://github.com/octo-org/demo"),
        ("Workflow", ".github/workflows/release.yml"),
        ("Ref", "refs/tags/v1.0"),
        ("Commit", github.sha),
        (
            "Builder",
            "https://github.com/octo-org/demo/.github/workflows/release.yml@refs/tags/v1.0",
        ),
        ("Run", "https://github.com/octo-org/demo/actions/runs/42/attempts/1"),
    ]
    assert SLSA_PROVENANCE.describe(SLSA_PROVENANCE.build(gitlab.claims())) == [
        ("Build type", GITLAB_BUILD_TYPE),
        ("Repository", "https://gitlab.com/octo-group/demo"),
        ("CI configuration", ".gitlab-ci.yml"),
        ("Ref", "refs/tags/v1.0"),
        ("Commit", gitlab.sha),
        ("Builder", "https://gitlab.com/octo-group/demo/-/runners/1"),
        ("Run", f"https://gitlab.com/octo-group/demo/-/jobs/{gitlab.job_id}"),
    ]
    assert SLSA_PROVENANCE.describe({"buildDefinition": "not a mapping"}) == []
    assert PUBLISH.describe(None) == []
