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

``predicate`` -- string or array, default ``"auto"``, environment ``HATCH_ATTEST_PREDICATE``
    Which attestations to write: ``"publish"`` (``<dist>.publish.attestation``, PyPI's
    publish/v1 predicate), ``"slsa-provenance"`` (``<dist>.slsa.attestation``, SLSA
    build provenance v1, made from the identity token's claims), ``"both"`` (or
    an array of those two), or ``"auto"``: SLSA provenance when the job's own
    workflow publishes with pypa/gh-action-pypi-publish signing its own publish
    attestation (or when that cannot be ruled out), a publish attestation otherwise.

``allow-private-repository`` -- boolean, default ``false``
    Attest in a private or internal repository too. Off by default because a
    signature publishes the repository and workflow names in Sigstore's public,
    permanent transparency log.

The options hatchling reads from every hook table (``dependencies``,
``enable-by-default``, ``require-runtime-dependencies``,
``require-runtime-features``) are accepted and left to hatchling.

The wrapper backend (:mod:`hatch_attest.backend`) reads the same options from
``[tool.hatch-attest]``, plus ``build-backend`` (required: the backend that really
builds, ``"module"`` or ``"module:object"``) and ``backend-path`` (folders inside the
project to import it from); see :func:`load_wrapper_config`.

Environment variables win over the table; empty ones are ignored. All problems are
reported at once, each prefixed with its full TOML path (or the variable's name).
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, TypeVar, cast

from hatch_attest._kinds import KINDS, Publisher, describe_kinds
from hatch_attest._options import BY_KEY
from hatch_attest._options import OPTIONS as OPTION_TABLE
from hatch_attest._toml_text import key as _key
from hatch_attest._toml_text import quote as _quote
from hatch_attest._toml_text import render as _render
from hatch_attest.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "DEFAULT_TIMEOUT",
    "HATCHLING_HOOK_OPTIONS",
    "HOOK_TABLE",
    "HOST_OPTIONS",
    "MAX_TIMEOUT",
    "MODE_ENV",
    "OPTIONS",
    "PREDICATE_ENV",
    "PREDICATE_KINDS",
    "TIMEOUT_ENV",
    "TIMEOUT_EXPECTED",
    "TRUST_CONFIG_ENV",
    "WRAPPER_TABLE",
    "AttestConfig",
    "BuildBackend",
    "Instance",
    "Mode",
    "Pyproject",
    "load_config",
    "load_wrapper_config",
    "read_pyproject",
    "timeout_from_text",
]

Mode = Literal["auto", "always", "never"]
"""When to attest; see the module documentation."""
Instance = Literal["production", "staging"]
"""A public Sigstore instance."""

DEFAULT_TIMEOUT: Final = float(BY_KEY["timeout"].default or 0)
MAX_TIMEOUT: Final = 3600.0

HOOK_TABLE: Final = "tool.hatch.build.hooks.attest"
"""The TOML path of the hatchling build hook's table."""
WRAPPER_TABLE: Final = "tool.hatch-attest"
"""The TOML path of the PEP 517 wrapper backend's table (:mod:`hatch_attest.backend`)."""

OPTIONS: Final = tuple(option.key for option in OPTION_TABLE)
"""The options of the ``attest`` hook table (and of ``[tool.hatch-attest]``); see
:data:`hatch_attest._options.OPTIONS`, which declares them."""

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

HOST_OPTIONS: Final[Mapping[str, frozenset[str]]] = {
    HOOK_TABLE: HATCHLING_HOOK_OPTIONS,
    WRAPPER_TABLE: frozenset({"build-backend", "backend-path"}),
}
"""The keys of each table that its host reads, beside :data:`OPTIONS`."""


def _env_name(key: str) -> str:
    name = BY_KEY[key].env
    assert name is not None, key  # noqa: S101 - a fact of the option table
    return name


