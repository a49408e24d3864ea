"""placeholder"""
from hatch_attest.testing._faults import Fault
from hatch_attest.testing._identity import GitHubIdentity, GitLabIdentity
from hatch_attest.testing._instance import LocalSigstore

__all__ = ["Fault", "GitHubIdentity", "GitLabIdentity", "LocalSigstore"]
