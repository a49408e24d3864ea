"""``hatch-attest rehearse``: the user's own release, offline, before the tag.

It is :mod:`hatch_attest._demo` pointed at the user's project. From the checkout it
reads who publishes (the ``publisher`` table, ``[project.urls]``) and how the
release runs: the publisher kind's own module reads its CI files
(:func:`hatch_attest._kinds.plan_release`, e.g. ``plan_release`` in
:mod:`hatch_attest._kinds.github_workflow` and :mod:`hatch_attest._kinds.gitlab_ci`,
with the same readers the hook uses to decide whether PyPI could accept its
attestations) into a kind-neutral :class:`~hatch_attest._kinds.release.ReleasePlan`.
Then, against the local Sigstore and the local index of :mod:`hatch_attest_testing`
(127.0.0.1 only), whose ``LocalSigstore.job_env(publisher)`` is the emulated job of
any kind, it:

1. registers on the index the Trusted Publisher PyPI would have (the configured
   ``publisher``, else the workflow that uploads with Trusted Publishing);
2. builds a copy of the project with the frontend the release uses, without build
   isolation (this environment's packages, so nothing is downloaded), in an
   emulated job of the workflow that builds, with the project's own configuration
   (``HATCH_ATTEST_TRUST_CONFIG`` points it at the local instance);
3. uploads each file, with its attestations, the way the release uploads (``twine
   upload --attestations``, ``uv publish``, or gh-action-pypi-publish's steps), from
   an emulated job of the workflow that uploads, over Trusted Publishing;
4. reports, per file, what the index (warehouse's rules and wording) answered,
   and any layout problem the topology readers find.

The user's tree is only read: the build runs in a temporary copy. This module
names no publisher kind: what differs between kinds is in the kind's module, or in
its emulation in :mod:`hatch_attest_testing`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from hatch_attest._config import (
    MODE_ENV,
    TRUST_CONFIG_ENV,
    WRAPPER_TABLE,
    AttestConfig,
    read_pyproject,
)
from hatch_attest._deadline import run_step
from hatch_attest._kinds import ci_markers, ci_paths, plan_release, rehearsable
from hatch_attest._kinds.release import REHEARSAL_TAG, ReleasePlan, ReleaseSource
from hatch_attest._project_urls import repository_from_project_urls
from hatch_attest.errors import AttestError, ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:
    from hatch_attest._kinds import Publisher
    from hatch_attest_testing import LocalIndex, LocalSigstore

__all__ = ["FRONTENDS", "FileResult", "Plan", "Rehearsal", "header", "plan", "rehearse", "summary"]

FRONTENDS = ("uv", "build", "hatch")
"""What ``--frontend`` accepts."""
STEP_TIMEOUT_SECONDS = 600
# Never copied into the rehearsal's build folder: outputs, VCS data, environments.
_SKIP_EVERYWHERE = frozenset(
    {".git", ".hg", ".venv", ".tox", ".nox", "__pycache__", ".mypy_cache", ".pytest_cache",
     ".ruff_cache", "node_modules"}
)  # fmt: skip
_SKIP_AT_TOP = frozenset({"dist"})
_SHOWN_TAIL = 25  # lines of a failed step's output shown

Say = Callable[[str], None]
# What the rehearsal runs beyond the idle path: the `cli` extra (module, distribution).
_CLI_STACK = (
    ("yaml", "pyyaml"),
    ("sigstore", "sigstore"),
    ("pypi_attestations", "pypi-attestations"),
    ("build", "build"),
    ("twine", "twine"),
)


@dataclass(frozen=True)
class FileResult:
    """What the local index answered for one distribution."""

    filename: str
    accepted: bool
    attestations: tuple[str, ...] = ()
    """The predicate types of the attestations the index kept with it."""
    reason: str | None = None
    """Why it was refused (warehouse's words), or why it carries no attestation."""
    reached_index: bool = True
    """False when the uploader failed before sending it (the release would fail too)."""

    @property
    def as_expected(self) -> bool:
        """Accepted, with the attestations the release is meant to carry."""
        return self.accepted and bool(self.attestations)


@dataclass(kw_only=True)
class Plan(ReleasePlan):
    """What the rehearsal read from the project: who publishes, and how the release runs.

    The kind's reading (:class:`~hatch_attest._kinds.release.ReleasePlan`), with the
    project and the frontend the rehearsal builds with.
    """

    project: Path
    name: str
    repository: str
    config: AttestConfig
    frontend: str = "build"
    ci_root: Path | None = None
    """The folder holding the CI files (the project, or a parent in a monorepo)."""


@dataclass
class Rehearsal:
    """The outcome: per-file results, problems, and what the local services saw."""

    plan: Plan
    files: list[FileResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sigstore_counts: dict[str, int] = field(default_factory=dict)
    index_counts: dict[str, int] = field(default_factory=dict)
    built: bool = False

    @property
    def status(self) -> int:
        """0 only when it built, and every file was accepted with attestations."""
        ok = self.built and self.files and all(f.as_expected for f in self.files)
        return 0 if ok and not self.problems else 1


# --- reading the project ----------------------------------------------------------


def plan(project: Path, *, workflow: str | None = None, frontend: str | None = None) -> Plan:
    """Read who publishes ``project`` and how its release builds and uploads.

    Raises:
        ConfigError: the configuration is invalid, or this environment lacks what
            the offline build needs (exit 2).
        AttestError: the publisher cannot be determined (exit 1).
    """
    project = project.resolve()
    if not (project / "pyproject.toml").is_file():
        msg = f"cannot rehearse: {project} has no pyproject.toml (pass --project DIR)"
        raise ConfigError([msg])
    lacking = [name for module, name in _CLI_STACK if not _importable(module)]
    if lacking:
        msg = (
            f"cannot rehearse: {', '.join(lacking)} {'is' if len(lacking) == 1 else 'are'} not "
            "installed here; install 'hatch-attest[cli]'"
        )
        raise ConfigError([msg])
    pyproject = read_pyproject(project)
    # The emulated job's own configuration: none of this shell's HATCH_ATTEST_* variables.
    config = pyproject.config({})
    name = _project_name(project)
    ci_root = _ci_root(project)
    configured = config.publisher
    home = None if configured is None else configured.home()
    if configured is not None and (type(configured).emulated_as is None or home is None):
        msg = (
            f"cannot rehearse: the publisher {configured.describe()} is not a {rehearsable()} "
            "workflow, and only those can be emulated"
        )
        raise AttestError(msg)
    found = repository_from_project_urls(pyproject.project_urls)
    if home is not None:
        kind, repository = home
    elif found is not None:
        kind, repository = found
    else:
        where = f"[{pyproject.table_name}]"
        msg = (
            'cannot rehearse: no publisher is known. Set `publisher = { kind = "github", '
            f'repository = "OWNER/REPO", workflow = "release.yml" }}` in {where} of '
            f"{pyproject.path}, or a Source URL in [project.urls]"
        )
        raise AttestError(msg)
    source = ReleaseSource(project, ci_root, name, repository, config, workflow)
    release = plan_release(kind, source)
    result = Plan(
        **{f.name: getattr(release, f.name) for f in fields(ReleasePlan)},
        project=project,
        name=name,
        repository=repository,
        config=config,
        ci_root=ci_root,
    )
    _choose_frontend(result, frontend)
    _check_build_environment(project, pyproject.table_name, result)
    if config.trust_config is not None or config.instance != "production":
        result.notes.append(
            "the project pins its Sigstore instance (`trust-config`/`instance`); the "
            f"rehearsal overrides it with {TRUST_CONFIG_ENV} pointing at the local instance"
        )
    return result


def _project_name(project: Path) -> str:
    try:
        data: Any = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        msg = f"cannot read {project / 'pyproject.toml'}: {e}"
        raise ConfigError([msg]) from e
    name = data.get("project", {}).get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name:
        msg = f"cannot rehearse: {project / 'pyproject.toml'} has no [project] name"
        raise ConfigError([msg])
    return name


def _ci_root(project: Path) -> Path:
    """The project, or the parent (up to the repository's root) holding its CI files."""
    for candidate in (project, *project.parents):
        if any((candidate / marker).exists() for marker in ci_markers()):
            return candidate
        if (candidate / ".git").exists():
            break
    return project


def _choose_frontend(result: Plan, frontend: str | None) -> None:
    if frontend is not None:
        result.frontend = frontend
    elif result.build is not None:
        result.frontend = result.build.frontend
    if result.frontend == "cibuildwheel":
        result.notes.append(
            f"{result.build.where if result.build else 'the release'} builds with cibuildwheel, "
            'whose wheels are signed after repair with `hatch-attest sign` (README "Compiled '
            'wheels"); the rehearsal builds with `python -m build` instead (--frontend picks)'
        )
        result.frontend = "build"
    if result.frontend == "hatch":
        result.notes.append(
            "`hatch build` installs its build environment from an index; the rehearsal "
            "builds with `python -m build --no-isolation` (the same backend and hook, this "
            "environment's packages)"
        )
        result.frontend = "build"


def _check_build_environment(project: Path, table: str, result: Plan) -> None:
    """Exit 2 with one line when the offline build cannot work in this environment."""
    data: Any = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    system = data.get("build-system", {}) if isinstance(data, dict) else {}
    backend = system.get("build-backend", "setuptools.build_meta")
    modules = [backend] if isinstance(backend, str) else []
    if backend == "hatch_attest.backend" and table == WRAPPER_TABLE:
        wrapped = data.get("tool", {}).get("hatch-attest", {}).get("build-backend")
        if isinstance(wrapped, str):
            modules.append(wrapped)
    in_tree = bool(system.get("backend-path"))
    missing = [] if in_tree else [m for m in modules if not _importable(m.split(":")[0])]
    requires = [r for r in system.get("requires", []) if isinstance(r, str)]
    absent = [r for r in requires if not _installed(r)]
    if missing or absent:
        what = (
            f"the build backend {missing[0]} is not importable here"
            if missing
            else ("the build requirements are not all installed here")
        )
        install = " ".join(f"'{r}'" for r in absent) or missing[0].split(".")[0]
        msg = (
            f"cannot rehearse: {what}, and the rehearsal builds offline with this "
            f"environment's packages; install {install} into it (pip install {install})"
        )
        raise ConfigError([msg])
    if (result.frontend == "uv" or result.uploader == "uv") and _uv() is None:
        msg = (
            "cannot rehearse: the release runs uv, which is not installed here; install it "
            "into this environment (pip install uv)"
        )
        raise ConfigError([msg])


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _installed(requirement: str) -> bool:
    try:
        parsed = Requirement(requirement)
    except InvalidRequirement:
        return True  # the frontend will say what is wrong with it
    if parsed.marker is not None and not parsed.marker.evaluate():
        return True
    try:
        version = importlib.metadata.version(canonicalize_name(parsed.name))
    except importlib.metadata.PackageNotFoundError:
        return False
    return parsed.specifier.contains(version, prereleases=True)


def _uv() -> str | None:
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() else shutil.which("uv")


# --- running it -------------------------------------------------------------------


def rehearse(the_plan: Plan, *, say: Say) -> Rehearsal:
    """Run the release of ``the_plan`` against a local Sigstore and a local index.

    ``say`` receives progress lines; :func:`header` and :func:`summary` frame them
    with the lines that say it is a rehearsal.
    """
    from hatch_attest_testing import LocalIndex, LocalSigstore

    result = Rehearsal(the_plan, problems=list(the_plan.problems))
    with tempfile.TemporaryDirectory(prefix="rehearsal-") as scratch:
        work = Path(scratch)
        workspace, project = _copy(the_plan, work / "workspace")
        with (
            LocalSigstore.start(directory=work / "sigstore") as sigstore,
            LocalIndex.start(sigstore, directory=work / "index") as index,
        ):
            index.add_publisher(the_plan.name, the_plan.publisher.to_pypi())
            say(f"Registered Trusted Publisher ({the_plan.publisher_source}):")
            say(f"  {the_plan.publisher.describe()}")
            dist = _build(the_plan, sigstore, (workspace, project), result, say)
            if dist is not None:
                for artifact in dist:
                    result.files.append(_upload(the_plan, sigstore, index, workspace, artifact))
            result.sigstore_counts = sigstore.counts()
            result.index_counts = index.counts()
    return result


def _copy(the_plan: Plan, workspace: Path) -> tuple[Path, Path]:
    """The project (and the CI files of a monorepo root), copied; never the user's tree."""
    root = the_plan.ci_root or the_plan.project
    relative = the_plan.project.relative_to(root)
    project = workspace / relative
    shutil.copytree(the_plan.project, project, ignore=_ignore(the_plan.project))
    if relative != Path("."):
        for name in ci_paths():
            source = root / name
            if source.is_dir():
                shutil.copytree(source, workspace / name)
            elif source.is_file():
                shutil.copy2(source, workspace / name)
    return workspace, project


def _ignore(top: Path) -> Callable[[str, list[str]], set[str]]:
    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in _SKIP_EVERYWHERE}
        if Path(directory) == top:
            skipped |= {n for n in names if n in _SKIP_AT_TOP}
        return skipped

    return ignore


def _job_env(
    sigstore: LocalSigstore, job: Publisher, workspace: Path, *, upload: bool = False
) -> dict[str, str]:
    """An emulated CI job of the publisher ``job``, starting from an environment outside any CI.

    The copy has no .git: the CI readers cannot compare commits, and read the files as they are.
    """
    from hatch_attest_testing import outside_ci

    env = outside_ci()
    env.update(sigstore.job_env(job, workspace=workspace, tag=REHEARSAL_TAG, upload=upload))
    env["NO_COLOR"] = "1"
    return env


def _build(
    the_plan: Plan,
    sigstore: LocalSigstore,
    folders: tuple[Path, Path],
    result: Rehearsal,
    say: Say,
) -> list[Path] | None:
    """Build in the build workflow's emulated job; the distributions, or None if it failed."""
    workspace, project = folders
    env = _job_env(sigstore, the_plan.build_job, workspace)
    if the_plan.build is not None:
        # The build step's own settings (HATCH_ATTEST_MODE: always, ...), never its trust config.
        env.update(
            (k, v)
            for k, v in the_plan.build.env
            if k.startswith("HATCH_ATTEST_") and k != TRUST_CONFIG_ENV
        )
    env[TRUST_CONFIG_ENV] = str(sigstore.trust_config_path)
    dist = project / "dist"
    argv = _build_command(the_plan.frontend, dist)
    say("")
    say(f"Building in an emulated {the_plan.build_job_name}:")
    say(f"  $ {_shown(argv)}" + (f"   ({MODE_ENV}={env[MODE_ENV]})" if MODE_ENV in env else ""))
    status, output = _run(argv, project, env)
    for line in output.splitlines():
        if "attest" in line.lower():
            say(f"  | {line.strip()}")
    if status != 0:
        for line in output.splitlines()[-_SHOWN_TAIL:]:
            say(f"  | {line}")
        problem = f"the build failed ({_outcome(status)})"
        result.problems.append(problem)
        say(f"  {problem}; its output is shown above.")
        return None
    result.built = True
    artifacts = (
        sorted(p for p in dist.iterdir() if p.name.endswith((".whl", ".tar.gz", ".zip")))
        if dist.is_dir()
        else []
    )
    for artifact in artifacts:
        attestations = sorted(p.name for p in dist.glob(f"{artifact.name}.*.attestation"))
        say(
            f"  built {artifact.name}"
            + (f" + {', '.join(attestations)}" if attestations else " (no attestation)")
        )
    return artifacts


def _build_command(frontend: str, dist: Path) -> list[str]:
    if frontend == "uv":
        uv = _uv() or "uv"
        return [
            uv,
            "build",
            "--no-build-isolation",
            "--python",
            sys.executable,
            "--out-dir",
            str(dist),
        ]
    return [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), "."]


