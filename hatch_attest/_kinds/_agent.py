"""Running a CI agent's token command (``buildkite-agent``, ``circleci``) within the deadline."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from typing import ClassVar

from hatch_attest._identity import Probe
from hatch_attest._kinds.base import Ambient
from hatch_attest._redact import redact
from hatch_attest.errors import IdentityError, NoIdentityError

_CREDENTIAL_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|KEY", re.IGNORECASE)
_MAX_DETAIL = 200


class AgentAmbient(Ambient):
    """A CI whose job asks a command-line agent for its token (Buildkite, CircleCI).

    A subclass names its variable, its tool, ``id``'s exact argv and what to do
    when the tool is missing.
    """

    variable: ClassVar[str]
    """The variable set to ``true`` in its jobs."""
    argv: ClassVar[tuple[str, ...]]
    """The token command, as ``id`` runs it (its first word is the tool)."""
    missing: ClassVar[str]
    """How messages name the tool when it is not on the job's PATH."""
    missing_fix: ClassVar[str]
    """What to do when the tool is not on the job's PATH."""

    @classmethod
    def runs_here(cls, env: Mapping[str, str]) -> bool:
        return env.get(cls.variable) == "true"

    @classmethod
    def probe(cls, env: Mapping[str, str]) -> Probe:
        # The agent can issue tokens only where its tool is on the job's PATH.
        if shutil.which(cls.argv[0], path=env.get("PATH")):
            return Probe(cls.source)
        return Probe(None, f"this {cls.source} job has no {cls.missing} on PATH", cls.missing_fix)

    @classmethod
    def fetch_token(cls, env: Mapping[str, str]) -> str:
        return agent_token(cls.source, list(cls.argv), env)


def _tool_output(text: str, env: Mapping[str, str]) -> str:
    """The last line a tool printed, safe to show: no credential of the job, no JWT."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    # Besides what every message drops (tokens, JWT-shaped text), an agent may print
    # any secret of the job's environment.
    secrets = [v for n, v in env.items() if len(v) >= 8 and _CREDENTIAL_NAME.search(n)]
    line = redact(lines[-1], secrets)
    return line if len(line) <= _MAX_DETAIL else line[: _MAX_DETAIL - 3] + "..."


def agent_token(provider: str, argv: list[str], env: Mapping[str, str]) -> str:
    """Run a CI agent's token command (``id``'s exact argv), within the time budget.

    ``id`` runs these without a timeout, so a hung agent would hold the build for as
    long as it hangs; here the agent is killed when the budget is spent. The
    executable is looked up on the job's PATH, as ``id`` does.
    """
    from hatch_attest import _deadline, _http

    tool = argv[0]
    executable = shutil.which(tool, path=env.get("PATH"))
    if executable is None:
        msg = f"{provider} was detected, but `{tool}` is not on PATH"
        raise NoIdentityError(msg)
    budget = _http.remaining()
    try:
        # Killed with every process it started: a wrapper script's child would live on.
        done = _deadline.run_command(argv, executable=executable, env=env)
    except _deadline.DeadlinePassed:
        msg = (
            f"`{tool}` did not issue an OIDC token within the time budget ({budget:.0f} s) "
            "and was stopped. Retry the job; if the agent is slow rather than hung, raise "
            "`timeout` (HATCH_ATTEST_TIMEOUT)."
        )
        raise IdentityError(msg) from None
    except OSError as e:
        msg = f"{provider} was detected, but `{tool}` could not be run: {e.strerror or e}"
        raise NoIdentityError(msg) from None
    if done.returncode != 0:
        detail = _tool_output(done.stderr, env) or _tool_output(done.stdout, env)
        msg = (
            f"{provider} was detected, but `{tool}` could not issue an OIDC token "
            f"(exit status {done.returncode}{': ' + detail if detail else ''})"
        )
        raise NoIdentityError(msg)
    token = done.stdout.strip()
    if not token:
        msg = f"`{tool}` exited successfully but printed no OIDC token"
        raise IdentityError(msg)
    return token
