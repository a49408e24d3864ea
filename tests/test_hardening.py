"""No surprise signatures, clear failures, no partial results, bad input handled.

These run ``hatch-attest sign`` in-process (the attest path the hook shares) in
emulated CI jobs against the local Sigstore, with real faults where faults are
needed; the end-to-end build tests cover the same guarantees under frontends.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pypi_attestations import Attestation, Distribution

from hatch_attest._attest import identity_refusal
from hatch_attest._cli import main
from hatch_attest._config import load_config
from hatch_attest._identity import Token
from hatch_attest._kinds import GitHubPublisher as OurGitHubPublisher
from hatch_attest_testing import (
    Cli,
    Fault,
    GitHubIdentity,
    LocalSigstore,
    fake_wheel,
    outside_ci,
    run_bounded,
    run_bounded_all,
    verify_as_pypi,
)
from hatch_attest_testing.pytest_plugin import CIJob

from ._shared import GitHubJobAs
from .hostile import HOSTILE

REPO = Path(__file__).resolve().parents[1]


def _no_requests(instance: LocalSigstore) -> bool:
    counts = instance.counts()
    return counts["fulcio"] == 0 and counts["rekor"] == 0


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    """A fake wheel alone in `tmp_path / "dist"`, the folder most tests sign."""
    return fake_wheel(tmp_path / "dist", "hard_pkg")


# --- No surprise signatures -------------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "always"])
def test_stranger_ci_rebuilding_our_sdist_does_not_sign(
    mode: str,
    tmp_path: Path,
    wheel: Path,
    sigstore_no_ci: pytest.MonkeyPatch,
    github_job_as: GitHubJobAs,
    local_sigstore: LocalSigstore,
    local_sign: Cli,
) -> None:
    """Our sdist names its home in [project.urls]; a build in another repository stays unsigned."""
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [project]
            name = "hard-pkg"
            [project.urls]
            Source = "https://github.com/upstream/hard-pkg"
            """
        )
    )
    sigstore_no_ci.chdir(tmp_path)
    github_job_as(repository="stranger/hard-pkg")
    dist = wheel.parent

    status, _, err = local_sign("--mode", mode, "dist")

    assert "[project.urls] names github repository upstream/hard-pkg" in err
    assert "stranger/hard-pkg" in err
    assert status == (0 if mode == "auto" else 1)
    assert list(dist.glob("*.attestation")) == []
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


@pytest.mark.parametrize("mode", ["auto", "always"])
def test_private_repository_is_not_signed_on_the_public_instance(
    mode: str,
    wheel: Path,
    github_job_as: GitHubJobAs,
    local_sigstore: LocalSigstore,
    cli: Cli,
) -> None:
    """The visibility claim is read from the token before Fulcio or Rekor hear of it.

    The instance is the public one (`--instance production`), whose trust root is
    never reached: the refusal comes first, so nothing leaves this machine.
    """
    github_job_as(repository="octo-org/secret-pkg", visibility="private")
    dist = wheel.parent

    status, _, err = cli("sign", "--mode", mode, "--instance", "production", str(dist))

    assert "the repository is private" in err
    assert "permanent public log" in err
    assert "allow-private-repository = true" in err
    assert status == (0 if mode == "auto" else 1)
    assert list(dist.glob("*.attestation")) == []
    assert _no_requests(local_sigstore)


def test_private_repository_is_signed_when_allowed_or_on_a_private_instance(
    local_sigstore: LocalSigstore,
) -> None:
    identity = GitHubIdentity(repository="octo-org/secret-pkg", visibility="private")
    token = Token(local_sigstore.mint_github_token(identity), "GitHub Actions")
    publisher = OurGitHubPublisher(repository="octo-org/secret-pkg", workflow="release.yml")
    default = load_config({}, root=Path.cwd(), env={})
    allowed = load_config({"allow-private-repository": True}, root=Path.cwd(), env={})

    assert identity_refusal(token, publisher, default, public=True) is not None
    assert identity_refusal(token, publisher, allowed, public=True) is None
    assert identity_refusal(token, publisher, default, public=False) is None


