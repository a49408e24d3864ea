"""What a local service sees of a request, and what it answers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from typing import Any


@dataclass(frozen=True)
class Request:
    """What a service sees of one HTTP request."""

    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes


@dataclass(frozen=True)
class Reply:
    """One HTTP response, before it is written to the socket."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    """The status line's reason phrase; None for the standard one (warehouse puts
    its error messages there, and uploaders print it)."""


def json_reply(status: int, document: Any, headers: dict[str, str] | None = None) -> Reply:
    """A JSON response."""
    return Reply(status, json.dumps(document).encode(), headers=headers or {})
