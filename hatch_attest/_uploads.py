"""Which uploads to PyPI a CI job's shell text runs, and whether they use a token.

PyPI accepts an attestation only on an upload made with Trusted Publishing, by
the publisher that signed it; an upload with an API token that carries
attestations is answered with 400, "Attestations are only supported when using
Trusted Publishing". So the CI readers (:mod:`hatch_attest._kinds.github_workflow`,
:mod:`hatch_attest._kinds.gitlab_ci`) need to know, from a ``run:`` step or a
``script:`` line, which uploader runs and whether a token is in play. That part
does not depend on the CI, and lives here.

Recognised: ``twine upload`` (also ``python -m twine``, ``uvx``/``pipx run``),
``uv publish``, ``hatch publish``, ``pdm publish``, ``poetry publish``, ``flit
publish``, ``maturin upload``/``publish``. ``hatch publish -p attest`` is this
project's own hatch publisher, which uses Trusted Publishing; hatch's default
publisher, poetry and flit never do, so they always count as token uploads.

The same readers also note which build commands a job runs (:func:`shell_builds`:
``uv build``, ``python -m build``/``pyproject-build``, ``hatch build``,
``cibuildwheel``), for ``hatch-attest rehearse``, which builds the way the
release does.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

__all__ = [
    "TOKEN_VARIABLES",
    "Build",
    "TopologySkip",
    "Upload",
    "foreign_index",
    "shell_builds",
    "shell_uploads",
    "token_variables",
]

#: Environment variables that hand an uploader a password or an API token.
TOKEN_VARIABLES = (
    "TWINE_PASSWORD",
    "UV_PUBLISH_TOKEN",
    "UV_PUBLISH_PASSWORD",
    "HATCH_INDEX_AUTH",
    "FLIT_PASSWORD",
    "MATURIN_PYPI_TOKEN",
    "MATURIN_PASSWORD",
    "PDM_PUBLISH_PASSWORD",
)
_TOKEN_PREFIXES = ("POETRY_PYPI_TOKEN_", "POETRY_HTTP_BASIC_")
#: Environment variables that point an uploader at an index.
URL_VARIABLES = ("TWINE_REPOSITORY_URL", "UV_PUBLISH_URL", "HATCH_INDEX_REPO", "PDM_PUBLISH_REPO")
_PYPI_HOSTS = ("pypi.org", "test.pypi.org", "upload.pypi.org")
_PYPI_NAMES = ("pypi", "testpypi", "main", "test")


class TopologySkip(NamedTuple):
    """Why this job's attestations cannot be accepted by PyPI: one line, and its weight."""

    reason: str
    warning: bool
    """The job looks like the project's release, yet will not sign: show it as a warning."""


@dataclass(frozen=True)
class Upload:
    """One upload a CI configuration runs."""

    where: str
    """Where it is, for a message: "job `publish` of .github/workflows/release.yml"."""
    tool: str
    """What uploads: "twine upload", "pypa/gh-action-pypi-publish@release/v1"."""
    token: str | None = None
    """Why it does not use Trusted Publishing (a token, another index), else None."""
    reusable: str | None = None
    """The called reusable workflow it runs in (GitHub), else None."""


@dataclass(frozen=True)
class Build:
    """One build command a CI configuration runs."""

    where: str
    """Where it is, for a message: "job `build` of .github/workflows/release.yml"."""
    frontend: str
    """``uv``, ``build`` (``-m build``, ``pyproject-build``), ``hatch`` or ``cibuildwheel``."""
    command: str
    """The command as written (one line)."""
    env: tuple[tuple[str, str], ...] = ()
    """The plain string variables the configuration sets for it (no expressions)."""


def token_variables(env: Mapping[str, object] | None) -> list[str]:
    """The token variables an ``env:``/``variables:`` mapping sets (to anything)."""
    if not isinstance(env, Mapping):
        return []
    return [k for k in env if isinstance(k, str) and _is_token_variable(k)]


def _is_token_variable(name: str) -> bool:
    return name in TOKEN_VARIABLES or name.startswith(_TOKEN_PREFIXES)


def foreign_index(url: object) -> str | None:
    """The index ``url`` names when it is provably not PyPI or TestPyPI, else None.

    An expression (``${{ ... }}``, ``$VAR``) or an empty value cannot be told: None.
    """
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or "$" in url:
        return None
    if "://" not in url:
        # A repository *name* (twine's .pypirc, pdm's config): only PyPI's are known.
        return None if url.lower() in _PYPI_NAMES else url
    host = (urlsplit(url).hostname or "").lower()
    return None if host in _PYPI_HOSTS else url


