"""``[tool.hatch.build.hooks.attest]``: good tables, exact error lists, environment overrides."""

from __future__ import annotations

import datetime
import math
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hatch_attest._config import (
    HATCHLING_HOOK_OPTIONS,
    MAX_TIMEOUT,
    OPTIONS,
    AttestConfig,
    load_config,
)
from hatch_attest._kinds import (
    ExpectedPublisher,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
)
from hatch_attest.errors import ConfigError
from hatch_attest_testing import run_bounded

P = "tool.hatch.build.hooks.attest"
ROOT = Path("/srv/project")
ENV_VARS = (
    "HATCH_ATTEST_MODE",
    "HATCH_ATTEST_TRUST_CONFIG",
    "HATCH_ATTEST_TIMEOUT",
    "HATCH_ATTEST_PREDICATE",
)
KINDS = '"github", "gitlab", "google"'
VALID_OPTIONS = (
    '"mode", "instance", "trust-config", "publisher", "timeout", "allow-private-repository", '
    '"predicate"'
)
TIMEOUT_EXPECTED = "must be a number of seconds, more than 0 and at most 3600"


def load(table: dict[str, Any], env: dict[str, str] | None = None) -> AttestConfig:
    return load_config(table, root=ROOT, env=env or {})


def errors_of(table: Any, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(table, root=ROOT, env=env or {})
    assert str(info.value) == "\n".join(info.value.errors)
    return info.value.errors


class TestValid:
    def test_empty_table_is_all_defaults(self) -> None:
        assert load({}) == AttestConfig()
        assert AttestConfig() == AttestConfig(
            mode="auto",
            instance="production",
            trust_config=None,
            publisher=None,
            timeout=120.0,
            allow_private_repository=False,
        )

    def test_everything(self) -> None:
        table = {
            "mode": "always",
            "instance": "staging",
            "publisher": {
                "kind": "github",
                "repository": "octo-org/demo",
                "workflow": "release.yml",
            },
            "timeout": 30,
            "allow-private-repository": True,
        }
        assert load(table) == AttestConfig(
            mode="always",
            instance="staging",
            publisher=GitHubPublisher(repository="octo-org/demo", workflow="release.yml"),
            timeout=30.0,
            allow_private_repository=True,
        )

    @pytest.mark.parametrize("mode", ["auto", "always", "never"])
    def test_modes(self, mode: str) -> None:
        assert load({"mode": mode}).mode == mode

    @pytest.mark.parametrize(
        ("value", "path"),
        [
            ("sigstore/trust_config.json", ROOT / "sigstore" / "trust_config.json"),
            ("./trust.json", ROOT / "trust.json"),
            ("../shared/trust.json", Path("/srv/shared/trust.json")),
            ("/etc/sigstore/trust.json", Path("/etc/sigstore/trust.json")),
        ],
    )
    def test_trust_config_is_resolved_against_the_root(self, value: str, path: Path) -> None:
        assert load({"trust-config": value}) == AttestConfig(trust_config=path)

    def test_trust_config_need_not_exist(self, tmp_path: Path) -> None:
        config = load_config({"trust-config": "missing.json"}, root=tmp_path, env={})
        assert config.trust_config == tmp_path / "missing.json"
        assert not config.trust_config.exists()

    @pytest.mark.parametrize(
        ("publisher", "expected"),
        [
            (
                {"kind": "github", "repository": "octo-org/demo", "workflow": "release.yaml"},
                GitHubPublisher(repository="octo-org/demo", workflow="release.yaml"),
            ),
            (
                {"kind": "gitlab", "repository": "group/sub/demo", "workflow-filepath": "ci/r.yml"},
                GitLabPublisher(repository="group/sub/demo", workflow_filepath="ci/r.yml"),
            ),
            (
                {"kind": "google", "email": "release@demo.iam.gserviceaccount.com"},
                GooglePublisher(email="release@demo.iam.gserviceaccount.com"),
            ),
        ],
    )
    def test_publishers(self, publisher: dict[str, str], expected: ExpectedPublisher) -> None:
        assert load({"publisher": publisher}) == AttestConfig(publisher=expected)

    @pytest.mark.parametrize(("value", "seconds"), [(1, 1.0), (0.5, 0.5), (3600, 3600.0)])
    def test_timeout(self, value: float, seconds: float) -> None:
        timeout = load({"timeout": value}).timeout
        assert timeout == seconds
        assert type(timeout) is float

    def test_hatchling_options_are_left_to_hatchling(self) -> None:
        table = {
            "dependencies": ["cowsay"],
            "enable-by-default": False,
            "require-runtime-dependencies": True,
            "require-runtime-features": ["cli"],
            "mode": "never",
        }
        assert load(table) == AttestConfig(mode="never")

    def test_the_table_is_not_modified(self) -> None:
        publisher = {"kind": "github", "repository": "octo-org/demo", "workflow": "release.yml"}
        table: dict[str, Any] = {"publisher": publisher, "timeout": 9}
        load(table)
        assert table == {"publisher": dict(publisher), "timeout": 9}


class TestErrors:
    """Exact error lists: every problem at once, each under its full TOML path."""

    def test_not_a_table(self) -> None:
        assert errors_of(["mode"]) == [f'{P}: must be a table, not ["mode"]']

    def test_unknown_options(self) -> None:
        table = {"mdoe": "auto", "trust_config": "x.json", "dependency": [], "colour": "blue"}
        assert errors_of(table) == [
            f'{P}.mdoe: unknown option; did you mean "mode"?',
            f'{P}.trust_config: unknown option; did you mean "trust-config"?',
            f'{P}.dependency: unknown option; did you mean "dependencies"?',
            f"{P}.colour: unknown option; valid options are {VALID_OPTIONS}",
        ]

    @pytest.mark.parametrize(
        ("value", "predicates"),
        [
            ("auto", ("auto",)),
            ("publish", ("publish",)),
            ("slsa-provenance", ("slsa-provenance",)),
            ("both", ("publish", "slsa-provenance")),
            (["slsa-provenance", "publish"], ("publish", "slsa-provenance")),
            (["slsa-provenance"], ("slsa-provenance",)),
        ],
    )
    def test_predicate(self, value: object, predicates: tuple[str, ...]) -> None:
        assert load({"predicate": value}).predicate == predicates

    @pytest.mark.parametrize(
        ("value", "shown"),
        [
            ("slsa", '"slsa"'),
            ([], "[]"),
            (["publish", "publish"], '["publish", "publish"]'),
            (["auto"], '["auto"]'),
            (1, "1"),
        ],
    )
    def test_bad_predicate(self, value: object, shown: str) -> None:
        assert errors_of({"predicate": value}) == [
            f'{P}.predicate: must be one of "auto", "publish", "slsa-provenance", "both", or '
            f'an array of "publish", "slsa-provenance" without repeats, not {shown}'
        ]

    def test_predicate_environment_override(self) -> None:
        env = {"HATCH_ATTEST_PREDICATE": "both"}
        assert load({"predicate": "publish"}, env).predicate == ("publish", "slsa-provenance")

    def test_odd_keys_are_quoted(self) -> None:
        assert errors_of({"my key": 1, "a.b": 2}) == [
            f'{P}."my key": unknown option; valid options are {VALID_OPTIONS}',
            f'{P}."a.b": unknown option; valid options are {VALID_OPTIONS}',
        ]

    def test_bad_values(self) -> None:
        table = {
            "mode": "sometimes",
            "instance": "prod",
            "timeout": "30",
            "allow-private-repository": "yes",
        }
        assert errors_of(table) == [
            f'{P}.mode: must be one of "auto", "always", "never", not "sometimes"',
            f'{P}.instance: must be one of "production", "staging", not "prod"',
            f'{P}.timeout: {TIMEOUT_EXPECTED}, not "30"',
            f'{P}.allow-private-repository: must be a boolean (true or false), not "yes"',
        ]

    @pytest.mark.parametrize(
        ("value", "shown"),
        [
            (True, "true"),
            (0, "0"),
            (-5, "-5"),
            (3600.5, "3600.5"),
            (math.inf, "inf"),
            (math.nan, "nan"),
            (10**400, "a very large integer"),
            ([30], "[30]"),
            ({"seconds": 30}, "{ seconds = 30 }"),
        ],
    )
    def test_bad_timeouts(self, value: object, shown: str) -> None:
        assert errors_of({"timeout": value}) == [f"{P}.timeout: {TIMEOUT_EXPECTED}, not {shown}"]

    @pytest.mark.parametrize(
        ("value", "shown"),
        [("", '""'), ("   ", '"   "'), (42, "42"), (["a.json"], '["a.json"]')],
    )
    def test_bad_trust_config(self, value: object, shown: str) -> None:
        assert errors_of({"trust-config": value}) == [
            f"{P}.trust-config: must be the path of a sigstore trust config JSON file, "
            f"relative to the project root, not {shown}"
        ]

    def test_instance_and_trust_config_exclude_each_other(self) -> None:
        assert errors_of({"instance": "staging", "trust-config": "trust.json"}) == [
            f'{P}: set "instance" or "trust-config", not both (found instance = "staging" and '
            'trust-config = "trust.json"); a trust config already names its Sigstore instance'
        ]

    def test_found_values_are_shown_as_toml_and_shortened(self) -> None:
        table = {
            "mode": {"a": [1, 2.5, True], "b": {"c": {"d": 1}}},
            "instance": datetime.datetime(2024, 5, 1, 12, 30),
            "allow-private-repository": ["x" * 100],
            "timeout": [[[1]], [], {}, 4, 5],
        }
        assert errors_of(table) == [
            f'{P}.mode: must be one of "auto", "always", "never", '
            "not { a = [1, 2.5, true], b = { c = { ... } } }",
            f'{P}.instance: must be one of "production", "staging", not 2024-05-01T12:30:00',
            f'{P}.allow-private-repository: must be a boolean (true or false), not ["{"x" * 55}...',
            f"{P}.timeout: {TIMEOUT_EXPECTED}, not [[[...]], [], {{}}, 4, ...]",
        ]

    def test_publisher_not_a_table(self) -> None:
        assert errors_of({"publisher": "github:octo-org/demo@release.yml"}) == [
            f"{P}.publisher: must be a table such as "
            '{ kind = "github", repository = "OWNER/REPO", workflow = "release.yml" }, '
            'not "github:octo-org/demo@release.yml"'
        ]

    def test_publisher_without_kind(self) -> None:
        assert errors_of({"publisher": {"repository": "octo-org/demo", "workflfow": "r.yml"}}) == [
            f"{P}.publisher.kind: missing; must be one of {KINDS}",
            f'{P}.publisher.workflfow: unknown option; did you mean "workflow"?',
        ]

    @pytest.mark.parametrize(
        ("kind", "message"),
        [
            ('"gihtub"', f'must be one of {KINDS}, not "gihtub"; did you mean "github"?'),
            ('"GitLab"', f'must be one of {KINDS}, not "GitLab"; did you mean "gitlab"?'),
            ('"circleci"', f'must be one of {KINDS}, not "circleci"'),
            ("1", f"must be one of {KINDS}, not 1"),
        ],
    )
    def test_publisher_unknown_kind(self, kind: str, message: str) -> None:
        value: object = int(kind) if kind.isdigit() else kind.strip('"')
        # With no valid kind, the other keys cannot be judged beyond being known at all.
        table = {"publisher": {"kind": value, "repository": 42, "email": "x", "wat": 1}}
        assert errors_of(table) == [
            f"{P}.publisher.kind: {message}",
            f"{P}.publisher.wat: unknown option; valid options are "
            '"email", "repository", "workflow", "workflow-filepath", "kind"',
        ]

    def test_publisher_missing_options(self) -> None:
        assert errors_of({"publisher": {"kind": "github"}}) == [
            f'{P}.publisher.repository: missing; kind = "github" needs the repository as '
            '"OWNER/REPO"',
            f'{P}.publisher.workflow: missing; kind = "github" needs the workflow\'s file name, '
            'e.g. "release.yml"',
        ]
        assert errors_of({"publisher": {"kind": "gitlab"}}) == [
            f'{P}.publisher.repository: missing; kind = "gitlab" needs the project path '
            '"NAMESPACE/PROJECT"',
            f'{P}.publisher.workflow-filepath: missing; kind = "gitlab" needs the CI '
            'configuration\'s path, e.g. ".gitlab-ci.yml"',
        ]
        assert errors_of({"publisher": {"kind": "google"}}) == [
            f'{P}.publisher.email: missing; kind = "google" needs the service account\'s '
            "email address"
        ]

    def test_publisher_options_of_another_kind(self) -> None:
        table = {
            "publisher": {
                "kind": "github",
                "repository": "octo-org/demo",
                "workflow-filepath": ".gitlab-ci.yml",
                "email": "a@b.com",
                "environment": "pypi",
            }
        }
        assert errors_of(table) == [
            f'{P}.publisher.workflow-filepath: is for kind = "gitlab"; kind = "github" takes '
            '"repository", "workflow"',
            f'{P}.publisher.email: is for kind = "google"; kind = "github" takes '
            '"repository", "workflow"',
            f"{P}.publisher.environment: not supported; signing certificates do not record "
            "the deployment environment, so attestations cannot be checked against it",
            f'{P}.publisher.workflow: missing; kind = "github" needs the workflow\'s file name, '
            'e.g. "release.yml"',
        ]

    def test_publisher_repository_is_for_two_kinds(self) -> None:
        table = {"publisher": {"kind": "google", "email": "a@b.com", "repository": "o/r"}}
        assert errors_of(table) == [
            f'{P}.publisher.repository: is for kind = "github" or kind = "gitlab"; '
            'kind = "google" takes "email"'
        ]

    def test_publisher_unknown_option_without_close_match(self) -> None:
        table = {"publisher": {"kind": "gitlab", "zzz": 1}}
        assert errors_of(table)[0] == (
            f"{P}.publisher.zzz: unknown option; valid options are "
            '"repository", "workflow-filepath", "kind"'
        )

    def test_publisher_bad_values(self) -> None:
        table = {
            "publisher": {
                "kind": "github",
                "repository": 42,
                "workflow": ".github/workflows/release.yml",
            }
        }
        assert errors_of(table) == [
            f"{P}.publisher.repository: must be a string, not 42",
            f"{P}.publisher.workflow: must be just the file name, e.g. "
            '"release.yml", not ".github/workflows/release.yml"',
        ]

    def test_gitlab_publisher_bad_values(self) -> None:
        table = {
            "publisher": {"kind": "gitlab", "repository": "demo", "workflow-filepath": "/ci.yml"}
        }
        assert errors_of(table) == [
            f'{P}.publisher.repository: must be the project path "NAMESPACE/PROJECT" '
            '(namespaces may nest, e.g. "group/subgroup/project"), each part only letters, '
            'digits, "_", "." and "-", not "demo"',
            f"{P}.publisher.workflow-filepath: must be a path relative to the project root, "
            'e.g. ".gitlab-ci.yml" or "ci/release.yml", not "/ci.yml"',
        ]

    def test_google_publisher_bad_email(self) -> None:
        assert errors_of({"publisher": {"kind": "google", "email": ["a@b.com"]}}) == [
            f'{P}.publisher.email: must be a string, not ["a@b.com"]'
        ]

    def test_all_errors_at_once_in_table_order(self) -> None:
        table = {
            "timeout": 0,
            "mdoe": "always",
            "publisher": {"kind": "github", "repository": "octo"},
            "mode": 1,
        }
        env = {"HATCH_ATTEST_MODE": "sometimes", "HATCH_ATTEST_TIMEOUT": "soon"}
        assert errors_of(table, env) == [
            f"{P}.timeout: {TIMEOUT_EXPECTED}, not 0",
            f'{P}.mdoe: unknown option; did you mean "mode"?',
            f'{P}.publisher.repository: must be "OWNER/REPO", e.g. "octo-org/demo", not "octo"',
            f'{P}.publisher.workflow: missing; kind = "github" needs the workflow\'s file name, '
            'e.g. "release.yml"',
            f'{P}.mode: must be one of "auto", "always", "never", not 1',
            'HATCH_ATTEST_MODE: must be one of "auto", "always", "never", not "sometimes"',
            f'HATCH_ATTEST_TIMEOUT: {TIMEOUT_EXPECTED}, not "soon"',
        ]

    def test_prefix_names_the_table(self) -> None:
        prefix = "tool.hatch.build.targets.wheel.hooks.attest"
        with pytest.raises(ConfigError) as info:
            load_config({"mode": "no"}, root=ROOT, env={}, prefix=prefix)
        assert info.value.errors == [
            f'{prefix}.mode: must be one of "auto", "always", "never", not "no"'
        ]


class TestEnvironment:
    def test_mode(self) -> None:
        assert load({"mode": "never"}, {"HATCH_ATTEST_MODE": "always"}) == AttestConfig(
            mode="always"
        )

    def test_values_are_stripped(self) -> None:
        env = {"HATCH_ATTEST_MODE": " never\n", "HATCH_ATTEST_TIMEOUT": " 15 "}
        assert load({}, env) == AttestConfig(mode="never", timeout=15.0)

    def test_empty_values_are_ignored(self) -> None:
        env = dict.fromkeys(ENV_VARS, "") | {"HATCH_ATTEST_MODE": "  "}
        table = {"mode": "always", "instance": "staging", "timeout": 5}
        assert load(table, env) == AttestConfig(mode="always", instance="staging", timeout=5.0)

    def test_a_relative_trust_config_is_refused(self) -> None:
        # Frontends run each build step in a folder of their own (python -m build
        # builds the wheel from an unpacked sdist): a relative path would name a
        # different file in each.
        env = {"HATCH_ATTEST_TRUST_CONFIG": "local/trust.json"}
        assert errors_of({}, env) == [
            'HATCH_ATTEST_TRUST_CONFIG: must be an absolute path, not "local/trust.json": '
            "build frontends run each build step in a folder of their own, so a relative "
            'path names a different file in each; use e.g. "$PWD/local/trust.json"'
        ]

    @pytest.mark.parametrize(
        "table", [{"instance": "staging"}, {"trust-config": "pyproject-trust.json"}]
    )
    def test_trust_config_overrides_instance_and_trust_config(self, table: dict[str, Any]) -> None:
        env = {"HATCH_ATTEST_TRUST_CONFIG": "/etc/sigstore/trust.json"}
        assert load(table, env) == AttestConfig(
            instance="production", trust_config=Path("/etc/sigstore/trust.json")
        )

    def test_table_errors_are_reported_despite_an_override(self) -> None:
        env = {"HATCH_ATTEST_TRUST_CONFIG": "/etc/sigstore/trust.json", "HATCH_ATTEST_MODE": "auto"}
        assert errors_of({"instance": "local", "mode": "sometimes"}, env) == [
            f'{P}.instance: must be one of "production", "staging", not "local"',
            f'{P}.mode: must be one of "auto", "always", "never", not "sometimes"',
        ]

    @pytest.mark.parametrize(("raw", "seconds"), [("30", 30.0), ("2.5", 2.5), ("3600", 3600.0)])
    def test_timeout(self, raw: str, seconds: float) -> None:
        assert load({"timeout": 10}, {"HATCH_ATTEST_TIMEOUT": raw}).timeout == seconds

    @pytest.mark.parametrize("raw", ["0", "-1", "3601", "nan", "inf", "1e400", "30s", "true"])
    def test_bad_timeout(self, raw: str) -> None:
        assert errors_of({}, {"HATCH_ATTEST_TIMEOUT": raw}) == [
            f'HATCH_ATTEST_TIMEOUT: {TIMEOUT_EXPECTED}, not "{raw}"'
        ]

    def test_bad_mode(self) -> None:
        assert errors_of({}, {"HATCH_ATTEST_MODE": "sometimes"}) == [
            'HATCH_ATTEST_MODE: must be one of "auto", "always", "never", not "sometimes"'
        ]

    def test_mode_is_case_sensitive(self) -> None:
        assert errors_of({}, {"HATCH_ATTEST_MODE": "Always"}) == [
            'HATCH_ATTEST_MODE: must be one of "auto", "always", "never", not "Always"'
        ]

    def test_unrelated_variables_are_ignored(self) -> None:
        env = {"HATCH_ATTEST_MOOD": "happy", "GITHUB_ACTIONS": "true"}
        assert load({}, env) == AttestConfig()


def test_the_documented_default_budget() -> None:
    assert load({}).timeout == 120.0


def test_module_docstring_documents_every_option() -> None:
    import hatch_attest._config

    doc = hatch_attest._config.__doc__ or ""
    for option in [*OPTIONS, *HATCHLING_HOOK_OPTIONS, *ENV_VARS]:
        assert f"``{option}``" in doc, option


def test_idle_path_imports_no_signing_stack() -> None:
    code = textwrap.dedent(
        """
        import sys
        import hatch_attest._config, hatch_attest._kinds, hatch_attest._project_urls
        heavy = {"sigstore", "pypi_attestations", "id", "requests", "pydantic", "cryptography"}
        print(sorted({name.partition(".")[0] for name in sys.modules} & heavy))
        """
    )
    result = run_bounded([sys.executable, "-c", code], check=True, timeout=60)
    assert result.stdout.strip() == "[]"


# Keys the hook knows, keys it must refuse, and anything else.
_keys = st.sampled_from(
    [
        *OPTIONS,
        *HATCHLING_HOOK_OPTIONS,
        "kind",
        "repository",
        "workflow",
        "workflow-filepath",
        "email",
        "environment",
        "mdoe",
    ]
) | st.text(max_size=12)
# Plausible values, so that deep branches are reached, next to arbitrary TOML values.
_plausible = st.sampled_from(
    [
        "auto",
        "always",
        "never",
        "production",
        "staging",
        "github",
        "gitlab",
        "google",
        "octo-org/demo",
        "group/sub/demo",
        "release.yml",
        ".gitlab-ci.yml",
        "release@demo.iam.gserviceaccount.com",
        "trust.json",
        "",
    ]
)
_scalars = (
    _plausible
    | st.text()
    | st.integers()
    | st.floats()
    | st.booleans()
    | st.datetimes()
    | st.dates()
    | st.times()
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=12,
)
_tables = st.dictionaries(_keys, _values, max_size=8)
_envs = st.dictionaries(
    st.sampled_from([*ENV_VARS, "GITHUB_ACTIONS"]),
    st.sampled_from(["", "auto", "never", "30", "0", "nan", "trust.json"]) | st.text(max_size=8),
)


def outcome(table: dict[str, Any], env: dict[str, str]) -> AttestConfig | list[str]:
    """The configuration, or the errors; any other exception escapes (and fails the test)."""
    try:
        return load_config(table, root=ROOT, env=env)
    except ConfigError as e:
        return e.errors


@given(table=_tables, env=_envs)
def test_any_table_gives_a_config_or_located_errors(
    table: dict[str, Any], env: dict[str, str]
) -> None:
    result = outcome(table, env)
    if isinstance(result, AttestConfig):
        assert 0 < result.timeout <= MAX_TIMEOUT
        assert result.trust_config is None or result.trust_config.is_absolute()
        assert set(table) <= {*OPTIONS, *HATCHLING_HOOK_OPTIONS}
    else:
        assert result
        for error in result:
            assert error.startswith((f"{P}.", f"{P}:", *(f"{name}:" for name in ENV_VARS)))


@given(
    publisher=st.dictionaries(
        st.sampled_from(["kind", "repository", "workflow", "workflow-filepath", "email"]),
        _plausible | st.text(max_size=30),
    )
)
def test_any_publisher_table_gives_a_publisher_or_located_errors(publisher: dict[str, Any]) -> None:
    result = outcome({"publisher": publisher}, {})
    if isinstance(result, AttestConfig):
        assert result.publisher is not None
    else:
        assert result
        assert all(error.startswith(f"{P}.publisher.") for error in result)
