from __future__ import annotations

import json

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ledger import services
from ledger.errors import EventRejected, SigningRefused
from ledger.models import Checkpoint, Entry, SigningKey, Submission, Tile, TreeState
from model_ledger_verify import canonical, checkpoints, leaf, merkle, notes
from tests.ledger.helpers import event, fill


def test_it_sequences_submissions_from_zero(db):
    services.submit(**event(0))
    services.submit(**event(1))
    assert Entry.objects.count() == 0
    assert services.tree_integrate() == 2
    leaves = [json.loads(bytes(e.leaf)) for e in Entry.objects.order_by("seq")]
    assert [leaf["seq"] for leaf in leaves] == [0, 1]
    assert leaves[0]["type"] == "model.registered"
    assert leaves[0]["origin"] == "test.example/ledger"
    assert leaves[0]["v"] == 1
    assert leaves[0]["ts"].endswith("Z")
    assert not Submission.objects.exists()


def test_it_stores_leaf_bytes_exactly_as_hashed_and_canonical(db):
    fill(5)
    for entry in Entry.objects.all():
        leaf = bytes(entry.leaf)
        assert bytes(entry.leaf_hash) == merkle.leaf_hash(leaf)
        assert canonical.dumps(canonical.loads(leaf)) == leaf


def test_it_returns_the_original_entry_for_a_retried_key(db):
    services.submit(**event(7))
    services.tree_integrate()
    again = services.submit(**event(7))
    assert again.created is False
    assert again.entry is not None and again.entry.seq == 0
    assert not Submission.objects.exists()


def test_a_key_retried_while_queued_writes_nothing_new(db):
    assert services.submit(**event(3)).created
    assert not services.submit(**event(3)).created
    assert Submission.objects.count() == 1
    services.tree_integrate()
    assert Entry.objects.count() == 1


def test_the_sequencer_skips_a_key_already_in_the_log(db):
    # A retry that raced past the idempotency check must not become a second entry.
    services.submit(**event(1))
    services.tree_integrate()
    Submission.objects.create(
        idempotency_key="ev-1",
        type="model.registered",
        actor="a",
        subject="s",
        data=b"{}",
        submitted_at=timezone.now(),
    )
    assert services.tree_integrate() == 0
    assert Entry.objects.count() == 1
    assert not Submission.objects.exists()


def test_it_refuses_an_event_over_64_kib(db):
    with pytest.raises(EventRejected, match="limit is 65536 bytes"):
        services.submit(**{**event(0), "data": {"blob": "x" * 65_536}})
    assert not Submission.objects.exists()


def test_it_refuses_a_float_anywhere(db):
    with pytest.raises(EventRejected, match=r"float at metrics\.auc"):
        services.submit(**{**event(0), "data": {"metrics": {"auc": 0.91}}})
    assert not Submission.objects.exists()


def test_it_refuses_text_that_is_not_valid_unicode(db):
    with pytest.raises(EventRejected):
        services.submit(**{**event(0), "data": {"name": "bad \udcff byte"}})
    assert not Submission.objects.exists()


def test_it_refuses_an_unknown_envelope_field(db):
    with pytest.raises(EventRejected) as caught:
        services.submit_envelope({**event(0), "sneaky": 1})
    assert caught.value.errors == {"sneaky": ["Unknown field."]}
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", "Model Registered"),
        ("actor", ""),
        ("subject", "a\nb"),
        ("idempotency_key", "has space"),
    ],
)
def test_it_refuses_malformed_envelope_values(db, field, value):
    with pytest.raises(EventRejected) as caught:
        services.submit(**{**event(0), field: value})
    assert field in caught.value.errors


def test_sequence_numbers_stay_contiguous_across_batches(db):
    for n in range(50):
        services.submit(**event(n))
    while services.tree_integrate(batch_size=7):
        pass
    assert list(Entry.objects.values_list("seq", flat=True)) == list(range(50))
    state = TreeState.objects.get()
    hashes = [bytes(h) for h in Entry.objects.values_list("leaf_hash", flat=True)]
    assert state.size == 50
    assert bytes(state.root) == merkle.root(hashes)
    assert Tile.objects.count() == 0
    assert bytes(state.partial_tiles) == b"".join(hashes)  # the partial level-0 tile


@given(
    st.text(min_size=1, max_size=20).filter(lambda s: s.strip() and not any(c in s for c in "\r\n\t\x00")),
    st.integers(min_value=0, max_value=2**40),
)
@hsettings(max_examples=200)
def test_hand_built_leaf_bytes_equal_canonical_json_of_the_leaf(text, seq):
    data = {"k": text, "é": [1, None, True]}
    built = leaf.encode(
        origin="o/" + text,
        seq=seq,
        ts="2026-01-01T00:00:00.000000Z",
        type="x.y",
        actor=text,
        subject=text,
        idempotency_key="k",
        data=canonical.dumps(data),
    )
    expected = canonical.dumps(
        {
            "v": 1,
            "origin": "o/" + text,
            "seq": seq,
            "ts": "2026-01-01T00:00:00.000000Z",
            "type": "x.y",
            "actor": text,
            "subject": text,
            "idempotency_key": "k",
            "data": data,
        }
    )
    assert built == expected


def test_it_signs_the_current_root_as_a_checkpoint(db, signing_key_file):
    fill(10)
    checkpoint = services.checkpoint_sign()
    verifier = notes.Verifier.from_string(
        notes.Signer.from_string(signing_key_file.read_text().strip()).verifier_key()
    )
    body = checkpoints.open_checkpoint(checkpoint.note, [verifier], origin="test.example/ledger")
    assert body.size == 10
    assert body.root == bytes(TreeState.objects.get().root)


def test_it_does_not_sign_a_size_twice(db):
    fill(3)
    first = services.checkpoint_sign()
    assert services.checkpoint_sign().pk == first.pk
    assert Checkpoint.objects.count() == 1


def test_it_signs_only_roots_consistent_with_the_last_checkpoint(db):
    fill(4)
    services.checkpoint_sign()
    fill(4, start=4)
    # Someone rewrites the tree state to a root that does not extend the signed one.
    TreeState.objects.update(root=b"\x01" * 32)
    with pytest.raises(SigningRefused, match="Refusing to sign a fork"):
        services.checkpoint_sign()
    assert Checkpoint.objects.count() == 1


def test_it_refuses_to_sign_when_the_tree_shrank(db):
    fill(4)
    services.checkpoint_sign()
    TreeState.objects.update(size=2)
    with pytest.raises(SigningRefused, match="already signed"):
        services.checkpoint_sign()


def test_a_new_key_rotates_and_keeps_the_old_one(db, settings, tmp_path):
    fill(2)
    old = services.checkpoint_sign()
    new_key = tmp_path / "new.key"
    new_key.write_text(notes.generate_signer_key("test.example/ledger-2026") + "\n")
    settings.LEDGER_SIGNING_KEY_FILE = new_key
    fill(1, start=2)
    new = services.checkpoint_sign()
    assert new.key_id != old.key_id
    keys = list(SigningKey.objects.order_by("valid_from"))
    assert len(keys) == 2
    assert keys[0].valid_until is not None and keys[1].valid_until is None
    services.tree_integrate_all()
    rotated = json.loads(bytes(Entry.objects.order_by("-seq").first().leaf))
    assert rotated["type"] == "key.rotated"
    assert rotated["data"]["current"] == keys[1].verifier_key
