"""What this GitHub job's workflow does with the files it builds: where, and how, it uploads.

Two questions are answered from one reading of the workflow file:

- **Can PyPI accept this job's attestations?** (:func:`topology_skip`) PyPI
  accepts an attestation only on an upload made with Trusted Publishing by the
  publisher that signed it. The certificate names the job's *top-level*
  workflow (``GITHUB_WORKFLOW_REF``, what Fulcio's Build Config URI holds), while
  warehouse looks the publisher up by the upload job's ``job_workflow_ref``: an
  upload inside a called reusable workflow never matches (warehouse issue
  11096), and an upload with an API token is answered with 400.
- **Does gh-action-pypi-publish sign its own publish attestations?**
  (:func:`workflow_uses_pypi_publish_action`, for ``predicate = "auto"``) With its
  default ``attestations: true`` the action fails when
  ``<dist>.publish.attestation`` exists, so the predicate that can sit next to
  its own is SLSA provenance.

The workflow file is read from the checkout in ``GITHUB_WORKSPACE`` (or the
current directory or one of its parents). Local reusable workflows (``uses:
./.github/workflows/x.yml``) and local composite actions are followed.

**Anything that cannot be read is "unknown", which keeps the old behaviour**:
sign, and assume the action may sign its own (a wrong SLSA costs nothing, a
wrong publish attestation fails the release). Unknown are: a workflow file that
is missing or unreadable, a checkout that is provably another commit than the
running workflow (``GITHUB_WORKFLOW_SHA``), and a process where PyYAML is not
installed yet (the frontend asks for the build's requirements before installing
them: the answer is then "sign", so the signing stack and PyYAML are requested,
and the real answer is given at build time).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hatch_attest._kinds._checkout import (
    UNKNOWN,
    Unreadable,
    find_root,
    load,
    stale_checkout,
    yaml_available,
)
from hatch_attest._kinds.release import (
    REHEARSAL_TAG,
    UPLOADER_NAMES,
    ReleasePlan,
    ReleaseSource,
    choose_uploader,
    trusted,
)
from hatch_attest._uploads import (
    URL_VARIABLES,
    Build,
    TopologySkip,
    Upload,
    foreign_index,
    shell_builds,
    shell_uploads,
    token_variables,
)
from hatch_attest.errors import AttestError, ConfigError

if TYPE_CHECKING:
    from hatch_attest._kinds.base import Publisher

__all__ = [
    "plan_release",
    "publisher_doubt",
    "read_workflow",
    "sign_as_action",
    "topology_skip",
    "workflow_uses_pypi_publish_action",
]

ACTION = "pypa/gh-action-pypi-publish"
_ACTION_REPOSITORY = "gh-action-pypi-publish"
_MATURIN_ACTION = "maturin-action"
_MAX_DEPTH = 4  # nested local reusable workflows / composite actions followed
_WORKFLOWS = ".github/workflows/"
_TRUSTED_PUBLISHING_ERROR = (
    'PyPI answers 400 "Attestations are only supported when using Trusted Publishing"'
)


@dataclass(frozen=True)
class _Verdict:
    """One use of the action (or of something that may hide it) and what it means."""

    level: int  # 3: signs publish attestations; 2: cannot tell; 1: with `attestations: false`
    reason: str


@dataclass
class Reading:
    """What one reading of the job's workflow found."""

    workflow: str
    """The top-level workflow file, relative to the checkout (or the ref, if unnamed)."""
    unknown: str | None = None
    """Why nothing can be known (the topology answer is then "sign"), else None."""
    uploads: list[Upload] = field(default_factory=list)
    builds: list[Build] = field(default_factory=list)
    """Python build commands its jobs run (for ``hatch-attest rehearse``)."""
    verdicts: list[_Verdict] = field(default_factory=list)
    """About gh-action-pypi-publish's own signing, for ``predicate = "auto"``."""
    hidden: list[str] = field(default_factory=list)
    """Places in the top-level workflow's jobs that may hide an upload (unreadable)."""
    remote_reusable: list[str] = field(default_factory=list)
    """Reusable workflows of other repositories called (they may upload; PyPI cannot accept)."""
    root: Path | None = None
    """The checkout the workflow was read from."""
    name: str | None = None
    """The workflow's `name:`, which `workflow_run` triggers use."""
    fingerprint: tuple[tuple[str, int, int], ...] = ()


