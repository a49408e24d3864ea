"""The ``[tool.hatch.build.hooks.attest]`` table, validated into an :class:`AttestConfig`.

Every option is optional; keys are kebab-case.

``mode`` -- string, default ``"auto"``, environment ``HATCH_ATTEST_MODE``
    ``"auto"``: attest when the build has an ambient CI identity (that matches
    ``publisher``, if set); otherwise skip with one line saying why. Once an identity
    was obtained, a signing or verification failure fails the build.
    ``"always"``: no identity, or any failure, fails the build.
    ``"never"``: do nothing.

``instance`` -- string, default ``"production"``
    The public Sigstore instance to sign with: ``"production"`` or ``"staging"``.
    Cannot be combined with ``trust-config``.

``trust-config`` -- string, no default, environment ``HATCH_ATTEST_TRUST_CONFIG``
    Path of a sigstore ``ClientTrustConfig`` JSON file, to sign with a private
    Sigstore instance; relative to the project root. Its existence is checked when it
    is loaded. The environment variable (relative to the current directory) overrides
    both ``trust-config`` and ``instance``.

``publisher`` -- table, no default
    The PyPI Trusted Publisher the attestations must match, chosen by ``kind``:

    - ``{ kind = "github", repository = "OWNER/REPO", workflow = "release.yml" }``:
      the workflow's file name only, not ``.github/workflows/release.yml``;
    - ``{ kind = "gitlab", repository = "NAMESPACE/PROJECT", workflow-filepath =
      ".gitlab-ci.yml" }``: the CI configuration's path in the project;
    - ``{ kind = "google", email = "NAME@PROJECT.iam.gserviceaccount.com" }``.

    Names are compared exactly, as PyPI does: spell them as GitHub or GitLab shows
    them. A CI job that visibly runs elsewhere (a fork, someone rebuilding the sdist)
    skips attestation before asking for a token, and each attestation is verified
    against this publisher as PyPI will. Without it, the publisher is inferred from
    the CI environment.

``timeout`` -- number of seconds, default ``120``, environment ``HATCH_ATTEST_TIMEOUT``
    The total network time per artifact for all Sigstore calls, retries included;
    more than 0 and at most 3600.

``allow-private-repository`` -- boolean, default ``false``
    Attest in a private or internal repository too. Off by default because a
    signature publishes the repository and workflow names in Sigstore's public,
    permanent transparency log.

The options hatchling reads from every hook table (``dependencies``,
``enable-by-default``, ``require-runtime-dependencies``,
``require-runtime-features``) are accepted and left to hatchling.

Environment variables win over the table; empty ones are ignored. All problems are
reported at once, each prefixed with its full TOML path (or the variable's name).
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias, TypeVar

from hatch_attest.errors import ConfigError
from hatch_attest.publisher import (
    ExpectedPublisher,
    GitHubPublisher,
    GitLabPublisher,
    GooglePublisher,
    check_github_repository,
    check_github_workflow,
    check_gitlab_repository,
    check_gitlab_workflow_filepath,
    check_google_email,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "HATCHLING_HOOK_OPTIONS",
    "MAX_TIMEOUT",
    "MODE_ENV",
    "OPTIONS",
    "TIMEOUT_ENV",
    "TRUST_CONFIG_ENV",
    "AttestConfig",
    "Instance",
    "Mode",
    "load_config",
]

Mode = Literal["auto", "always", "never"]
"""When to attest; see the module documentation."""
Instance = Literal["production", "staging"]
"""A public Sigstore instance."""

DEFAULT_TIMEOUT: Final = 120.0
MAX_TIMEOUT: Final = 3600.0

OPTIONS: Final = (
    "mode",
    "instance",
    "trust-config",
    "publisher",
    "timeout",
    "allow-private-repository",
)
"""The options of the ``attest`` hook table."""

HATCHLING_HOOK_OPTIONS: Final = frozenset(
    # hatchling.builders.config.BuilderConfig.hook_config and .dependencies read
    # these from every build hook's table; nothing else.
    {
        "dependencies",
        "enable-by-default",
        "require-runtime-dependencies",
        "require-runtime-features",
    }
)
"""Options hatchling itself reads from a build hook table."""

MODE_ENV: Final = "HATCH_ATTEST_MODE"
"""Overrides ``mode``."""
TRUST_CONFIG_ENV: Final = "HATCH_ATTEST_TRUST_CONFIG"
"""Overrides ``trust-config`` and ``instance``; relative to the current directory."""
TIMEOUT_ENV: Final = "HATCH_ATTEST_TIMEOUT"
"""Overrides ``timeout``."""

_MODES: Final[Mapping[str, Mode]] = {"auto": "auto", "always": "always", "never": "never"}
_INSTANCES: Final[Mapping[str, Instance]] = {"production": "production", "staging": "staging"}


@dataclass(frozen=True)
class AttestConfig:
    """The validated hook configuration, environment overrides applied."""

    mode: Mode = "auto"
    """When to attest."""
    instance: Instance = "production"
    """The public Sigstore instance; unused (and left at its default) with ``trust_config``."""
    trust_config: Path | None = None
    """Absolute path of a sigstore ``ClientTrustConfig`` JSON file (not checked to exist)."""
    publisher: ExpectedPublisher | None = None
    """The Trusted Publisher attestations must match; None: infer it from the CI."""
    timeout: float = DEFAULT_TIMEOUT
    """Total network time per artifact, in seconds (more than 0, at most 3600)."""
    allow_private_repository: bool = False
    """Attest in private repositories too, publishing their names."""


def load_config(
    table: Mapping[str, Any],
    *,
    root: Path,
    env: Mapping[str, str],
    prefix: str = "tool.hatch.build.hooks.attest",
) -> AttestConfig:
    """Validate the hook *table* and apply the environment overrides in *env*.

    Args:
        table: The hook's table as hatchling hands it over.
        root: The project root; ``trust-config`` is relative to it.
        env: The environment (``os.environ``); ``HATCH_ATTEST_TRUST_CONFIG`` is
            relative to the current directory.
        prefix: The TOML path of *table*, to locate errors.

    Raises:
        ConfigError: listing every problem, each prefixed with its TOML path or the
            name of the environment variable.
    """
    if not isinstance(table, Mapping):
        raise ConfigError([f"{prefix}: must be a table, not {_render(table)}"])
    errors: list[str] = []
    config = _apply_environment(_read_table(table, root, prefix, errors), env, errors)
    if errors:
        raise ConfigError(errors)
    return config


def _read_table(
    table: Mapping[Any, object], root: Path, prefix: str, errors: list[str]
) -> AttestConfig:
    mode: Mode = "auto"
    instance: Instance = "production"
    trust_config: Path | None = None
    publisher: ExpectedPublisher | None = None
    timeout = DEFAULT_TIMEOUT
    allow_private_repository = False

    # In the table's order, so that the errors read like the file.
    for key, value in table.items():
        where = _path(prefix, key)
        try:
            if key == "mode":
                mode = _choice(value, _MODES, where)
            elif key == "instance":
                instance = _choice(value, _INSTANCES, where)
            elif key == "trust-config":
                trust_config = _trust_config(value, root, where)
            elif key == "publisher":
                publisher = _publisher(value, where)
            elif key == "timeout":
                timeout = _timeout(value, where)
            elif key == "allow-private-repository":
                allow_private_repository = _boolean(value, where)
            elif key not in HATCHLING_HOOK_OPTIONS:
                errors.append(_unknown(key, where, OPTIONS, HATCHLING_HOOK_OPTIONS))
        except _Invalid as e:
            errors.extend(e.errors)

    if "instance" in table and "trust-config" in table:
        errors.append(
            f'{prefix}: set "instance" or "trust-config", not both (found instance = '
            f"{_render(table['instance'])} and trust-config = {_render(table['trust-config'])}); "
            "a trust config already names its Sigstore instance"
        )
    return AttestConfig(
        mode=mode,
        instance=instance,
        trust_config=trust_config,
        publisher=publisher,
        timeout=timeout,
        allow_private_repository=allow_private_repository,
    )


def _apply_environment(
    config: AttestConfig, env: Mapping[str, str], errors: list[str]
) -> AttestConfig:
    if (raw := _env(env, MODE_ENV)) is not None:
        try:
            config = replace(config, mode=_choice(raw, _MODES, MODE_ENV))
        except _Invalid as e:
            errors.extend(e.errors)
    if (raw := _env(env, TRUST_CONFIG_ENV)) is not None:
        config = replace(config, trust_config=Path(os.path.abspath(raw)), instance="production")
    if (raw := _env(env, TIMEOUT_ENV)) is not None:
        try:
            config = replace(config, timeout=_env_timeout(raw))
        except _Invalid as e:
            errors.extend(e.errors)
    return config


class _Invalid(Exception):
    """One option's value is invalid; carries the located messages (never escapes)."""

    def __init__(self, *errors: str) -> None:
        self.errors = errors
        super().__init__(*errors)


