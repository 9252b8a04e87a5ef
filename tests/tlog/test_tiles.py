"""tlog-tiles paths, tile shapes and entry bundles, against the examples in the spec."""

from __future__ import annotations

import hashlib

import pytest

from model_ledger_verify import compact_range, merkle
from model_ledger_verify.tlog.reader import TileReader
from model_ledger_verify.tlog.tiles import (
    TileError,
    decode_bundle,
    encode_bundle,
    encode_index,
    parse_tile_path,
    partial_tiles,
    tile_path,
    tile_width,
    tiles_for_size,
)


@pytest.mark.parametrize(
    ("index", "encoded"),
    [
        (0, "000"),
        (1, "001"),
        (67, "067"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),  # the spec's example
        (10**9, "x001/x000/x000/000"),
    ],
)
def test_it_encodes_indexes_as_the_spec_does(index, encoded):
    assert encode_index(index) == encoded
    assert parse_tile_path(f"tile/0/{encoded}") == (0, index, 256)


def test_it_builds_full_partial_and_entry_paths():
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(2, 5, 17) == "tile/2/005.p/17"
    assert tile_path("entries", 3) == "tile/entries/003"
    assert tile_path("entries", 1000, 1) == "tile/entries/x001/000.p/1"
    assert parse_tile_path("tile/entries/x001/000.p/1") == ("entries", 1000, 1)
    assert parse_tile_path("tile/63/000.p/255") == (63, 0, 255)


@pytest.mark.parametrize(
    "path",
    [
        "tile/00/000",  # a level with a leading zero
        "tile/64/000",  # above level 63
        "tile/0/0",  # an index group that is not three digits
        "tile/0/1234",
        "tile/0/x000/001",  # a padded alias of 001
        "tile/0/001/x234",  # the x on the last group
        "tile/0/x1/000",
        "tile/0/000.p/0",  # widths are 1-255
        "tile/0/000.p/256",
        "tile/0/000.p/007",  # a width with leading zeros
        "tile/0/000.p/",
        "tile/0/-01",
        "tile/entry/000",
        "tile/0/000/",
        "tile/0/000.p/5/",
    ],
)
def test_it_refuses_paths_the_spec_does_not_allow(path):
    with pytest.raises(TileError):
        parse_tile_path(path)


def test_a_tree_of_70000_has_the_tiles_the_spec_lists():
    # "273 full level 0 tiles, one partial level 0 tile of width 112, one full level 1 tile, one
    # partial level 1 tile of width 17, and one partial level 2 tile of width 1."
    tiles = list(tiles_for_size(70_000))
    level0 = [t for t in tiles if t[0] == 0]
    assert len(level0) == 274 and all(w == 256 for _, _, w in level0[:273]) and level0[-1] == (0, 273, 112)
    assert [t for t in tiles if t[0] == 1] == [(1, 0, 256), (1, 1, 17)]
    assert [t for t in tiles if t[0] == 2] == [(2, 0, 1)]
    assert partial_tiles(70_000) == [(0, 273, 112), (1, 1, 17), (2, 0, 1)]


def test_a_tree_of_256_has_a_full_level_0_tile_and_a_level_1_tile_of_width_1():
    assert list(tiles_for_size(256)) == [(0, 0, 256), (1, 0, 1)]
    assert list(tiles_for_size(0)) == []
    assert tile_width(255, 0, 0) == 255 and tile_width(255, 1, 0) == 0


def test_entry_bundles_frame_leaves_with_a_big_endian_uint16_length():
    leaves = [b"", b"a", b"x" * 300]
    data = encode_bundle(leaves)
    assert data[:2] == b"\x00\x00" and data[2:5] == b"\x00\x01a" and data[5:7] == b"\x01\x2c"
    assert decode_bundle(data, 3) == leaves
    with pytest.raises(TileError):
        decode_bundle(data, 2)
    with pytest.raises(TileError):
        decode_bundle(data[:-1], 3)
    with pytest.raises(TileError):
        encode_bundle([b"x" * 65536])


def _tiles_of(leaf_hashes: bytes) -> dict[str, bytes]:
    """Every tile of a tree, computed here from first principles (MTH of 256^L leaf ranges)."""
    size = len(leaf_hashes) // 32
    levels = [leaf_hashes]
    while len(levels[-1]) >= 32 * 256:
        below = levels[-1]
        full = len(below) // (32 * 256)
        hashes = [merkle.root([below[i : i + 32] for i in range(t * 8192, (t + 1) * 8192, 32)]) for t in range(full)]
        levels.append(b"".join(hashes))
    out = {}
    for level, index, width in tiles_for_size(size):
        start = index * 8192
        out[tile_path(level, index, width)] = levels[level][start : start + 32 * width]
    return out


def test_proofs_from_tiles_verify_at_sampled_sizes_up_to_a_million():
    size = 1_000_000
    blob = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size))
    tiles = _tiles_of(blob)
    samples = sorted({1, 2, 255, 256, 257, 65_535, 65_536, 65_537, 300_001, 999_999, size})
    roots, tree = {}, compact_range.CompactRange()
    for n in range(size):
        tree.append(blob[n * 32 : n * 32 + 32])
        if n + 1 in samples:
            roots[n + 1] = tree.root()

    def fetch(path: str) -> bytes:
        # A partial tile of a smaller tree is a prefix of the biggest tree's tile.
        level, index, width = parse_tile_path(path)
        full = tiles.get(tile_path(level, index)) or next(
            v for k, v in tiles.items() if k.startswith(tile_path(level, index) + ".p/")
        )
        return full[: 32 * width]

    previous = 0
    for n in samples:
        reader = TileReader(fetch, n)
        assert reader.root() == roots[n]
        for index in {0, n // 3, n - 1}:
            proof = reader.inclusion_proof(index)
            merkle.verify_inclusion(index, n, blob[index * 32 : index * 32 + 32], proof, roots[n])
        if previous:
            merkle.verify_consistency(previous, n, roots[previous], roots[n], reader.consistency_proof(previous))
        previous = n