MODE_ENV: Final = _env_name("mode")
"""Overrides ``mode``."""
TRUST_CONFIG_ENV: Final = _env_name("trust-config")
"""Overrides ``trust-config`` and ``instance``; must be an absolute path."""
TIMEOUT_ENV: Final = _env_name("timeout")
"""Overrides ``timeout``."""
PREDICATE_ENV: Final = _env_name("predicate")
"""Overrides ``predicate``: one of its string values."""

AUTO_PREDICATE: Final = "auto"
PREDICATE_KINDS: Final = ("publish", "slsa-provenance")
"""The predicates that can be written, by their ``predicate`` name."""
_BOTH: Final = "both"
_PREDICATE_CHOICES: Final[Mapping[str, tuple[str, ...]]] = {
    choice: PREDICATE_KINDS if choice == _BOTH else (choice,)
    for choice in BY_KEY["predicate"].choices
}

# The Literal types above name the same values for the type checker; a test
# checks that they agree with the option table.
_MODES: Final[Mapping[str, Mode]] = {c: cast("Mode", c) for c in BY_KEY["mode"].choices}
_INSTANCES: Final[Mapping[str, Instance]] = {
    c: cast("Instance", c) for c in BY_KEY["instance"].choices
}


@dataclass(frozen=True)
class AttestConfig:
    """The validated configuration: table, then environment, then flags."""

    mode: Mode = "auto"
    """When to attest."""
    instance: Instance = "production"
    """The public Sigstore instance; unused (and left at its default) with ``trust_config``."""
    trust_config: Path | None = None
    """Absolute path of a sigstore ``ClientTrustConfig`` JSON file (not checked to exist)."""
    publisher: Publisher | None = None
    """The Trusted Publisher attestations must match; None: infer it from the CI."""
    timeout: float = DEFAULT_TIMEOUT
    """Total network time per artifact, in seconds (more than 0, at most 3600)."""
    allow_private_repository: bool = False
    """Attest in private repositories too, publishing their names."""
    predicate: tuple[str, ...] = (AUTO_PREDICATE,)
    """``("auto",)``, or the predicates to write, from :data:`PREDICATE_KINDS`."""


@dataclass(frozen=True)
class Pyproject:
    """What hatch-attest reads from a project's ``pyproject.toml``."""

    path: Path
    table: Mapping[str, Any]
    """The hatch-attest table (hook or wrapper), ``{}`` when there is none."""
    table_name: str
    """Its TOML path: :data:`HOOK_TABLE` or :data:`WRAPPER_TABLE`."""
    project_urls: Mapping[str, str]
    """``[project.urls]``: where the project says it lives."""

    @property
    def prefix(self) -> str:
        """Where configuration errors point: the file and the table."""
        return f"pyproject.toml {self.table_name}"

    def config(
        self,
        env: Mapping[str, str],
        *,
        defaults: Mapping[str, object] | None = None,
        flags: Mapping[str, tuple[str, object]] | None = None,
    ) -> AttestConfig:
        """:func:`load_config` of this project's table, located in ``pyproject.toml``."""
        return load_config(
            self.table,
            root=self.path.parent,
            env=env,
            prefix=self.prefix,
            defaults=defaults,
            flags=flags,
            extra_options=HOST_OPTIONS[self.table_name],
        )


def read_pyproject(root: Path) -> Pyproject:
    """Read the hatch-attest table and ``[project.urls]`` of ``root/pyproject.toml``.

    The table is ``[tool.hatch-attest]`` in a project that builds through the
    wrapper backend, else the hatchling hook's. A missing file reads as empty.

    Raises:
        ConfigError: the file cannot be read or parsed, or it has both tables.
    """
    path = root / "pyproject.toml"
    try:
        data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        msg = f"cannot read {path}: {e}"
        raise ConfigError([msg]) from e
    hook = _table_at(data, HOOK_TABLE)
    wrapper = _table_at(data, WRAPPER_TABLE)
    if hook is not None and wrapper is not None:
        msg = (
            f"{path}: both [{HOOK_TABLE}] and [{WRAPPER_TABLE}] are set; keep the one of "
            f"the backend that builds: [{WRAPPER_TABLE}] with build-backend = "
            f'"hatch_attest.backend", [{HOOK_TABLE}] with hatchling'
        )
        raise ConfigError([msg])
    if wrapper is None and (near := _near_wrapper_table(data)) is not None:
        msg = (
            f"{path}: hatch-attest does not read [tool.{_key(near)}]; did you mean "
            f"[{WRAPPER_TABLE}]?"
        )
        raise ConfigError([msg])
    urls = _table_at(data, "project.urls") or {}
    return Pyproject(
        path=path,
        table=wrapper if wrapper is not None else hook or {},
        table_name=WRAPPER_TABLE if wrapper is not None else HOOK_TABLE,
        project_urls={k: v for k, v in urls.items() if isinstance(v, str)},
    )