def test_a_token_for_another_repository_is_never_used(
    wheel: Path,
    sigstore_no_ci: pytest.MonkeyPatch,
    github_job_as: GitHubJobAs,
    local_sigstore: LocalSigstore,
    local_sign: Cli,
) -> None:
    """An explicit token that disagrees with the expected publisher is refused before Fulcio."""
    github_job_as(repository="octo-org/hard-pkg")
    intruder = local_sigstore.mint_github_token(GitHubIdentity(repository="evil/hard-pkg"))
    sigstore_no_ci.setenv("SIGSTORE_IDENTITY_TOKEN", intruder)

    status, _, err = local_sign("--mode", "auto", wheel.parent)

    assert status == 1  # even in auto mode: the job is ours, the token is not
    assert (
        "hatch-attest: error: refusing to sign: the token is for repository evil/hard-pkg, "
        "expected octo-org/hard-pkg" in err
    )
    assert _no_requests(local_sigstore)


# --- Clear failures ---------------------------------------------------------


def _expired(instance: LocalSigstore) -> str:
    return instance.mint_github_token(issued_at=time.time() - 3600, lifetime=300)


def _forged(instance: LocalSigstore) -> str:
    """A token with a forged signature: only Fulcio can tell, and it says why it refuses."""
    genuine = instance.mint_github_token(GitHubIdentity(repository="octo-org/a"))
    other = instance.mint_github_token(GitHubIdentity(repository="octo-org/b"))
    return genuine.rsplit(".", 1)[0] + "." + other.rsplit(".", 1)[1]


def _for_pypi(instance: LocalSigstore) -> str:
    return instance.mint_github_token(audience="pypi")


@pytest.mark.parametrize(
    ("make_token", "messages", "reaches_fulcio"),
    [
        (_expired, ["the identity token from SIGSTORE_IDENTITY_TOKEN has expired"], False),
        (
            _forged,
            [
                "hatch-attest: error: Fulcio refused the request (HTTP 4",
                "There was an error processing the identity token",
            ],
            True,
        ),
        (_for_pypi, ["is for audience 'pypi'; Sigstore needs a token for 'sigstore'"], False),
    ],
    ids=["expired", "fulcio-refuses-a-forged-signature", "wrong-audience"],
)
def test_an_unusable_explicit_token_fails_clearly(
    make_token: Callable[[LocalSigstore], str],
    messages: list[str],
    reaches_fulcio: bool,
    wheel: Path,
    sigstore_no_ci: pytest.MonkeyPatch,
    local_sigstore: LocalSigstore,
    local_sign: Cli,
) -> None:
    token = make_token(local_sigstore)
    sigstore_no_ci.setenv("SIGSTORE_IDENTITY_TOKEN", token)
    dist = wheel.parent

    status, _, err = local_sign(str(dist))

    assert status == 1
    for message in messages:
        assert message in err
    assert token not in err
    assert list(dist.glob("*.attestation")) == []
    # Refused before any request, unless only Fulcio can tell.
    assert _no_requests(local_sigstore) is not reaches_fulcio


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the Sigstore trust config"),
        (b"{not json", "is not a valid Sigstore ClientTrustConfig"),
        (b'{"mediaType": "application/json"}', "is not a valid Sigstore ClientTrustConfig"),
        (b"\xff\xfe\x00garbage", "is not UTF-8 text"),
        (b"[]", "is not a valid Sigstore ClientTrustConfig"),
    ],
)
def test_unreadable_or_malformed_trust_config(
    content: bytes | None,
    message: str,
    tmp_path: Path,
    wheel: Path,
    sigstore_no_ci: pytest.MonkeyPatch,
    sigstore_ci_job: CIJob,
    local_sigstore: LocalSigstore,
    cli: Cli,
) -> None:
    sigstore_ci_job(local_sigstore.github_env())
    trust_config = tmp_path / "trust.json"
    if content is not None:
        trust_config.write_bytes(content)
    sigstore_no_ci.setenv("HATCH_ATTEST_TRUST_CONFIG", str(trust_config))
    dist = wheel.parent

    status, _, err = cli("sign", str(dist))

    assert status == 1
    assert message in err
    assert "Traceback" not in err
    assert list(dist.glob("*.attestation")) == []


# --- No partial results, odd folders ----------------------------------------


