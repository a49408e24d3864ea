"""What a release looks like to ``hatch-attest rehearse``, in words no kind owns.

A kind that can be rehearsed (:attr:`~hatch_attest._kinds.base.Publisher.emulated_as`)
reads its CI files into a :class:`ReleasePlan` from a :class:`ReleaseSource`
(:meth:`~hatch_attest._kinds.base.Publisher.plan_release`, reached through
:func:`hatch_attest._kinds.plan_release`); the rehearsal then builds and uploads
from the jobs the plan names, without asking which kind it was.

Only the standard library is imported here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hatch_attest._config import AttestConfig
    from hatch_attest._kinds.base import Publisher
    from hatch_attest._uploads import Build, Upload

__all__ = [
    "REHEARSAL_TAG",
    "UPLOADER_NAMES",
    "BeforeUpload",
    "ReleasePlan",
    "ReleaseSource",
    "choose_uploader",
    "trusted",
]

REHEARSAL_TAG = "rehearsal"
"""The tag the emulated jobs run on: a release runs on one, and PyPI's publisher ignores it."""

BeforeUpload = Callable[[Path, Path, str], "str | None"]
"""``(dist, trust_config_path, upload job's token) -> refusal or None``: a step the
release's uploader runs on each file before it uploads (gh-action-pypi-publish signs)."""


@dataclass(frozen=True)
class ReleaseSource:
    """What every kind's reading of a release starts from."""

    project: Path
    root: Path
    """The folder holding the CI files (the project, or a parent in a monorepo)."""
    name: str
    repository: str
    config: AttestConfig
    workflow: str | None
    """``--workflow``: the CI file to rehearse, if the user named one."""


@dataclass
class ReleasePlan:
    """One kind's reading of the release: the jobs that build and upload, and what is wrong."""

    publisher: Publisher
    """The Trusted Publisher PyPI would have (registered on the local index)."""
    publisher_source: str
    """Where :attr:`publisher` comes from, for the report."""
    build_workflow: str
    """The CI file whose job builds, as its kind names it (a workflow file, a path)."""
    upload_workflow: str
    build_job: Publisher
    """The publisher the building job is: whose emulated job builds."""
    upload_job: Publisher
    build_job_name: str
    """How the report names the building job."""
    build: Build | None
    upload: Upload | None
    uploader: str
    """``twine``, ``uv``, or a kind's own uploader (with :attr:`before_upload`)."""
    uploader_name: str
    """How the report names the rehearsed upload."""
    before_upload: BeforeUpload | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def trusted(upload: Upload) -> bool:
    """Whether ``upload`` uses Trusted Publishing (no token, not in a reusable workflow)."""
    return upload.token is None and upload.reusable is None


UPLOADER_NAMES = {
    "twine": "twine upload --attestations",
    "uv": "uv publish --trusted-publishing always",
}


def choose_uploader(upload: Upload | None, notes: list[str]) -> str:
    """Which of the kind-neutral uploads (``twine``, ``uv``) rehearses ``upload``."""
    if upload is None:
        return "twine"
    tool = upload.tool
    if tool == "uv publish":
        return "uv"
    if tool == "twine upload":
        return "twine"
    if tool == "hatch publish":
        # PLUG-IN POINT for `hatch publish -p attest` (issue 17, section 2): when this
        # package registers its hatch publisher, return "hatch" here and add the
        # command to rehearse's `_upload_command`. Until then its upload is twine's protocol.
        notes.append(
            "the release uploads with `hatch publish`; the rehearsal uploads with twine "
            "upload --attestations (the same Trusted Publishing upload)"
        )
        return "twine"
    notes.append(f"the release uploads with {tool}; the rehearsal uploads with twine instead")
    return "twine"