def read_workflow(env: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> Reading:
    """Read this job's workflow (once per process while its files do not change)."""
    env = os.environ if env is None else env
    workflow_ref = env.get("GITHUB_WORKFLOW_REF", "")
    relative = _workflow_path(workflow_ref, env.get("GITHUB_REPOSITORY", ""))
    if relative is None:
        return Reading(
            workflow_ref,
            f"cannot tell which workflow file this job runs (GITHUB_WORKFLOW_REF is "
            f"{workflow_ref!r})",
        )
    root = find_root(relative, env.get("GITHUB_WORKSPACE"), cwd or Path.cwd())
    if root is None:
        return Reading(
            relative,
            f"cannot find the workflow file {relative} in the checkout (GITHUB_WORKSPACE or "
            "the current directory)",
        )
    stale = stale_checkout(root, env.get("GITHUB_WORKFLOW_SHA"), "GITHUB_WORKFLOW_SHA")
    if stale is not None:
        return Reading(relative, stale)
    if not yaml_available():
        return Reading(relative, "PyYAML is not installed yet to read the workflow")
    key = (str(root), relative)
    cached = _CACHE.get(key)
    if cached is not None and cached.fingerprint == _fingerprint(cached.fingerprint):
        return cached
    scan = _Scan(root, relative)
    reading = scan.run()
    _CACHE[key] = reading
    return reading


_CACHE: dict[tuple[str, str], Reading] = {}


def _fingerprint(previous: tuple[tuple[str, int, int], ...]) -> tuple[tuple[str, int, int], ...]:
    found = []
    for path, _, _ in previous:
        try:
            stat = os.stat(path)
        except OSError:
            found.append((path, -1, -1))
        else:
            found.append((path, stat.st_mtime_ns, stat.st_size))
    return tuple(found)


def topology_skip(
    env: Mapping[str, str], *, publisher: bool, cwd: Path | None = None
) -> TopologySkip | None:
    """Why PyPI could not accept this GitHub job's attestations, or None to sign.

    Args:
        publisher: A configured ``publisher`` names this workflow; then "no upload
            visible" is not a reason to skip (a token upload or an upload only in a
            reusable workflow still is).
    """
    if env.get("GITHUB_ACTIONS") != "true":
        return None
    reading = read_workflow(env, cwd=cwd)
    if reading.unknown is not None:
        return None
    workflow = reading.workflow
    top = [u for u in reading.uploads if u.reusable is None]
    if any(u.token is None for u in top):
        return None
    nested = [u for u in reading.uploads if u.reusable is not None and u.token is None]
    if nested:
        upload = nested[0]
        return TopologySkip(
            f"the upload to PyPI ({upload.tool} in {upload.where}) runs inside the reusable "
            f"workflow {upload.reusable}, and PyPI cannot accept attestations from such an "
            "upload: it looks the Trusted Publisher up by the upload job's job_workflow_ref, "
            f"which never matches the certificate's workflow {workflow} (warehouse issue "
            f"11096). Move the upload step into {workflow} to attest",
            warning=True,
        )
    tokens = [u for u in reading.uploads if u.token is not None]
    if tokens:
        upload = tokens[0]
        return TopologySkip(
            f"{upload.where} uploads with {upload.tool} without Trusted Publishing "
            f"({upload.token}), and {_TRUSTED_PUBLISHING_ERROR} to attestations on such an "
            f"upload. Publish with Trusted Publishing from {workflow} to attest",
            warning=True,
        )
    if reading.hidden or publisher:
        return None
    if reading.remote_reusable:
        return TopologySkip(
            f"{workflow} uploads nothing itself, and calls the reusable workflow "
            f"{reading.remote_reusable[0]}: PyPI cannot accept attestations for an upload "
            "made inside a reusable workflow (warehouse issue 11096). Upload from "
            f"{workflow}, or set `publisher` to sign anyway",
            warning=False,
        )
    after = _uploads_after(reading)
    where = (
        f"{after}, which runs after it (workflow_run) and uploads, with `hatch-attest sign` "
        "before its upload"
        if after is not None
        else "that workflow"
    )
    return TopologySkip(
        f"{workflow} shows no upload to PyPI (no gh-action-pypi-publish, twine upload, "
        "uv publish, ... step), and PyPI accepts attestations only from the workflow that "
        f"uploads. Sign in {where}, or set `publisher` to sign here anyway",
        warning=False,
    )


_MAX_SIBLINGS = 64


def _uploads_after(reading: Reading) -> str | None:
    """A workflow triggered by this one (`on: workflow_run`) that uploads with Trusted Publishing.

    Only asked on the way to a skip, to say where signing would be accepted.
    """
    if reading.root is None:
        return None
    names = {reading.workflow.rpartition("/")[2], *([reading.name] if reading.name else [])}
    folder = reading.root / _WORKFLOWS
    try:
        siblings = sorted(p for p in folder.iterdir() if p.suffix in {".yml", ".yaml"})
    except OSError:
        return None
    for path in siblings[:_MAX_SIBLINGS]:
        relative = _WORKFLOWS + path.name
        if relative == reading.workflow:
            continue
        document = _load(reading.root, path)
        trigger = document.get("on") if isinstance(document, dict) else None
        run = trigger.get("workflow_run") if isinstance(trigger, dict) else None
        after = run.get("workflows") if isinstance(run, dict) else None
        after = [after] if isinstance(after, str) else after
        if not isinstance(after, list) or not names.intersection(map(str, after)):
            continue
        found = _Scan(reading.root, relative).run()
        if any(u.reusable is None and u.token is None for u in found.uploads):
            return relative
    return None


def publisher_doubt(env: Mapping[str, str], *, cwd: Path | None = None) -> str | None:
    """Why this job's workflow cannot be taken for the Trusted Publisher PyPI checks, or None.

    For ``verify`` without ``--publisher``: only a workflow that visibly uploads
    with Trusted Publishing itself is surely the publisher PyPI will check. The
    answer is one line that asks for ``--publisher``.
    """
    if env.get("GITHUB_ACTIONS") != "true":
        return None
    reading = read_workflow(env, cwd=cwd)
    if reading.unknown is None:
        if any(u.reusable is None and u.token is None for u in reading.uploads):
            return None
        why = f"{reading.workflow} does not itself upload to PyPI with Trusted Publishing"
    else:
        why = reading.unknown
    this = (
        f"github:{env.get('GITHUB_REPOSITORY', 'OWNER/REPO')}@{reading.workflow.rpartition('/')[2]}"
    )
    return (
        f"cannot tell which Trusted Publisher PyPI will check ({why}): pass --publisher naming "
        f"the workflow that uploads, e.g. --publisher {this} if it is this job's"
    )


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
    reading = read_workflow(env, cwd=cwd)
    if reading.unknown is not None and not reading.verdicts:
        return True, f"{reading.unknown}; assuming it may publish with {ACTION}"
    if reading.verdicts:
        best = max(reading.verdicts, key=lambda v: v.level)
        return best.level >= 2, best.reason
    return False, f"{reading.workflow} does not use {ACTION}"


def _workflow_path(workflow_ref: str, repository: str) -> str | None:
    """`.github/workflows/FILE` from `OWNER/REPO/.github/workflows/FILE@REF`.

    The file name may hold `@` (`release@v2.yml`) and so may the ref
    (`refs/heads/a@b`); the name holds no `/` and the ref starts with `refs/`,
    so the split is the last `@` before the first `/` after the name.
    """
    if repository and workflow_ref.startswith(f"{repository}/"):
        rest = workflow_ref[len(repository) + 1 :]
    else:
        parts = workflow_ref.split("/", 2)
        if len(parts) < 3:
            return None
        rest = parts[2]
    if not rest.startswith(_WORKFLOWS):
        return None
    tail = rest[len(_WORKFLOWS) :]
    head = tail.split("/", 1)[0]
    name, at, _ = head.rpartition("@")
    if not at or not name or name in {".", ".."}:
        return None
    return _WORKFLOWS + name


class _Scan:
    """One walk over the top-level workflow and the local files it uses."""

    def __init__(self, root: Path, relative: str) -> None:
        self.root = root
        self.reading = Reading(relative, root=root)
        self.seen: set[Path] = set()
        self.files: list[Path] = []

    def run(self) -> Reading:
        self.file(self.reading.workflow, depth=0, reusable=None, top=True)
        self.reading.fingerprint = _fingerprint(tuple((str(p), 0, 0) for p in self.files))
        return self.reading

    def file(self, relative: str, *, depth: int, reusable: str | None, top: bool = False) -> None:
        """A workflow file (its jobs) or an action file (its composite steps)."""
        path = (self.root / relative).resolve()
        if path in self.seen:
            return
        self.seen.add(path)
        self.files.append(path)
        document = _load(self.root, path)
        if isinstance(document, str):
            reason = f"cannot read {relative} ({document})"
            self.reading.verdicts.append(_Verdict(2, f"{reason}; assuming it may use {ACTION}"))
            if top:
                self.reading.unknown = reason
            elif reusable is None:
                self.reading.hidden.append(reason)
            return
        if top and isinstance(document.get("name"), str):
            self.reading.name = document["name"]
        runs = document.get("runs")
        if isinstance(runs, dict):  # an action.yml: only composite actions have steps
            steps = runs.get("steps") if runs.get("using") == "composite" else []
            self.steps(f"the action {relative}", steps, {}, depth=depth, reusable=reusable)
            return
        jobs = document.get("jobs")
        if not isinstance(jobs, dict):
            return
        workflow_env = _env(document.get("env"))
        for job_id, job in jobs.items():
            if not isinstance(job, dict):
                continue
            where = f"job `{job_id}` of {relative}"
            uses = job.get("uses")
            if uses is not None:
                self.reusable_call(where, uses, depth=depth, reusable=reusable)
            env = {**workflow_env, **_env(job.get("env"))}
            self.steps(where, job.get("steps"), env, depth=depth, reusable=reusable)

    def reusable_call(self, where: str, uses: Any, *, depth: int, reusable: str | None) -> None:
        if isinstance(uses, str) and uses.startswith("./"):
            if depth >= _MAX_DEPTH:
                self.reading.verdicts.append(
                    _Verdict(2, f"{where} nests reusable workflows too deeply to follow")
                )
                return
            called = uses[2:].split("@", 1)[0]
            self.file(called, depth=depth + 1, reusable=reusable or called)
            return
        self.reading.verdicts.append(
            _Verdict(
                2,
                f"{where} calls the reusable workflow {uses}, which cannot be read from here; "
                f"assuming it may use {ACTION}",
            )
        )
        self.reading.remote_reusable.append(str(uses))

    def steps(
        self,
        where: str,
        steps: Any,
        env: Mapping[str, object],
        *,
        depth: int,
        reusable: str | None,
    ) -> None:
        if steps is UNKNOWN:
            self.reading.verdicts.append(
                _Verdict(2, f"cannot read the steps of {where}; assuming they may use {ACTION}")
            )
            return
        if not isinstance(steps, list):
            return
        for step in steps:
            if not isinstance(step, dict):
                continue
            step_env = {**env, **_env(step.get("env"))}
            run = step.get("run")
            if isinstance(run, str):
                self.add(
                    shell_uploads(run, where, env=token_variables(step_env), urls=_urls(step_env)),
                    reusable,
                )
                self.reading.builds += shell_builds(run, where, env=step_env)
            if "uses" in step:
                self.uses(where, step, step_env, depth=depth, reusable=reusable)

    def uses(
        self,
        where: str,
        step: Mapping[str, Any],
        env: Mapping[str, object],
        *,
        depth: int,
        reusable: str | None,
    ) -> None:
        uses, with_ = step["uses"], step.get("with")
        if not isinstance(uses, str):
            self.reading.verdicts.append(_Verdict(2, f"cannot read a `uses:` of {where}"))
        elif _is_cibuildwheel(uses):
            self.reading.builds.append(Build(where, "cibuildwheel", uses))
        elif _is_action(uses):
            self.reading.verdicts.append(_action_verdict(where, uses, with_))
            self.add([_action_upload(where, uses, with_)], reusable)
        elif _is_maturin_action(uses) and isinstance(with_, dict):
            command = with_.get("command")
            if command in {"upload", "publish"}:
                args = with_.get("args") if isinstance(with_.get("args"), str) else ""
                found = shell_uploads(
                    f"maturin {command} {args}", where, env=token_variables(env), urls=_urls(env)
                )
                self.add([Upload(u.where, f"{uses} ({u.tool})", u.token) for u in found], reusable)
        elif uses.startswith("./"):
            if depth >= _MAX_DEPTH:
                self.reading.verdicts.append(
                    _Verdict(2, f"{where} nests local actions too deeply to follow")
                )
                if reusable is None:
                    self.reading.hidden.append(f"{where} nests local actions too deeply")
                return
            action_dir = uses[2:].rstrip("/")
            name = next(
                (
                    n
                    for n in ("action.yml", "action.yaml")
                    if (self.root / action_dir / n).is_file()
                ),
                "action.yml",
            )
            self.file(f"{action_dir}/{name}", depth=depth + 1, reusable=reusable)

    def add(self, uploads: list[Upload], reusable: str | None) -> None:
        for upload in uploads:
            self.reading.uploads.append(
                Upload(upload.where, upload.tool, upload.token, reusable=reusable)
            )


def _load(root: Path, path: Path) -> dict[str, Any] | str:
    """The file's mapping, or why it cannot be read."""
    try:
        document = load(root, path)
    except (OSError, UnicodeDecodeError, Unreadable) as e:
        return e.strerror if isinstance(e, OSError) and e.strerror else str(e)
    return document if isinstance(document, dict) else "not a mapping"


def _env(value: Any) -> dict[str, object]:
    return {k: v for k, v in value.items() if isinstance(k, str)} if isinstance(value, dict) else {}


def _urls(env: Mapping[str, object]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k in URL_VARIABLES and isinstance(v, str)}


def _is_action(uses: str) -> bool:
    """`<owner>/gh-action-pypi-publish@ref` (forks behave alike), or its Docker image."""
    lowered = uses.strip().lower()
    if lowered.startswith("docker://"):
        return _ACTION_REPOSITORY in lowered
    parts = lowered.split("@", 1)[0].split("/")
    return len(parts) >= 2 and parts[1] == _ACTION_REPOSITORY


def _is_cibuildwheel(uses: str) -> bool:
    parts = uses.strip().lower().split("@", 1)[0].split("/")
    return len(parts) >= 2 and parts[1] == "cibuildwheel"


def _is_maturin_action(uses: str) -> bool:
    parts = uses.strip().lower().split("@", 1)[0].split("/")
    return len(parts) >= 2 and parts[1] == _MATURIN_ACTION


def _inputs(with_: Any) -> dict[str, Any]:
    """The action's inputs by name; they reach it as INPUT_<NAME> (hyphen or underscore)."""
    if not isinstance(with_, dict):
        return {}
    return {k.lower().replace("_", "-"): v for k, v in with_.items() if isinstance(k, str)}


def _action_upload(where: str, uses: str, with_: Any) -> Upload:
    inputs = _inputs(with_)
    if inputs.get("password") not in (None, ""):
        return Upload(where, uses, "`password:` is set")
    other = foreign_index(inputs.get("repository-url"))
    if other is not None:
        return Upload(where, uses, f"it uploads to {other}, not to PyPI")
    return Upload(where, uses)


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
    inputs = _inputs(with_)
    url = inputs.get("repository-url")
    if isinstance(url, str) and "${{" not in url and "pypi.org" not in url:
        # twine-upload.sh turns attestations off for an index other than (Test)PyPI.
        return _Verdict(1, f"{where} uses {uses} to upload to {url}, where it does not sign")
    value = inputs.get("attestations")
    if value is None:
        return _Verdict(3, f"{signs} (`attestations` is on by default)")
    if isinstance(value, bool):
        value = "true" if value else "false"
    if isinstance(value, str) and "${{" not in value:
        if value.strip().lower() == "false":
            return _Verdict(1, f"{where} uses {uses} with `attestations: false`")
        return _Verdict(3, f"{signs} (`attestations: {value}`)")
    shown = value if isinstance(value, str) else "a value that cannot be read statically"
    return _Verdict(
        2, f"{where} uses {uses} with `attestations: {shown}`; assuming it signs its own"
    )


# --- hatch-attest rehearse --------------------------------------------------------

_REHEARSAL_REF = f"refs/tags/{REHEARSAL_TAG}"
_ACTION_UPLOADER = "action"


def _reader_env(root: Path, repository: str, workflow: str) -> dict[str, str]:
    """What :func:`read_workflow` needs of a job of ``workflow`` to read that workflow."""
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": repository,
        "GITHUB_WORKFLOW_REF": f"{repository}/{_WORKFLOWS}{workflow}@{_REHEARSAL_REF}",
        "GITHUB_WORKSPACE": str(root),
    }


