"""Reading a CI configuration from the job's checkout: bounded YAML, and which commit it is.

Shared by the GitHub and GitLab readers. PyYAML is imported only here, and only
when a file is read, which happens only in a job that has an identity to sign
with; the hosts request it from the frontend with the signing stack.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

__all__ = [
    "MAX_FILE_SIZE",
    "UNKNOWN",
    "Unreadable",
    "find_root",
    "head_commit",
    "load",
    "stale_checkout",
    "yaml_available",
]

MAX_FILE_SIZE = 1 << 20
_MAX_NESTING = 64  # collections inside collections; a workflow needs about 8
_MAX_NODES = 200_000  # every node, counting what each alias repeats
_MAX_PARENTS = 16  # directories searched upwards for the checkout
_MAX_SYMREFS = 5


class _Unknown:
    """A value that cannot be known without running the CI (an unknown tag)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


class Unreadable(Exception):
    """The file is not a CI configuration this reader can read (one line: why)."""


def yaml_available() -> bool:
    """Whether PyYAML can be imported (it cannot before the frontend installs it)."""
    return importlib.util.find_spec("yaml") is not None


def find_root(relative: str, preferred: str | None, cwd: Path) -> Path | None:
    """The directory holding ``relative``: ``preferred`` (the workspace), else cwd or a parent."""
    candidates = [Path(preferred)] if preferred else []
    here = cwd.resolve()
    candidates += [here, *list(here.parents)[:_MAX_PARENTS]]
    for candidate in candidates:
        if (candidate / relative).is_file():
            return candidate
    return None


def load(root: Path, path: Path) -> Any:
    """The YAML document at ``path`` (inside ``root``) as dicts, lists, strings, bools, None.

    Scalars stay strings except ``true``/``false`` and null, as YAML 1.2 (which
    GitHub and GitLab read) resolves them: ``on:`` is the key "on", ``no`` is "no".

    Raises:
        Unreadable: outside the checkout, larger than 1 MiB, nested or aliased
            beyond the limits, or not YAML.
        OSError, UnicodeDecodeError: the file cannot be read.
    """
    import yaml

    if not path.resolve().is_relative_to(root.resolve()):
        msg = "it is outside the checkout"
        raise Unreadable(msg)
    with path.open("rb") as f:
        data = f.read(MAX_FILE_SIZE + 1)
    if len(data) > MAX_FILE_SIZE:
        msg = f"it is larger than {MAX_FILE_SIZE} bytes"
        raise Unreadable(msg)
    text = data.decode("utf-8")
    try:
        # The loader class is built once per process, on first use (it needs yaml).
        return yaml.load(text, Loader=_loader_class())  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        msg = "it nests too deeply"
        raise Unreadable(msg) from None
    except yaml.YAMLError as e:
        problem = getattr(e, "problem", None) or type(e).__name__
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        msg = f"{problem}{where}"
        raise Unreadable(msg) from None


_LOADER: type[yaml.SafeLoader] | None = None


def _loader_class() -> type[yaml.SafeLoader]:
    global _LOADER  # noqa: PLW0603 - built lazily: yaml is not importable at import time
    if _LOADER is None:
        _LOADER = _make_loader()
    return _LOADER


