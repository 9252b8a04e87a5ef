"""The tree's hashes as C2SP tlog-tiles (https://c2sp.org/tlog-tiles): 256 hashes per tile.

A tile at tile level L and index N holds the hashes of the tree nodes at tree level 8·L with
indexes 256·N to 256·N + 255, concatenated (32 bytes each, 8,192 bytes when full). Level 0 tiles
hold the leaf hashes. A node at a tree level that is not a multiple of 8 is not stored: it is
the root of 2^h consecutive hashes of one tile (h = level mod 8), and is folded from them.

A full tile never changes. The right edge of each tile level is a partial tile (fewer than 256
hashes, the `N.p/W` tiles of the spec); a tree of size s has, at tile level L, a partial tile of
width (s >> 8L) mod 256 at index (s >> 8L) >> 8, and the partial tile of a smaller tree is a
prefix of the tile of a bigger one. Pure code: no Django, no database. (The paths and entry
bundles of the read API are `model_ledger_verify.tlog.tiles`; this module is how the sequencer
builds tiles and how proofs fold nodes out of them.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from model_ledger_verify.tlog.tiles import HASH_SIZE, TILE_HEIGHT, TILE_WIDTH

FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE

_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256


def tile_for_node(level: int, index: int) -> tuple[int, int, int, int]:
    """Return (tile level, tile index, first hash in the tile, hash count) covering a node.

    The node (level, index) is the root of `count` consecutive hashes of that tile, a power of
    two from 1 (a node at a tile level) to 128.
    """
    tile_level, height = divmod(level, TILE_HEIGHT)
    first = index << height
    return tile_level, first >> TILE_HEIGHT, first & (TILE_WIDTH - 1), 1 << height


def fold_tile(tile: bytes, offset: int, count: int) -> bytes:
    """Return the root of the complete subtree over hashes [offset, offset + count) of a tile.

    `count` is a power of two and `offset` a multiple of it (RFC 9162 §2.1.1 MTH of 2^h
    leaves). Raise ValueError if the tile does not hold that many hashes.
    """
    end = (offset + count) * HASH_SIZE
    if end > len(tile):
        raise ValueError(f"the tile holds {len(tile) // HASH_SIZE} hashes, not {offset + count}")
    if count >= MEMO_MIN_COUNT:
        return _fold_memo(bytes(tile[offset * HASH_SIZE : end]))
    return _fold(tile, offset * HASH_SIZE, end)


def _fold(data: bytes, start: int, end: int) -> bytes:
    hashes = [data[i : i + HASH_SIZE] for i in range(start, end, HASH_SIZE)]
    while len(hashes) > 1:
        hashes = [_sha256(_NODE_PREFIX + hashes[i] + hashes[i + 1]).digest() for i in range(0, len(hashes), 2)]
    return hashes[0]


# Proofs fold the same large subtrees again and again (every proof under one high tile needs the
# same few nodes of it). The memo is keyed by the hashes folded themselves, not by a position, so
# it can never answer for other content: a partial tile that grew, another log, a rebuilt tree.
# 1,024 keys of 1 to 4 KiB: at most 4 MiB per process.
MEMO_MIN_COUNT = 32
MEMO_SIZE = 1024


@lru_cache(maxsize=MEMO_SIZE)
def _fold_memo(hashes: bytes) -> bytes:
    return _fold(hashes, 0, len(hashes))


def partial_widths(size: int) -> list[tuple[int, int, int]]:
    """Return (tile level, tile index, width) of the partial tiles of a tree of `size` leaves.

    One per tile level that has any hash, lowest first; a width may be 0 (the level's last tile
    is full), so the list also says how many tile levels the tree has.
    """
    out = []
    level = 0
    while size >> (TILE_HEIGHT * level):
        count = size >> (TILE_HEIGHT * level)
        out.append((level, count >> TILE_HEIGHT, count & (TILE_WIDTH - 1)))
        level += 1
    return out


def split_partials(size: int, blob: bytes) -> list[bytearray]:
    """Split the concatenated partial tiles of a tree of `size` leaves, one buffer per level.

    Raise ValueError if the bytes do not match the widths the size implies.
    """
    parts, pos = [], 0
    for _, _, width in partial_widths(size):
        parts.append(bytearray(blob[pos : pos + width * HASH_SIZE]))
        pos += width * HASH_SIZE
    if pos != len(blob):
        raise ValueError(f"partial tiles hold {len(blob)} bytes; a tree of {size} needs {pos}")
    return parts


def join_partials(parts: Sequence[bytes | bytearray]) -> bytes:
    return b"".join(bytes(p) for p in parts)


class TileBuilder:
    """Collects the hashes a sequencer completes into tiles, starting from the stored partials.

    Feed it the (level, index, hash) triples of `compact_range.CompactRange.append`; it keeps those on
    tile levels, hands back each tile as it fills, and gives the new partials at the end.
    """

    __slots__ = ("full", "parts")

    def __init__(self, size: int, partials: bytes) -> None:
        self.parts = split_partials(size, partials)
        self.full: list[tuple[int, int, bytes]] = []

    def add(self, level: int, index: int, digest: bytes) -> None:
        tile_level = level >> 3
        parts = self.parts
        while len(parts) <= tile_level:
            parts.append(bytearray())
        buf = parts[tile_level]
        buf += digest
        if len(buf) == FULL_TILE_BYTES:
            self.full.append((tile_level, index >> TILE_HEIGHT, bytes(buf)))
            buf.clear()

    def partials(self) -> bytes:
        return join_partials(self.parts)


def node_hashes_from_tiles(
    wanted: Iterable[tuple[int, int]], tiles: Mapping[tuple[int, int], bytes]
) -> dict[tuple[int, int], bytes]:
    """Return the hash of each wanted node (level, index), folded from the tiles given.

    Raise KeyError naming the first node whose tile is missing or too short.
    """
    found = {}
    for level, index in wanted:
        tile_level, tile_index, offset, count = tile_for_node(level, index)
        tile = tiles.get((tile_level, tile_index))
        if tile is None or (offset + count) * HASH_SIZE > len(tile):
            raise KeyError((level, index))
        if count == 1:
            start = offset * HASH_SIZE
            found[(level, index)] = bytes(tile[start : start + HASH_SIZE])
        else:
            found[(level, index)] = fold_tile(tile, offset, count)
    return found
