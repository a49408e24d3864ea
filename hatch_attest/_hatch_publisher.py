"""``hatch publish -p attest``: hatch's index publisher, with attestations and Trusted Publishing.

Registered by :func:`hatch_attest.hooks.hatch_register_publisher`, and imported only
when hatch asks for its publishers (never by a build). The work is done by
:mod:`hatch_attest._uploading`; this class reads hatch's options and configuration.

Where each setting comes from, first found wins:

1. ``-o key=value`` (hatch hands a plugin only these);
2. hatch's own flags and their variables: ``-r/--repo`` (``HATCH_INDEX_REPO``),
   ``-u/--user`` (``HATCH_INDEX_USER``), ``-a/--auth`` (``HATCH_INDEX_AUTH``),
   ``--ca-cert``, ``--client-cert`` (``HATCH_INDEX_CA_CERT``, ``..._CLIENT_CERT``),
   ``-n/--no-prompt``; hatch parses them but passes them only to its ``index``
   publisher, so they are read from the running command (``click``'s context);
3. ``[tool.hatch.publish.attest]`` in pyproject.toml;
4. ``[publish.attest]`` in hatch's config.toml.

Keys: ``repo`` (``main``, ``test``, a name from ``repos``, or a URL), ``repos``,
``user``, ``auth``, ``ca-cert``, ``client-cert``, ``attestations`` (default true).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hatch.publish.plugin.interface import PublisherInterface

from hatch_attest._redact import redact
from hatch_attest._uploading import (
    DEFAULT_REPOSITORIES,
    UploadRequest,
    as_bool,
    describe,
    plan,
    upload,
)
from hatch_attest.errors import AttestError, PublishError

_FLAGS = ("repo", "user", "auth", "ca_cert", "client_cert", "client_key")
"""hatch publish's flags (click parameter names) that hatch keeps from plugins."""
KEYS = ("repo", "repos", "user", "auth", "ca-cert", "client-cert", "attestations", "disable")


class AttestPublisher(PublisherInterface):
    """Uploads each distribution with its ``<dist>.*.attestation`` files (see the module)."""

    PLUGIN_NAME = "attest"

    def publish(self, artifacts: list[str], options: dict[str, Any]) -> None:
        """Check every attestation against the uploading publisher, then upload with twine."""
        try:
            request = self.request(artifacts, options)
            planned = plan(request)
            self.app.display_info(describe(planned))
            upload(request, planned)
        except AttestError as e:
            self.app.abort(f"hatch-attest: {redact(str(e))}")

    def request(self, artifacts: list[str], options: Mapping[str, Any]) -> UploadRequest:
        """The upload that the options, flags and configuration describe."""
        settings = self._settings(options)
        if settings.get("client-key"):
            msg = (
                "--client-key is not supported by `-p attest` (twine takes one file): "
                "pass a --client-cert PEM that contains the private key too"
            )
            raise PublishError(msg)
        unknown = sorted(set(settings) - set(KEYS))
        if unknown:
            msg = f"unknown option(s) {', '.join(unknown)} for `hatch publish -p attest`; "
            msg += f"known: {', '.join(KEYS)}"
            raise PublishError(msg)
        repo = settings.get("repo", "main")
        repo_config = self._repo(str(repo), settings.get("repos", {}))
        merged = {**settings, **{k: v for k, v in repo_config.items() if k not in settings}}
        root = Path(self.root)
        paths = [Path(a) if Path(a).is_absolute() else root / a for a in artifacts] or [
            root / "dist"
        ]
        return UploadRequest(
            artifacts=paths,
            url=repo_config["url"],
            user=_text(merged.get("user")),
            auth=_text(merged.get("auth")),
            ca_cert=_text(merged.get("ca-cert")),
            client_cert=_text(merged.get("client-cert")),
            no_prompt=bool(options.get("no_prompt", False)),
            attestations=as_bool(merged.get("attestations", True), "attestations"),
            root=root,
        )

    def _settings(self, options: Mapping[str, Any]) -> dict[str, Any]:
        import click

        settings: dict[str, Any] = dict(self.plugin_config)
        settings.update(self.project_config)
        context = click.get_current_context(silent=True)
        params = context.params if context is not None else {}
        settings.update(
            {name.replace("_", "-"): params[name] for name in _FLAGS if params.get(name)}
        )
        settings.update(
            {
                key.replace("_", "-"): value
                for key, value in options.items()
                if key not in {"no_prompt", "initialize_auth"}
            }
        )
        settings.pop("disable", None)
        return settings

    def _repo(self, repo: str, repos: object) -> dict[str, str]:
        """The repository's table: a built-in name, one of ``repos``, or a URL."""
        if repo in DEFAULT_REPOSITORIES:
            return {"url": DEFAULT_REPOSITORIES[repo]}
        defined = repos if isinstance(repos, Mapping) else {}
        found = defined.get(repo)
        if isinstance(found, str):
            return {"url": found}
        if isinstance(found, Mapping) and isinstance(found.get("url"), str):
            return {str(k): v for k, v in found.items()}
        if found is not None:
            msg = f"repository {repo!r} in `repos` must be a URL or a table with a `url` key"
            raise PublishError(msg)
        if "://" in repo:
            return {"url": repo}
        known = ", ".join([*DEFAULT_REPOSITORIES, *defined])
        msg = f"unknown repository {repo!r}: use one of {known}, or a URL"
        raise PublishError(msg)


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