def _make_loader() -> type[yaml.SafeLoader]:
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        """A SafeLoader that counts nodes (aliases at their expanded size) and depth."""

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.nodes = 0
            self.depth = 0

        def _spend(self, count: int) -> None:
            self.nodes += count
            if self.nodes > _MAX_NODES:
                msg = f"it has more than {_MAX_NODES} nodes (counting what aliases repeat)"
                raise Unreadable(msg)

        def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
            if self.check_event(yaml.AliasEvent):
                anchor = self.peek_event().anchor  # type: ignore[no-untyped-call]
                target = self.anchors.get(anchor)
                if target is not None:
                    self._spend(_size(target, _MAX_NODES - self.nodes + 1))
                return super().compose_node(parent, index)
            self._spend(1)
            self.depth += 1
            try:
                if self.depth > _MAX_NESTING:
                    msg = f"it nests collections more than {_MAX_NESTING} deep"
                    raise Unreadable(msg)
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    # YAML 1.2's core schema for what matters here: only null and true/false are
    # not strings (PyYAML's 1.1 would read `on:` as True and `no` as False).
    BoundedLoader.yaml_implicit_resolvers = {}
    BoundedLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    BoundedLoader.add_implicit_resolver(
        "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
    )
    BoundedLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])
    # A tag of the CI's own (GitLab's `!reference [...]`) is a value not known here.
    BoundedLoader.add_multi_constructor("!", lambda _loader, _suffix, _node: UNKNOWN)
    return BoundedLoader


def _size(node: yaml.Node, limit: int) -> int:
    """How many nodes ``node`` stands for, counting shared children each time; at most ``limit``."""
    import yaml

    count = 0
    stack: list[yaml.Node] = [node]
    while stack and count < limit:
        current = stack.pop()
        count += 1
        if isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
    return count


# --- which commit the checkout is -----------------------------------------------------

_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_MAX_GIT_FILE = 1 << 16
_MAX_PACKED_REFS = 64 << 20


def head_commit(root: Path) -> str | None:
    """The commit ``root``'s checkout has out, read from ``.git`` without running git.

    None when there is no git metadata or it cannot be read to the end (a
    reftable repository, a ref in an unusual place): nothing is then known.
    """
    git_dir = _git_dir(root)
    if git_dir is None:
        return None
    common = git_dir
    pointer = _read_small(git_dir / "commondir")
    if pointer is not None:  # a linked worktree: refs live in the main repository
        common = (git_dir / pointer.strip()).resolve()
    head = _read_small(git_dir / "HEAD")
    for _ in range(_MAX_SYMREFS):
        if head is None:
            return None
        head = head.strip()
        if _SHA.fullmatch(head):
            return head
        if not head.startswith("ref: "):
            return None
        head = _resolve_ref(head[5:].strip(), git_dir, common)
    return None


def _git_dir(root: Path) -> Path | None:
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    text = _read_small(dot_git)  # a worktree or submodule: "gitdir: PATH"
    if text is None or not text.startswith("gitdir:"):
        return None
    path = Path(text[len("gitdir:") :].strip())
    path = path if path.is_absolute() else root / path
    return path if path.is_dir() else None


def _resolve_ref(name: str, git_dir: Path, common: Path) -> str | None:
    if ".." in name.split("/"):
        return None
    for base in dict.fromkeys((git_dir, common)):
        loose = _read_small(base / name)
        if loose is not None:
            return loose
    for line in _packed_refs(common):
        sha, _, ref = line.partition(" ")
        if ref.strip() == name:
            return sha
    return None


def _packed_refs(common: Path) -> Iterator[str]:
    path = common / "packed-refs"
    try:
        if path.stat().st_size > _MAX_PACKED_REFS:
            return
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if line[:1] not in {"#", "^"}:
                    yield line.rstrip("\n")
    except OSError:
        return


def _read_small(path: Path) -> str | None:
    try:
        with path.open("rb") as f:
            data = f.read(_MAX_GIT_FILE)
    except OSError:
        return None
    return data.decode("utf-8", errors="replace")


def stale_checkout(root: Path, expected: str | None, variable: str) -> str | None:
    """Why ``root`` provably holds another commit than ``expected`` (the running CI's), or None.

    None as well when either side is unknown: a checkout without git metadata
    keeps the reader's usual answer.
    """
    if not expected:
        return None
    head = head_commit(root)
    if head is None or head == expected.strip().lower():
        return None
    return (
        f"the checkout in {root} is commit {head[:12]}, not the running workflow's "
        f"{expected[:12]} ({variable}), so its CI files may not be the ones that run"
    )
