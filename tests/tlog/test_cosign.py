"""tlog-cosignature/v1 (Ed25519): key format, the signed message, tampering, and policies."""

from __future__ import annotations

import base64
import hashlib

import pytest

from model_ledger_verify import checkpoints, notes
from model_ledger_verify.tlog.cosign import (
    CosignatureVerifier,
    Cosigner,
    WitnessPolicy,
    add_signatures,
    cosignatures,
    generate_cosigner_key,
    signed_message,
)

TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def _witness(name: str) -> Cosigner:
    return Cosigner.from_string(generate_cosigner_key(name))


def test_the_key_id_and_verifier_key_follow_the_spec():
    w = _witness("witness.example.com/w1")
    expected = hashlib.sha256(b"witness.example.com/w1\n\x04" + w.public_key).digest()[:4]
    assert w.key_id == expected
    vkey = w.verifier().verifier_key()
    assert vkey.startswith(f"witness.example.com/w1+{expected.hex()}+")
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 4
    assert CosignatureVerifier.from_string(vkey).public_key == w.public_key


def test_the_signed_message_is_header_time_then_the_note_text():
    assert signed_message(TEXT, 1679315147) == b"cosignature/v1\ntime 1679315147\n" + TEXT.encode()


def test_a_cosignature_line_holds_key_id_timestamp_and_signature():
    w = _witness("w.example/1")
    line = w.cosign(TEXT, 1679315147)
    raw = base64.b64decode(line.split(" ")[2])
    assert line.startswith("\u2014 w.example/1 ") and len(raw) == 4 + 8 + 64
    assert raw[:4] == w.key_id and int.from_bytes(raw[4:12], "big") == 1679315147


def test_cosignatures_are_found_among_other_signatures_and_unknown_ones_ignored():
    log = notes.Signer.from_string(notes.generate_signer_key("example.com/behind-the-sofa"))
    w1, w2, stranger = _witness("w.example/1"), _witness("w.example/2"), _witness("w.example/3")
    note = notes.sign_note(TEXT, [log])
    note = add_signatures(note, [w1.cosign(TEXT), stranger.cosign(TEXT), w1.cosign(TEXT)])
    found = cosignatures(note, [w1.verifier(), w2.verifier()])
    assert [c.name for c in found] == ["w.example/1"]
    # The log's own signature is untouched by the added lines.
    checkpoints.open_checkpoint(note, [log.verifier()])


def test_a_cosignature_over_other_text_or_time_does_not_verify():
    w = _witness("w.example/1")
    note = TEXT + "\n" + w.cosign(TEXT.replace("20852163", "20852164"), 5)
    with pytest.raises(notes.NoteError, match="does not verify"):
        cosignatures(note, [w.verifier()])
    line = w.cosign(TEXT, 5)
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[11] ^= 1  # another timestamp
    forged = f"\u2014 w.example/1 {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(notes.NoteError):
        cosignatures(TEXT + "\n" + forged, [w.verifier()])


def test_a_log_signature_key_is_not_a_cosignature_key():
    with pytest.raises(notes.NoteError, match="0x04"):
        CosignatureVerifier.from_string(
            notes.Signer.from_string(notes.generate_signer_key("x.example")).verifier_key()
        )


def test_a_policy_counts_distinct_witnesses():
    w = [_witness(f"w.example/{i}") for i in range(3)]
    policy = WitnessPolicy(2, tuple(x.verifier() for x in w))
    one = TEXT + "\n" + w[0].cosign(TEXT) + w[0].cosign(TEXT, 7)
    with pytest.raises(notes.NoteError, match="policy needs 2"):
        policy.check(one)
    assert len(policy.check(one + w[2].cosign(TEXT))) == 2
    with pytest.raises(notes.NoteError):
        WitnessPolicy(4, policy.witnesses)