def _upload(
    the_plan: Plan, sigstore: LocalSigstore, index: LocalIndex, workspace: Path, artifact: Path
) -> FileResult:
    """Upload one file with its attestations from the upload workflow's emulated job."""
    env = _job_env(sigstore, the_plan.upload_job, workspace, upload=True)
    env.update(index.client_env())
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env["COLUMNS"] = "300"
    env.pop("SIGSTORE_ID_TOKEN", None)
    refused_before = len(index.refusals())
    if the_plan.before_upload is not None:
        token = sigstore.mint_job_token(the_plan.upload_job, tag=REHEARSAL_TAG)
        refusal = the_plan.before_upload(artifact, sigstore.trust_config_path, token)
        if refusal is not None:
            return FileResult(artifact.name, accepted=False, reason=refusal, reached_index=False)
    argv = _upload_command(the_plan.uploader, artifact)
    status, output = _run(argv, artifact.parent.parent, env)
    stored = [f for f in index.files() if f.filename == artifact.name]
    if stored:
        kinds = tuple(_predicate_type(a.envelope.statement) for a in stored[0].attestations)
        reason = None if kinds else "uploaded WITHOUT attestations (the build made none)"
        return FileResult(artifact.name, accepted=True, attestations=kinds, reason=reason)
    refusals = index.refusals()[refused_before:]
    if refusals:
        last = refusals[-1]
        where = "Trusted Publishing" if last.endpoint == "mint-token" else "upload"
        reason = f"{where}: {last.status} {last.message}"
    else:
        tail = [" ".join(line.split()) for line in output.splitlines() if line.strip()]
        said = tail[-1] if tail else "no output"
        tool = "uv publish" if the_plan.uploader == "uv" else "twine upload"
        reason = f"{tool} stopped before the upload ({_outcome(status)}): {said}"
        return FileResult(artifact.name, accepted=False, reason=reason, reached_index=False)
    return FileResult(artifact.name, accepted=False, reason=reason)


