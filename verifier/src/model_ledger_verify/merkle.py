"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and proof verification.

Everything here is pure: hashes in, hashes out. The tree is the Merkle Tree Hash (MTH) of
RFC 9162 §2.1.1 over leaf hashes that the caller has already computed with :func:`leaf_hash`.

Two kinds of proof generator are provided. :func:`inclusion_proof` and
:func:`consistency_proof` are the in-memory reference algorithms of RFC 6962 §2.1.1 and
§2.1.2, taking the whole list of leaf hashes. A storage layer instead keeps only complete
(perfect) subtrees, node ``(level, index)`` being the MTH of leaves
``[index * 2**level, (index + 1) * 2**level)``; it asks :func:`inclusion_proof_ranges` or
:func:`consistency_proof_ranges` which leaf ranges the proof is made of, splits each range into
stored nodes with :func:`range_nodes`, and combines their hashes with :func:`fold_nodes`. That
costs O(log n) node reads per proof. :class:`~.compact_range.CompactRange` maintains the right edge of a growing
tree and reports every complete subtree that an append finishes, so the stored nodes can be
written as leaves arrive (see :mod:`.compact_range`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = [
    "EMPTY_ROOT",
    "LEAF_PREFIX",
    "NODE_PREFIX",
    "ProofError",
    "consistency_proof",
    "consistency_proof_ranges",
    "fold_nodes",
    "inclusion_proof",
    "inclusion_proof_ranges",
    "leaf_hash",
    "node_hash",
    "range_nodes",
    "root",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]

_HASH_SIZE = 32

_sha256 = hashlib.sha256
LEAF_PREFIX = b"\x00"
"""RFC 9162 §2.1.1: leaf hash = SHA-256(0x00 ‖ leaf)."""
NODE_PREFIX = b"\x01"
"""RFC 9162 §2.1.1: node hash = SHA-256(0x01 ‖ left ‖ right)."""

EMPTY_ROOT: bytes = _sha256(b"").digest()
"""The MTH of the empty tree, SHA-256 of the empty string (RFC 9162 §2.1.1)."""


class ProofError(ValueError):
    """An inclusion or consistency proof does not verify, or its inputs are malformed."""


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash of ``data``: SHA-256(0x00 ‖ data)."""
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash: SHA-256(0x01 ‖ left ‖ right)."""
    return _sha256(NODE_PREFIX + left + right).digest()


def _split_point(n: int) -> int:
    """Return the largest power of two strictly less than ``n`` (``n`` >= 2)."""
    # RFC 9162 §2.1.1: MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])) for this k.
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the MTH of a tree whose leaves have the given hashes.

    The empty tree has root :data:`EMPTY_ROOT`. Runs in O(n) hashes and O(log n) memory.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    # The frontier of CompactRange, without recording the nodes it completes.
    frontier: list[bytes] = []
    for index, leaf in enumerate(leaf_hashes):
        h = bytes(leaf)
        while index & 1:
            h = _sha256(NODE_PREFIX + frontier.pop() + h).digest()
            index >>= 1
        frontier.append(h)
    return fold_nodes(frontier)


def fold_nodes(hashes: Sequence[bytes]) -> bytes:
    """Return the MTH of a leaf range from the hashes of its complete subtrees.

    ``hashes`` are the subtree roots of :func:`range_nodes`, left to right (largest first).
    Because RFC 9162 §2.1.1 always splits off the largest power of two on the left, the MTH is
    the right fold ``node_hash(h1, node_hash(h2, ... hn))``; a single hash is returned as is.
    Raise ValueError if ``hashes`` is empty.
    """
    if not hashes:
        raise ValueError("cannot fold an empty list of subtree hashes")
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = _sha256(NODE_PREFIX + h + acc).digest()
    return acc


def range_nodes(begin: int, end: int) -> list[tuple[int, int]]:
    """Return the complete subtrees ``(level, index)`` that make up leaves ``[begin, end)``.

    Subtrees are listed left to right, largest first, so :func:`fold_nodes` over their hashes
    gives the MTH of the range. Every range of an RFC 6962 proof qualifies; in general the range
    must be non-empty and ``begin`` aligned to each subtree in turn. Raise ValueError otherwise.
    """
    if not 0 <= begin < end:
        raise ValueError(f"invalid leaf range [{begin}, {end})")
    nodes: list[tuple[int, int]] = []
    pos = begin
    remaining = end - begin
    # Take the largest power of two each time, exactly as the MTH splits its leaves.
    while remaining:
        level = remaining.bit_length() - 1
        if pos & ((1 << level) - 1):
            raise ValueError(f"leaf range [{begin}, {end}) is not a subtree of the Merkle tree")
        nodes.append((level, pos >> level))
        pos += 1 << level
        remaining -= 1 << level
    return nodes


def inclusion_proof_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Return the leaf ranges ``[begin, end)`` whose MTHs form the inclusion proof of ``index``.

    The ranges follow RFC 6962 §2.1.1 PATH(m, D[n]) and are ordered as the proof is, from the
    leaf up to the root. Raise ValueError unless ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    begin, end = 0, size
    # Walk down from the root; at each split the half without the leaf is a proof element.
    while end - begin > 1:
        mid = begin + _split_point(end - begin)
        if index < mid:
            ranges.append((mid, end))
            end = mid
        else:
            ranges.append((begin, mid))
            begin = mid
    ranges.reverse()
    return ranges


def consistency_proof_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """Return the leaf ranges whose MTHs form the consistency proof from ``size1`` to ``size2``.

    The ranges follow RFC 6962 §2.1.2 SUBPROOF(m, D[n], true), in proof order. The proof is
    empty when ``size1`` is 0 or equals ``size2``. Raise ValueError unless
    ``0 <= size1 <= size2``.
    """
    if not 0 <= size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    ranges: list[tuple[int, int]] = []
    if size1 == 0 or size1 == size2:
        return ranges
    begin, end, m, whole = 0, size2, size1, True
    # ``whole`` is the flag b of SUBPROOF: false once the walk leaves the old tree's left edge,
    # after which the subtree where the old tree ends is itself a proof element.
    while m != end - begin:
        mid = begin + _split_point(end - begin)
        if m <= mid - begin:
            ranges.append((mid, end))
            end = mid
        else:
            ranges.append((begin, mid))
            m -= mid - begin
            begin = mid
            whole = False
    if not whole:
        ranges.append((begin, end))
    ranges.reverse()
    return ranges


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the inclusion proof for leaf ``index`` in the tree of all ``leaf_hashes``.

    This is the recursive PATH(m, D[n]) of RFC 6962 §2.1.1, leaf to root. Raise ValueError
    unless ``0 <= index < len(leaf_hashes)``.
    """
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} is outside a tree of size {n}")
    if n == 1:
        return []
    k = _split_point(n)
    if index < k:
        return [*inclusion_proof(index, leaf_hashes[:k]), root(leaf_hashes[k:])]
    return [*inclusion_proof(index - k, leaf_hashes[k:]), root(leaf_hashes[:k])]


def _subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    """Return SUBPROOF(m, D[n], b) of RFC 6962 §2.1.2."""
    n = len(leaves)
    if m == n:
        return [] if whole else [root(leaves)]
    k = _split_point(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], whole), root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), root(leaves[:k])]


def consistency_proof(size1: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the consistency proof from the first ``size1`` leaves to all ``leaf_hashes``.

    This is PROOF(m, D[n]) of RFC 6962 §2.1.2; it is empty when ``size1`` is 0 or the whole
    tree. Raise ValueError unless ``0 <= size1 <= len(leaf_hashes)``.
    """
    n = len(leaf_hashes)
    if not 0 <= size1 <= n:
        raise ValueError(f"no consistency proof from size {size1} to size {n}")
    if size1 == 0:
        return []
    return _subproof(size1, leaf_hashes, True)


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray | memoryview) or len(value) != _HASH_SIZE:
        raise ProofError(f"{what} is not a {_HASH_SIZE}-byte hash")


