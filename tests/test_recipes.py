"""The README's CI recipes are files (linted by zizmor in .ci/run), included verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MARKER = re.compile(r"<!-- recipe: (?P<path>\S+) [^>]*-->\n```yaml\n(?P<body>.*?)```\n", re.S)
PINNED = re.compile(r"^\s*- uses: [\w.-]+/[\w./-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+\b")
GITHUB_RECIPES = sorted(
    path
    for pattern in (
        "examples/*/.github/workflows/*.yml",
        "docs/recipes/*.yml",
        ".github/workflows/*.yml",
    )
    for path in REPO.glob(pattern)
)


def included() -> dict[str, str]:
    return {m["path"]: m["body"] for m in MARKER.finditer(README.read_text())}


def test_every_recipe_in_the_readme_is_a_file_included_verbatim() -> None:
    recipes = included()
    assert recipes, "no <!-- recipe: PATH --> marker in README.md"
    for path, body in recipes.items():
        assert (REPO / path).read_text() == body, f"README.md's copy of {path} differs"


def test_no_ci_yaml_block_in_the_readme_escapes_the_files() -> None:
    """A YAML block with jobs or steps must be one of the included (and linted) files."""
    text = README.read_text()
    blocks = re.findall(r"```yaml\n(.*?)```\n", text, re.S)
    ci_blocks = [b for b in blocks if re.search(r"^\s*(- uses:|jobs:|script:)", b, re.M)]
    assert sorted(ci_blocks) == sorted(included().values())


@pytest.mark.parametrize("path", GITHUB_RECIPES, ids=lambda p: str(p.relative_to(REPO)))
def test_github_recipe_pins_actions_and_keeps_no_credentials(path: Path) -> None:
    """What zizmor checks, readable without it: SHA pins with a version, no cache, no token."""
    text = path.read_text()
    uses = [line for line in text.splitlines() if line.strip().startswith("- uses:")]
    assert uses
    for line in uses:
        assert PINNED.match(line), f"{path.name}: not pinned to a commit with `# vX.Y.Z`: {line}"
    workflow = yaml.safe_load(text)
    assert workflow["permissions"] == {}
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            action = step.get("uses", "")
            if action.startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
            if action.startswith("astral-sh/setup-uv@"):
                assert step["with"]["enable-cache"] is False
