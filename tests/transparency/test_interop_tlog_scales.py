"""Interoperability with tlog-scales, an independent Python implementation of C2SP tlog-tiles,
signed notes and Ed25519 cosignatures (PyPI ``tlog-scales``, written outside this project).

Both directions: tlog-scales reads our published tiles, verifies our log signature and our
witnesses' cosignatures, and computes the same roots, proofs and entries; and our verifier
audits a log that tlog-scales wrote.
"""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command

from ledger import selectors, services
from ledger.models import Cosignature, Entry
from model_ledger_verify import notes
from model_ledger_verify.client.cli import main as ledgerctl
from model_ledger_verify.tlog.cosign import Cosigner, cosignatures, generate_cosigner_key
from tests.ledger.helpers import fill

backend = pytest.importorskip("tlog_scales.backend")
reader_module = pytest.importorskip("tlog_scales.reader")
signing = pytest.importorskip("tlog_scales.signing")
writer_module = pytest.importorskip("tlog_scales.writer")

SIZE = 700


@pytest.fixture
def published(db, tmp_path, signing_key_file):
    fill(SIZE)
    checkpoint = services.checkpoint_sign()
    witness = Cosigner.from_string(generate_cosigner_key("witness.test/w1"))
    line = witness.cosign(checkpoint.note.split("\n\n")[0] + "\n")
    [cosig] = cosignatures(checkpoint.note + line, [witness.verifier()])
    Cosignature.objects.create(
        checkpoint=checkpoint,
        witness=cosig.name,
        key_id=cosig.key_id.hex(),
        timestamp=cosig.timestamp,
        line=cosig.line,
        received_at=checkpoint.signed_at,
    )
    call_command("publish_tiles", str(tmp_path / "tiles"), "--entries")
    log = notes.Signer.from_string(signing_key_file.read_text())
    return tmp_path / "tiles", log, witness, checkpoint


def test_tlog_scales_reads_our_tiles_and_verifies_our_signatures(published):
    directory, log, witness, checkpoint = published
    reader = reader_module.TilesReader(backend.LocalBackend(directory))
    theirs = reader.get_checkpoint()
    assert (theirs.origin, theirs.size, theirs.root_hash) == ("test.example/ledger", SIZE, bytes(checkpoint.root))

    # Our log key (signed-note Ed25519, type 0x01) and our witness key (cosignature/v1, 0x04).
    theirs.verify(signing.Vkey.from_string(log.verifier_key()))
    witness_vkey = signing.Vkey.from_string(witness.verifier().verifier_key())
    assert isinstance(witness_vkey.get_verifier(), signing.Ed25519CosignatureVerifier)
    assert {v.name for v, _ in signing.VkeySet(witness_vkey).verify(theirs.signatures, theirs)} == {"witness.test/w1"}

    assert reader.calculate_root_hash() == bytes(checkpoint.root)
    leaves = dict(Entry.objects.values_list("seq", "leaf"))
    rng = random.Random(6962)
    for _ in range(40):
        size = rng.randrange(1, SIZE + 1)
        index = rng.randrange(size)
        proof = reader.get_inclusion_proof(index, size)
        assert proof.node_hashes == selectors.inclusion_proof(index, size)
        assert reader.get_entry(index) == bytes(leaves[index])
        old = rng.randrange(size + 1)
        assert reader.get_consistency_proof(old, size).node_hashes == selectors.consistency_proof(old, size)
    reader.get_consistency_proof(123, SIZE).check(selectors.root_at(123), bytes(checkpoint.root))


def test_our_verifier_audits_a_log_that_tlog_scales_wrote(tmp_path, capsys):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    signer = signing.PlainEd25519Signer("other.example/log", key)
    writer = writer_module.TilesWriter.create(tmp_path / "log", "other.example/log")
    for batch in (300, 1, 260):
        for n in range(batch):
            writer.add_leaf(f"their leaf {writer.size + n}".encode())
        writer.commit([signer])
    vkey = signer.vkey.serialize()
    state = tmp_path / "state.json"
    args = ["monitor-log", "--tiles", str(tmp_path / "log"), "--key", vkey, "--state", str(state)]
    assert ledgerctl(args) == 0
    assert "other.example/log at size 561" in capsys.readouterr().out
    # A leaf rewritten in their tiles is caught.
    bundle = tmp_path / "log/tile/entries/000"
    bundle.write_bytes(bundle.read_bytes().replace(b"their leaf 7", b"their leaf X"))
    assert ledgerctl(["verify", "--tiles", str(tmp_path / "log"), "--key", vkey]) == 1
    assert "does not hash to its level 0 tile hash" in capsys.readouterr().err
