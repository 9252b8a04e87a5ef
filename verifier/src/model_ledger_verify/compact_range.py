"""The right edge of a growing RFC 6962 Merkle tree (a compact range).

A sequencer extends the tree leaf by leaf; the compact range is all it needs to compute the new
root and to learn which complete subtrees (stored nodes, tiles) each append finishes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .merkle import _HASH_SIZE, EMPTY_ROOT, NODE_PREFIX, _sha256, fold_nodes

__all__ = ["CompactRange", "append_leaves"]


class CompactRange:
    """The right edge of a Merkle tree: the roots of its complete subtrees, left to right.

    A tree of ``size`` leaves decomposes into one complete subtree per set bit of ``size``,
    largest first. Appending a leaf merges equal-sized subtrees like a binary counter, so each
    append costs one leaf hash copy plus one hash per trailing one bit of the old size
    (amortised one). The range is all a sequencer needs to extend the tree and compute its root.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Create the range of a tree of ``size`` leaves from its subtree roots.

        Raise ValueError if ``size`` is negative, if the number of hashes is not the number of
        set bits of ``size``, or if a hash is not 32 bytes.
        """
        if size < 0:
            raise ValueError(f"tree size {size} is negative")
        hs = [bytes(h) for h in hashes]
        if len(hs) != size.bit_count():
            raise ValueError(f"a tree of size {size} has {size.bit_count()} complete subtrees, not {len(hs)}")
        if any(len(h) != _HASH_SIZE for h in hs):
            raise ValueError(f"subtree hashes must be {_HASH_SIZE} bytes")
        self._size = size
        self._hashes = hs

    @property
    def size(self) -> int:
        """Return the number of leaves covered."""
        return self._size

    @property
    def hashes(self) -> list[bytes]:
        """Return a copy of the subtree roots, left to right."""
        return list(self._hashes)

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash at index ``size``; return the complete subtrees this finishes.

        Return ``(level, index, hash)`` tuples in increasing level order, starting with the leaf
        itself ``(0, old size, leaf_hash)``. Raise ValueError if ``leaf_hash`` is not 32 bytes.
        """
        if len(leaf_hash) != _HASH_SIZE:
            raise ValueError(f"leaf hash must be {_HASH_SIZE} bytes")
        h = bytes(leaf_hash)
        index = self._size
        level = 0
        done = [(0, index, h)]
        hashes = self._hashes
        # Each trailing one bit of the old size is a subtree of the same height as ``h``.
        while index & 1:
            h = _sha256(NODE_PREFIX + hashes.pop() + h).digest()
            index >>= 1
            level += 1
            done.append((level, index, h))
        hashes.append(h)
        self._size += 1
        return done

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[tuple[int, int, bytes]]:
        """Append every leaf hash in order; return all completed subtrees, as :meth:`append`."""
        done: list[tuple[int, int, bytes]] = []
        for h in leaf_hashes:
            done.extend(self.append(h))
        return done

    def root(self) -> bytes:
        """Return the MTH of the covered tree (:data:`EMPTY_ROOT` when it is empty)."""
        if not self._hashes:
            return EMPTY_ROOT
        return fold_nodes(self._hashes)


def append_leaves(size: int, stack: list[bytes], leaves: bytes) -> None:
    """Append the concatenated 32-byte leaf hashes ``leaves`` to ``stack``, in place.

    ``stack`` is the compact range of a tree of ``size`` leaves (the roots of its complete
    subtrees, largest first), as :class:`CompactRange` keeps it. The result is the one
    :meth:`CompactRange.extend` gives, computed a level at a time: each level's nodes are hashed
    in pairs in one pass, with the odd node at the left taken from the stack and the odd node
    at the right kept as a root of the new right edge. The node hashes are the same in number;
    what is saved is the per-leaf bookkeeping, which dominates in Python.
    """
    if len(leaves) % _HASH_SIZE:
        raise ValueError(f"leaf hashes must be a multiple of {_HASH_SIZE} bytes")
    sha256, prefix = _sha256, NODE_PREFIX
    index, nodes = size, bytes(leaves)
    edge: list[bytes] = []  # new right-edge roots, lowest level first
    while nodes:
        if index & 1:  # the first node's left sibling is the stack's smallest subtree
            nodes = stack.pop() + nodes
            index -= 1
        if (len(nodes) // _HASH_SIZE) & 1:
            edge.append(nodes[-_HASH_SIZE:])
            nodes = nodes[:-_HASH_SIZE]
        pair = 2 * _HASH_SIZE
        nodes = b"".join([sha256(prefix + nodes[i : i + pair]).digest() for i in range(0, len(nodes), pair)])
        index >>= 1
    stack.extend(reversed(edge))