# --- shell text ----------------------------------------------------------------------

_SEPARATORS = re.compile(r"&&|\|\||[;|&\n]")
_ASSIGNMENT = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_ASSIGNED = re.compile(r"(?:^|[\s;&|(])(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=")


def shell_uploads(
    script: str, where: str, *, env: Iterable[str] = (), urls: Mapping[str, str] | None = None
) -> list[Upload]:
    """The uploads a shell script runs.

    Args:
        script: The text (a ``run:`` step, a ``script:`` line).
        where: Where it is, for messages.
        env: Token variables the surrounding configuration sets for it.
        urls: Index URL variables the surrounding configuration sets for it.
    """
    text = script.replace("\\\r\n", " ").replace("\\\n", " ")
    # Anything the script itself assigns or exports counts for every command in it.
    assigned = {m.group(1) for m in _ASSIGNED.finditer(text)}
    tokens_set = sorted({*env, *(n for n in assigned if _is_token_variable(n))})
    url_values = dict(urls or {})
    for match in re.finditer(r"(?:export\s+)?([A-Z_]+_(?:URL|REPO))=(\S+)", text):
        url_values.setdefault(match.group(1), match.group(2).strip("'\""))
    uploads: list[Upload] = []
    for command in _SEPARATORS.split(_strip_comments(text)):
        words = _words(command)
        found = _uploader(words)
        if found is None:
            continue
        tool, args = found
        token = _token_reason(tool, args, tokens_set, url_values)
        uploads.append(Upload(where, tool, token))
    return uploads


def shell_builds(
    script: str, where: str, *, env: Mapping[str, object] | None = None
) -> list[Build]:
    """The Python build commands a shell script runs (see :class:`Build`).

    ``env`` is what the surrounding configuration sets for the script; its plain
    string values are kept with each build (``${{ ... }}`` and ``$VAR`` are not).
    """
    text = script.replace("\\\r\n", " ").replace("\\\n", " ")
    plain = tuple(
        (k, v)
        for k, v in (env or {}).items()
        if isinstance(k, str) and isinstance(v, str) and "$" not in v
    )
    builds: list[Build] = []
    for command in _SEPARATORS.split(_strip_comments(text)):
        frontend = _frontend(_words(command))
        if frontend is not None:
            builds.append(Build(where, frontend, " ".join(command.split()), plain))
    return builds


def _frontend(words: list[str]) -> str | None:
    """Which frontend ``words`` runs, after any launcher (`uvx`, `pipx run`, `python -m`)."""
    for i, word in enumerate(words):
        program = _program(word)
        following = words[i + 1] if i + 1 < len(words) else ""
        if program in {"uv", "hatch"} and following == "build":
            return program
        if program in {"pyproject-build", "cibuildwheel"}:
            return "build" if program == "pyproject-build" else program
        if program.startswith("python") and following == "-m" and i + 2 < len(words):
            module = _program(words[i + 2])
            if module in {"build", "cibuildwheel"}:
                return module
    return None


def _strip_comments(text: str) -> str:
    return "\n".join(re.sub(r"(^|\s)#.*$", r"\1", line) for line in text.splitlines())


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command, posix=True)
    except ValueError:  # an unbalanced quote: read it as plain words
        return command.split()


def _program(word: str) -> str:
    """`twine` from `/usr/bin/twine`, `twine==6.1.0`, `twine[keyring]`."""
    return re.split(r"[=<>@\[]", word.rsplit("/", 1)[-1], maxsplit=1)[0].lower()


_UPLOADERS = {
    "twine": ("upload",),
    "uv": ("publish",),
    "hatch": ("publish",),
    "pdm": ("publish",),
    "poetry": ("publish",),
    "flit": ("publish",),
    "maturin": ("upload", "publish"),
}