def plan_release(source: ReleaseSource) -> ReleasePlan:
    """Which workflow builds, which uploads with Trusted Publishing, and what PyPI would check.

    Raises:
        ConfigError: ``--workflow`` names no workflow file.
        AttestError: no workflow uploads with Trusted Publishing and no ``publisher``
            is configured, so the publisher PyPI checks is unknown.
    """
    from hatch_attest._kinds.github import GitHubPublisher

    folder = source.root / _WORKFLOWS.rstrip("/")
    files = sorted(p.name for p in folder.glob("*.y*ml") if p.suffix in {".yml", ".yaml"})
    workflow = None if source.workflow is None else Path(source.workflow).name
    if workflow is not None and workflow not in files:
        msg = f"--workflow {workflow}: no such file in {folder}"
        raise ConfigError([msg])
    readings: dict[str, Reading] = {
        f: read_workflow(_reader_env(source.root, source.repository, f), cwd=source.root)
        for f in files
    }
    uploading = [f for f, r in readings.items() if any(trusted(u) for u in r.uploads)]
    configured = source.config.publisher
    notes: list[str] = []
    if isinstance(configured, GitHubPublisher) and configured.workflow in uploading:
        upload_workflow = configured.workflow
    elif workflow in uploading:
        upload_workflow = str(workflow)
    elif uploading:
        upload_workflow = uploading[0]
    elif isinstance(configured, GitHubPublisher):
        upload_workflow = configured.workflow
        notes.append(
            f"no workflow visibly uploads with Trusted Publishing; the upload is rehearsed from "
            f"{upload_workflow} (the configured `publisher`) with twine"
        )
    else:
        msg = (
            f"cannot rehearse: no workflow in {folder} (found: {', '.join(files) or 'none'}) "
            "uploads to PyPI with Trusted Publishing, so the publisher PyPI checks is unknown. "
            f'Set `publisher = {{ kind = "github", repository = "{source.repository}", '
            'workflow = "release.yml" }` in pyproject.toml'
        )
        raise AttestError(msg)
    building = [f for f, r in readings.items() if r.builds]
    build_workflow = workflow or next(
        (f for f in (upload_workflow, *building) if f in building), upload_workflow
    )
    if not building and workflow is None:
        notes.append(
            "no workflow shows a build step (uv build, python -m build, hatch build); the "
            f"build is rehearsed in {upload_workflow}"
        )
    empty = Reading(upload_workflow)
    builds = readings.get(build_workflow, empty).builds
    uploads = readings.get(upload_workflow, empty).uploads
    upload = next((u for u in uploads if trusted(u)), uploads[0] if uploads else None)
    publisher, origin, problems = _rehearsed_publisher(source, upload_workflow, files)
    problems += _layout(source, build_workflow, upload_workflow)
    action = upload is not None and _ACTION_REPOSITORY in upload.tool.lower()
    uploader = _ACTION_UPLOADER if action else choose_uploader(upload, notes)
    return ReleasePlan(
        publisher=publisher,
        publisher_source=origin,
        build_workflow=build_workflow,
        upload_workflow=upload_workflow,
        build_job=GitHubPublisher(repository=source.repository, workflow=build_workflow),
        upload_job=GitHubPublisher(repository=source.repository, workflow=upload_workflow),
        build_job_name=f"GitHub Actions job of {source.repository}, workflow {build_workflow}",
        build=builds[0] if builds else None,
        upload=upload,
        uploader=uploader,
        uploader_name=(
            "gh-action-pypi-publish's steps (sign as the upload job, then twine)"
            if action
            else UPLOADER_NAMES[uploader]
        ),
        before_upload=sign_as_action if action else None,
        problems=problems,
        notes=notes,
    )


