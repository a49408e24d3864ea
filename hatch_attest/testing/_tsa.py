"""placeholder"""
from __future__ import annotations
import datetime
from cryptography import x509
from hatch_attest.testing._faults import Fault
from hatch_attest.testing._http import Reply, Request

class TimestampAuthority:
    def __init__(self, not_before: datetime.datetime) -> None:
        self.chain: list[x509.Certificate] = []
    def timestamp(self, request: Request, fault: Fault | None) -> Reply:
        raise NotImplementedError
