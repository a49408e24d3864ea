"""Does this GitHub job's workflow publish with ``pypa/gh-action-pypi-publish``?

That action, with its default ``attestations: true``, signs a publish
attestation for every file in ``dist/`` and fails when
``<dist>.publish.attestation`` already exists (its ``attestations.py``); then it
runs ``twine upload --attestations dist/*``, which uploads every
``<dist>.*.attestation``. So when the workflow uses it, the predicate that can
sit next to the action's own is SLSA provenance; ``predicate = "auto"`` asks
:func:`workflow_uses_pypi_publish_action`.

The workflow file is the one the job runs (``GITHUB_WORKFLOW_REF`` names
``OWNER/REPO/.github/workflows/FILE@REF``), read from the checkout in
``GITHUB_WORKSPACE`` (or the current directory or one of its parents). The whole
file is read, not only this job: the build job and the publish job must share
one workflow file for PyPI to accept the build's attestations. Local reusable
workflows (``uses: ./.github/workflows/x.yml``) and local composite actions
(``uses: ./path``) are followed.

**The answer errs towards "yes".** A wrong "yes" costs little: SLSA provenance
is written instead of a publish attestation, and PyPI accepts either. A wrong
"no" makes the action fail the release. So anything this module cannot read
counts as "yes": an unreadable or missing workflow file, an ``attestations:``
value that is an expression, a reusable workflow in another repository.
Actions in other repositories that wrap gh-action-pypi-publish are not seen.

PyYAML is not a dependency (a build hook's isolated environment has only what
it declares), so :func:`_parse` reads the block-style YAML subset workflows are
written in: mappings, sequences, plain and quoted scalars, comments, one-line
flow collections. What it cannot read (block scalars, aliases, multi-line
flow collections) becomes :data:`_UNKNOWN`, never a guess.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["workflow_uses_pypi_publish_action"]

ACTION = "pypa/gh-action-pypi-publish"
_ACTION_REPOSITORY = "gh-action-pypi-publish"
_MAX_FILE_SIZE = 1 << 20
_MAX_DEPTH = 4  # nested local reusable workflows / composite actions followed
_MAX_PARENTS = 16  # directories searched upwards for the checkout


class _Unknown:
    """A value that cannot be known without running the workflow."""

    def __repr__(self) -> str:
        return "<unknown>"


_UNKNOWN = _Unknown()


class _Unreadable(Exception):
    """The file is not YAML this module can read."""


@dataclass(frozen=True)
class _Verdict:
    """One use of the action (or of something that may hide it) and what it means."""

    level: int  # 3: signs publish attestations; 2: cannot tell; 1: with `attestations: false`
    reason: str


def workflow_uses_pypi_publish_action(
    env: Mapping[str, str] | None = None, *, cwd: Path | None = None
) -> tuple[bool, str]:
    """Whether this job's workflow may publish with gh-action-pypi-publish signing.

    Returns ``(answer, reason)``; ``reason`` is one line for the build log. The
    answer is True when the workflow uses ``pypa/gh-action-pypi-publish`` without
    ``attestations: false``, and also whenever that cannot be ruled out in a
    GitHub Actions job (see the module docstring). Never raises for a bad or
    missing workflow file.
    """
    env = os.environ if env is None else env
    if env.get("GITHUB_ACTIONS") != "true":
        return False, f"not a GitHub Actions job, so {ACTION} is not in play"
    workflow_ref = env.get("GITHUB_WORKFLOW_REF", "")
    relative = _workflow_path(workflow_ref, env.get("GITHUB_REPOSITORY", ""))
    if relative is None:
        return True, (
            f"cannot tell which workflow file this job runs (GITHUB_WORKFLOW_REF is "
            f"{workflow_ref!r}); assuming it may publish with {ACTION}"
        )
    root = _checkout_root(relative, env.get("GITHUB_WORKSPACE"), cwd or Path.cwd())
    if root is None:
        return True, (
            f"cannot find the workflow file {relative} in the checkout (GITHUB_WORKSPACE or "
            f"the current directory); assuming it may publish with {ACTION}"
        )
    verdicts = _scan_file(root, relative, depth=0, seen=set())
    if verdicts:
        best = max(verdicts, key=lambda v: v.level)
        if best.level >= 2:
            return True, best.reason
        return False, best.reason
    return False, f"{relative} does not use {ACTION}"


def _workflow_path(workflow_ref: str, repository: str) -> str | None:
    """`.github/workflows/FILE` from `OWNER/REPO/.github/workflows/FILE@REF`."""
    if repository and workflow_ref.startswith(f"{repository}/"):
        rest = workflow_ref[len(repository) + 1 :]
    else:
        parts = workflow_ref.split("/", 2)
        if len(parts) < 3:
            return None
        rest = parts[2]
    path = rest.split("@", 1)[0]
    if not path.startswith(".github/workflows/") or ".." in path.split("/"):
        return None
    return path


def _checkout_root(relative: str, workspace: str | None, cwd: Path) -> Path | None:
    """The directory holding `relative`: the workspace, else cwd or a parent of it."""
    candidates = [Path(workspace)] if workspace else []
    here = cwd.resolve()
    candidates += [here, *list(here.parents)[:_MAX_PARENTS]]
    for candidate in candidates:
        if (candidate / relative).is_file():
            return candidate
    return None


def _scan_file(root: Path, relative: str, *, depth: int, seen: set[Path]) -> list[_Verdict]:
    """Verdicts for a workflow file (its jobs) or an action file (its composite steps)."""
    path = (root / relative).resolve()
    if path in seen:
        return []
    seen.add(path)
    try:
        document = _read(root, path)
    except (OSError, UnicodeDecodeError, _Unreadable) as e:
        detail = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        return [_Verdict(2, f"cannot read {relative} ({detail}); assuming it may use {ACTION}")]
    if not isinstance(document, dict):
        return [
            _Verdict(2, f"cannot read {relative} (not a mapping); assuming it may use {ACTION}")
        ]

    verdicts: list[_Verdict] = []
    runs = document.get("runs")
    if isinstance(runs, dict):  # an action.yml: only composite actions have steps
        steps = runs.get("steps") if runs.get("using") == "composite" else []
        where = f"the action {relative}"
        return _scan_steps(root, where, steps, depth=depth, seen=seen)
    jobs = document.get("jobs")
    if not isinstance(jobs, dict):
        return []
    for job_id, job in jobs.items():
        if not isinstance(job, dict):
            continue
        where = f"job `{job_id}` of {relative}"
        uses = job.get("uses")
        if uses is not None:
            verdicts += _scan_reusable(root, where, uses, depth=depth, seen=seen)
        verdicts += _scan_steps(root, where, job.get("steps"), depth=depth, seen=seen)
    return verdicts


def _read(root: Path, path: Path) -> Any:
    if not path.is_relative_to(root.resolve()):
        msg = "it is outside the checkout"
        raise _Unreadable(msg)
    with path.open("rb") as f:
        data = f.read(_MAX_FILE_SIZE + 1)
    if len(data) > _MAX_FILE_SIZE:
        msg = f"it is larger than {_MAX_FILE_SIZE} bytes"
        raise _Unreadable(msg)
    return _parse(data.decode("utf-8"))


def _scan_reusable(
    root: Path, where: str, uses: Any, *, depth: int, seen: set[Path]
) -> list[_Verdict]:
    if isinstance(uses, str) and uses.startswith("./"):
        if depth >= _MAX_DEPTH:
            return [_Verdict(2, f"{where} nests reusable workflows too deeply to follow")]
        return _scan_file(root, uses[2:], depth=depth + 1, seen=seen)
    return [
        _Verdict(
            2,
            f"{where} calls the reusable workflow {uses}, which cannot be read from here; "
            f"assuming it may use {ACTION}",
        )
    ]


def _scan_steps(
    root: Path, where: str, steps: Any, *, depth: int, seen: set[Path]
) -> list[_Verdict]:
    if steps is _UNKNOWN:
        return [_Verdict(2, f"cannot read the steps of {where}; assuming they may use {ACTION}")]
    if not isinstance(steps, list):
        return []
    verdicts: list[_Verdict] = []
    for step in steps:
        if not isinstance(step, dict) or "uses" not in step:
            continue
        uses = step["uses"]
        if not isinstance(uses, str):
            verdicts.append(_Verdict(2, f"cannot read a `uses:` of {where}"))
        elif _is_action(uses):
            verdicts.append(_action_verdict(where, uses, step.get("with")))
        elif uses.startswith("./"):
            if depth >= _MAX_DEPTH:
                verdicts.append(_Verdict(2, f"{where} nests local actions too deeply to follow"))
                continue
            action_dir = uses[2:].rstrip("/")
            name = next(
                (n for n in ("action.yml", "action.yaml") if (root / action_dir / n).is_file()),
                "action.yml",
            )
            verdicts += _scan_file(root, f"{action_dir}/{name}", depth=depth + 1, seen=seen)
    return verdicts


def _is_action(uses: str) -> bool:
    """`<owner>/gh-action-pypi-publish@ref` (forks behave alike), or its Docker image."""
    lowered = uses.strip().lower()
    if lowered.startswith("docker://"):
        return _ACTION_REPOSITORY in lowered
    parts = lowered.split("@", 1)[0].split("/")
    return len(parts) >= 2 and parts[1] == _ACTION_REPOSITORY


def _action_verdict(where: str, uses: str, with_: Any) -> _Verdict:
    """What `attestations:` means to the action's twine-upload.sh.

    The script compares the lowercased input with "false"; anything else,
    including an absent input (the default is true), signs.
    """
    signs = f"{where} uses {uses}, which signs its own publish attestations"
    if with_ is None:
        return _Verdict(3, f"{signs} (`attestations` is on by default)")
    if not isinstance(with_, dict):
        return _Verdict(2, f"cannot read the `with:` of {uses} in {where}; assuming it signs")
    # Inputs reach the action as INPUT_<NAME uppercased> (hyphen or underscore).
    inputs = {
        key.lower().replace("_", "-"): item for key, item in with_.items() if isinstance(key, str)
    }
    url = inputs.get("repository-url")
    if isinstance(url, str) and "${{" not in url and not re.search(r"pypi\.org", url):
        # twine-upload.sh turns attestations off for an index other than (Test)PyPI.
        return _Verdict(1, f"{where} uses {uses} to upload to {url}, where it does not sign")
    value: Any = _UNKNOWN if "<<" in with_ else inputs.get("attestations")
    if value is None:
        return _Verdict(3, f"{signs} (`attestations` is on by default)")
    if isinstance(value, str) and "${{" not in value:
        if value.strip().lower() == "false":
            return _Verdict(1, f"{where} uses {uses} with `attestations: false`")
        return _Verdict(3, f"{signs} (`attestations: {value}`)")
    shown = value if isinstance(value, str) else "a value that cannot be read statically"
    return _Verdict(
        2, f"{where} uses {uses} with `attestations: {shown}`; assuming it signs its own"
    )


# --- a reader for the YAML that workflows are written in --------------------------------


@dataclass(frozen=True)
class _Line:
    indent: int
    text: str  # without indentation, comment or trailing blanks


def _parse(source: str) -> Any:
    """Parse a single-document block-style YAML file into dicts, lists and strings."""
    lines = _logical_lines(source)
    if not lines:
        return None
    value, end = _block(lines, 0, lines[0].indent)
    if end != len(lines):
        msg = f"unexpected indentation at {lines[end].text[:40]!r}"
        raise _Unreadable(msg)
    return value


def _logical_lines(source: str) -> list[_Line]:
    lines: list[_Line] = []
    for raw in source.splitlines():
        # YAML indents with spaces only; a tab can only start content (in a block
        # scalar, which is skipped by its indentation anyway).
        body = raw.lstrip(" ")
        indent = len(raw) - len(body)
        text = _strip_comment(body.lstrip("\t")).rstrip()
        if not text or text in {"---", "..."}:
            continue
        # "- key: value" is a sequence item holding a mapping whose column is that
        # of "key": split it, so every node starts on a line of its own.
        while text == "-" or text.startswith("- "):
            rest = text[1:].lstrip(" ")
            lines.append(_Line(indent, "-"))
            if not rest:
                text = ""
                break
            indent += len(text) - len(rest)
            text = rest
        if text:
            lines.append(_Line(indent, text))
    return lines


def _strip_comment(text: str) -> str:
    """Drop a `# comment`: a `#` after a blank (or first), outside quoted scalars."""
    quote = ""
    token_start = True  # where a quoted scalar may begin
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\" and quote == '"':
                i += 1
            elif char == quote:
                if quote == "'" and text[i + 1 : i + 2] == "'":
                    i += 1
                else:
                    quote = ""
        elif char == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i]
        elif char in "'\"" and token_start:
            quote = char
        if not quote:
            token_start = char in " -:[{,?"
        i += 1
    return text


def _block(lines: list[_Line], i: int, indent: int) -> tuple[Any, int]:
    if not _strip_properties(lines[i].text):  # `&anchor` alone: the node follows
        i += 1
        if i < len(lines) and lines[i].indent >= indent:
            return _block(lines, i, lines[i].indent)
        return None, i
    if lines[i].text == "-":
        return _sequence(lines, i, indent)
    if _split_key(lines[i].text) is not None:
        return _mapping(lines, i, indent)
    return _scalar(lines, i, indent)


def _sequence(lines: list[_Line], i: int, indent: int) -> tuple[list[Any], int]:
    items: list[Any] = []
    while i < len(lines) and lines[i].indent == indent and lines[i].text == "-":
        i += 1
        if i < len(lines) and lines[i].indent > indent:
            item, i = _block(lines, i, lines[i].indent)
        else:
            item = None
        items.append(item)
    return items, i


def _mapping(lines: list[_Line], i: int, indent: int) -> tuple[dict[str, Any], int]:
    mapping: dict[str, Any] = {}
    while i < len(lines) and lines[i].indent == indent:
        entry = _split_key(lines[i].text)
        if entry is None:
            msg = f"expected `key: value` at {lines[i].text[:40]!r}"
            raise _Unreadable(msg)
        key, raw = entry
        i += 1
        raw = _strip_properties(raw)
        if raw == "":
            if i < len(lines) and lines[i].indent > indent:
                value, i = _block(lines, i, lines[i].indent)
            elif i < len(lines) and lines[i].indent == indent and lines[i].text == "-":
                value, i = _sequence(lines, i, indent)  # `key:` then `- item` at its column
            else:
                value = None
        elif raw[0] in "|>":
            while i < len(lines) and lines[i].indent > indent:
                i += 1
            value = _UNKNOWN
        else:
            continuation = []
            while i < len(lines) and lines[i].indent > indent:
                continuation.append(lines[i].text)
                i += 1
            value = _value(" ".join([raw, *continuation]))
        mapping[key] = value
    return mapping, i


def _scalar(lines: list[_Line], i: int, indent: int) -> tuple[Any, int]:
    parts = [lines[i].text]
    i += 1
    while i < len(lines) and lines[i].indent > indent:
        parts.append(lines[i].text)
        i += 1
    if parts[0][0] in "|>":  # a block scalar as a sequence item
        return _UNKNOWN, i
    return _value(" ".join(parts)), i


_PROPERTY = re.compile(r"^(?:[&!][^\s]*\s*)+")


def _strip_properties(raw: str) -> str:
    """Drop anchors (`&name`) and tags (`!!str`): they do not change a string's text."""
    return _PROPERTY.sub("", raw).strip()