def _near_wrapper_table(data: Any) -> str | None:
    """A ``[tool.*]`` table whose name is a misspelling of ``tool.hatch-attest``."""
    tool = data.get("tool") if isinstance(data, dict) else None
    if not isinstance(tool, dict):
        return None
    wanted = WRAPPER_TABLE.removeprefix("tool.")
    for key in tool:
        if not isinstance(key, str) or key in {wanted, "hatch"}:
            continue
        spelled = key.lower().replace("_", "-").replace(".", "-")
        if spelled == wanted or difflib.get_close_matches(spelled, [wanted], n=1, cutoff=0.85):
            return key
    return None


@dataclass(frozen=True)
class BuildBackend:
    """The backend the wrapper (:mod:`hatch_attest.backend`) hands the build to."""

    module: str
    """The module to import, e.g. ``setuptools.build_meta``."""
    object_path: str
    """The attribute path inside it (after the ``:``), ``""`` for the module itself."""
    path: tuple[Path, ...] = ()
    """Absolute in-tree folders to import it from (``backend-path``), searched first."""

    @property
    def spec(self) -> str:
        """As written in ``build-backend``."""
        return f"{self.module}:{self.object_path}" if self.object_path else self.module


_BACKEND_SPEC: Final = re.compile(
    r"(?P<module>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?::(?P<object>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*))?"
)
_BACKEND_EXAMPLE: Final = 'build-backend = "setuptools.build_meta"'


def load_wrapper_config(
    pyproject: Pyproject, env: Mapping[str, str]
) -> tuple[AttestConfig, BuildBackend]:
    """The wrapper backend's configuration: :func:`load_config` plus the backend it wraps.

    ``build-backend`` has no default: naming the backend that really builds keeps
    a flit-core or pdm-backend project from being built by setuptools by mistake.

    Raises:
        ConfigError: every problem of ``[tool.hatch-attest]`` at once.
    """
    if pyproject.table_name != WRAPPER_TABLE:
        msg = (
            f"{WRAPPER_TABLE}.build-backend: missing; the build backend hatch_attest.backend "
            f"needs a [{WRAPPER_TABLE}] table in {pyproject.path} that names the backend "
            f"which really builds, e.g. {_BACKEND_EXAMPLE}"
        )
        raise ConfigError([msg])
    table = pyproject.table
    errors: list[str] = []
    try:
        config = load_config(
            table,
            root=pyproject.path.parent,
            env=env,
            prefix=WRAPPER_TABLE,
            extra_options=HOST_OPTIONS[WRAPPER_TABLE],
        )
    except ConfigError as e:
        errors += e.errors
    backend = _build_backend(table, pyproject.path.parent, errors)
    if errors or backend is None:
        raise ConfigError(errors)
    return config, backend


