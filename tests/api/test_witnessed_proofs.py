"""Proofs name the witnessed checkpoint they rely on: the latest meeting LEDGER_WITNESS_POLICY,
with its cosigned note and the consistency proof that links it to the proof's tree."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone
from rest_framework.test import APIClient

from ledger import services, witnessing
from ledger.models import Checkpoint, Cosignature
from model_ledger_verify import checkpoints, merkle, notes
from model_ledger_verify.tlog.cosign import Cosigner, WitnessPolicy, cosignatures, generate_cosigner_key
from tests.ledger.helpers import fill


@pytest.fixture
def auditor(db) -> APIClient:
    user = User.objects.create_user("alice")
    user.user_permissions.add(Permission.objects.get(codename="view_entry"))
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def witnesses(settings) -> list[Cosigner]:
    ws = [Cosigner.from_string(generate_cosigner_key(f"w.example/{i}")) for i in (1, 2)]
    settings.LEDGER_WITNESSES = [f"http://127.0.0.1:9/w{i} {w.verifier().verifier_key()}" for i, w in enumerate(ws)]
    settings.LEDGER_WITNESS_POLICY = 1
    return ws


def _cosign(checkpoint: Checkpoint, witness: Cosigner) -> None:
    """Store a cosignature as the witness client does after verifying it."""
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


@pytest.fixture
def log(auditor, witnesses) -> tuple[Checkpoint, Checkpoint]:
    """A checkpoint at 25 cosigned by one witness, and one at 40 that no witness cosigned yet."""
    services.tree_integrate_all()
    fill(25)
    first = services.checkpoint_sign()
    _cosign(first, witnesses[0])
    fill(15, start=25)
    return first, services.checkpoint_sign()


def _log_key(signing_key_file) -> notes.Verifier:
    return notes.Verifier.from_string(notes.Signer.from_string(signing_key_file.read_text().strip()).verifier_key())


def _hashes(hexes: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


def test_an_inclusion_proof_past_the_witnessed_checkpoint_names_it_and_links_it(
    auditor, log, witnesses, signing_key_file
):
    first, second = log
    body = auditor.get(f"/api/v1/ledger/proofs/inclusion?seq=30&size={second.size}").json()
    witnessed = body["witnessed_checkpoint"]
    assert (witnessed["size"], witnessed["root"]) == (first.size, bytes(first.root).hex())
    assert witnessed["witnesses"] == ["w.example/1"] and witnessed["policy"] == 1
    # An auditor who trusts the witnesses: the cosigned note meets the policy, and the tree the
    # proof is about extends it.
    cosigned = checkpoints.open_checkpoint(witnessed["note"], [_log_key(signing_key_file)])
    WitnessPolicy(1, tuple(w.verifier() for w in witnesses)).check(witnessed["note"])
    proven = checkpoints.open_checkpoint(body["checkpoint"], [_log_key(signing_key_file)])
    merkle.verify_consistency(
        first.size, second.size, cosigned.root, proven.root, _hashes(witnessed["consistency_proof"])
    )
    merkle.verify_inclusion(30, second.size, bytes.fromhex(body["leaf_hash"]), _hashes(body["proof"]), proven.root)


def test_an_inclusion_proof_inside_the_witnessed_checkpoint_is_linked_forward_to_it(auditor, log):
    first, _ = log
    body = auditor.get("/api/v1/ledger/proofs/inclusion?seq=3&size=10").json()
    witnessed = body["witnessed_checkpoint"]
    assert witnessed["size"] == first.size
    root10 = merkle.root(
        [bytes.fromhex(auditor.get(f"/api/v1/ledger/entries/{i}").json()["leaf_hash"]) for i in range(10)]
    )
    merkle.verify_consistency(10, first.size, root10, bytes(first.root), _hashes(witnessed["consistency_proof"]))
    at_first = auditor.get(f"/api/v1/ledger/proofs/inclusion?seq=3&size={first.size}").json()
    assert at_first["witnessed_checkpoint"]["consistency_proof"] == []


def test_a_consistency_proof_names_the_witnessed_checkpoint(auditor, log):
    first, second = log
    body = auditor.get(f"/api/v1/ledger/proofs/consistency?size1=10&size2={second.size}").json()
    witnessed = body["witnessed_checkpoint"]
    assert witnessed["size"] == first.size
    merkle.verify_consistency(
        first.size, second.size, bytes(first.root), bytes(second.root), _hashes(witnessed["consistency_proof"])
    )


def test_once_enough_witnesses_cosign_the_newer_checkpoint_it_is_the_one_named(auditor, log, witnesses, settings):
    _, second = log
    _cosign(second, witnesses[1])
    body = auditor.get("/api/v1/ledger/proofs/inclusion?seq=30").json()
    assert body["witnessed_checkpoint"]["size"] == second.size == body["tree_size"]
    assert body["witnessed_checkpoint"]["witnesses"] == ["w.example/2"]
    # A policy of two: only a checkpoint both cosigned would do, and none is.
    settings.LEDGER_WITNESS_POLICY = 2
    assert auditor.get("/api/v1/ledger/proofs/inclusion?seq=30").json()["witnessed_checkpoint"] is None


def test_publish_tiles_publishes_the_witnessed_checkpoint_not_a_newer_one(log, tmp_path):
    from django.core.management import call_command

    first, second = log
    call_command("publish_tiles", str(tmp_path))
    note = (tmp_path / "checkpoint").read_text()
    assert note.split("\n")[1] == str(first.size) and "— w.example/1 " in note
    assert second.size > first.size and not (tmp_path / "tile/0/000.p" / str(second.size)).exists()


@pytest.mark.parametrize("policy", [0, 1, 2])
def test_a_proof_names_the_witnessed_checkpoint_its_own_statement_read_as_witnessed_for_does(
    auditor, log, witnesses, settings, policy
):
    first, second = log
    _cosign(first, witnesses[1])  # two cosignatures on the first, to be listed in order
    settings.LEDGER_WITNESS_POLICY = policy
    for size in (10, first.size, second.size):
        expected = witnessing.witnessed_for(size)
        inclusion = auditor.get(f"/api/v1/ledger/proofs/inclusion?seq=3&size={size}").json()
        consistency = auditor.get(f"/api/v1/ledger/proofs/consistency?size1=2&size2={size}").json()
        assert inclusion["witnessed_checkpoint"] == consistency["witnessed_checkpoint"] == expected
    if policy:
        assert expected["size"] == first.size and expected["witnesses"] == ["w.example/1", "w.example/2"]
        assert expected["note"] == witnessing.cosigned_note(first)
    else:
        assert expected["size"] == second.size and expected["witnesses"] == []