def _split_key(text: str) -> tuple[str, str] | None:
    """`key: value` -> (key, value); None when the line is not a mapping entry."""
    if text[0] in "'\"":
        end = _quoted_end(text, 0)
        if end is None or not text[end:].startswith(":"):
            return None
        key, rest = _unquote(text[:end]), text[end + 1 :]
        if rest and not rest.startswith(" "):
            return None
        return key, rest.strip()
    if text.startswith(("[", "{", "?")):
        return None
    match = re.search(r":(?: |$)", text)
    if match is None:
        return None
    return text[: match.start()].strip(), text[match.end() :].strip()


def _quoted_end(text: str, start: int) -> int | None:
    """The index just past the quoted scalar that opens at `start`."""
    quote = text[start]
    i = start + 1
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            if quote == "'" and text[i + 1 : i + 2] == "'":
                i += 2
                continue
            return i + 1
        i += 1
    return None


def _unquote(text: str) -> str:
    inner = text[1:-1]
    if text[0] == "'":
        return inner.replace("''", "'")
    return _ESCAPE.sub(_unescape, inner)


_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")
_ESCAPES = dict(zip("0abtnvfreN_LP", "\0\a\b\t\n\v\f\r\x1b\x85\xa0\u2028\u2029", strict=True))


def _unescape(match: re.Match[str]) -> str:
    """A double-quoted scalar's escape sequence (YAML 1.2, 5.7)."""
    code = match.group(1)
    if len(code) > 1:
        return chr(int(code[1:], 16))
    return _ESCAPES.get(code, code)