def _build_backend(table: Mapping[str, Any], root: Path, errors: list[str]) -> BuildBackend | None:
    where = f"{WRAPPER_TABLE}.build-backend"
    value = table.get("build-backend")
    found = None
    if value is None:
        errors.append(
            f"{where}: missing; name the backend that really builds, e.g. {_BACKEND_EXAMPLE} "
            "(what [build-system] build-backend said before hatch_attest.backend)"
        )
    elif not isinstance(value, str) or (found := _BACKEND_SPEC.fullmatch(value.strip())) is None:
        errors.append(
            f'{where}: must be a string "module" or "module:object", such as '
            f'"setuptools.build_meta", not {_render(value)}'
        )
    elif found["module"].split(".")[0] == "hatch_attest":
        errors.append(
            f"{where}: must name the backend that really builds, not hatch-attest itself "
            f"(found {_render(value)})"
        )
        found = None
    path = _backend_path(table.get("backend-path", []), root, errors)
    if found is None or path is None:
        return None
    return BuildBackend(found["module"], found["object"] or "", path)


def _backend_path(value: object, root: Path, errors: list[str]) -> tuple[Path, ...] | None:
    """PEP 517's ``backend-path`` rules: folders inside the project root."""
    where = f"{WRAPPER_TABLE}.backend-path"
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        errors.append(
            f'{where}: must be a list of folders relative to the project root, such as ["_build"], '
            f"not {_render(value)}"
        )
        return None
    base = os.path.abspath(root)
    folders = []
    for item in value:
        folder = os.path.abspath(os.path.join(base, item))
        if os.path.commonpath([base, folder]) != base:
            errors.append(f"{where}: {_quote(item)} is outside the project root")
            return None
        folders.append(Path(folder))
    return tuple(folders)


def _table_at(data: Any, dotted: str) -> dict[str, Any] | None:
    for key in dotted.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else None


def load_config(
    table: Mapping[str, Any],
    *,
    root: Path,
    env: Mapping[str, str],
    prefix: str = HOOK_TABLE,
    defaults: Mapping[str, object] | None = None,
    flags: Mapping[str, tuple[str, object]] | None = None,
    extra_options: Collection[str] = HATCHLING_HOOK_OPTIONS,
) -> AttestConfig:
    """Validate *table*, then apply the environment in *env*, then *flags*.

    Args:
        table: The table as found in ``pyproject.toml`` (hatchling hands it over).
        root: The project root; ``trust-config`` is relative to it.
        env: The environment (``os.environ``).
        prefix: The TOML path of *table*, to locate errors.
        defaults: Option values that replace the table's (e.g. ``sign``'s
            ``mode = "always"``), still below the environment.
        flags: The highest layer: option -> (flag name, value), the value as a
            command line gives it (a string, a bool, or a :class:`Publisher`). An
            option a flag sets is not read from the table or the environment at all,
            so a flag also works around a broken setting there.
        extra_options: Keys of *table* that belong to its host and are not ours.

    Raises:
        ConfigError: listing every problem, each prefixed with its TOML path, the
            name of the environment variable, or the flag.
    """
    if not isinstance(table, Mapping):
        raise ConfigError([f"{prefix}: must be a table, not {_render(table)}"])
    flags = dict(flags or {})
    hidden = {_SOURCE if option in _SOURCE_OPTIONS else option for option in flags}
    merged = {
        key: value
        for key, value in {**table, **(defaults or {})}.items()
        if (_SOURCE if key in _SOURCE_OPTIONS else key) not in hidden
    }
    errors: list[str] = []
    values = _read_table(merged, root, prefix, errors, extra_options)
    if "source" in hidden:
        values.pop("instance", None)
        values.pop("trust_config", None)
    _read_environment(values, env, errors, hidden)
    _read_flags(values, flags, errors)
    if errors:
        raise ConfigError(errors)
    return AttestConfig(**values)


# `instance` and `trust-config` name one thing, the Sigstore instance: a higher layer
# that sets either replaces both.
_SOURCE: Final = "source"
_SOURCE_OPTIONS: Final = frozenset({"instance", "trust-config"})


