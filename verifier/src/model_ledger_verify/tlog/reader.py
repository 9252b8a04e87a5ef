"""Tree hashes, roots and proofs computed from tlog-tiles, however the tiles are fetched.

A :class:`TileReader` is bound to one tree size (from a verified checkpoint) and a ``fetch``
function that returns the bytes at a path below the log prefix. Every complete subtree hash of
the tree is in one tile: a node at tree level ``8·L + h`` is the root of ``2^h`` consecutive
hashes of a level ``L`` tile, so any RFC 6962 proof needs at most a few tiles per level.
Nothing a reader returns is trusted until it is checked against a signed root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from model_ledger_verify import merkle
from model_ledger_verify.tlog.tiles import (
    ENTRIES,
    TILE_HEIGHT,
    TILE_WIDTH,
    TileError,
    decode_bundle,
    split_hashes,
    tile_path,
    tile_width,
)

Fetch = Callable[[str], bytes]

_NODE = merkle.NODE_PREFIX


def _perfect_root(hashes: list[bytes]) -> bytes:
    """Return the root of a complete subtree over 2^h hashes (RFC 9162 §2.1.1)."""
    while len(hashes) > 1:
        hashes = [hashlib.sha256(_NODE + hashes[i] + hashes[i + 1]).digest() for i in range(0, len(hashes), 2)]
    return hashes[0]


class TileReader:
    """Reads one tree of ``size`` leaves through its tiles, caching each tile it fetched."""

    def __init__(self, fetch: Fetch, size: int) -> None:
        if size < 0:
            raise ValueError(f"tree size {size} is negative")
        self.size = size
        self._fetch = fetch
        self._tiles: dict[tuple[int, int], list[bytes]] = {}
        self.fetched = 0

    def tile(self, level: int, index: int) -> list[bytes]:
        """Return the hashes of tree tile (level, index), at the width this tree gives it.

        Raise TileError if the tree has no such tile or the fetched bytes have the wrong length.
        """
        key = (level, index)
        if key not in self._tiles:
            width = tile_width(self.size, level, index)
            if width == 0:
                raise TileError(f"a tree of {self.size} has no tile {level}/{index}")
            self._tiles[key] = split_hashes(self._fetch(tile_path(level, index, width)), width)
            self.fetched += 1
        return self._tiles[key]

    def node_hash(self, level: int, index: int) -> bytes:
        """Return the hash of the complete subtree over leaves [index·2^level, (index+1)·2^level)."""
        if (index + 1) << level > self.size:
            raise TileError(f"node {level}/{index} is not complete in a tree of {self.size}")
        tile_level, height = divmod(level, TILE_HEIGHT)
        first = index << height
        tile_index, offset = divmod(first, TILE_WIDTH)
        hashes = self.tile(tile_level, tile_index)
        return _perfect_root(hashes[offset : offset + (1 << height)])

    def range_hash(self, begin: int, end: int) -> bytes:
        """Return the Merkle tree hash of leaves [begin, end), a range that RFC 6962 proofs use."""
        return merkle.fold_nodes([self.node_hash(level, index) for level, index in merkle.range_nodes(begin, end)])

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the first ``size`` leaves (the whole tree by default)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} is not within a tree of {self.size}")
        return merkle.EMPTY_ROOT if size == 0 else self.range_hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the RFC 6962 inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
        size = self.size if size is None else size
        if size > self.size:
            raise ValueError(f"size {size} is beyond this tree of {self.size}")
        return [self.range_hash(b, e) for b, e in merkle.inclusion_proof_ranges(index, size)]

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Return the RFC 6962 consistency proof from ``size1`` to ``size2`` leaves."""
        size2 = self.size if size2 is None else size2
        if size2 > self.size:
            raise ValueError(f"size {size2} is beyond this tree of {self.size}")
        return [self.range_hash(b, e) for b, e in merkle.consistency_proof_ranges(size1, size2)]

    def entries(self, index: int) -> list[bytes]:
        """Return the leaves of entry bundle ``index``, each checked against the level 0 tile.

        Raise TileError if the bundle is malformed or a leaf does not hash to its tile hash; the
        tile itself is only as good as the root it is later checked against.
        """
        width = tile_width(self.size, 0, index)
        if width == 0:
            raise TileError(f"a tree of {self.size} has no entry bundle {index}")
        leaves = decode_bundle(self._fetch(tile_path(ENTRIES, index, width)), width)
        self.fetched += 1
        hashes = self.tile(0, index)
        for offset, (leaf, expected) in enumerate(zip(leaves, hashes, strict=True)):
            if merkle.leaf_hash(leaf) != expected:
                raise TileError(f"entry {index * TILE_WIDTH + offset} does not hash to its level 0 tile hash")
        return leaves
