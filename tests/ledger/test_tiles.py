"""Tiles (C2SP tlog-tiles) give exactly the proofs that one stored row per node gave."""

from __future__ import annotations

import base64
import hashlib
import json
import random
from pathlib import Path

import pytest

from ledger import selectors, services, tiles
from ledger.models import Entry, Tile, TreeState
from model_ledger_verify import compact_range, merkle
from tests.ledger.helpers import fill

VECTORS = Path(__file__).resolve().parent / "vectors"
# The leaves of the RFC 6962 reference tree that the shared vectors are computed over.
REFERENCE_LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]


def _node_per_row(leaf_hashes: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every complete subtree's hash, as the log stored them before tiles (one row per node)."""
    compact = compact_range.CompactRange()
    return {(level, index): digest for h in leaf_hashes for level, index, digest in compact.append(h)}


def _tiles_of(leaf_hashes: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Full and partial tiles of a tree, keyed (tile level, tile index)."""
    compact = compact_range.CompactRange()
    builder = tiles.TileBuilder(0, b"")
    for h in leaf_hashes:
        for level, index, digest in compact.append(h):
            if level % tiles.TILE_HEIGHT == 0:
                builder.add(level, index, digest)
    found = {(level, index): blob for level, index, blob in builder.full}
    parts = tiles.split_partials(len(leaf_hashes), builder.partials())
    for (level, index, _), part in zip(tiles.partial_widths(len(leaf_hashes)), parts, strict=True):
        if part:
            found[(level, index)] = bytes(part)
    return found


def _proof_from(nodes: dict[tuple[int, int], bytes], ranges: list[tuple[int, int]]) -> list[bytes]:
    return [merkle.fold_nodes([nodes[pair] for pair in merkle.range_nodes(b, e)]) for b, e in ranges]


def _tile_proof(tile_map: dict[tuple[int, int], bytes], ranges: list[tuple[int, int]]) -> list[bytes]:
    wanted = {pair for b, e in ranges for pair in merkle.range_nodes(b, e)}
    return _proof_from(tiles.node_hashes_from_tiles(wanted, tile_map), ranges)


def test_a_node_maps_to_the_hashes_of_one_tile():
    assert tiles.tile_for_node(0, 300) == (0, 1, 44, 1)
    assert tiles.tile_for_node(3, 40) == (0, 1, 64, 8)
    assert tiles.tile_for_node(8, 1) == (1, 0, 1, 1)
    assert tiles.tile_for_node(15, 2) == (1, 1, 0, 128)
    assert tiles.partial_widths(70_000) == [(0, 273, 112), (1, 1, 17), (2, 0, 1)]


def test_partial_tiles_must_match_the_size():
    with pytest.raises(ValueError, match="partial tiles hold 32 bytes; a tree of 2 needs 64"):
        tiles.split_partials(2, b"\x00" * 32)


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 511, 512, 65_535, 65_536, 65_537, 70_001])
def test_folded_tile_nodes_equal_every_stored_node(size):
    leaves = [hashlib.sha256(b"%d" % i).digest() for i in range(size)]
    tile_map = _tiles_of(leaves)
    nodes = _node_per_row(leaves)
    rng = random.Random(size)
    sample = rng.sample(sorted(nodes), min(len(nodes), 3_000))
    assert tiles.node_hashes_from_tiles(sample, tile_map) == {pair: nodes[pair] for pair in sample}


def test_tile_proofs_equal_node_per_row_proofs_at_sampled_sizes_to_a_million():
    # One pass over a million leaves; proofs checked at sampled sizes against the roots met on
    # the way. The tiles of the final tree serve every smaller size (a partial tile of a
    # smaller tree is a prefix of the bigger tree's tile): that is how the log serves them too.
    total = 1_000_000
    rng = random.Random(1_000_000)
    sizes = sorted({*rng.sample(range(1, total + 1), 40), 65_536, 65_537, 999_999, total})
    leaves = [hashlib.sha256(b"%d" % i).digest() for i in range(total)]
    compact = compact_range.CompactRange()
    builder = tiles.TileBuilder(0, b"")
    roots = {}
    wanted_sizes = set(sizes)
    for h in leaves:
        for level, index, digest in compact.append(h):
            if level % tiles.TILE_HEIGHT == 0:
                builder.add(level, index, digest)
        if compact.size in wanted_sizes:
            roots[compact.size] = compact.root()
    tile_map = {(level, index): blob for level, index, blob in builder.full}
    for (level, index, _), part in zip(
        tiles.partial_widths(total), tiles.split_partials(total, builder.partials()), strict=True
    ):
        tile_map.setdefault((level, index), bytes(part))
    for size in sizes:
        index = rng.randrange(size)
        proof = _tile_proof(tile_map, merkle.inclusion_proof_ranges(index, size))
        merkle.verify_inclusion(index, size, leaves[index], proof, roots[size])
        older = rng.choice([s for s in sizes if s <= size])
        proof = _tile_proof(tile_map, merkle.consistency_proof_ranges(older, size))
        merkle.verify_consistency(older, size, roots[older], roots[size], proof)


def _vector_cases(kind: str) -> list[dict]:
    cases = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((VECTORS / kind).rglob("*.json"))]
    return [case for case in cases if not case["wantErr"]]


def test_tile_proofs_reproduce_every_shared_vector_over_the_reference_tree():
    leaves = [merkle.leaf_hash(leaf) for leaf in REFERENCE_LEAVES]
    b64 = base64.b64decode
    matched = 0
    for case in _vector_cases("inclusion"):
        index, size = case["leafIdx"], case["treeSize"]
        if (
            size > len(leaves)
            or b64(case["leafHash"]) != leaves[index]
            or b64(case["root"]) != merkle.root(leaves[:size])
        ):
            continue
        tile_map = _tiles_of(leaves[:size])
        assert _tile_proof(tile_map, merkle.inclusion_proof_ranges(index, size)) == [
            b64(p) for p in case["proof"] or []
        ]
        matched += 1
    for case in _vector_cases("consistency"):
        size1, size2 = case["size1"], case["size2"]
        if size2 > len(leaves) or b64(case["root2"]) != merkle.root(leaves[:size2]) or not size1:
            continue
        tile_map = _tiles_of(leaves[:size2])
        expected = [b64(p) for p in case["proof"] or []]
        assert _tile_proof(tile_map, merkle.consistency_proof_ranges(size1, size2)) == expected
        matched += 1
    assert matched >= 10, f"only {matched} shared vectors are over the reference tree"


@pytest.fixture
def log_of_1000(db) -> list[bytes]:
    fill(1_000)
    services.checkpoint_sign()
    return [bytes(h) for h in Entry.objects.order_by("seq").values_list("leaf_hash", flat=True)]


def test_stored_tiles_give_node_per_row_proofs_for_every_size_up_to_1000(log_of_1000):
    leaves = log_of_1000
    nodes = _node_per_row(leaves)
    assert Tile.objects.count() == 3  # level 0 tiles 0, 1, 2; the rest is partial
    assert len(bytes(TreeState.objects.get().partial_tiles)) == (1_000 % 256 + 3) * 32
    rng = random.Random(1_000)
    for size in range(1, 1_001):
        index = rng.randrange(size)
        ranges = merkle.inclusion_proof_ranges(index, size)
        assert selectors.inclusion_proof(index, size) == _proof_from(nodes, ranges)
        size1 = rng.randrange(size + 1)
        ranges = merkle.consistency_proof_ranges(size1, size)
        assert selectors.consistency_proof(size1, size) == _proof_from(nodes, ranges)


def test_the_fold_memo_answers_by_content_never_by_position():
    rng = random.Random(7)
    tile = bytes(rng.randrange(256) for _ in range(tiles.FULL_TILE_BYTES))
    expected = {count: _node_per_row([tile[i : i + 32] for i in range(0, count * 32, 32)]) for count in (32, 64, 128)}
    for count, nodes in expected.items():
        level = count.bit_length() - 1
        assert tiles.fold_tile(tile, 0, count) == nodes[(level, 0)]
        assert tiles.fold_tile(tile, 0, count) == nodes[(level, 0)]  # from the memo
    # The same position over other hashes (a partial tile that grew, a rebuilt tree) is folded anew.
    other = bytes(32) + tile[32:]
    assert tiles.fold_tile(other, 0, 128) == _node_per_row([other[i : i + 32] for i in range(0, 4096, 32)])[(7, 0)]
    assert tiles.fold_tile(other, 0, 128) != tiles.fold_tile(tile, 0, 128)