@contextlib.contextmanager
def _read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` unwritable, even for root (a read-only bind mount)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    mounted = run_bounded(["mount", "--bind", str(folder), str(folder)], timeout=60)
    if mounted.returncode != 0:
        pytest.skip("running as root without permission to make a read-only mount")
    try:
        remounted = run_bounded(["mount", "-o", "remount,bind,ro", str(folder)], timeout=60)
        if remounted.returncode != 0:
            pytest.skip("running as root without permission to make a read-only mount")
        yield
    finally:
        run_bounded(["umount", str(folder)], timeout=60)


def test_read_only_dist_folder_fails_cleanly(
    tmp_path: Path,
    sigstore_ci_job: CIJob,
    local_sigstore: LocalSigstore,
    local_sign: Cli,
) -> None:
    sigstore_ci_job(local_sigstore.github_env())
    dist = tmp_path / "dist"
    wheels = [fake_wheel(dist, f"ro_pkg{i}") for i in range(3)]
    before = {w: w.read_bytes() for w in wheels}

    with _read_only(dist):
        status, _, err = local_sign(str(dist))

    assert status == 1
    assert "cannot write" in err
    assert "writable" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in dist.iterdir()) == sorted(w.name for w in wheels)
    assert {w: w.read_bytes() for w in wheels} == before


def test_symlinked_dist_folder(
    tmp_path: Path,
    sigstore_ci_job: CIJob,
    local_sigstore: LocalSigstore,
    local_sign: Cli,
) -> None:
    real = tmp_path / "real-dist"
    wheel = fake_wheel(real, "hard_pkg")
    link = tmp_path / "dist"
    link.symlink_to(real, target_is_directory=True)
    sigstore_ci_job(local_sigstore.github_env())

    status, _, err = local_sign(str(link))

    assert status == 0, err
    attestation = real / f"{wheel.name}.publish.attestation"
    assert attestation.is_file()
    assert not attestation.is_symlink()
    statement = Attestation.model_validate_json(attestation.read_bytes()).statement
    assert statement["subject"][0]["digest"]["sha256"] == Distribution.from_file(wheel).digest


@pytest.mark.parametrize(
    "content",
    [b"", b'{"version": 1, "envel', b"not json at all", b'{"version": 1}', b"[1, 2]"],
    ids=["empty", "truncated", "not-json", "wrong-shape", "list"],
)
def test_broken_attestation_beside_an_artifact_is_removed_even_when_idle(
    content: bytes,
    wheel: Path,
    sigstore_no_ci: pytest.MonkeyPatch,
    local_sigstore: LocalSigstore,
    cli: Cli,
) -> None:
    """twine would upload it and PyPI would reject the release; it must not survive."""
    dist = wheel.parent
    broken = dist / f"{wheel.name}.publish.attestation"
    broken.write_bytes(content)

    status, _, err = cli("sign", "--mode", "auto", str(dist))

    assert status == 0
    assert f"removed stale {broken.name}: unreadable or not an attestation" in err
    assert not broken.exists()
    assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}


# --- Concurrency --------------------------------------------------------------


def test_concurrent_signers_into_one_folder_never_corrupt_each_other(
    tmp_path: Path, local_sigstore: LocalSigstore
) -> None:
    """Matrix jobs sharing a folder: every attestation left matches the file beside it."""
    dist = tmp_path / "dist"
    wheels = [fake_wheel(dist, f"conc_pkg{i}") for i in range(4)]
    env = outside_ci()
    env.update(local_sigstore.github_env())
    command = [
        sys.executable,
        "-m",
        "hatch_attest",
        "sign",
        "--overwrite",
        "--trust-config",
        str(local_sigstore.trust_config_path),
    ]
    # Two processes over the same files, two over disjoint halves, all at once.
    runs = [
        [*command, str(dist)],
        [*command, str(dist)],
        [*command, *map(str, wheels[:2])],
        [*command, *map(str, wheels[2:])],
    ]
    processes = run_bounded_all(runs, env=env, timeout=120, merge_stderr=True)
    outputs = [p.stdout for p in processes]

    assert [p.returncode for p in processes] == [0, 0, 0, 0], outputs
    leftovers = sorted(p.name for p in dist.iterdir())
    assert leftovers == sorted(
        [w.name for w in wheels] + [f"{w.name}.publish.attestation" for w in wheels]
    )
    for wheel in wheels:
        attestation = Attestation.model_validate_json(
            (dist / f"{wheel.name}.publish.attestation").read_bytes()
        )
        subject = attestation.statement["subject"][0]
        assert subject["name"] == wheel.name
        assert subject["digest"]["sha256"] == Distribution.from_file(wheel).digest


# Above Linux's PID_MAX_LIMIT (2**22): no process here has this number, as a process
# in another PID namespace (a container sharing the workspace) has its own numbers.
OTHER_NAMESPACE_PID = 2**22 + 1
STAGING_WRITER = f"""
import os, sys, time
from pathlib import Path
os.getpid = lambda: {OTHER_NAMESPACE_PID}  # its number in its own PID namespace
from hatch_attest._cli import main
from hatch_attest._files import stage_attestation
staged = stage_attestation(Path(sys.argv[1]), b"half-written", "slsa")
Path(sys.argv[2]).write_text("staged")
time.sleep(120)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="flock; Windows goes by the PID")
def test_a_live_run_in_another_pid_namespace_keeps_its_staging_file(
    tmp_path: Path,
    wheel: Path,
    local_sigstore: LocalSigstore,
    sigstore_github_job: GitHubIdentity,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A staging file is a leftover when no live run holds its lock, whatever its PID says."""
    dist = wheel.parent
    ready = tmp_path / "ready"
    writer = subprocess.Popen([sys.executable, "-c", STAGING_WRITER, str(wheel), str(ready)])
    try:
        for _ in range(600):  # bounded: 30 s
            if ready.exists() or writer.poll() is not None:
                break
            time.sleep(0.05)
        assert ready.exists(), "the writer did not stage its file"
        [staging] = dist.glob(f".{wheel.name}.slsa.attestation.{OTHER_NAMESPACE_PID}.*.tmp")
        trust = ["--trust-config", str(local_sigstore.trust_config_path)]

        status = main(["sign", *trust, str(dist)])

        err = capsys.readouterr().err
        assert status == 0, err
        assert "removed stale" not in err
        assert staging.exists()  # the live run's file survived ours
        verify_as_pypi(wheel, sigstore_github_job, local_sigstore.trust_config_path)
        verified = main(["verify", *trust, str(wheel)])
        assert verified == 0
        assert "staging-leftover" not in capsys.readouterr().out
    finally:
        writer.kill()
        writer.wait(30)

    # Killed (SIGKILL): its lock died with it. verify reports the file; the next run removes it.
    assert main(["verify", *trust, str(wheel)]) == 0
    assert "[staging-leftover]" in capsys.readouterr().out
    assert main(["sign", "--overwrite", *trust, str(dist)]) == 0
    assert (
        f"removed stale {staging.name}: left behind by a run that was killed while writing"
    ) in capsys.readouterr().err
    assert sorted(p.name for p in dist.iterdir()) == [
        wheel.name,
        f"{wheel.name}.publish.attestation",
    ]


def test_tuf_refreshes_are_serialised_across_processes(tmp_path: Path) -> None:
    """Two processes holding the TUF lock never overlap (sigstore-python #1403)."""
    log = tmp_path / "log"
    script = textwrap.dedent(
        f"""
        import sys, time
        from hatch_attest._trust import _tuf_lock
        with _tuf_lock():
            with open({str(log)!r}, "a") as f:
                f.write(sys.argv[1] + " in\\n"); f.flush()
                time.sleep(0.3)
                f.write(sys.argv[1] + " out\\n")
        """
    )
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    processes = run_bounded_all(
        [[sys.executable, "-c", script, name] for name in "ABC"], env=env, timeout=60
    )
    assert [process.returncode for process in processes] == [0, 0, 0], processes

    lines = log.read_text().splitlines()
    assert len(lines) == 6
    for first, second in zip(lines[::2], lines[1::2], strict=True):
        assert first.split()[0] == second.split()[0]
        assert (first.split()[1], second.split()[1]) == ("in", "out")


# --- Cheap when idle ------------------------------------------------------------


def test_idle_hook_imports_nothing_heavy() -> None:
    """Loading the hook and deciding to skip must not import the signing stack."""
    script = textwrap.dedent(
        """
        import os, sys
        from pathlib import Path
        from hatch_attest._build_hook import AttestBuildHook
        from hatch_attest._attest import decide
        from hatch_attest._config import load_config
        decision = decide(load_config({}, root=Path.cwd(), env={}), os.environ)
        heavy = {"sigstore", "pypi_attestations", "id", "requests", "cryptography", "pydantic"}
        print(type(decision).__name__, sorted(heavy & set(sys.modules)))
        """
    )
    out = run_bounded(
        [sys.executable, "-c", script], check=True, cwd=REPO, env=outside_ci(), timeout=60
    ).stdout
    assert out.split(maxsplit=1) == ["Skip", "[]\n"]


@pytest.mark.parametrize(
    "fault",
    [None, Fault.hang(), Fault.status(503), Fault.trickle(0.25)],
    ids=["ok", "hang", "503", "trickle"],
)
def test_timestamp_authority_is_never_called(
    fault: Fault | None,
    tmp_path: Path,
    sigstore_ci_job: CIJob,
    cli: Cli,
) -> None:
    """PEP 740 attestations drop RFC 3161 timestamps, so a TSA outage cannot cost anything."""
    with LocalSigstore.start(tsa=True, directory=tmp_path / "sigstore") as instance:
        if fault is not None:
            instance.inject("tsa", fault)
        sigstore_ci_job(instance.github_env())
        dist = tmp_path / "dist"
        fake_wheel(dist, "hard_pkg")

        started = time.monotonic()
        status, _, err = cli(
            "sign", "--timeout", "3", "--trust-config", str(instance.trust_config_path), str(dist)
        )
        elapsed = time.monotonic() - started
        counts = instance.counts()

    assert status == 0, err
    assert len(list(dist.glob("*.publish.attestation"))) == 1
    assert counts == {"oidc": 1, "fulcio": 1, "rekor": 1, "tsa": 0}
    assert elapsed < 3 + 6


def test_explicit_token_outside_ci_signs_and_says_which_publisher_was_checked(
    wheel: Path,
    sigstore_no_ci: pytest.MonkeyPatch,
    local_sigstore: LocalSigstore,
    local_sign: Cli,
) -> None:
    """SIGSTORE_IDENTITY_TOKEN on a machine that is no CI job: nothing to infer a publisher from."""
    identity = GitHubIdentity(repository="octo-org/explicit-pkg")
    sigstore_no_ci.setenv("SIGSTORE_IDENTITY_TOKEN", local_sigstore.mint_github_token(identity))
    dist = wheel.parent

    status, _, err = local_sign(str(dist))

    assert status == 0, err
    assert (
        "No publisher is configured, and the CI environment names none: verifying against "
        f"GitHub repository {identity.repository}, workflow {identity.workflow}, which the "
        "identity token names"
    ) in err
    verify_as_pypi(wheel, identity, local_sigstore.trust_config_path)


@pytest.mark.parametrize("content", sorted(HOSTILE))
@pytest.mark.parametrize("with_identity", [False, True], ids=["idle", "signing"])
def test_any_content_beside_an_artifact_is_stale(
    content: str,
    with_identity: bool,
    wheel: Path,
    sigstore_ci_job: CIJob,
    local_sigstore: LocalSigstore,
    sigstore_github_identity: GitHubIdentity,
    local_sign: Cli,
) -> None:
    """Deeply nested, binary, huge, another encoding: it is not this artifact's attestation."""
    if with_identity:
        sigstore_ci_job(local_sigstore.github_env(sigstore_github_identity))
    dist = wheel.parent
    hostile = dist / f"{wheel.name}.publish.attestation"
    hostile.write_bytes(HOSTILE[content])

    status, _, err = local_sign("--mode", "auto", dist)

    assert status == 0, err
    assert f"removed stale {hostile.name}: unreadable or not an attestation" in err
    assert "Traceback" not in err
    if with_identity:
        # The new attestation took its place.
        statement = Attestation.model_validate_json(hostile.read_bytes()).statement
        assert statement["subject"][0]["digest"]["sha256"] == Distribution.from_file(wheel).digest
    else:
        assert not hostile.exists()
        assert local_sigstore.counts() == {"oidc": 0, "fulcio": 0, "rekor": 0, "tsa": 0}