def _check_proof(proof: Sequence[bytes]) -> list[bytes]:
    items = list(proof)
    for i, h in enumerate(items):
        _check_hash(h, f"proof element {i}")
    return [bytes(h) for h in items]


def root_from_inclusion_proof(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]) -> bytes:
    """Return the root implied by an inclusion proof, per RFC 9162 §2.1.3.2.

    Raise ProofError if ``index`` is not below ``size``, if any hash is not 32 bytes long, or if
    the proof has the wrong number of elements for this index and size.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash(leaf_hash, "leaf hash")
    path = _check_proof(proof)
    # fn is the node's index on its level and sn the last index there (RFC 9162 §2.1.3.2).
    fn, sn = index, size - 1
    r = bytes(leaf_hash)
    for p in path:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = _sha256(NODE_PREFIX + p + r).digest()
            # Climb past the levels where this node has no right sibling (RFC 9162 §2.1.3.2).
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = _sha256(NODE_PREFIX + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    Return None if the proof verifies (RFC 9162 §2.1.3.2). Raise ProofError otherwise,
    including for malformed input: an index not below the size, hashes that are not 32 bytes,
    or a proof of the wrong length.
    """
    _check_hash(root, "root")
    if root_from_inclusion_proof(index, size, leaf_hash, proof) != root:
        raise ProofError("inclusion proof does not lead to the expected root")


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree of ``size1`` leaves with ``root1`` is a prefix of the ``size2`` tree.

    Return None if the proof verifies (RFC 9162 §2.1.4.2). Raise ProofError otherwise, and for
    malformed input. Edge cases: a proof from ``size1 == 0`` must be empty, ``root1`` must be
    :data:`EMPTY_ROOT` and ``root2`` a 32-byte hash (also :data:`EMPTY_ROOT` when ``size2`` is
    0); for ``0 < size1 == size2`` the proof must be empty and the roots equal, as given.
    """
    if not 0 <= size1 <= size2:
        raise ProofError(f"no consistency proof can lead from size {size1} to size {size2}")
    path = list(proof)
    if size1 == 0:
        # Every tree extends the empty one: nothing to prove beyond the roots being well formed.
        if path:
            raise ProofError("a consistency proof from the empty tree must be empty")
        if root1 != EMPTY_ROOT:
            raise ProofError("root1 is not the root of the empty tree")
        if size2 == 0 and root2 != EMPTY_ROOT:
            raise ProofError("root2 is not the root of the empty tree")
        _check_hash(root2, "root2")
        return
    if size1 == size2:
        if path:
            raise ProofError("the sizes are equal but the consistency proof is not empty")
        if root1 != root2:
            raise ProofError("the sizes are equal but the roots differ")
        return
    _check_hash(root1, "root1")
    _check_hash(root2, "root2")
    path = _check_proof(path)
    if not path:
        raise ProofError("consistency proof is empty")
    # RFC 9162 §2.1.4.2 step 2: a power-of-two size1 is its own first subtree.
    if size1 & (size1 - 1) == 0:
        path.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1
    # Levels where the old tree's last node is a right child lie inside the first element.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # fr rebuilds the old root from left siblings only, sr the new root from all of them.
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = _sha256(NODE_PREFIX + c + fr).digest()
            sr = _sha256(NODE_PREFIX + c + sr).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = _sha256(NODE_PREFIX + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != root1:
        raise ProofError("consistency proof does not lead to root1")
    if sr != root2:
        raise ProofError("consistency proof does not lead to root2")
