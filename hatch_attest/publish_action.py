"""Moved to :mod:`hatch_attest.kinds.github_workflow`; kept for ``predicates.auto_predicate``.

``predicates.py`` is being split into ``hatch_attest/kinds/`` in parallel; this
alias goes away when that split imports the reader from its new place.
"""

from hatch_attest.kinds.github_workflow import ACTION, workflow_uses_pypi_publish_action

__all__ = ["ACTION", "workflow_uses_pypi_publish_action"]
