"""What this GitLab job's CI configuration does with the files it builds: does it upload, and how.

The GitLab equivalent of :mod:`hatch_attest._kinds.github_workflow`. PyPI accepts
an attestation only on an upload made with Trusted Publishing by the publisher
(project and CI configuration file) that signed it. The configuration is
``CI_CONFIG_PATH`` (``.gitlab-ci.yml`` by default) in the checkout
(``CI_PROJECT_DIR``, or the current directory or a parent), with its local
``include:`` files.

Every job's ``script``/``before_script``/``after_script`` is read, hidden jobs
(``.name``, used by ``extends:``) included. Tokens count from ``variables:``
(global or the job's), from the script, and from the running job's own
environment, which holds the project's CI/CD variables.

Anything that cannot be known keeps the old behaviour (sign): a configuration
outside the project or not in the checkout, an unreadable file, a remote,
project, template or component include, a child pipeline (``trigger:``), a
checkout that is provably another commit than the pipeline's (``CI_COMMIT_SHA``),
or a process where PyYAML is not installed yet.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hatch_attest._kinds._checkout import (
    Unreadable,
    find_root,
    load,
    stale_checkout,
    yaml_available,
)
from hatch_attest._kinds.release import (
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
    shell_builds,
    shell_uploads,
    token_variables,
)
from hatch_attest.errors import AttestError, ConfigError

if TYPE_CHECKING:
    from hatch_attest._kinds.base import Publisher

__all__ = ["plan_release", "read_config", "topology_skip"]

_DEFAULT_CONFIG = ".gitlab-ci.yml"
_MAX_INCLUDES = 50
_MAX_DEPTH = 4
_SCRIPTS = ("before_script", "script", "after_script")
# Top-level keys that are not jobs.
_KEYWORDS = frozenset(
    {"default", "include", "stages", "variables", "workflow", "image", "services", "cache",
     "before_script", "after_script", "spec"}
)  # fmt: skip


@dataclass
class Reading:
    """What one reading of the pipeline's configuration found."""

    config: str
    unknown: str | None = None
    uploads: list[Upload] = field(default_factory=list)
    builds: list[Build] = field(default_factory=list)
    """Python build commands its jobs run (for ``hatch-attest rehearse``)."""


def read_config(env: Mapping[str, str], *, cwd: Path | None = None) -> Reading:
    """Read the pipeline's CI configuration and its local includes."""
    relative = env.get("CI_CONFIG_PATH") or _DEFAULT_CONFIG
    if "@" in relative or "://" in relative or ".." in relative.split("/"):
        return Reading(relative, f"the CI configuration {relative} is not a file of this project")
    root = find_root(relative, env.get("CI_PROJECT_DIR"), cwd or Path.cwd())
    if root is None:
        return Reading(relative, f"cannot find {relative} in the checkout")
    stale = stale_checkout(root, env.get("CI_COMMIT_SHA"), "CI_COMMIT_SHA")
    if stale is not None:
        return Reading(relative, stale)
    if not yaml_available():
        return Reading(relative, "PyYAML is not installed yet to read the CI configuration")
    reading = Reading(relative)
    runtime_tokens = token_variables(env)
    documents: list[tuple[str, dict[str, Any]]] = []
    try:
        _collect(root, relative, documents, depth=0)
    except Unreadable as e:
        reading.unknown = str(e)
        return reading
    global_vars: dict[str, object] = {}
    for _, document in documents:
        global_vars.update(_variables(document.get("variables")))
    for name, document in documents:
        for job_id, job in document.items():
            if not isinstance(job_id, str) or job_id in _KEYWORDS or not isinstance(job, dict):
                continue
            if "trigger" in job:
                reading.unknown = f"job `{job_id}` of {name} starts a child pipeline"
                return reading
            variables = {**global_vars, **_variables(job.get("variables"))}
            tokens = sorted({*runtime_tokens, *token_variables(variables)})
            urls = {k: v for k, v in variables.items() if k in URL_VARIABLES and isinstance(v, str)}
            where = f"job `{job_id}` of {name}"
            for line in _lines([job.get(key) for key in _SCRIPTS]):
                reading.uploads += shell_uploads(line, where, env=tokens, urls=urls)
                reading.builds += shell_builds(line, where, env=variables)
    return reading


