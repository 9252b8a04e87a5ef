"""Tamper drills on the live database: with the triggers bypassed (as a superuser could),
every change is still caught by `verify_ledger`, which names what is wrong and where."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from ledger import services
from ledger.integrity import IntegrityError, verify_database
from ledger.models import Checkpoint, Cosignature, Entry, SigningKey, Tile
from model_ledger_verify import checkpoints, notes
from tests.ledger.helpers import fill, triggers_bypassed


@pytest.fixture
def log(db):
    fill(40)
    services.checkpoint_sign()
    fill(10, start=40)
    services.checkpoint_sign()


def _sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def test_an_intact_log_verifies(log):
    report = verify_database()
    assert report.entries == 50
    assert report.checkpoints == 2
    assert report.tiles == Tile.objects.count() == 0


def test_verify_ledger_exits_zero_when_intact(log, capsys):
    call_command("verify_ledger")
    assert "Ledger intact: 50 entries" in capsys.readouterr().out


def test_it_detects_one_changed_leaf_byte(log):
    leaf = bytearray(Entry.objects.get(seq=17).leaf)
    leaf[leaf.index(b'"n":17') + 5] ^= 0x01  # 17 becomes 16
    with triggers_bypassed():
        _sql("UPDATE ledger_entry SET leaf = %s WHERE seq = 17", [bytes(leaf)])
    with pytest.raises(IntegrityError, match="seq 17: stored leaf hash does not match"):
        verify_database()


def test_it_detects_a_changed_leaf_with_its_hash_recomputed(log):
    from model_ledger_verify import merkle

    leaf = bytes(Entry.objects.get(seq=5).leaf).replace(b'"n":5', b'"n":6')
    with triggers_bypassed():
        _sql(
            "UPDATE ledger_entry SET leaf = %s, leaf_hash = %s WHERE seq = 5",
            [leaf, merkle.leaf_hash(leaf)],
        )
    with pytest.raises(IntegrityError, match=r"seq 5: the tree state's partial tile 0/0 does not match"):
        verify_database()


def test_it_detects_a_changed_leaf_under_a_full_tile(db):
    from model_ledger_verify import merkle

    fill(300)
    leaf = bytes(Entry.objects.get(seq=5).leaf).replace(b'"n":5', b'"n":6')
    with triggers_bypassed():
        _sql("UPDATE ledger_entry SET leaf = %s, leaf_hash = %s WHERE seq = 5", [leaf, merkle.leaf_hash(leaf)])
    with pytest.raises(IntegrityError, match=r"seq 0\.\.255: stored tile 0/0 does not match"):
        verify_database()


def test_it_detects_a_deleted_row(log):
    with triggers_bypassed():
        _sql("DELETE FROM ledger_entry WHERE seq = 23")
    with pytest.raises(IntegrityError, match="seq 23: missing"):
        verify_database()


def test_it_detects_two_swapped_rows(log):
    a, b = (bytes(Entry.objects.get(seq=s).leaf) for s in (8, 9))
    ha, hb = (bytes(Entry.objects.get(seq=s).leaf_hash) for s in (8, 9))
    with triggers_bypassed():
        swap = "UPDATE ledger_entry SET leaf = %s, leaf_hash = %s, idempotency_key = %s WHERE seq = %s"
        _sql(swap, [b"", b"\x00" * 32, "x", 8])
        _sql(swap, [a, ha, "x9", 9])
        _sql(swap, [b, hb, "x8", 8])
    with pytest.raises(IntegrityError, match="seq 8: leaf says seq 9"):
        verify_database()


def test_it_detects_a_forged_checkpoint(log, tmp_path):
    forger = notes.Signer.from_string(notes.generate_signer_key("test.example/ledger"))
    body = checkpoints.Checkpoint(origin="test.example/ledger", size=45, root=b"\x07" * 32)
    Checkpoint.objects.create(
        size=45,
        root=b"\x07" * 32,
        note=checkpoints.sign_checkpoint(body, forger),
        key=SigningKey.objects.get(),
        signed_at=timezone.now(),
    )
    with pytest.raises(IntegrityError, match="checkpoint at size 45 does not match"):
        verify_database()


def test_it_detects_a_checkpoint_whose_signature_was_replaced(log):
    forger = notes.Signer.from_string(notes.generate_signer_key("test.example/ledger"))
    real = Checkpoint.objects.get(size=40)
    body = checkpoints.Checkpoint(origin="test.example/ledger", size=40, root=bytes(real.root))
    with triggers_bypassed():
        _sql(
            "UPDATE ledger_checkpoint SET note = %s WHERE size = 40",
            [checkpoints.sign_checkpoint(body, forger)],
        )
    with pytest.raises(IntegrityError, match="checkpoint at size 40: signature invalid"):
        verify_database()


def test_it_detects_a_changed_tile(db):
    fill(600)
    tile = bytearray(Tile.objects.get(level=0, index=1).hashes)
    tile[40 * 32] ^= 0x01
    with triggers_bypassed():
        _sql('UPDATE ledger_tile SET hashes = %s WHERE level = 0 AND "index" = 1', [bytes(tile)])
    with pytest.raises(IntegrityError, match=r"seq 256\.\.511: stored tile 0/1 does not match"):
        verify_database()


def test_it_detects_a_changed_partial_tile(log):
    with triggers_bypassed():
        _sql("UPDATE ledger_treestate SET partial_tiles = %s", [b"\x00" * 32 * 50])
    with pytest.raises(IntegrityError, match=r"seq 0: the tree state's partial tile 0/0 does not match"):
        verify_database()


def test_verify_ledger_exits_one_naming_the_first_bad_seq(log, capsys):
    with triggers_bypassed():
        _sql("DELETE FROM ledger_entry WHERE seq = 31")
    with pytest.raises(SystemExit) as exited:
        call_command("verify_ledger")
    assert exited.value.code == 1
    assert "seq 31" in capsys.readouterr().err


@pytest.fixture
def cosigned(log, settings):
    """Both checkpoints cosigned by a configured witness, stored as the witness client stores them."""
    from model_ledger_verify.tlog.cosign import Cosigner, cosignatures, generate_cosigner_key

    witness = Cosigner.from_string(generate_cosigner_key("w.example/1"))
    settings.LEDGER_WITNESSES = [f"http://127.0.0.1:9/witness {witness.verifier().verifier_key()}"]
    for checkpoint in Checkpoint.objects.all():
        text = checkpoint.note.split("\n\n")[0] + "\n"
        [cosig] = cosignatures(text + "\n" + witness.cosign(text), [witness.verifier()])
        Cosignature.objects.create(
            checkpoint=checkpoint,
            witness=cosig.name,
            key_id=cosig.key_id.hex(),
            timestamp=cosig.timestamp,
            line=cosig.line,
            received_at=timezone.now(),
        )
    return witness


def test_stored_cosignatures_are_checked_with_the_configured_witness_key(cosigned, settings, capsys):
    report = verify_database()
    assert (report.cosignatures, report.cosignatures_unchecked) == (2, 0)
    call_command("verify_ledger", "--log-only")
    assert "Witness cosignatures: 2 verified" in capsys.readouterr().out
    # A witness no longer configured: its cosignatures are counted, not checked.
    settings.LEDGER_WITNESSES = []
    report = verify_database()
    assert (report.cosignatures, report.cosignatures_unchecked) == (0, 2)


def test_it_detects_a_cosignature_moved_to_another_checkpoint(cosigned):
    first, second = Checkpoint.objects.order_by("size")
    line = Cosignature.objects.get(checkpoint=second).line
    with triggers_bypassed():
        _sql("UPDATE ledger_cosignature SET line = %s WHERE checkpoint_id = %s", [line, first.pk])
    with pytest.raises(IntegrityError, match=r"checkpoint at size 40: the cosignature by w\.example/1 is invalid"):
        verify_database()


def test_it_detects_a_cosignature_whose_stored_time_was_changed(cosigned):
    with triggers_bypassed():
        _sql("UPDATE ledger_cosignature SET timestamp = timestamp + 1")
    with pytest.raises(IntegrityError, match=r"the cosignature by w\.example/1 is not the one stored"):
        verify_database()
