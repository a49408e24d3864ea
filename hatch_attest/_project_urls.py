"""Which source repository a project's ``[project.urls]`` names.

The labels are PEP 753's; which URLs name a repository is each publisher kind's
rule (:meth:`hatch_attest._kinds.base.Publisher.repository_from_url`).

Only the standard library is imported here: this is on the idle build path.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from urllib.parse import urlsplit

from hatch_attest._kinds import repository_from_url

__all__ = ["repository_from_project_urls"]

# PEP 753 well-known labels (normalised) for a project's source, most specific first;
# "homepage" last, as it often points at documentation rather than the repository.
_SOURCE_LABELS = ("source", "sourcecode", "repository", "github", "gitlab", "code", "homepage")
_LABEL_JUNK = str.maketrans("", "", string.punctuation + string.whitespace)


def _normalize_label(label: str) -> str:
    """PEP 753 label normalisation: drop punctuation and whitespace, lowercase."""
    return label.translate(_LABEL_JUNK).lower()


def repository_from_project_urls(urls: Mapping[str, str]) -> tuple[str, str] | None:
    """Find the project's GitHub or GitLab repository in its ``[project.urls]``.

    Looks at the labels Source, Source Code, Repository, GitHub, GitLab, Code and
    Homepage (in that order, compared after PEP 753 normalisation, so ``source-code``
    and ``Source Code`` are the same) and returns ``("github", "OWNER/REPO")`` for
    ``https://github.com/OWNER/REPO[.git][/...]`` or ``("gitlab", "NS/.../PROJECT")``
    for ``https://gitlab.com/NS/.../PROJECT[.git][/-/...]``; None if none matches.
    """
    by_label: dict[str, list[str]] = {}
    for label, url in urls.items():
        by_label.setdefault(_normalize_label(label), []).append(url)
    for label in _SOURCE_LABELS:
        for url in by_label.get(label, []):
            try:
                parts = urlsplit(url.strip())
            except ValueError:
                continue
            if parts.scheme not in {"https", "http"} or parts.hostname is None:
                continue
            segments = [s for s in parts.path.split("/") if s]
            found = repository_from_url(parts.hostname, segments)
            if found is not None:
                return found
    return None