def _env(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


_T = TypeVar("_T", bound=str)
_I = TypeVar("_I")


def _choice(value: object, choices: Mapping[str, _T], where: str) -> _T:
    if isinstance(value, str) and value in choices:
        return choices[value]
    raise _Invalid(f"{where}: must be one of {_alternatives(choices)}, not {_render(value)}")


def _trust_config(value: object, root: Path, where: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(
            f"{where}: must be the path of a sigstore trust config JSON file, "
            f"relative to the project root, not {_render(value)}"
        )
    # Lexical, like the frontends treat paths: nothing on disk is looked at here.
    return Path(os.path.abspath(root / value))


_TIMEOUT_EXPECTED: Final = f"must be a number of seconds, more than 0 and at most {MAX_TIMEOUT:g}"


def _timeout(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not _in_range(value):
        raise _Invalid(f"{where}: {_TIMEOUT_EXPECTED}, not {_render(value)}")
    return float(value)


def _env_timeout(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not _in_range(value):
        raise _Invalid(f"{TIMEOUT_ENV}: {_TIMEOUT_EXPECTED}, not {_quote(raw)}")
    return value


def _in_range(seconds: float) -> bool:
    return 0 < seconds <= MAX_TIMEOUT  # False for NaN


def _boolean(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"{where}: must be a boolean (true or false), not {_render(value)}")
    return value


_Check: TypeAlias = Callable[[str], "str | None"]
# kind -> option -> (check, what the option holds)
_PUBLISHER_OPTIONS: Final[Mapping[str, Mapping[str, tuple[_Check, str]]]] = {
    "github": {
        "repository": (check_github_repository, 'the repository as "OWNER/REPO"'),
        "workflow": (check_github_workflow, 'the workflow\'s file name, e.g. "release.yml"'),
    },
    "gitlab": {
        "repository": (check_gitlab_repository, 'the project path "NAMESPACE/PROJECT"'),
        "workflow-filepath": (
            check_gitlab_workflow_filepath,
            'the CI configuration\'s path, e.g. ".gitlab-ci.yml"',
        ),
    },
    "google": {
        "email": (check_google_email, "the service account's email address"),
    },
}
_PUBLISHER_EXAMPLE: Final = (
    '{ kind = "github", repository = "OWNER/REPO", workflow = "release.yml" }'
)


def _publisher(value: object, where: str) -> ExpectedPublisher:
    if not isinstance(value, Mapping):
        raise _Invalid(
            f"{where}: must be a table such as {_PUBLISHER_EXAMPLE}, not {_render(value)}"
        )
    kind, errors = _publisher_kind(value, where)
    options = None if kind is None else _PUBLISHER_OPTIONS[kind]
    errors += _foreign_publisher_options(value, where, kind, options)
    if options is None:
        raise _Invalid(*errors)

    found: dict[str, str] = {}
    for option, (check, meaning) in options.items():
        at = _path(where, option)
        if option not in value:
            errors.append(f'{at}: missing; kind = "{kind}" needs {meaning}')
        elif not isinstance(text := value[option], str):
            errors.append(f"{at}: must be a string, not {_render(text)}")
        elif (problem := check(text)) is not None:
            errors.append(f"{at}: {problem}")
        else:
            found[option] = text
    if errors:
        raise _Invalid(*errors)

    if kind == "github":
        return GitHubPublisher(repository=found["repository"], workflow=found["workflow"])
    if kind == "gitlab":
        return GitLabPublisher(
            repository=found["repository"], workflow_filepath=found["workflow-filepath"]
        )
    return GooglePublisher(email=found["email"])


def _publisher_kind(table: Mapping[Any, object], where: str) -> tuple[str | None, list[str]]:
    """The publisher's valid ``kind``, or None and why not."""
    at = _path(where, "kind")
    kinds = _alternatives(_PUBLISHER_OPTIONS)
    if "kind" not in table:
        return None, [f"{at}: missing; must be one of {kinds}"]
    kind = table["kind"]
    if isinstance(kind, str) and kind in _PUBLISHER_OPTIONS:
        return kind, []
    message = f"{at}: must be one of {kinds}, not {_render(kind)}"
    if isinstance(kind, str) and (
        close := difflib.get_close_matches(kind.lower(), list(_PUBLISHER_OPTIONS), n=1)
    ):
        message += f'; did you mean "{close[0]}"?'
    return None, [message]


def _foreign_publisher_options(
    table: Mapping[Any, object],
    where: str,
    kind: str | None,
    options: Mapping[str, tuple[_Check, str]] | None,
) -> list[str]:
    """Errors for the keys of a publisher table that do not belong to its kind."""
    errors = []
    every_option = {option for options in _PUBLISHER_OPTIONS.values() for option in options}
    for key in table:
        at = _path(where, key)
        if key == "kind" or (options is not None and key in options):
            continue
        if key in every_option:
            if options is not None:  # with an unknown kind, who is to say
                owners = " or ".join(
                    f'kind = "{k}"' for k, v in _PUBLISHER_OPTIONS.items() if key in v
                )
                errors.append(
                    f'{at}: is for {owners}; kind = "{kind}" takes {_alternatives(options)}'
                )
        elif key == "environment":
            errors.append(
                f"{at}: not supported; signing certificates do not record the deployment "
                "environment, so attestations cannot be checked against it"
            )
        else:
            valid = [*(options if options is not None else sorted(every_option)), "kind"]
            errors.append(_unknown(key, at, valid))
    return errors


def _unknown(key: object, where: str, valid: Sequence[str], also: Collection[str] = ()) -> str:
    """An unknown option, with a "did you mean" among *valid* and *also* when one is close."""
    close = difflib.get_close_matches(str(key), [*valid, *sorted(also)], n=1)
    if close:
        return f'{where}: unknown option; did you mean "{close[0]}"?'
    return f"{where}: unknown option; valid options are {_alternatives(valid)}"


def _alternatives(choices: Iterable[str]) -> str:
    return ", ".join(f'"{choice}"' for choice in choices)


_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")


def _key(key: object) -> str:
    text = str(key)
    return text if _BARE_KEY.fullmatch(text) else _quote(text)


def _path(prefix: str, key: object) -> str:
    """The TOML path of *key* in the table at *prefix*."""
    return f"{prefix}.{_key(key)}"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


_RENDER_WIDTH: Final = 60
_RENDER_ITEMS: Final = 4


def _render(value: object) -> str:
    """Show a found value as it would look in TOML, shortened."""
    text = _toml(value, depth=0)
    return text if len(text) <= _RENDER_WIDTH else text[: _RENDER_WIDTH - 3] + "..."


def _toml(value: object, depth: int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # Python refuses to print integers above 4300 digits; TOML stops at 64 bits.
        return str(value) if value.bit_length() <= 128 else "a very large integer"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _quote(value[: _RENDER_WIDTH * 2])
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        if depth >= 2:
            return "{ ... }"
        items = [f"{_key(k)} = {_toml(v, depth + 1)}" for k, v in _first(value.items())]
        return "{ " + ", ".join(items) + (", ..." if len(value) > _RENDER_ITEMS else "") + " }"
    if isinstance(value, (list, tuple)):
        if depth >= 2:
            return "[...]" if value else "[]"
        items = [_toml(item, depth + 1) for item in _first(value)]
        return "[" + ", ".join(items) + (", ..." if len(value) > _RENDER_ITEMS else "") + "]"
    return repr(value)


def _first(items: Iterable[_I]) -> list[_I]:
    return list(itertools.islice(items, _RENDER_ITEMS))