def _read_table(
    table: Mapping[Any, object],
    root: Path,
    prefix: str,
    errors: list[str],
    extra_options: Collection[str],
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    # In the table's order, so that the errors read like the file.
    for key, value in table.items():
        where = _path(prefix, key)
        try:
            if not _read_option(values, key, value, where, root) and key not in extra_options:
                errors.append(_unknown(key, where, OPTIONS, extra_options))
        except _Invalid as e:
            errors.extend(e.errors)

    if "instance" in table and "trust-config" in table:
        errors.append(
            f'{prefix}: set "instance" or "trust-config", not both (found instance = '
            f"{_render(table['instance'])} and trust-config = {_render(table['trust-config'])}); "
            "a trust config already names its Sigstore instance"
        )
    return values


def _read_environment(
    values: dict[str, Any], env: Mapping[str, str], errors: list[str], hidden: Collection[str]
) -> None:
    for option in OPTION_TABLE:
        layer = _SOURCE if option.key in _SOURCE_OPTIONS else option.key
        if option.env is None or layer in hidden or (raw := _env(env, option.env)) is None:
            continue
        try:
            if option.form == "path":
                _environment_path(values, raw, option.env)
            elif option.form == "seconds":
                values[option.key] = _text_timeout(raw, option.env)
            else:
                _read_option(values, option.key, raw, option.env, Path.cwd())
        except _Invalid as e:
            errors.extend(e.errors)


def _environment_path(values: dict[str, Any], raw: str, name: str) -> None:
    # A build backend runs in a folder of the frontend's choosing (python -m build
    # builds the wheel from an unpacked sdist in a temporary folder): a relative
    # path would name a different file in each step.
    if not os.path.isabs(raw):
        raise _Invalid(
            f"{name}: must be an absolute path, not {_quote(raw)}: build "
            "frontends run each build step in a folder of their own, so a relative path "
            f'names a different file in each; use e.g. "$PWD/{raw}"'
        )
    values.pop("instance", None)
    values["trust_config"] = Path(os.path.normpath(raw))


def _read_flags(
    values: dict[str, Any], flags: Mapping[str, tuple[str, object]], errors: list[str]
) -> None:
    for option, (flag, value) in flags.items():
        try:
            if not _read_option(values, option, value, flag, Path.cwd()):
                msg = f"{flag}: no option {option!r}"
                raise TypeError(msg)
        except _Invalid as e:
            errors.extend(e.errors)


def _read_option(
    values: dict[str, Any], option: object, value: object, where: str, root: Path
) -> bool:
    """Validate one option (a table's or a flag's) into ``values``; False if it is none of ours.

    ``root`` anchors a relative ``trust-config``: the project root for a table, the
    working directory for a flag. A flag's ``publisher`` arrives already parsed.
    """
    if option == "mode":
        values["mode"] = _choice(value, _MODES, where)
    elif option == "instance":
        values["instance"] = _choice(value, _INSTANCES, where)
    elif option == "trust-config":
        values["trust_config"] = _trust_config(value, root, where)
    elif option == "publisher":
        values["publisher"] = value if isinstance(value, Publisher) else _publisher(value, where)
    elif option == "timeout":
        values["timeout"] = _timeout(value, where)
    elif option == "allow-private-repository":
        values["allow_private_repository"] = _boolean(value, where)
    elif option == "predicate":
        values["predicate"] = _predicate(value, where)
    else:
        return False
    return True


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
    if not isinstance(value, str | os.PathLike) or not str(value).strip():
        raise _Invalid(
            f"{where}: must be the path of a sigstore trust config JSON file, "
            f"relative to the project root, not {_render(value)}"
        )
    # Lexical, like the frontends treat paths: nothing on disk is looked at here.
    return Path(os.path.abspath(root / value))


TIMEOUT_EXPECTED: Final = f"must be a number of seconds, more than 0 and at most {MAX_TIMEOUT:g}"


def _timeout(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not _in_range(value):
        raise _Invalid(f"{where}: {TIMEOUT_EXPECTED}, not {_render(value)}")
    return float(value)


def timeout_from_text(raw: str) -> float | None:
    """A timeout written as text (an environment variable or a flag); None if invalid.

    Invalid values are described by :data:`TIMEOUT_EXPECTED`.
    """
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if _in_range(value) else None


def _text_timeout(raw: str, where: str) -> float:
    value = timeout_from_text(raw)
    if value is None:
        raise _Invalid(f"{where}: {TIMEOUT_EXPECTED}, not {_quote(raw)}")
    return value


def _in_range(seconds: float) -> bool:
    return 0 < seconds <= MAX_TIMEOUT  # False for NaN


def _predicate(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str) and value in _PREDICATE_CHOICES:
        return _PREDICATE_CHOICES[value]
    if (
        isinstance(value, list)
        and value
        and all(isinstance(item, str) and item in PREDICATE_KINDS for item in value)
        and len(set(value)) == len(value)
    ):
        return tuple(kind for kind in PREDICATE_KINDS if kind in value)
    raise _Invalid(
        f"{where}: must be one of {_alternatives(_PREDICATE_CHOICES)}, or an array of "
        f"{_alternatives(PREDICATE_KINDS)} without repeats, not {_render(value)}"
    )


def _boolean(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"{where}: must be a boolean (true or false), not {_render(value)}")
    return value


_PUBLISHER_EXAMPLE: Final = (
    '{ kind = "github", repository = "OWNER/REPO", workflow = "release.yml" }'
)


def _publisher(value: object, where: str) -> Publisher:
    if not isinstance(value, Mapping):
        raise _Invalid(
            f"{where}: must be a table such as {_PUBLISHER_EXAMPLE}, not {_render(value)}"
        )
    cls, errors = _publisher_kind(value, where)
    errors += _foreign_publisher_options(value, where, cls)
    if cls is None:
        raise _Invalid(*errors)

    found: dict[str, str] = {}
    for field in cls.fields:
        at = _path(where, field.option)
        if field.option not in value:
            errors.append(f'{at}: missing; kind = "{cls.kind}" needs {field.meaning}')
        elif not isinstance(text := value[field.option], str):
            errors.append(f"{at}: must be a string, not {_render(text)}")
        elif (problem := field.check(text)) is not None:
            errors.append(f"{at}: {problem}")
        else:
            found[field.option] = text
    if errors:
        raise _Invalid(*errors)
    return cls.from_options(found)


def _publisher_kind(
    table: Mapping[Any, object], where: str
) -> tuple[type[Publisher] | None, list[str]]:
    """The publisher's valid ``kind``, or None and why not."""
    at = _path(where, "kind")
    if "kind" not in table:
        return None, [f"{at}: missing; must be one of {describe_kinds()}"]
    kind = table["kind"]
    if isinstance(kind, str) and kind in KINDS:
        return KINDS[kind], []
    message = f"{at}: must be one of {describe_kinds()}, not {_render(kind)}"
    if isinstance(kind, str) and (close := difflib.get_close_matches(kind.lower(), KINDS, n=1)):
        message += f'; did you mean "{close[0]}"?'
    return None, [message]


def _foreign_publisher_options(
    table: Mapping[Any, object], where: str, cls: type[Publisher] | None
) -> list[str]:
    """Errors for the keys of a publisher table that do not belong to its kind."""
    errors = []
    options = None if cls is None else [field.option for field in cls.fields]
    owners_of: dict[str, list[str]] = {}
    for kind, other in KINDS.items():
        for field in other.fields:
            owners_of.setdefault(field.option, []).append(kind)
    for key in table:
        at = _path(where, key)
        if key == "kind" or (options is not None and key in options):
            continue
        if key in owners_of:
            if cls is not None and options is not None:  # with an unknown kind, who is to say
                owners = " or ".join(f'kind = "{k}"' for k in owners_of[key])
                errors.append(
                    f'{at}: is for {owners}; kind = "{cls.kind}" takes {_alternatives(options)}'
                )
        elif key == "environment":
            errors.append(
                f"{at}: not supported; signing certificates do not record the deployment "
                "environment, so attestations cannot be checked against it"
            )
        else:
            valid = [*(options if options is not None else sorted(owners_of)), "kind"]
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


def _path(prefix: str, key: object) -> str:
    """The TOML path of *key* in the table at *prefix*."""
    return f"{prefix}.{_key(key)}"