def _uploader(words: list[str]) -> tuple[str, list[str]] | None:
    """`(tool, its arguments)` for the first uploader command in ``words``.

    The uploader may follow a launcher (`python -m`, `uvx`, `pipx run`, `uv run`,
    `hatch run`, `env VAR=...`), so it is looked for anywhere in the command.
    """
    for i, word in enumerate(words):
        program = _program(word)
        commands = _UPLOADERS.get(program)
        if commands is None:
            continue
        # The subcommand, after the program's own options (`uv --quiet publish`).
        for j in range(i + 1, min(i + 4, len(words))):
            if words[j] in commands:
                # Its options: the program's own (before the subcommand) and the rest.
                return f"{program} {words[j]}", words[i + 1 : j] + words[j + 1 :]
            if not words[j].startswith("-"):
                break
    return None


def _options(args: list[str], names: tuple[str, ...]) -> list[str]:
    """Values of the options ``names`` (`--x v`, `--x=v`, `-xv`)."""
    values: list[str] = []
    for i, arg in enumerate(args):
        for name in names:
            if arg == name:
                values.append(args[i + 1] if i + 1 < len(args) else "")
            elif name.startswith("--") and arg.startswith(name + "="):
                values.append(arg[len(name) + 1 :])
            elif len(name) == 2 and arg.startswith(name) and len(arg) > 2 and arg[1] != "-":
                values.append(arg[2:])
    return values


# Per tool: options that carry a secret, options that name the index.
_SECRET_OPTIONS = {
    "twine upload": ("-p", "--password"),
    "uv publish": ("-t", "--token", "-p", "--password"),
    "hatch publish": ("-a", "--auth"),
    "pdm publish": ("-P", "--password"),
    "maturin upload": ("-p", "--password"),
    "maturin publish": ("-p", "--password"),
}
_URL_OPTIONS = {
    "twine upload": ("--repository-url", "-r", "--repository"),
    "uv publish": ("--publish-url", "--index"),
    "hatch publish": ("-r", "--repo"),
    "pdm publish": ("-r", "--repository"),
    "maturin upload": ("-r", "--repository", "--repository-url"),
    "maturin publish": ("-r", "--repository", "--repository-url"),
}
_NEVER_TRUSTED = {
    "poetry publish": "poetry publish always uploads with a token or password",
    "flit publish": "flit publish always uploads with a token or password",
}


def _token_reason(
    tool: str, args: list[str], tokens: list[str], urls: Mapping[str, str]
) -> str | None:
    if tool in _NEVER_TRUSTED:
        return _NEVER_TRUSTED[tool]
    if tool == "hatch publish":
        publisher = _options(args, ("-p", "--publisher"))
        if "attest" not in publisher:
            return "hatch publish uploads with a token unless it runs `-p attest`"
    secrets = _options(args, _SECRET_OPTIONS.get(tool, ()))
    if secrets:
        return f"{tool} is given a password (`{_option_name(args, _SECRET_OPTIONS[tool])}`)"
    relevant = [t for t in tokens if _token_for(tool, t)]
    if relevant:
        return f"{relevant[0]} is set for {tool}"
    for url in [*_options(args, _URL_OPTIONS.get(tool, ())), *_url_env(tool, urls)]:
        other = foreign_index(url)
        if other is not None:
            return f"{tool} uploads to {other}, not to PyPI"
    return None


def _option_name(args: list[str], names: tuple[str, ...]) -> str:
    for arg in args:
        for name in names:
            if arg == name or arg.startswith(name):
                return name
    return names[0]


_TOOL_TOKENS = {
    "twine upload": ("TWINE_PASSWORD",),
    "uv publish": ("UV_PUBLISH_TOKEN", "UV_PUBLISH_PASSWORD"),
    "hatch publish": ("HATCH_INDEX_AUTH",),
    "pdm publish": ("PDM_PUBLISH_PASSWORD",),
    "maturin upload": ("MATURIN_PYPI_TOKEN", "MATURIN_PASSWORD"),
    "maturin publish": ("MATURIN_PYPI_TOKEN", "MATURIN_PASSWORD"),
}
_TOOL_URLS = {
    "twine upload": ("TWINE_REPOSITORY_URL",),
    "uv publish": ("UV_PUBLISH_URL",),
    "hatch publish": ("HATCH_INDEX_REPO",),
    "pdm publish": ("PDM_PUBLISH_REPO",),
}


def _token_for(tool: str, variable: str) -> bool:
    return variable in _TOOL_TOKENS.get(tool, ())


def _url_env(tool: str, urls: Mapping[str, str]) -> list[str]:
    return [urls[name] for name in _TOOL_URLS.get(tool, ()) if name in urls]
