"""The wrapper backend's configuration and hook surface, without a frontend (fast).

Real builds through real frontends are in ``tests/e2e/test_backend.py``. Every
backend call here runs in a fresh interpreter in the project folder, as a
frontend runs it, so that no test sees another's imports.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hatch_attest._config import BuildBackend, load_wrapper_config, read_pyproject
from hatch_attest.errors import ConfigError
from hatch_attest_testing import outside_ci, run_bounded

REPO = Path(__file__).resolve().parents[1]
W = "tool.hatch-attest"


def project(root: Path, table: str, *, extra: str = "") -> Path:
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [build-system]
            requires = ["setuptools>=77", "hatch-attest"]
            build-backend = "hatch_attest.backend"

            [project]
            name = "simple-pkg"
            version = "1.0.0"

            """
        )
        + extra
        + f"[{W}]\n"
        + textwrap.dedent(table)
    )
    return root


def errors_of(root: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_wrapper_config(read_pyproject(root), {})
    return info.value.errors


class TestConfig:
    def test_backend_and_options(self, tmp_path: Path) -> None:
        root = project(
            tmp_path,
            """\
            build-backend = "pkg.build:backend.api"
            backend-path = ["_build", "tools/./build"]
            mode = "always"
            """,
        )
        config, backend = load_wrapper_config(read_pyproject(root), {})
        assert config.mode == "always"
        assert backend == BuildBackend(
            "pkg.build", "backend.api", (tmp_path / "_build", tmp_path / "tools" / "build")
        )
        assert backend.spec == "pkg.build:backend.api"

    def test_every_problem_at_once_with_its_toml_path(self, tmp_path: Path) -> None:
        root = project(
            tmp_path,
            """\
            mdoe = "always"
            build-backend = "setuptools.build_meta:"
            backend-path = ["../elsewhere"]
            timeout = 0
            """,
        )
        assert errors_of(root) == [
            f'{W}.mdoe: unknown option; did you mean "mode"?',
            f"{W}.timeout: must be a number of seconds, more than 0 and at most 3600, not 0",
            f'{W}.build-backend: must be a string "module" or "module:object", such as '
            '"setuptools.build_meta", not "setuptools.build_meta:"',
            f'{W}.backend-path: "../elsewhere" is outside the project root',
        ]

    @pytest.mark.parametrize(
        ("table", "error"),
        [
            (
                "mode = 'auto'\n",
                f"{W}.build-backend: missing; name the backend that really builds, e.g. "
                'build-backend = "setuptools.build_meta" (what [build-system] build-backend '
                "said before hatch_attest.backend)",
            ),
            (
                'build-backend = "hatch_attest.backend"\n',
                f"{W}.build-backend: must name the backend that really builds, not hatch-attest "
                'itself (found "hatch_attest.backend")',
            ),
            (
                'build-backend = "setuptools.build_meta"\nbackend-path = "_build"\n',
                f"{W}.backend-path: must be a list of folders relative to the project root, "
                'such as ["_build"], not "_build"',
            ),
        ],
    )
    def test_backend_errors(self, table: str, error: str, tmp_path: Path) -> None:
        assert errors_of(project(tmp_path, table)) == [error]

    def test_without_the_wrapper_table(self, tmp_path: Path) -> None:
        (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
        [error] = errors_of(tmp_path)
        assert error.startswith(
            f"{W}.build-backend: missing; the build backend hatch_attest.backend needs a "
            f"[{W}] table in {tmp_path / 'pyproject.toml'}"
        )


def call(
    root: Path, script: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a fresh interpreter in ``root``, as a frontend runs a hook.

    The result is the last line of stdout: setuptools prints to stdout too.
    """
    return run_bounded(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=root,
        env={**outside_ci(), **(env or {})},
        timeout=120,
    )


HEAVY = '{"sigstore", "pypi_attestations", "id", "requests", "cryptography", "pydantic"}'


def test_idle_hooks_import_nothing_heavy(tmp_path: Path) -> None:
    """Importing the wrapper and answering an idle build's first calls stays in the stdlib."""
    root = project(tmp_path, 'build-backend = "setuptools.build_meta"\n')
    before = call(
        root, f"import sys, hatch_attest.backend; print(sorted({HEAVY} & set(sys.modules)))"
    )
    assert before.stdout == "[]\n", before.stderr
    result = call(
        root,
        f"""
        import json, sys
        import hatch_attest.backend as backend
        requires = backend.get_requires_for_build_sdist(None)
        print(json.dumps([requires, sorted({HEAVY} & set(sys.modules))]))
        """,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [[], []]


def test_requirements_add_the_signing_stack_only_when_signing(tmp_path: Path) -> None:
    root = project(tmp_path, 'build-backend = "setuptools.build_meta"\n')
    script = """
        import json, hatch_attest.backend as backend
        print(json.dumps(backend.get_requires_for_build_wheel(None)))
        """
    idle = call(root, script)
    signing = call(root, script, {"SIGSTORE_IDENTITY_TOKEN": "x.y.z"})
    # setuptools itself asks for nothing beyond [build-system] requires.
    assert json.loads(idle.stdout.splitlines()[-1]) == []
    assert json.loads(signing.stdout.splitlines()[-1]) == [
        "sigstore>=4.5,<5",
        "pypi-attestations>=0.0.30,<0.1",
        "pyyaml>=6",
    ]


MINIMAL_BACKEND = '''\
"""Only the mandatory hooks."""


def build_sdist(sdist_directory, config_settings=None):
    raise NotImplementedError


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise NotImplementedError
'''

HOOKS = (
    "get_requires_for_build_editable",
    "prepare_metadata_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "build_editable",
    "get_requires_for_build_wheel",
    "get_requires_for_build_sdist",
)


@pytest.mark.parametrize(
    ("backend", "present"),
    [
        ("setuptools.build_meta", HOOKS),
        ("minimal", ("get_requires_for_build_wheel", "get_requires_for_build_sdist")),
    ],
)
def test_optional_hooks_exactly_when_the_wrapped_backend_has_them(
    backend: str, present: tuple[str, ...], tmp_path: Path
) -> None:
    """A frontend treats a missing hook differently from one that is there: mirror it."""
    (tmp_path / "_build").mkdir()
    (tmp_path / "_build" / "minimal.py").write_text(MINIMAL_BACKEND)
    root = project(tmp_path, f'build-backend = "{backend}"\nbackend-path = ["_build"]\n')
    result = call(
        root,
        f"""
        import hatch_attest.backend as backend
        print(" ".join(h for h in {HOOKS!r} if hasattr(backend, h)))
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == list(present)


def test_a_forwarded_hook_is_the_wrapped_one(tmp_path: Path) -> None:
    """Same function, so config_settings and metadata_directory reach it unchanged."""
    root = project(tmp_path, 'build-backend = "setuptools.build_meta"\n')
    result = call(
        root,
        """
        import hatch_attest.backend as backend, setuptools.build_meta as s
        print(backend.prepare_metadata_for_build_wheel is s.prepare_metadata_for_build_wheel)
        print(backend.build_editable is s.build_editable)
        """,
    )
    assert result.stdout.split() == ["True", "True"], result.stderr


def test_invalid_configuration_exits_with_every_error(tmp_path: Path) -> None:
    root = project(tmp_path, 'mdoe = "auto"\n')
    result = call(root, "import hatch_attest.backend as b; b.build_sdist('dist')")
    assert result.returncode == 1
    assert result.stderr == (
        f"hatch-attest: invalid configuration in pyproject.toml [{W}]:\n"
        f'  {W}.mdoe: unknown option; did you mean "mode"?\n'
        f"  {W}.build-backend: missing; name the backend that really builds, e.g. "
        'build-backend = "setuptools.build_meta" (what [build-system] build-backend said '
        "before hatch_attest.backend)\n"
    )
    assert not (tmp_path / "dist").exists()
