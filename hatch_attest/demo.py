"""``hatch-attest demo``: the whole story, offline, in one command.

It starts the local Sigstore stand-in from :mod:`hatch_attest.testing` (an OIDC
issuer that plays GitHub Actions, a Fulcio-compatible CA and a Rekor v1 log, all
on 127.0.0.1), copies the ``examples/github-actions`` project to a temporary
folder, builds it with ``python -m build`` in an emulated GitHub Actions job,
and runs ``hatch-attest verify`` on the result with the policy PyPI would apply.

The build is ``--no-isolation``: it uses this environment's hatchling and
hatch-attest, so the demo needs nothing from the network but what installed it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import hatch_attest
from hatch_attest.errors import AttestError

REPOSITORY = "octo-org/demo-pkg"
WORKFLOW = "release.yml"
BUILD_TIMEOUT_SECONDS = 300


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
    """Run the demo; returns the exit status of the verification."""
    from hatch_attest.cli import main as cli_main
    from hatch_attest.testing import GitHubIdentity, LocalSigstore

    source = example_project()
    with tempfile.TemporaryDirectory(prefix="hatch-attest-demo-") as scratch:
        work = (keep or Path(scratch)).absolute()
        project = work / "demo-pkg"
        if project.exists():
            shutil.rmtree(project)
        shutil.copytree(source, project, ignore=shutil.ignore_patterns("dist", "__pycache__"))

        _say("hatch-attest demo")
        _say("=================")
        _say("NOTE: this signs with a LOCAL Sigstore stand-in on 127.0.0.1 (a test CA, OIDC")
        _say("      issuer and transparency log started just now), NOT the public Sigstore")
        _say("      instance. Nothing is uploaded and nothing leaves this machine.")
        _say()
        with LocalSigstore.start(directory=work / "sigstore") as sigstore:
            identity = GitHubIdentity(repository=REPOSITORY, workflow=WORKFLOW)
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("GITHUB_", "GITLAB_", "CI_", "ACTIONS_", "HATCH_ATTEST_"))
                and k not in {"SIGSTORE_ID_TOKEN", "SIGSTORE_IDENTITY_TOKEN", "CI"}
            }
            env.update(sigstore.github_env(identity))
            env["HATCH_ATTEST_TRUST_CONFIG"] = str(sigstore.trust_config_path)
            _say(f"1. Emulated GitHub Actions job: {REPOSITORY}, workflow {WORKFLOW},")
            _say("   with `permissions: id-token: write`.")
            _say(f"2. Building {project} with `python -m build --no-isolation` ...")
            _say()
            try:
                build = subprocess.run(
                    [sys.executable, "-m", "build", "--no-isolation", str(project)],
                    env=env,
                    cwd=project,
                    timeout=BUILD_TIMEOUT_SECONDS,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                _say(f"The build did not finish within {BUILD_TIMEOUT_SECONDS} s.")
                return 1
            if build.returncode != 0:
                _say(f"The build failed (exit {build.returncode}); see its output above.")
                return 1
            dist = project / "dist"
            _say()
            _say(f"3. {dist} now holds:")
            for path in sorted(dist.iterdir()):
                _say(f"     {path.name}  ({path.stat().st_size} bytes)")
            _say()
            _say("4. Verifying them with the checks PyPI runs at upload:")
            _say(f"   hatch-attest verify --publisher github:{REPOSITORY}@{WORKFLOW} dist/")
            _say()
            status = cli_main(
                [
                    "verify",
                    "--publisher",
                    f"github:{REPOSITORY}@{WORKFLOW}",
                    "--trust-config",
                    str(sigstore.trust_config_path),
                    str(dist),
                ]
            )
            counts = sigstore.counts()
        _say()
        _say(
            f"Local services answered: {counts['oidc']} token request(s), "
            f"{counts['fulcio']} certificate(s), {counts['rekor']} log entr(y/ies)."
        )
        if keep is not None:
            _say(f"The project, its dist/ and the trust config are kept in {work}.")
        else:
            _say("(Run `hatch-attest demo --keep DIR` to keep the files.)")
        _say("Demo " + ("succeeded." if status == 0 else "FAILED."))
        return status
