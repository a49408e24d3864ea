"""Build frontends that build into a folder of their own and keep only the wheel.

``pip install``, ``pip wheel``, ``uv pip install``, ``uv tool install``,
``uv sync`` and ``uv run --with`` call the backend's ``build_wheel`` with a
temporary output folder, take the ``.whl`` out of it and delete (or never
show) the rest. Signing there would write a permanent entry into the public
Rekor log for an attestation nobody will ever see. ``python -m build``,
``uv build`` and ``hatch build`` write into ``dist/`` or the folder given with
``-o``, wherever it is (even under ``/tmp``), and are never matched here.

What each frontend passes to the backend, as measured (pip 26.3, uv 0.13.9;
the names are the frontends' own, not configurable):

- pip sets ``PIP_BUILD_TRACKER`` (``PIP_REQ_TRACKER`` before pip 22.1) in
  every build it runs. Hatchling hides its metadata hooks from pip, so pip
  builds the wheel into ``<tmp>/pip-modern-metadata-XXXXXXXX``; older pips
  used ``pip-wheel-XXXXXXXX``, pip 26 ``tmpXXXXXXXX`` inside its wheel cache
  (``pip-ephem-wheel-cache-XXXXXXXX`` when the cache is off) or ``-w`` folder.
- uv sets no variable that tells ``uv pip install`` from ``uv build``, but
  builds into ``<uv cache>/builds-v0/.tmpXXXXXX`` (the Rust ``tempfile``
  crate's naming); uv before 0.5 built straight into a cache shard under
  ``sdists-vN`` or ``built-wheels-vN``.

cibuildwheel (checked against its source, 4.2) sets ``CIBUILDWHEEL=1``
in its own environment, which every build it runs inherits (and which it passes
into its Linux containers). It builds each wheel into a temporary
``built_wheel`` folder, runs the repair command (``auditwheel``, ``delocate``,
``delvewheel``: a new file under a new name in ``repaired_wheel``, or a plain
move when there is none), and moves only that one ``.whl`` to its output
folder. Anything written beside the wheel, in either folder, is lost; the wheel
that is released is signed after cibuildwheel, with ``hatch-attest sign``.

Pure string checks: this runs on every idle build.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePath

__all__ = ["discarding_frontend", "repaired_later"]

#: Set to ``1`` by cibuildwheel for every build it runs.
CIBUILDWHEEL = "CIBUILDWHEEL"
#: Set by pip in the environment of every build backend it runs.
PIP_MARKERS = ("PIP_BUILD_TRACKER", "PIP_REQ_TRACKER")

# pip's temporary folders: ``tempfile.mkdtemp(prefix=f"pip-{kind}-")``, whose
# random part is 8 characters from [a-z0-9_].
_PIP_TEMP = re.compile(r"pip-(?:wheel|modern-metadata|ephem-wheel-cache)-[a-z0-9_]{8}")
# uv's cache buckets that hold builds: versioned folder names in the cache root.
_UV_BUILDS = re.compile(r"builds-v\d+")
_UV_SHARDS = re.compile(r"(?:sdists|built-wheels)-v\d+")
# Rust's ``tempfile::tempdir_in``: ".tmp" and 6 alphanumeric characters.
_RUST_TEMP = re.compile(r"\.tmp[A-Za-z0-9]{6}")

_FIX = (
    "build with `python -m build`, `uv build` or `hatch build` to attest, "
    "or attest a built wheel with `hatch-attest sign`"
)


def discarding_frontend(output_dir: PurePath | None, env: Mapping[str, str]) -> str | None:
    """Why an attestation next to a build in ``output_dir`` would be thrown away, or None.

    ``output_dir`` is the folder the frontend asked the backend to build into;
    without it (a hook's ``dependencies()``) only the environment is read.
    The reason is one line that names the frontend and the fix.
    """
    if any(env.get(name) for name in PIP_MARKERS) or _under_pip_temp(output_dir):
        return (
            "pip builds in a temporary folder and keeps only the wheel, so an attestation "
            f"would be lost; {_FIX}"
        )
    if _in_uv_cache(output_dir):
        return (
            "uv (`uv pip install`, `uv tool install`, `uv sync`, ...) builds in its cache and "
            f"keeps only the wheel, so an attestation would be lost; {_FIX}"
        )
    return None


def repaired_later(env: Mapping[str, str]) -> str | None:
    """Why the wheel built here is not the file that will be released, or None.

    Under cibuildwheel, whatever the frontend, the folder, the artifact or the
    mode: the wheel that is kept is the repaired copy, and only a step after
    cibuildwheel can sign it. The reason is one line that names the fix.
    """
    # cibuildwheel sets exactly "1"; projects test for that value (CIBUILDWHEEL=0 is "not").
    if env.get(CIBUILDWHEEL) != "1":
        return None
    return (
        "cibuildwheel will repair this wheel and keep only the repaired copy, so an attestation "
        "made here would be lost; sign the wheels cibuildwheel writes with `hatch-attest sign` "
        'in a step after it (see README "Compiled wheels")'
    )


def _under_pip_temp(output_dir: PurePath | None) -> bool:
    if output_dir is None:
        return False
    return any(_PIP_TEMP.fullmatch(part) for part in output_dir.parts)


def _in_uv_cache(output_dir: PurePath | None) -> bool:
    if output_dir is None:
        return False
    if _RUST_TEMP.fullmatch(output_dir.name) and _UV_BUILDS.fullmatch(output_dir.parent.name):
        return True
    return any(_UV_SHARDS.fullmatch(part) for part in output_dir.parts)
