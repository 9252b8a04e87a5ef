"""The tlog-tiles read API: paths, shapes, headers, access, and proofs from tiles equal the API's."""

from __future__ import annotations

import random

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from ledger import selectors, services
from ledger.models import Entry
from model_ledger_verify import checkpoints, merkle, notes
from model_ledger_verify.tlog.reader import TileReader
from model_ledger_verify.tlog.tiles import decode_bundle
from tests.ledger.helpers import fill

SIZE = 1000


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def auditor(db) -> User:
    user = User.objects.create_user("alice")
    user.user_permissions.add(Permission.objects.get(codename="view_entry"))
    return user


@pytest.fixture
def log(db):
    fill(SIZE)
    services.checkpoint_sign()


def _fetcher(client: APIClient, calls: list[str] | None = None):
    cache: dict[str, bytes] = {}

    def fetch(path: str) -> bytes:
        if path not in cache:
            response = client.get(f"/tlog/{path}")
            assert response.status_code == 200, (path, response.content[:200])
            cache[path] = response.content
            if calls is not None:
                calls.append(path)
        return cache[path]

    return fetch


def test_the_checkpoint_is_the_signed_note_and_short_lived(client, log, signing_key_file):
    response = client.get("/tlog/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=5"
    verifier = notes.Signer.from_string(signing_key_file.read_text()).verifier()
    checkpoint = checkpoints.open_checkpoint(response.content, [verifier], origin="test.example/ledger")
    assert checkpoint.size == SIZE


def test_it_answers_404_json_before_any_checkpoint(client, db):
    response = client.get("/tlog/checkpoint")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_full_and_partial_tiles_have_the_spec_shapes_and_cache_headers(client, log):
    hashes = [bytes(h) for h in Entry.objects.order_by("seq").values_list("leaf_hash", flat=True)]
    full = client.get("/tlog/tile/0/001")
    assert full.status_code == 200 and full["Content-Type"] == "application/octet-stream"
    assert full["Cache-Control"] == "public, max-age=31536000, immutable"
    assert full.content == b"".join(hashes[256:512])
    # 1000 = 3·256 + 232: level 0 ends in a partial tile of 232 hashes, and level 1 has three,
    # each the root of a full level 0 tile.
    partial = client.get("/tlog/tile/0/003.p/232")
    assert partial.content == b"".join(hashes[768:1000])
    assert client.get("/tlog/tile/0/003.p/10").content == b"".join(hashes[768:778])
    level1 = client.get("/tlog/tile/1/000.p/3").content
    assert level1 == b"".join(merkle.root(hashes[i * 256 : (i + 1) * 256]) for i in range(3))


@pytest.mark.parametrize(
    "path",
    ["0/003", "0/003.p/233", "0/004.p/1", "1/000", "2/000.p/1", "0/3", "00/000", "0/000.p/0", "0/x000/000", "99/000"],
)
def test_tiles_beyond_the_checkpoint_or_badly_encoded_are_404(client, log, path):
    response = client.get(f"/tlog/tile/{path}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_entry_bundles_need_ledger_access_unless_entries_are_public(client, log, auditor, settings):
    assert client.get("/tlog/tile/entries/000").status_code == 401
    client.force_authenticate(User.objects.create_user("charlie"))
    assert client.get("/tlog/tile/entries/000").status_code == 403
    client.force_authenticate(auditor)
    response = client.get("/tlog/tile/entries/003.p/232")
    assert response.status_code == 200 and response["Cache-Control"].startswith("private")
    leaves = [
        bytes(leaf) for leaf in Entry.objects.filter(seq__gte=768).order_by("seq").values_list("leaf", flat=True)
    ]
    assert decode_bundle(response.content, 232) == leaves
    settings.LEDGER_PUBLIC_ENTRIES = True
    client.force_authenticate(None)
    assert client.get("/tlog/tile/entries/000").status_code == 200


def test_tiles_only_go_as_far_as_the_signed_checkpoint(client, log):
    fill(100, start=SIZE)
    assert client.get("/tlog/tile/0/003").status_code == 404
    services.checkpoint_sign()
    assert client.get("/tlog/tile/0/003").status_code == 200


def test_roots_and_proofs_from_tiles_equal_the_apis_for_every_size_up_to_1000(client, log):
    fetch = _fetcher(client)
    rng = random.Random(16)
    for size in range(SIZE + 1):
        reader = TileReader(fetch, size)
        assert reader.root() == selectors.root_at(size)
        if size == 0:
            continue
        # One inclusion and one consistency proof at every size, the edge cases at every 37th.
        indexes = {rng.randrange(size)} | ({0, size - 1} if size % 37 == 0 else set())
        for index in indexes:
            assert reader.inclusion_proof(index) == selectors.inclusion_proof(index, size)
        sizes1 = {rng.randrange(size + 1)} | ({0, 1, size // 2, size - 1} if size % 37 == 0 else set())
        for size1 in sizes1:
            assert reader.consistency_proof(size1) == selectors.consistency_proof(size1, size)


def test_a_proof_from_tiles_fetches_only_a_few_tiles(client, log):
    calls: list[str] = []
    reader = TileReader(_fetcher(client, calls), SIZE)
    reader.inclusion_proof(517)
    assert len(calls) <= 3


def test_publish_tiles_writes_what_the_api_serves(client, log, auditor, tmp_path):
    call_command("publish_tiles", str(tmp_path), "--entries")
    client.force_authenticate(auditor)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert "checkpoint" in files and "tile/0/003.p/232" in files and "tile/entries/000" in files
    for name in files:
        assert (tmp_path / name).read_bytes() == client.get(f"/tlog/{name}").content
    reader = TileReader(lambda path: (tmp_path / path).read_bytes(), SIZE)
    assert reader.root() == selectors.root_at(SIZE)
    # A second run rewrites only what can change: the partial tiles and the checkpoint.
    mtime = (tmp_path / "tile/0/000").stat().st_mtime_ns
    call_command("publish_tiles", str(tmp_path))
    assert (tmp_path / "tile/0/000").stat().st_mtime_ns == mtime


def test_publish_tiles_leaves_out_the_entries_unless_asked(log, tmp_path):
    call_command("publish_tiles", str(tmp_path))
    assert not (tmp_path / "tile/entries").exists() and (tmp_path / "tile/0/000").is_file()


def test_publish_tiles_names_a_destination_it_cannot_write_without_a_traceback(log, tmp_path):
    occupied = tmp_path / "a-file"
    occupied.write_text("not a directory")
    with pytest.raises(CommandError, match=r"cannot write the tiles to .*a-file"):
        call_command("publish_tiles", str(occupied))
    with pytest.raises(CommandError, match="no storage named 'nope'"):
        call_command("publish_tiles", "storage:nope")
