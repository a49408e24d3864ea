"""The fault matrix's results, collected by tests/test_faults.py and printed by conftest."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MatrixRow:
    endpoint: str
    fault: str
    mode: str
    status: int
    outcome: str
    seconds: float
    leftovers: list[str]
    leaked: bool

    @property
    def lost_or_leaked(self) -> bool:
        """A failed run that left a file, or any run whose output held a credential."""
        return self.leaked or (self.status != 0 and bool(self.leftovers))


FAULT_MATRIX: list[MatrixRow] = []
