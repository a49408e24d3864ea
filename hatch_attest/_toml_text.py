"""Found values shown as they would be written in TOML, shortened: for error messages.

Configuration errors quote what they found (``not {render(value)}``); a value
from a hostile or broken file may be huge, deeply nested or not TOML at all
(NaN, dates), so it is rendered with bounds on length, items and depth.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Final, TypeVar

__all__ = ["key", "quote", "render"]

_I = TypeVar("_I")

_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")


def key(name: object) -> str:
    """A table key as TOML writes it: bare when it can be, else quoted."""
    text = str(name)
    return text if _BARE_KEY.fullmatch(text) else quote(text)


def quote(text: str) -> str:
    """*text* as a TOML (and JSON) basic string."""
    return json.dumps(text, ensure_ascii=False)


_RENDER_WIDTH: Final = 60
_RENDER_ITEMS: Final = 4


def render(value: object) -> str:
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
        return quote(value[: _RENDER_WIDTH * 2])
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        if depth >= 2:
            return "{ ... }"
        items = [f"{key(k)} = {_toml(v, depth + 1)}" for k, v in _first(value.items())]
        return "{ " + ", ".join(items) + (", ..." if len(value) > _RENDER_ITEMS else "") + " }"
    if isinstance(value, (list, tuple)):
        if depth >= 2:
            return "[...]" if value else "[]"
        items = [_toml(item, depth + 1) for item in _first(value)]
        return "[" + ", ".join(items) + (", ..." if len(value) > _RENDER_ITEMS else "") + "]"
    return repr(value)


def _first(items: Iterable[_I]) -> list[_I]:
    return list(itertools.islice(items, _RENDER_ITEMS))
