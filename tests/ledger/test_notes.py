"""Tests for model_ledger_verify.notes: C2SP signed notes, Ed25519 keys and tlog checkpoints."""

from __future__ import annotations

import base64
import hashlib

import pytest

from model_ledger_verify.checkpoints import Checkpoint, open_checkpoint, sign_checkpoint
from model_ledger_verify.notes import (
    MAX_NOTE_SIZE,
    MAX_SIGNATURES,
    NoteError,
    Signer,
    Verifier,
    generate_signer_key,
    key_id,
    open_note,
    sign_note,
)

# The example key and note from the documentation of Go's golang.org/x/mod/sumdb/note package,
# an independent implementation of the same formats.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

# RFC 8032 §7.1 TEST 1: secret key (seed), public key, and the signature of the empty message.
RFC_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC_EMPTY_SIG = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
    "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)

ROOT = hashlib.sha256(b"root").digest()


@pytest.fixture(scope="module")
def log_signer() -> Signer:
    return Signer("example.com/ledger", bytes(range(32)))


@pytest.fixture(scope="module")
def witness() -> Signer:
    return Signer("witness.example/w1", bytes(range(32, 64)))


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def non_canonical_b64(raw: bytes) -> str:
    """Return base64 of ``raw`` with padding bits set, which decoders often accept silently."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    encoded = b64(raw)
    stripped = encoded.rstrip("=")
    assert len(stripped) < len(encoded), "needs padding to have spare bits"
    last = alphabet[alphabet.index(stripped[-1]) ^ 1]
    return stripped[:-1] + last + encoded[len(stripped) :]


def vkey(name: str, kid: str, raw: bytes) -> str:
    return f"{name}+{kid}+{b64(raw)}"


# -- keys --------------------------------------------------------------------------------------


def test_it_computes_key_ids_as_c2sp_specifies() -> None:
    expected = hashlib.sha256(b"PeterNeumann\n\x01" + RFC_PUBLIC).digest()[:4]
    assert key_id("PeterNeumann", RFC_PUBLIC) == expected
    assert len(expected) == 4


def test_it_derives_the_rfc_8032_key_and_signature_from_a_fixed_seed() -> None:
    signer = Signer("example.com/rfc8032", RFC_SEED)
    assert signer.public_key == RFC_PUBLIC
    assert signer.sign(b"") == RFC_EMPTY_SIG
    assert signer.key_id == key_id("example.com/rfc8032", RFC_PUBLIC)
    expected_vkey = vkey("example.com/rfc8032", signer.key_id.hex(), b"\x01" + RFC_PUBLIC)
    assert signer.verifier_key() == expected_vkey
    assert signer.verifier_key() == ("example.com/rfc8032+c0c5b2a9+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea")


def test_it_reads_and_writes_keys_exactly_like_the_go_note_package() -> None:
    signer = Signer.from_string(GO_SKEY)
    assert signer.name == "PeterNeumann"
    assert signer.key_id == bytes.fromhex("c74f20a3")
    assert signer.verifier_key() == GO_VKEY
    verifier = Verifier.from_string(GO_VKEY)
    assert verifier == signer.verifier()
    assert verifier.verifier_key() == GO_VKEY
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE
    assert open_note(GO_NOTE, [verifier]) == (GO_TEXT, [verifier])


def test_it_generates_signer_keys_that_parse_back() -> None:
    skey = generate_signer_key("example.com/ledger")
    prefix, key, name, kid, encoded = skey.split("+", 4)
    assert (prefix, key, name) == ("PRIVATE", "KEY", "example.com/ledger")
    raw = base64.b64decode(encoded)
    assert raw[0] == 1
    assert len(raw) == 33
    signer = Signer.from_string(skey)
    assert signer.key_id.hex() == kid
    assert generate_signer_key("example.com/ledger") != skey


def test_it_rejects_generating_a_key_with_an_invalid_name() -> None:
    for name in ["", "a+b", "a b", "tab\there", "nl\n", "nbsp\u00a0"]:
        with pytest.raises(NoteError):
            generate_signer_key(name)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("PeterNeumann+c74f20a3", "look like"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "non-empty"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "whitespace"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex"),
        ("PeterNeumann+c74f20ag+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex"),
        ("PeterNeumann+c74f_0a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 hex"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW==", "base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T!", "base64"),
        ("PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "algorithm"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy1w==", "32-byte"),
        ("Peter+Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "hex"),
    ],
)
def test_it_rejects_malformed_verifier_keys(key: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        Verifier.from_string(key)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "PRIVATE"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "match"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "alg"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF", "base64"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXH", "32-byte"),
        ("PRIVATE+KEY+Peter+Neumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "hex"),
        ("PRIVATE+KEY+PeterNeumann", "look like"),
    ],
)
def test_it_rejects_malformed_signer_keys(key: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        Signer.from_string(key)


def test_it_rejects_seeds_and_public_keys_of_the_wrong_size() -> None:
    with pytest.raises(NoteError):
        Signer("example.com/x", b"\x00" * 31)
    with pytest.raises(NoteError):
        Verifier("example.com/x", b"\x00" * 33)
    with pytest.raises(NoteError):
        key_id("example.com/x", b"\x00" * 31)


def test_it_tolerates_surrounding_whitespace_in_key_strings() -> None:
    assert Signer.from_string(GO_SKEY + "\n").verifier_key() == GO_VKEY
    assert Verifier.from_string(f"  {GO_VKEY}\n").verifier_key() == GO_VKEY


def test_it_verifies_raw_signatures(log_signer: Signer) -> None:
    verifier = log_signer.verifier()
    signature = log_signer.sign(b"message")
    assert verifier.verify(b"message", signature)
    assert not verifier.verify(b"messagf", signature)
    assert not verifier.verify(b"message", signature[:-1])
    assert not verifier.verify(b"message", bytes(64))


# -- signed notes ------------------------------------------------------------------------------


def test_it_round_trips_a_signed_note(log_signer: Signer) -> None:
    note = sign_note("hello\nworld\n", [log_signer])
    assert note.startswith("hello\nworld\n\n\u2014 example.com/ledger ")
    assert note.endswith("\n")
    assert open_note(note, [log_signer.verifier()]) == ("hello\nworld\n", [log_signer.verifier()])
    assert open_note(note.encode(), [log_signer.verifier()])[0] == "hello\nworld\n"


def test_it_puts_the_key_id_before_the_signature(log_signer: Signer) -> None:
    note = sign_note("text\n", [log_signer])
    raw = base64.b64decode(note.rsplit(" ", 1)[1])
    assert raw[:4] == log_signer.key_id
    assert raw[4:] == log_signer.sign(b"text\n")


def test_it_allows_empty_lines_inside_the_text(log_signer: Signer) -> None:
    text = "first\n\nthird\n"
    note = sign_note(text, [log_signer])
    assert open_note(note, [log_signer.verifier()])[0] == text


def test_it_rejects_tampered_text(log_signer: Signer) -> None:
    note = sign_note("size 10\n", [log_signer])
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(note.replace("10", "11"), [log_signer.verifier()])


def test_it_rejects_a_tampered_signature(log_signer: Signer) -> None:
    note = sign_note("text\n", [log_signer])
    head, encoded = note[:-1].rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[10] ^= 1
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(f"{head} {b64(bytes(raw))}\n", [log_signer.verifier()])


def test_it_rejects_a_note_signed_only_by_an_unknown_key(log_signer: Signer, witness: Signer) -> None:
    note = sign_note("text\n", [witness])
    with pytest.raises(NoteError, match="no valid signature by a known key"):
        open_note(note, [log_signer.verifier()])
    with pytest.raises(NoteError, match="no valid signature by a known key"):
        open_note(note, [])


def test_it_rejects_a_signature_by_another_key_with_the_same_name(log_signer: Signer) -> None:
    impostor = Signer(log_signer.name, bytes(32))
    note = sign_note("text\n", [impostor])
    with pytest.raises(NoteError, match="no valid signature"):
        open_note(note, [log_signer.verifier()])


def test_it_ignores_unknown_signatures_next_to_a_valid_one(log_signer: Signer, witness: Signer) -> None:
    note = sign_note("text\n", [witness, log_signer])
    assert open_note(note, [log_signer.verifier()]) == ("text\n", [log_signer.verifier()])
    both = open_note(note, [log_signer.verifier(), witness.verifier()])[1]
    assert both == [witness.verifier(), log_signer.verifier()]


def test_it_ignores_unknown_signatures_that_would_not_verify(log_signer: Signer) -> None:
    forged = f"\u2014 someone.else {b64(bytes(68))}\n"
    note = sign_note("text\n", [log_signer]) + forged
    assert open_note(note, [log_signer.verifier()])[1] == [log_signer.verifier()]


def test_it_rejects_a_known_key_whose_signature_fails_even_beside_a_good_one(
    log_signer: Signer, witness: Signer
) -> None:
    good = sign_note("text\n", [log_signer])
    bad_line = f"\u2014 {witness.name} {b64(witness.key_id + bytes(64))}\n"
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(good + bad_line, [log_signer.verifier(), witness.verifier()])


def test_it_checks_a_repeated_signature_by_one_key_once(log_signer: Signer) -> None:
    note = sign_note("text\n", [log_signer])
    repeated = note + note.split("\n\n", 1)[1]
    assert open_note(repeated, [log_signer.verifier()])[1] == [log_signer.verifier()]


def test_it_rejects_ambiguous_verifier_lists(log_signer: Signer) -> None:
    # A different key that claims the same name and key id, as a colliding key would.
    twin = Signer(log_signer.name, bytes(32)).verifier()
    twin.key_id = log_signer.key_id
    note = sign_note("text\n", [log_signer])
    with pytest.raises(NoteError, match="share"):
        open_note(note, [log_signer.verifier(), twin])
    assert open_note(note, [log_signer.verifier(), log_signer.verifier()])[0] == "text\n"


@pytest.mark.parametrize(
    "block",
    [
        "- example.com/ledger AAAA\n",
        "\u2014example.com/ledger AAAAAAA=\n",
        "\u2014 example.com/ledger\n",
        "\u2014 example.com/ledger \n",
        "\u2014  example.com/ledger AAAAAAA=\n",
        "\u2014 example.com/ledger AAAAAAA\n",
        "\u2014 example.com/ledger AAAAAA==\n",
        "\u2014 example.com/ledger AAAAAAA= extra\n",
        "\u2014 example+com AAAAAAA=\n",
        "\u2014 example.com/ledger AAAAAAA=\n\n",
        "\u2014 example.com/ledger AAAAAAA=",
    ],
)
def test_it_rejects_malformed_signature_lines(log_signer: Signer, block: str) -> None:
    good = sign_note("text\n", [log_signer])
    with pytest.raises(NoteError):
        open_note(good + block, [log_signer.verifier()])


def test_it_rejects_non_canonical_base64_in_signature_lines(log_signer: Signer) -> None:
    note = sign_note("text\n", [log_signer])
    head, encoded = note[:-1].rsplit(" ", 1)
    sloppy = non_canonical_b64(base64.b64decode(encoded))
    assert base64.b64decode(sloppy) == base64.b64decode(encoded)
    with pytest.raises(NoteError, match="canonical"):
        open_note(f"{head} {sloppy}\n", [log_signer.verifier()])


def test_it_rejects_notes_without_a_signature_block(log_signer: Signer) -> None:
    for note in ["text\n", "text\n\n", "", "text"]:
        with pytest.raises(NoteError):
            open_note(note, [log_signer.verifier()])


def test_it_rejects_control_characters_and_invalid_encodings(log_signer: Signer) -> None:
    good = sign_note("text\n", [log_signer])
    with pytest.raises(NoteError, match="control"):
        open_note(good.replace("text", "te\rxt"), [log_signer.verifier()])
    with pytest.raises(NoteError, match="UTF-8"):
        open_note(b"\xff" + good.encode(), [log_signer.verifier()])
    with pytest.raises(NoteError, match="Unicode"):
        open_note("\ud800" + good, [log_signer.verifier()])


def test_it_rejects_notes_over_one_mebibyte(log_signer: Signer) -> None:
    text = "x" * 100 + "\n"
    note = sign_note(text, [log_signer])
    padding = ("y" * 1023 + "\n") * (MAX_NOTE_SIZE // 1024)
    with pytest.raises(NoteError, match="larger"):
        open_note(padding + note, [log_signer.verifier()])
    with pytest.raises(NoteError, match="larger"):
        open_note((padding + note).encode(), [log_signer.verifier()])


def test_it_rejects_notes_with_too_many_signatures(log_signer: Signer) -> None:
    note = sign_note("text\n", [log_signer])
    extra = f"\u2014 someone.else {b64(bytes(68))}\n" * MAX_SIGNATURES
    with pytest.raises(NoteError, match="more than"):
        open_note(note + extra, [log_signer.verifier()])


@pytest.mark.parametrize("text", ["", "no newline", "bell\x07\n", "cr\r\n", "bad \ud800\n"])
def test_it_refuses_to_sign_invalid_text(log_signer: Signer, text: str) -> None:
    with pytest.raises(NoteError):
        sign_note(text, [log_signer])


def test_it_refuses_to_sign_without_signers() -> None:
    with pytest.raises(NoteError):
        sign_note("text\n", [])


# -- checkpoints -------------------------------------------------------------------------------


def test_it_formats_checkpoints_as_c2sp_specifies() -> None:
    cp = Checkpoint("example.com/ledger", 20852163, ROOT)
    assert cp.to_text() == f"example.com/ledger\n20852163\n{b64(ROOT)}\n"
    with_ext = Checkpoint("example.com/ledger", 0, ROOT, ("ext one", "ext two"))
    assert with_ext.to_text().endswith(f"{b64(ROOT)}\next one\next two\n")
    assert Checkpoint.parse(with_ext.to_text()) == with_ext


def test_it_round_trips_a_signed_checkpoint(log_signer: Signer, witness: Signer) -> None:
    cp = Checkpoint("example.com/ledger", 42, ROOT)
    note = sign_checkpoint(cp, log_signer)
    assert open_checkpoint(note, [log_signer.verifier()]) == cp
    assert open_checkpoint(note, [witness.verifier(), log_signer.verifier()], "example.com/ledger")


def test_it_rejects_a_checkpoint_from_another_origin(log_signer: Signer) -> None:
    note = sign_checkpoint(Checkpoint("example.com/other", 1, ROOT), log_signer)
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(note, [log_signer.verifier()], origin="example.com/ledger")


def test_it_rejects_a_signed_note_that_is_not_a_checkpoint(log_signer: Signer) -> None:
    note = sign_note("example.com/ledger\n42\n", [log_signer])
    with pytest.raises(NoteError):
        open_checkpoint(note, [log_signer.verifier()])


def test_it_rejects_a_checkpoint_signed_by_an_unknown_key(log_signer: Signer, witness: Signer) -> None:
    note = sign_checkpoint(Checkpoint("example.com/ledger", 1, ROOT), witness)
    with pytest.raises(NoteError):
        open_checkpoint(note, [log_signer.verifier()])


@pytest.mark.parametrize(
    "text",
    [
        f"example.com/ledger\n42\n{b64(ROOT)}",
        f"example.com/ledger\n42\n{b64(ROOT)}\n\n",
        f"example.com/ledger\n42\n{b64(ROOT)}\n\nafter blank\n",
        f"\n42\n{b64(ROOT)}\n",
        "example.com/ledger\n42\n",
        f"example.com/ledger\n042\n{b64(ROOT)}\n",
        f"example.com/ledger\n00\n{b64(ROOT)}\n",
        f"example.com/ledger\n-1\n{b64(ROOT)}\n",
        f"example.com/ledger\n+1\n{b64(ROOT)}\n",
        f"example.com/ledger\n 1\n{b64(ROOT)}\n",
        f"example.com/ledger\n1_000\n{b64(ROOT)}\n",
        f"example.com/ledger\n\u0661\n{b64(ROOT)}\n",
        f"example.com/ledger\n{2**64}\n{b64(ROOT)}\n",
        f"example.com/ledger\n\n{b64(ROOT)}\n",
        f"example.com/ledger\n42\n{b64(ROOT[:31])}\n",
        f"example.com/ledger\n42\n{b64(ROOT + b'x')}\n",
        f"example.com/ledger\n42\n{b64(ROOT).rstrip('=')}\n",
        f"example.com/ledger\n42\n{ROOT.hex()}\n",
        "example.com/ledger\n42\n\n",
        f"example.com/ledger\n42\n{non_canonical_b64(ROOT)}\n",
        f"exa\tmple\n42\n{b64(ROOT)}\n",
    ],
)
def test_it_rejects_malformed_checkpoint_text(text: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(text)


def test_it_accepts_the_largest_and_smallest_sizes() -> None:
    assert Checkpoint.parse(f"o\n0\n{b64(ROOT)}\n").size == 0
    assert Checkpoint.parse(f"o\n{2**64 - 1}\n{b64(ROOT)}\n").size == 2**64 - 1


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 1, ROOT, ()),
        ("two\nlines", 1, ROOT, ()),
        ("example.com/ledger", -1, ROOT, ()),
        ("example.com/ledger", True, ROOT, ()),
        ("example.com/ledger", 1, ROOT[:16], ()),
        ("example.com/ledger", 1, ROOT, ("",)),
        ("example.com/ledger", 1, ROOT, ("a\nb",)),
    ],
    ids=[
        "empty-origin",
        "two-line-origin",
        "negative-size",
        "bool-size",
        "short-root",
        "empty-extension",
        "two-line-extension",
    ],
)
def test_it_rejects_invalid_checkpoint_fields(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    with pytest.raises(NoteError):
        Checkpoint(origin, size, root, extensions)


def test_it_normalises_root_and_extension_types() -> None:
    cp = Checkpoint("o", 1, memoryview(ROOT), ["ext"])  # type: ignore[arg-type]
    assert isinstance(cp.root, bytes)
    assert cp.extensions == ("ext",)
    assert cp == Checkpoint("o", 1, ROOT, ("ext",))