def _value(raw: str) -> Any:
    raw = _strip_properties(raw)
    if not raw:
        return None
    if raw[0] == "*":
        return _UNKNOWN
    if raw[0] in "'\"":
        end = _quoted_end(raw, 0)
        if end is None or raw[end:].strip():
            return _UNKNOWN
        return _unquote(raw)
    if raw[0] in "[{":
        try:
            value, end = _flow(raw, 0)
        except (_Unreadable, IndexError):
            return _UNKNOWN
        return value if not raw[end:].strip() else _UNKNOWN
    return raw


def _flow(text: str, i: int) -> tuple[Any, int]:
    """A one-line flow collection (`[a, b]`, `{k: v}`) or a scalar inside one."""
    i = _skip_blanks(text, i)
    if text[i] in "[{":
        return _flow_collection(text, i)
    if text[i] in "'\"":
        end = _quoted_end(text, i)
        if end is None:
            msg = "unterminated quoted scalar"
            raise _Unreadable(msg)
        return _unquote(text[i:end]), end
    match = _FLOW_SCALAR.match(text, i)
    if match is None:
        msg = "malformed flow scalar"
        raise _Unreadable(msg)
    return match.group().strip(), match.end()


_FLOW_SCALAR = re.compile(r"[^,\[\]{}]*?(?=\s*(?:[,\]}]|:(?: |$)))")


def _flow_collection(text: str, i: int) -> tuple[Any, int]:
    closing = "]" if text[i] == "[" else "}"
    items: list[Any] = []
    mapping: dict[str, Any] = {}
    i += 1
    while True:
        i = _skip_blanks(text, i)
        if text[i] == closing:
            return (items if closing == "]" else mapping), i + 1
        node, i = _flow(text, i)
        i = _skip_blanks(text, i)
        if closing == "]":
            items.append(node)
        elif text[i] == ":":
            mapping[str(node)], i = _flow(text, i + 1)
        else:
            mapping[str(node)] = None
        i = _skip_blanks(text, i)
        if text[i] == ",":
            i += 1
        elif text[i] != closing:
            msg = "malformed flow collection"
            raise _Unreadable(msg)


def _skip_blanks(text: str, i: int) -> int:
    while text[i] == " ":
        i += 1
    return i