def _upload_command(uploader: str, artifact: Path) -> list[str]:
    attestations = sorted(str(p) for p in artifact.parent.glob(f"{artifact.name}.*.attestation"))
    if uploader == "uv":
        # uv picks the attestations out of the files it is given, as from `dist/*`.
        uv = [_uv() or "uv", "publish", "--trusted-publishing", "always"]
        return [*uv, str(artifact), *attestations]
    twine = [sys.executable, "-m", "twine", "--no-color", "upload", "--non-interactive"]
    return [*twine, "--disable-progress-bar", "--attestations", str(artifact), *attestations]


def _predicate_type(statement: bytes) -> str:
    from hatch_attest._claims import read_statement

    return read_statement(statement).predicate_type or "no predicate type"


def _run(argv: list[str], cwd: Path, env: Mapping[str, str]) -> tuple[int | None, str]:
    try:
        # On timeout, killed with everything it started (a frontend's build backend).
        proc = run_step(argv, cwd=cwd, env=env, timeout=STEP_TIMEOUT_SECONDS, output="merge")
    except subprocess.TimeoutExpired:
        return None, ""
    return proc.returncode, proc.stdout


def _outcome(status: int | None) -> str:
    return f"no result within {STEP_TIMEOUT_SECONDS} s" if status is None else f"exit {status}"