def _rehearsed_publisher(
    source: ReleaseSource, upload_workflow: str, files: list[str]
) -> tuple[Publisher, str, list[str]]:
    """The publisher to register, where it comes from, and how it disagrees with the workflows."""
    from hatch_attest._kinds.github import GitHubPublisher

    configured = source.config.publisher
    if not isinstance(configured, GitHubPublisher):
        publisher = GitHubPublisher(repository=source.repository, workflow=upload_workflow)
        return publisher, f"{upload_workflow}, which uploads with Trusted Publishing", []
    problems = []
    if configured.workflow != upload_workflow:
        missing = "" if configured.workflow in files else f" (no such file in {_WORKFLOWS[:-1]})"
        problems.append(
            f"`publisher` names the workflow {configured.workflow}{missing}, but "
            f"{upload_workflow} uploads to PyPI: PyPI accepts attestations only from the "
            "Trusted Publisher that uploads. Fix `publisher` (and the Trusted Publisher on "
            f"PyPI) to name {upload_workflow}"
        )
    return configured, "`publisher` in pyproject.toml", problems


def _layout(source: ReleaseSource, build_workflow: str, upload_workflow: str) -> list[str]:
    """What the topology rules say about building in ``build_workflow``."""
    if build_workflow != upload_workflow:
        return [
            f"the build runs in {build_workflow}, which does not upload; PyPI checks "
            f"attestations against {upload_workflow}, the workflow that uploads, and would "
            f"reject attestations made in {build_workflow}. Build and upload in one workflow"
        ]
    env = _reader_env(source.root, source.repository, build_workflow)
    configured = source.config.publisher is not None
    skip = topology_skip(env, publisher=configured, cwd=source.root)
    return [] if skip is None else [skip.reason]


def sign_as_action(artifact: Path, trust_config_path: Path, token: str) -> str | None:
    """gh-action-pypi-publish's attestations.py: refuse an existing one, else sign as the job.

    The action signs a publish attestation of each file with the upload job's
    identity (``token``), then runs `twine upload --attestations`; it fails when
    ``<dist>.publish.attestation`` already exists.
    """
    from pypi_attestations import Attestation, Distribution
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    target = artifact.with_name(f"{artifact.name}.publish.attestation")
    if target.exists():
        return (
            'gh-action-pypi-publish fails: "The following distributions already have publish '
            f'attestations: {artifact.name}" (sign SLSA provenance in the build: '
            '`predicate = "auto"` or "slsa-provenance")'
        )
    trust = ClientTrustConfig.from_json(trust_config_path.read_text())
    trust.force_tlog_version = 1
    with SigningContext.from_trust_config(trust).signer(IdentityToken(token), cache=True) as signer:
        signed = Attestation.sign(signer, Distribution.from_file(artifact))
    target.write_text(signed.model_dump_json(), encoding="utf-8")
    return None
