"""``hatch-attest demo``: the whole story, offline, in one command.

It starts the local Sigstore stand-in from :mod:`hatch_attest_testing` (an OIDC
issuer that plays GitHub Actions, a Fulcio-compatible CA and a Rekor v1 log, all
on 127.0.0.1), copies the ``examples/github-actions`` project to a temporary
folder, builds it with ``python -m build`` in an emulated GitHub Actions job,
runs ``hatch-attest verify`` on the result with the policy PyPI would apply, and
uploads it with the real ``twine upload --attestations`` over Trusted Publishing
to a local package index that applies warehouse's attestation rules
(:class:`hatch_attest_testing.LocalIndex`), then shows what the index accepted.

The build is ``--no-isolation``: it uses this environment's hatchling and
hatch-attest, so the demo needs nothing from the network but what installed it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import hatch_attest
from hatch_attest._deadline import run_step
from hatch_attest._messages import count
from hatch_attest.errors import AttestError, ConfigError

if TYPE_CHECKING:
    from hatch_attest_testing import LocalIndex, LocalSigstore

REPOSITORY = "octo-org/demo-pkg"
WORKFLOW = "release.yml"
STEP_TIMEOUT_SECONDS = 300


def example_project() -> Path:
    """``examples/github-actions``: shipped in the wheel, or beside the source checkout."""
    package = Path(hatch_attest.__file__).parent
    for candidate in (
        package / "examples" / "github-actions",
        package.parent / "examples" / "github-actions",
    ):
        if (candidate / "pyproject.toml").is_file():
            return candidate
    msg = "the example project examples/github-actions is missing from this installation"
    raise AttestError(msg)


def _say(message: str = "") -> None:
    print(message, flush=True)


def run_demo(*, keep: Path | None = None) -> int:
    """Run the demo; returns the exit status (that of the verification, if it got there)."""
    source = example_project()
    with contextlib.ExitStack() as stack:
        if keep is None:
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="hatch-attest-demo-"))
            work = Path(scratch)
        else:
            work = keep.absolute()
        project = work / "demo-pkg"
        if keep is not None and (project.exists() or project.is_symlink()):
            # It may be the user's own work: never delete it.
            msg = (
                f"--keep: {project} already exists, and the demo does not overwrite it. "
                "Remove it, or pass another directory"
            )
            raise ConfigError([msg])
        shutil.copytree(source, project, ignore=shutil.ignore_patterns("dist", "__pycache__"))
        status = _build_and_verify(project, work / "sigstore", kept=keep is not None)
        if keep is not None:
            _say(f"The project, its dist/ and the trust config are kept in {work}; check")
            _say("them again any time (no service needed) with the commands of step 4.")
        else:
            _say("(Run `hatch-attest demo --keep DIR` to keep the files.)")
        _say("Demo " + ("succeeded." if status == 0 else "FAILED."))
        return status


def _build_and_verify(project: Path, sigstore_directory: Path, *, kept: bool) -> int:
    from hatch_attest_testing import LocalIndex, LocalSigstore

    _say("hatch-attest demo")
    _say("=================")
    _say("NOTE: this signs with a LOCAL Sigstore stand-in on 127.0.0.1 (a test CA, OIDC")
    _say("      issuer and transparency log started just now), NOT the public Sigstore")
    _say("      instance, and uploads to a LOCAL package index that applies PyPI's")
    _say("      attestation rules, NOT to PyPI. Nothing leaves this machine.")
    _say()
    with (
        LocalSigstore.start(directory=sigstore_directory) as sigstore,
        LocalIndex.start(sigstore) as index,
    ):
        status = _steps(project, sigstore, kept=kept)
        return status if status != 0 else _upload(project, sigstore, index)


def _steps(project: Path, sigstore: LocalSigstore, *, kept: bool) -> int:
    from hatch_attest_testing import GitHubIdentity, outside_ci

    trust_config = os.path.relpath(sigstore.trust_config_path, project)
    identity = GitHubIdentity(repository=REPOSITORY, workflow=WORKFLOW)
    # Outside CI first: the demo's job must not inherit a real one's identity.
    env = outside_ci()
    env.update(sigstore.github_env(identity))
    env["HATCH_ATTEST_TRUST_CONFIG"] = str(sigstore.trust_config_path)
    _say(f"1. Emulated GitHub Actions job: {REPOSITORY}, workflow {WORKFLOW},")
    _say("   with `permissions: id-token: write`; HATCH_ATTEST_TRUST_CONFIG points the")
    _say("   hook at the local stand-in.")
    _say(f"2. Building {project} with `python -m build --no-isolation` ...")
    _say()
    build = _subprocess([sys.executable, "-m", "build", "--no-isolation", "."], project, env)
    if build != 0:
        _say(f"The build failed ({_outcome(build)}); see its output above.")
        return 1
    dist = project / "dist"
    _say()
    _say(f"3. {dist} now holds:")
    for path in sorted(dist.iterdir()):
        _say(f"     {path.name}  ({path.stat().st_size} bytes)")
    _say()
    _say("4. Verifying them with the checks PyPI runs at upload, against the Trusted")
    _say("   Publisher in the project's pyproject.toml (outside the CI job):")
    if kept:
        _say(f"   $ cd {project}")
    else:
        _say("   (in the project's folder, which is removed when the demo ends)")
    _say(f"   $ hatch-attest verify --trust-config {trust_config} dist/")
    _say()
    verify = _subprocess(
        [sys.executable, "-m", "hatch_attest", "verify", "--trust-config", trust_config, "dist/"],
        project,
        outside_ci(),
    )
    counts = sigstore.counts()
    _say()
    _say(
        f"Local services answered: {count(counts['oidc'], 'token request')}, "
        f"{count(counts['fulcio'], 'certificate')}, "
        f"{count(counts['rekor'], 'log entry', 'log entries')}."
    )
    if verify == 0:
        _say("Verification passed: these files and their attestations pass PyPI's upload")
        _say("checks, verified against the local test instance's trust root.")
        return 0
    _say(f"Verification FAILED ({_outcome(verify)}); see its output above.")
    return 1


def _upload(project: Path, sigstore: LocalSigstore, index: LocalIndex) -> int:
    """Step 5 and 6: twine over Trusted Publishing, then what the index kept."""
    from pypi_attestations import GitHubPublisher

    from hatch_attest_testing import GitHubIdentity, outside_ci

    identity = GitHubIdentity(repository=REPOSITORY, workflow=WORKFLOW)
    index.add_publisher("demo-pkg", GitHubPublisher(repository=REPOSITORY, workflow=WORKFLOW))
    env = outside_ci()
    env.update(sigstore.github_env(identity, workflow=None))
    env.update(index.client_env())
    # No keyring lookup (twine tries one before Trusted Publishing).
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env["NO_COLOR"] = "1"
    dist = sorted((project / "dist").iterdir())
    _say()
    _say("5. Uploading with twine, over Trusted Publishing (the publish job of the same")
    _say("   workflow), to the local index standing in for upload.pypi.org:")
    _say("   $ twine upload --attestations dist/*")
    _say()
    twine = [
        *(sys.executable, "-m", "twine", "--no-color", "upload", "--non-interactive"),
        *("--disable-progress-bar", "--attestations"),
    ]
    upload = _subprocess([*twine, *map(str, dist)], project, env)
    if upload != 0:
        _say(f"The upload FAILED ({_outcome(upload)}); see its output above.")
        return 1
    _say()
    _say("6. What the index accepted (its Integrity API serves each file's provenance;")
    _say('   twine\'s "View at" link names pypi.org, where nothing was uploaded):')
    for file in index.files("demo-pkg"):
        kinds = ", ".join(_predicate_name(a.envelope.statement) for a in file.attestations)
        _say(f"     {file.filename}: {count(len(file.attestations), 'attestation')} ({kinds})")
    _say()
    _say("Upload passed: the local index applied PyPI's rules to every attestation.")
    return 0


def _predicate_name(statement: bytes) -> str:
    from hatch_attest._claims import read_statement

    return read_statement(statement).predicate_type or "no predicate type"


def _subprocess(argv: list[str], cwd: Path, env: dict[str, str]) -> int | None:
    """Run a step with its output shown; its exit status, or None on timeout.

    On timeout the step is killed with everything it started (a build backend).
    """
    try:
        step = run_step(argv, cwd=cwd, env=env, timeout=STEP_TIMEOUT_SECONDS, output="show")
    except subprocess.TimeoutExpired:
        return None
    return step.returncode


def _outcome(status: int | None) -> str:
    return f"no result within {STEP_TIMEOUT_SECONDS} s" if status is None else f"exit {status}"