def _shown(argv: list[str]) -> str:
    words = ["python" if a == sys.executable else a for a in argv]
    return " ".join(Path(w).name if w.endswith(("/uv", "/twine")) else w for w in words)


# --- what the user reads ------------------------------------------------------------

FIRST_LINE = (
    "REHEARSAL (local Sigstore and a local package index on 127.0.0.1; "
    "nothing is signed publicly, nothing is published)"
)


def header(the_plan: Plan) -> Iterator[str]:
    """What the rehearsal read, before it runs; the first line says it is a rehearsal."""
    yield FIRST_LINE
    yield f"Project {the_plan.name} ({the_plan.project})"
    build = the_plan.build
    yield (
        f"Build:  {the_plan.build_workflow}"
        + (f", {build.where}: {build.command}" if build else "")
        + f" -> rehearsed with the {the_plan.frontend} frontend"
    )
    upload = the_plan.upload
    yield (
        f"Upload: {the_plan.upload_workflow}"
        + (f", {upload.where}: {upload.tool}" if upload else "")
        + f" -> rehearsed with {the_plan.uploader_name}"
    )
    for note in the_plan.notes:
        yield f"Note: {note}"


def summary(result: Rehearsal) -> Iterator[str]:
    """Per file and per problem, then the last line, which says it was a rehearsal."""
    yield ""
    yield "What PyPI would do:"
    for file in result.files:
        if not file.reached_index:
            yield f"  {file.filename}: NOT UPLOADED: {file.reason}"
        elif not file.accepted:
            yield f"  {file.filename}: REJECTED: {file.reason}"
        elif file.attestations:
            names = ", ".join(_short(t) for t in file.attestations)
            yield f"  {file.filename}: accepted, with attestations ({names})"
        else:
            yield f"  {file.filename}: accepted, but {file.reason}"
    if not result.files:
        yield "  nothing was uploaded"
    for problem in result.problems:
        yield f"Problem: {problem}"
    counts = result.sigstore_counts
    upload = result.index_counts
    yield (
        f"Local services answered {counts.get('oidc', 0)} token, {counts.get('fulcio', 0)} "
        f"certificate, {counts.get('rekor', 0)} log and {upload.get('upload', 0)} upload "
        "requests."
    )
    verdict = (
        "PASSED: every file would be accepted with its attestations"
        if result.status == 0
        else "FAILED: see above"
    )
    yield f"REHEARSAL {verdict} (local Sigstore, local index; nothing was published)."


def _short(predicate_type: str) -> str:
    return predicate_type.removeprefix("https://").removeprefix("docs.pypi.org/attestations/")
