"""Tiles and proofs from tiles equal the API's proofs at sampled sizes up to a million leaves.

The tree is built cheaply: a million leaf hashes go straight through the sequencer's own tile
builder (`ledger.tiles.TileBuilder` fed by the compact range) into the tile rows and the tree
state, as the sequencer stores them, without a million leaves through the write path. Then a
checkpoint is signed for it and, at each sampled size, a monitor reading only `/tlog/` tiles
computes the root and proofs that must equal the proof API's, and an independent root.

Slow (about 10 s on two cores, most of it hashing a million leaves in Python): `-m "not slow"`
leaves it out of a quick run.
"""

from __future__ import annotations

import hashlib
import random

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone
from rest_framework.test import APIClient

from ledger import services, tiles
from ledger.models import Tile, TreeState
from model_ledger_verify import compact_range, merkle
from model_ledger_verify.tlog.reader import TileReader

pytestmark = pytest.mark.slow

TOTAL = 1_000_000


@pytest.fixture
def api(db) -> APIClient:
    user = User.objects.create_user("alice")
    user.user_permissions.add(Permission.objects.get(codename="view_entry"))
    client = APIClient()
    client.force_authenticate(user)
    return client


def _build(total: int, sizes: set[int]) -> tuple[bytes, dict[int, bytes]]:
    """Store a tree of ``total`` leaf hashes as the sequencer does; return them and the roots at ``sizes``."""
    blob = b"".join(hashlib.sha256(b"leaf %d" % i).digest() for i in range(total))
    compact = compact_range.CompactRange()
    builder = tiles.TileBuilder(0, b"")
    roots: dict[int, bytes] = {}
    for n in range(total):
        for level, index, digest in compact.append(blob[n * 32 : n * 32 + 32]):
            if level % tiles.TILE_HEIGHT == 0:
                builder.add(level, index, digest)
        if n + 1 in sizes:
            roots[n + 1] = compact.root()
    Tile.objects.bulk_create(
        [Tile(level=level, index=index, hashes=hashes) for level, index, hashes in builder.full], batch_size=1000
    )
    TreeState.objects.update_or_create(
        pk=TreeState.SINGLETON,
        defaults={
            "size": total,
            "frontier": b"".join(compact.hashes),
            "root": compact.root(),
            "partial_tiles": builder.partials(),
            "updated_at": timezone.now(),
        },
    )
    return blob, roots


def _hex(proof: list[bytes]) -> list[str]:
    return [node.hex() for node in proof]


def test_tiles_and_proofs_from_tiles_equal_the_apis_at_sampled_sizes_to_a_million(api):
    rng = random.Random(TOTAL)
    edges = {1, 2, 255, 256, 257, 65_535, 65_536, 65_537, 999_999, TOTAL}
    sizes = sorted(edges | set(rng.sample(range(3, TOTAL), 25)))
    blob, roots = _build(TOTAL, set(sizes))
    checkpoint = services.checkpoint_sign()
    assert (checkpoint.size, bytes(checkpoint.root)) == (TOTAL, roots[TOTAL])

    fetched: dict[str, bytes] = {}

    def fetch(path: str) -> bytes:
        if path not in fetched:
            response = api.get(f"/tlog/{path}")
            assert response.status_code == 200, (path, response.content[:200])
            fetched[path] = response.content
        return fetched[path]

    for size in sizes:
        reader = TileReader(fetch, size)
        assert reader.root() == roots[size], size
        for index in {0, size - 1, rng.randrange(size)}:
            body = api.get(f"/api/v1/ledger/proofs/inclusion?seq={index}&size={size}").json()
            from_tiles = reader.inclusion_proof(index)
            assert _hex(from_tiles) == body["proof"], (index, size)
            assert body["leaf_hash"] == blob[index * 32 : index * 32 + 32].hex()
            merkle.verify_inclusion(index, size, blob[index * 32 : index * 32 + 32], from_tiles, roots[size])
        for older in {1, rng.choice([s for s in sizes if s <= size])}:
            body = api.get(f"/api/v1/ledger/proofs/consistency?size1={older}&size2={size}").json()
            from_tiles = reader.consistency_proof(older)
            assert _hex(from_tiles) == body["proof"], (older, size)
            merkle.verify_consistency(older, size, roots[older], roots[size], from_tiles)
    # Every tile fetched was one of the million-leaf tree's, or a prefix of its partial tiles.
    assert len(fetched) < 400
