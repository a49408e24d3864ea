"""Every option of hatch-attest, declared once.

:data:`OPTIONS` drives the validation of the ``[tool.hatch.build.hooks.attest]``
and ``[tool.hatch-attest]`` tables (:mod:`hatch_attest._config`), the environment
variables that override them, the command line's flags and their ``--help``
(:mod:`hatch_attest._cli`), and the README's configuration table
(:func:`readme_table`; ``tests/test_options.py`` checks that the README holds
exactly what this module generates). Standard library only: the build hook reads
it on the idle path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "BY_KEY",
    "OPTIONS",
    "README_SECTIONS",
    "Option",
    "TextForm",
    "readme_keys",
    "readme_table",
]

TextForm = Literal["choice", "seconds", "path", "absolute-path", "flag", "publisher"]
"""How the option is written as text, in an environment variable or on the command
line: one of ``choices``, a number of seconds, a path (absolute in the
environment), a boolean flag without a value, or a ``KIND:...`` publisher spec."""


@dataclass(frozen=True)
class Option:
    """One option: its key in the table, its overrides, and its documentation."""

    key: str
    """The kebab-case key in the table."""
    form: TextForm
    """How it is written as text (environment, flags)."""
    readme_type: str
    """The README's type column (Markdown)."""
    readme_default: str
    """The README's default column (Markdown)."""
    meaning: str
    """The README's meaning column (Markdown)."""
    choices: tuple[str, ...] = ()
    """The valid string values, in the order they are documented."""
    default: str | None = None
    """The default, as a string, when there is one."""
    env: str | None = None
    """The environment variable that overrides it."""
    env_note: str = ""
    """More about the environment variable, for the README."""
    flag: str | None = None
    """The command-line flag that overrides both."""
    metavar: str | None = None
    """The flag's value in ``--help``."""
    help: str = ""
    """The flag's ``--help`` text (argparse ``%`` escapes not allowed)."""
    commands: tuple[str, ...] = ()
    """The commands that take the flag."""

    @property
    def dest(self) -> str:
        """The attribute of the parsed arguments that holds the flag's value."""
        return self.key.replace("-", "_")

    def flag_help(self, *, table: bool = True, default: str | None = None, more: str = "") -> str:
        """``help`` (and ``more``), followed by where the value comes from without the flag.

        ``table``: the pyproject.toml table applies (not ``mode`` for ``sign``);
        ``default`` replaces the option's own default.
        """
        sources = [] if self.env is None else [self.env]
        if table:
            sources.append(f"`{self.key}` in ./pyproject.toml")
        last = default if default is not None else self.default
        if last is not None:
            sources.append(last)
        text = self.help + more
        return f"{text} (default: {', else '.join(sources)})" if sources else text


SIGN = "sign"
VERIFYING = ("sign", "verify", "convert")