def _collect(
    root: Path, relative: str, documents: list[tuple[str, dict[str, Any]]], *, depth: int
) -> None:
    """Read ``relative`` and its local includes into ``documents``; Unreadable if any cannot be."""
    if len(documents) >= _MAX_INCLUDES or depth > _MAX_DEPTH:
        msg = f"{relative} includes too many files to follow"
        raise Unreadable(msg)
    if any(name == relative for name, _ in documents):
        return
    try:
        document = load(root, root / relative)
    except (OSError, UnicodeDecodeError, Unreadable) as e:
        detail = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        msg = f"cannot read {relative} ({detail})"
        raise Unreadable(msg) from None
    if not isinstance(document, dict):
        msg = f"cannot read {relative} (not a mapping)"
        raise Unreadable(msg)
    documents.append((relative, document))
    for local in _local_includes(relative, document.get("include")):
        matches = sorted(root.glob(local)) if "*" in local else [root / local]
        for path in matches[:_MAX_INCLUDES]:
            _collect(root, path.relative_to(root).as_posix(), documents, depth=depth + 1)


def _local_includes(relative: str, include: Any) -> list[str]:
    """The local files ``include:`` names; Unreadable for any other kind of include."""
    items = include if isinstance(include, list) else [] if include is None else [include]
    found: list[str] = []
    for item in items:
        if isinstance(item, str):
            if "://" in item:
                msg = f"{relative} includes the remote file {item}"
                raise Unreadable(msg)
            local = item
        elif isinstance(item, dict) and isinstance(item.get("local"), str):
            local = item["local"]
        else:
            what = (
                ", ".join(k for k in item if isinstance(k, str)) if isinstance(item, dict) else ""
            )
            msg = f"{relative} includes configuration from elsewhere ({what or item!r})"
            raise Unreadable(msg)
        local = local.lstrip("/")
        if ".." in local.split("/") or "$" in local:
            msg = f"{relative} includes {local}, which cannot be read from here"
            raise Unreadable(msg)
        found.append(local)
    return found


def _variables(value: Any) -> dict[str, object]:
    """``variables:`` as name -> value (``{value: ..., description: ...}`` forms unwrapped)."""
    if not isinstance(value, dict):
        return {}
    found: dict[str, object] = {}
    for name, item in value.items():
        if isinstance(name, str):
            found[name] = item.get("value") if isinstance(item, dict) else item
    return found


