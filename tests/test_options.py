"""Options are declared once (hatch_attest._options): the table, the environment, the flags,
``--help`` and the README all come from that declaration, and agree."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from hatch_attest import _readme
from hatch_attest._config import OPTIONS as CONFIG_OPTIONS
from hatch_attest._config import AttestConfig, Instance, Mode, load_config
from hatch_attest._options import BY_KEY, OPTIONS, Option
from hatch_attest.errors import ConfigError

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_holds_what_the_declaration_generates() -> None:
    text = README.read_text(encoding="utf-8")

    # On failure: `python -m hatch_attest._readme README.md` rewrites the parts.
    assert _readme.render(text, _readme.sections()) == text


def test_the_readme_shows_the_real_help_of_every_command() -> None:
    text = README.read_text(encoding="utf-8")

    assert _readme.help_output("--help") in text
    for command in _readme.COMMANDS:
        usage = _readme.help_output(command, "--help").split("\n\n", 1)[0]
        assert usage in text, command
    # Issue 17, first-hour defect 5: what the README's copies lacked.
    assert "[--predicate {auto,publish,slsa-provenance,both}]" in text
    assert "| `predicate` |" in text
    top = " ".join(_readme.help_output("--help").split())
    assert "build hook [tool.hatch.build.hooks.attest]" in top
    assert 'build-backend = "hatch_attest.backend" with [tool.hatch-attest]' in top


def test_the_wrapper_table_is_documented_with_every_key() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())

    keys = ", ".join(f"`{option.key}`" for option in OPTIONS)
    assert f"takes every key of the hook table above (<!-- generated:options-keys -->{keys}" in (
        text
    )


def test_the_types_name_the_declared_choices() -> None:
    assert get_args(Mode) == BY_KEY["mode"].choices
    assert get_args(Instance) == BY_KEY["instance"].choices
    assert tuple(option.key for option in OPTIONS) == CONFIG_OPTIONS


@pytest.mark.parametrize("option", [o for o in OPTIONS if o.env], ids=lambda o: o.key)
def test_every_environment_variable_is_read(option: Option) -> None:
    assert option.env is not None
    with pytest.raises(ConfigError) as info:
        load_config({}, root=Path.cwd(), env={option.env: "not-a-valid-value"})
    [error] = info.value.errors
    assert error.startswith(f"{option.env}: ")


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.key)
def test_every_flag_is_in_the_help_of_its_commands(option: Option) -> None:
    assert option.flag is not None
    for command in option.commands:
        help_text = _readme.help_output(command, "--help")
        assert f"  {option.flag}" in help_text, (command, option.flag)
        if option.env and not (command == "sign" and option.key == "mode"):
            assert option.env in " ".join(help_text.split()), (command, option.env)


@pytest.mark.parametrize("option", [o for o in OPTIONS if o.choices], ids=lambda o: o.key)
def test_every_declared_choice_is_accepted_and_nothing_else(option: Option) -> None:
    for choice in option.choices:
        config = load_config({option.key: choice}, root=Path.cwd(), env={})
        assert isinstance(config, AttestConfig)
    with pytest.raises(ConfigError) as info:
        load_config({option.key: "sometimes"}, root=Path.cwd(), env={})
    alternatives = ", ".join(f'"{choice}"' for choice in option.choices)
    assert f"must be one of {alternatives}" in info.value.errors[0]


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.key)
def test_every_declared_option_has_a_reader(option: Option) -> None:
    # A value of no valid type: the option's own reader must say so, by its path.
    with pytest.raises(ConfigError) as info:
        load_config({option.key: {"not": "valid"}}, root=Path.cwd(), env={}, prefix="t")
    errors = info.value.errors
    assert errors
    assert all(error.startswith(f"t.{option.key}") for error in errors), errors
    assert not any(error.startswith(f"t.{option.key}: unknown option") for error in errors)