OPTIONS: Final[tuple[Option, ...]] = (
    Option(
        key="mode",
        form="choice",
        choices=("auto", "always", "never"),
        default="auto",
        readme_type='`"auto"` \\| `"always"` \\| `"never"`',
        readme_default='`"auto"`',
        meaning=(
            "`auto`: attest when the job has an identity and PyPI could accept its attestations "
            "(see [Where to sign](#where-to-sign)), otherwise skip with one line saying why. "
            "Builds inside cibuildwheel skip in every mode (see [Compiled wheels]"
            "(#compiled-wheels)). `always`: no identity, or any failure, fails the build. "
            "`never`: off. In `auto`, once an identity was obtained, any signing or "
            "verification failure fails the build."
        ),
        env="HATCH_ATTEST_MODE",
        flag="--mode",
        help="auto: without an identity, skip (exit 0); always: fail without one; never: do "
        "nothing",
        commands=(SIGN,),
    ),
    Option(
        key="instance",
        form="choice",
        choices=("production", "staging"),
        default="production",
        readme_type='`"production"` \\| `"staging"`',
        readme_default='`"production"`',
        meaning=("The public Sigstore instance to sign with (trust root from its TUF repository)."),
        flag="--instance",
        help="public Sigstore instance",
        commands=VERIFYING,
    ),
    Option(
        key="trust-config",
        form="path",
        readme_type="path",
        readme_default="—",
        meaning=(
            "A sigstore `ClientTrustConfig` JSON file for a private Sigstore deployment "
            "(relative to the project root). Excludes `instance`."
        ),
        env="HATCH_ATTEST_TRUST_CONFIG",
        env_note=(
            " (overrides both; must be an absolute path, because frontends run each build step "
            "in a folder of their own)"
        ),
        flag="--trust-config",
        metavar="FILE",
        help="sigstore ClientTrustConfig JSON of a private instance",
        commands=VERIFYING,
    ),
    Option(
        key="publisher",
        form="publisher",
        default="the CI job's own",
        readme_type="table",
        readme_default="inferred from CI",
        meaning=(
            "The Trusted Publisher PyPI will check. A job that is visibly another repository or "
            "workflow (a fork, somebody rebuilding your sdist) skips before any request; after "
            "signing, the attestation is verified against it. Set, it also signs in a workflow "
            "that shows no upload (a token upload or an upload in a reusable workflow still "
            "skips)."
        ),
        flag="--publisher",
        metavar="SPEC",
        help="the Trusted Publisher PyPI knows",
        commands=VERIFYING,
    ),
    Option(
        key="timeout",
        form="seconds",
        default="120",
        readme_type="number (seconds)",
        readme_default="`120`",
        meaning=(
            "One deadline per artifact, covering its identity token, the trust root (a TUF "
            "refresh for `production`/`staging`), its certificate (Fulcio) and its log entry "
            "(Rekor). It bounds the **whole** exchange of every request, not the wait for "
            "each byte: a server that answers one byte at a time is cut off at the deadline, "
            "and the message names the service and says that the deadline (N s, option "
            "`timeout`) ran out. Every call is retried (connection errors, timeouts, 5xx; 429"
            " honours `Retry-After`) with exponential backoff and jitter within what is left."
            " `hatch-attest sign` obtains one token and one certificate for all its "
            "artifacts: the time they take counts against every artifact's budget, and each "
            "log entry gets the rest. More than 0, at most 3600."
        ),
        env="HATCH_ATTEST_TIMEOUT",
        flag="--timeout",
        metavar="SECONDS",
        help="network time budget per artifact, retries included",
        commands=(SIGN,),
    ),
    Option(
        key="allow-private-repository",
        form="flag",
        default="false",
        readme_type="boolean",
        readme_default="`false`",
        meaning=(
            "Sign a repository that is not **provably public** on the public-good Sigstore "
            "instance. Signing writes the repository and workflow names into a permanent "
            "public log, so without this only a token whose `repository_visibility` (GitHub) "
            "or `project_visibility` (GitLab) claim is exactly `public` signs there: "
            '`private`, `internal`, a missing claim or any other spelling does not. "Public-'
            'good" is judged by where the signature would go (Fulcio and Rekor under '
            "sigstore.dev or sigstage.dev), and by the trusted root: a `trust-config` whose "
            "trusted root holds a key of the public-good instance (its Fulcio CA, Rekor log "
            "or CT log, production or staging; a proxy or mirror in front of sigstore.dev) "
            "counts too, whatever its URLs. A deployment of your own does not need this."
        ),
        flag="--allow-private-repository",
        help="sign a repository that is not provably public on the public-good Sigstore "
        "instance (publishes its name)",
        commands=(SIGN,),
    ),
    Option(
        key="predicate",
        form="choice",
        choices=("auto", "publish", "slsa-provenance", "both"),
        default="auto",
        readme_type=(
            '`"auto"` \\| `"publish"` \\| `"slsa-provenance"` \\| `"both"`, or an array of '
            '`"publish"`, `"slsa-provenance"`'
        ),
        readme_default='`"auto"`',
        meaning=(
            "Which attestations to write (see [the two predicates](#the-two-predicates)). "
            "`auto`: SLSA provenance when the job's workflow publishes with "
            "pypa/gh-action-pypi-publish (or that cannot be ruled out), a publish attestation "
            "otherwise; the build log says which and why."
        ),
        env="HATCH_ATTEST_PREDICATE",
        flag="--predicate",
        help="which attestations to write: publish (<dist>.publish.attestation), "
        "slsa-provenance (<dist>.slsa.attestation), both, or auto: SLSA provenance when this "
        "job's workflow publishes with pypa/gh-action-pypi-publish, else publish",
        commands=(SIGN,),
    ),
)
"""Every option of the hatch-attest tables, in the order they are documented."""

BY_KEY: Final = {option.key: option for option in OPTIONS}
""":data:`OPTIONS` by key."""


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def readme_table() -> str:
    """The README's configuration table, generated from :data:`OPTIONS`."""
    lines = [
        _row(("key", "type", "default", "meaning", "environment override", "flag")),
        _row(("---",) * 6),
    ]
    for option in OPTIONS:
        env = f"`{option.env}`{option.env_note}" if option.env else "—"
        flag = "—"
        if option.flag is not None:
            flag = f"`{option.flag}` ({', '.join(f'`{c}`' for c in option.commands)})"
        lines.append(
            _row(
                (
                    f"`{option.key}`",
                    option.readme_type,
                    option.readme_default,
                    option.meaning,
                    env,
                    flag,
                )
            )
        )
        if option.form == "publisher":
            lines.extend(_row((f"`{k}`", t, d, m, "—", "—")) for k, t, d, m in _publisher_rows())
    return "\n".join(lines) + "\n"


def _publisher_rows() -> tuple[tuple[str, str, str, str], ...]:
    """The ``publisher`` table's keys, as the publisher kinds declare them."""
    from hatch_attest._kinds import KINDS

    kinds = " \\| ".join(f'`"{kind}"`' for kind in KINDS)
    rows = [("publisher.kind", kinds, "—", "Which kind of publisher.")]
    meanings: dict[str, list[str]] = {}
    for kind, cls in KINDS.items():
        for field in cls.fields:
            meanings.setdefault(field.option, []).append(f"{kind}: {field.meaning}")
    rows += [
        (f"publisher.{option}", "string", "—", "; ".join(texts) + ".")
        for option, texts in meanings.items()
    ]
    return tuple(rows)


def readme_keys() -> str:
    """The README's list of the keys ``[tool.hatch-attest]`` shares with the hook table."""
    return ", ".join(f"`{option.key}`" for option in OPTIONS)


README_SECTIONS: Final = ("options-table", "options-keys")
"""The README parts generated here (between ``<!-- generated:NAME -->`` markers)."""
