"""The database itself refuses to change or remove ledger rows."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ledger import services
from ledger.models import Checkpoint, Cosignature, Entry, Tile
from tests.ledger.helpers import fill


@pytest.fixture
def log(db):
    fill(4)
    services.checkpoint_sign()


@pytest.fixture
def cosigned(log):
    checkpoint = Checkpoint.objects.get()
    # A witness's cosignature, as the witness client stores it (the line's bytes do not matter here).
    Cosignature.objects.create(
        checkpoint=checkpoint,
        witness="w.example/1",
        key_id="0a0b0c0d",
        timestamp=1,
        line="— w.example/1 AAAA\n",
        received_at=timezone.now(),
    )


def _refused(action) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        action()


def test_it_refuses_to_update_an_entry(log):
    _refused(lambda: Entry.objects.filter(seq=1).update(leaf=b"{}"))


def test_it_refuses_to_delete_an_entry(log):
    _refused(lambda: Entry.objects.filter(seq=3).delete())


@pytest.fixture
def tiled_log(db):
    fill(256)  # exactly one full tile


def test_it_refuses_to_update_a_tile(tiled_log):
    assert Tile.objects.count() == 1
    _refused(lambda: Tile.objects.update(hashes=b"\x00" * 8192))


def test_it_refuses_to_delete_a_tile(tiled_log):
    _refused(lambda: Tile.objects.all().delete())


def test_it_refuses_to_update_a_checkpoint(log):
    _refused(lambda: Checkpoint.objects.update(note="forged"))


def test_it_refuses_to_delete_a_checkpoint(log):
    _refused(lambda: Checkpoint.objects.all().delete())


def test_it_refuses_to_update_a_cosignature(cosigned):
    _refused(lambda: Cosignature.objects.update(line="— w.example/1 forged\n"))


def test_it_refuses_to_delete_a_cosignature(cosigned):
    _refused(lambda: Cosignature.objects.all().delete())


def test_entries_survive_every_refused_change(log):
    before = list(Entry.objects.values_list("seq", "leaf"))
    for action in (lambda: Entry.objects.update(leaf=b"x"), lambda: Entry.objects.all().delete()):
        with pytest.raises(DatabaseError), transaction.atomic():
            action()
    assert list(Entry.objects.values_list("seq", "leaf")) == before


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["ledger_entry", "ledger_tile", "ledger_checkpoint", "ledger_cosignature"])
def test_it_refuses_to_truncate_a_ledger_table(cosigned, table):
    def truncate() -> None:
        with connection.cursor() as cursor:
            # Fire the deferred foreign-key checks of this test's inserts first, so the refusal
            # seen is the trigger's and not PostgreSQL's "pending trigger events".
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {table} CASCADE")

    _refused(truncate)
