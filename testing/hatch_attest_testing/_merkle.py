"""An RFC 6962 Merkle tree: root hashes and inclusion proofs over a growing log."""

from __future__ import annotations

import hashlib


def leaf_hash(data: bytes) -> bytes:
    """MTH of a single entry: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than `size` (RFC 6962, section 2.1)."""
    return 1 << ((size - 1).bit_length() - 1)


class MerkleTree:
    """Leaf hashes in log order. Not thread-safe; the log serialises access."""

    def __init__(self) -> None:
        self._leaves: list[bytes] = []

    def __len__(self) -> int:
        return len(self._leaves)

    def append(self, leaf: bytes) -> int:
        """Adds a leaf hash and returns its index."""
        self._leaves.append(leaf)
        return len(self._leaves) - 1

    def root(self, size: int) -> bytes:
        """MTH of the first `size` leaves."""
        if size == 0:
            return hashlib.sha256(b"").digest()
        return self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size]), ordered from the leaf's sibling up to the root."""
        if not 0 <= index < size <= len(self._leaves):
            msg = f"no leaf {index} in a tree of size {size}"
            raise ValueError(msg)
        return self._path(index, 0, size)

    def _subtree(self, start: int, end: int) -> bytes:
        if end - start == 1:
            return self._leaves[start]
        middle = start + _split(end - start)
        return _node_hash(self._subtree(start, middle), self._subtree(middle, end))

    def _path(self, index: int, start: int, end: int) -> list[bytes]:
        if end - start == 1:
            return []
        middle = start + _split(end - start)
        if index < middle:
            return [*self._path(index, start, middle), self._subtree(middle, end)]
        return [*self._path(index, middle, end), self._subtree(start, middle)]