def _lines(value: Any) -> list[str]:
    """Script lines, flattening nested lists (from `!reference` and YAML anchors)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [line for item in value for line in _lines(item)]
    return []


def topology_skip(
    env: Mapping[str, str], *, publisher: bool, cwd: Path | None = None
) -> TopologySkip | None:
    """Why PyPI could not accept this GitLab job's attestations, or None to sign.

    ``publisher``: a configured ``publisher`` names this configuration; then "no
    upload visible" is not a reason to skip (a token upload still is).
    """
    if env.get("GITLAB_CI") != "true":
        return None
    reading = read_config(env, cwd=cwd or _project_dir(env))
    if reading.unknown is not None:
        return None
    if any(u.token is None for u in reading.uploads):
        return None
    config = reading.config
    if reading.uploads:
        upload = reading.uploads[0]
        return TopologySkip(
            f"{upload.where} uploads with {upload.tool} without Trusted Publishing "
            f'({upload.token}), and PyPI answers 400 "Attestations are only supported when '
            'using Trusted Publishing" to attestations on such an upload. Publish with '
            f"Trusted Publishing from {config} to attest",
            warning=True,
        )
    if publisher:
        return None
    return TopologySkip(
        f"{config} shows no upload to PyPI (no twine upload, uv publish, ... in a script), "
        "and PyPI accepts attestations only from the CI configuration that uploads. Sign "
        "in the pipeline that uploads, or set `publisher` to sign here anyway",
        warning=False,
    )


def _project_dir(env: Mapping[str, str]) -> Path | None:
    directory = env.get("CI_PROJECT_DIR")
    return Path(directory) if directory and os.path.isdir(directory) else None


# --- hatch-attest rehearse --------------------------------------------------------


def plan_release(source: ReleaseSource) -> ReleasePlan:
    """The pipeline that builds and uploads, and the publisher PyPI would check.

    Raises:
        ConfigError: ``--workflow`` names no file.
        AttestError: the CI configuration is missing, or shows no Trusted Publishing
            upload and no ``publisher`` is configured.
    """
    from hatch_attest._kinds.gitlab import GitLabPublisher

    configured = source.config.publisher
    if not isinstance(configured, GitLabPublisher):
        configured = None
    path = source.workflow or (configured.workflow_filepath if configured else _DEFAULT_CONFIG)
    if not (source.root / path).is_file():
        if source.workflow:
            msg = f"--workflow {path}: no such file in {source.root}"
            raise ConfigError([msg])
        if configured is None:
            msg = (
                f"cannot rehearse: {source.root} has no {path}; set `publisher = {{ kind = "
                f'"gitlab", repository = "{source.repository}", workflow-filepath = "..." }}` '
                "in pyproject.toml"
            )
        else:
            msg = (
                f"cannot rehearse: `publisher` names {path}, which is not in {source.root}; "
                "set its workflow-filepath to the configuration that uploads (GitLab's "
                f"default: {_DEFAULT_CONFIG})"
            )
        raise AttestError(msg)
    env = {"GITLAB_CI": "true", "CI_CONFIG_PATH": path, "CI_PROJECT_DIR": str(source.root)}
    reading = read_config(env, cwd=source.root)
    problems: list[str] = []
    notes: list[str] = []
    if reading.unknown is not None:
        notes.append(f"the CI configuration cannot be read fully: {reading.unknown}")
    uploads = [u for u in reading.uploads if trusted(u)]
    upload = uploads[0] if uploads else (reading.uploads[0] if reading.uploads else None)
    publisher: Publisher
    if configured is not None:
        publisher, origin = configured, "`publisher` in pyproject.toml"
        if configured.workflow_filepath != path:
            problems.append(
                f"`publisher` names the CI configuration {configured.workflow_filepath}, but "
                f"the pipeline runs {path}: PyPI accepts attestations only from the Trusted "
                "Publisher that uploads"
            )
    elif uploads:
        publisher = GitLabPublisher(repository=source.repository, workflow_filepath=path)
        origin = f"{path}, which uploads with Trusted Publishing"
    else:
        msg = (
            f"cannot rehearse: {path} shows no upload to PyPI with Trusted Publishing, so the "
            'publisher PyPI checks is unknown. Set `publisher = { kind = "gitlab", repository '
            f'= "{source.repository}", workflow-filepath = "{path}" }}` in pyproject.toml'
        )
        raise AttestError(msg)
    skip = topology_skip(env, publisher=configured is not None, cwd=source.root)
    if skip is not None:
        problems.append(skip.reason)
    if not reading.builds:
        notes.append(f"{path} shows no build command; the build is rehearsed in its pipeline")
    job = GitLabPublisher(repository=source.repository, workflow_filepath=path)
    uploader = choose_uploader(upload, notes)
    return ReleasePlan(
        publisher=publisher,
        publisher_source=origin,
        build_workflow=path,
        upload_workflow=path,
        build_job=job,
        upload_job=job,
        build_job_name=f"GitLab CI job of {source.repository}, {path}",
        build=reading.builds[0] if reading.builds else None,
        upload=upload,
        uploader=uploader,
        uploader_name=UPLOADER_NAMES[uploader],
        problems=problems,
        notes=notes,
    )
