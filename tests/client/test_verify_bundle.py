"""The offline verifier (model_ledger_verify.bundle) and ``ledgerctl verify`` against synthetic bundles.

Every tamper test changes one thing, the way someone controlling the bundle could, and checks
that the failure names what is wrong and where.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_ledger_verify import canonical, compact_range, merkle
from model_ledger_verify import leaf as leaf_format
from model_ledger_verify.bundle import VerificationError, entries, verify_bundle
from model_ledger_verify.client.cli import main
from tests.client.bundles import (
    ORIGIN,
    Bundle,
    build_bundle,
    checkpoint_line,
    entry_line,
    leaf_bytes,
    leaf_object,
    new_signer,
)

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bundle(tmp_path: Path) -> Bundle:
    return build_bundle(tmp_path / "bundle")


def failure(bundle: Bundle, keys: list[str] | None = None, **kwargs: object) -> str:
    """Verify the bundle, expecting failure; return the message."""
    with pytest.raises(VerificationError) as caught:
        verify_bundle(bundle.path, keys or [bundle.key], **kwargs)  # type: ignore[arg-type]
    return str(caught.value)


# --------------------------------------------------------------------------------------------
# Bundles that verify
# --------------------------------------------------------------------------------------------


def test_it_accepts_an_intact_bundle(bundle: Bundle) -> None:
    report = verify_bundle(bundle.path, [bundle.key])

    assert report.origin == ORIGIN
    assert report.entries == 100
    assert report.checkpoints == 5
    assert report.latest_checkpoint_size == 100
    assert report.latest_checkpoint_root == bundle.root(100)
    assert report.root == bundle.root(100)
    assert report.uncovered_entries == 0
    assert report.trusted_checkpoint_size is None
    assert report.signers == (bundle.signer.name,)
    assert report.elapsed_seconds >= 0


def test_it_reports_entries_not_yet_covered_by_a_checkpoint(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path, size=100, checkpoint_sizes=(1, 64))

    report = verify_bundle(bundle.path, [bundle.key])

    assert report.latest_checkpoint_size == 64
    assert report.uncovered_entries == 36
    assert report.root == bundle.root(100)


def test_it_accepts_an_empty_log(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path, size=0, checkpoint_sizes=(0,))

    report = verify_bundle(bundle.path, [bundle.key])

    assert (report.entries, report.checkpoints) == (0, 1)
    assert report.latest_checkpoint_root == merkle.EMPTY_ROOT


def test_it_accepts_a_bundle_without_checkpoints(tmp_path: Path) -> None:
    bundle = build_bundle(tmp_path, size=10, checkpoint_sizes=())

    report = verify_bundle(bundle.path, [bundle.key])

    assert report.checkpoints == 0
    assert report.latest_checkpoint_size is None
    assert report.uncovered_entries == 10


def test_it_recomputes_the_root_at_every_checkpoint_size(tmp_path: Path) -> None:
    # A checkpoint at every size checks the rebuilt tree against model_ledger_verify.merkle at each one.
    bundle = build_bundle(tmp_path, size=70, checkpoint_sizes=range(71))

    report = verify_bundle(bundle.path, [bundle.key])

    assert report.checkpoints == 71
    assert report.root == bundle.root(70)


def test_it_accepts_a_bundle_signed_by_one_of_several_keys(bundle: Bundle) -> None:
    other = new_signer()

    report = verify_bundle(bundle.path, [other.verifier_key(), bundle.key])

    assert report.signers == (bundle.signer.name,)


def test_it_accepts_duplicate_checkpoints_with_the_same_root(bundle: Bundle) -> None:
    lines = bundle.checkpoint_lines()
    bundle.write_checkpoint_lines([*lines[:3], lines[3], *lines[3:]])

    assert verify_bundle(bundle.path, [bundle.key]).checkpoints == 6


def test_it_accepts_a_last_line_without_a_newline(bundle: Bundle) -> None:
    bundle.entries_file.write_bytes(bundle.entries_file.read_bytes().rstrip(b"\n"))
    bundle.rehash()

    assert verify_bundle(bundle.path, [bundle.key]).entries == 100


def test_it_accepts_an_entry_line_in_another_json_layout(bundle: Bundle) -> None:
    # The exporter's compact layout is not required: any JSON object with the members is fine.
    leaf = bundle.leaves[5]
    row = {"leaf": base64.b64encode(leaf).decode(), "seq": 5}
    row["leaf_hash"] = merkle.leaf_hash(leaf).hex()
    bundle.replace_entry(5, json.dumps(row, indent=1).replace("\n", " ").encode() + b"\n")

    assert verify_bundle(bundle.path, [bundle.key]).entries == 100


def test_it_calls_progress_up_to_the_total(bundle: Bundle) -> None:
    calls: list[tuple[int, int]] = []

    verify_bundle(bundle.path, [bundle.key], progress=lambda done, total: calls.append((done, total)))

    assert calls
    assert calls[-1] == (100, 100)


def test_it_gives_the_same_answer_with_worker_processes(bundle: Bundle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entries, "_BLOCK_BYTES", 4096)  # many blocks, several in flight

    report = verify_bundle(bundle.path, [bundle.key], workers=2)

    assert report.root == bundle.root(100)
    assert report.checkpoints == 5


def test_it_reads_lines_longer_than_its_read_blocks(bundle: Bundle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entries, "_BLOCK_BYTES", 100)  # every line spans several reads

    assert verify_bundle(bundle.path, [bundle.key], workers=1).root == bundle.root(100)


def test_a_worker_refuses_a_block_that_differs_from_what_was_hashed(bundle: Bundle) -> None:
    data = bundle.entries_file.read_bytes()
    good = entries._check_block_in_worker(str(bundle.entries_file), 0, len(data), binascii.crc32(data), 1, ORIGIN)
    bad = entries._check_block_in_worker(str(bundle.entries_file), 0, len(data), binascii.crc32(b"x"), 1, ORIGIN)

    assert good == b"".join(merkle.leaf_hash(leaf) for leaf in bundle.leaves)
    assert isinstance(bad, VerificationError)
    assert str(bad) == "entries.ndjson: the file changed while it was being verified"


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=4))
def test_the_rebuilt_tree_matches_the_compact_range_of_ledger_merkle(batches: list[int]) -> None:
    hashes = [merkle.leaf_hash(b"%d" % i) for i in range(sum(batches))]
    wanted = set(range(len(hashes) + 1))
    tree = entries._Tree(wanted)
    reference = compact_range.CompactRange()
    roots = {0: reference.root()}
    for h in hashes:
        reference.append(h)
        roots[reference.size] = reference.root()

    start = 0
    for n in batches:
        tree.extend(b"".join(hashes[start : start + n]))
        start += n

    assert tree.roots == roots
    assert tree.root() == merkle.root(hashes)


def test_worker_processes_report_the_first_bad_line_in_file_order(
    bundle: Bundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entries, "_BLOCK_BYTES", 4096)
    lines = bundle.entry_lines()
    lines[30] = lines[30].replace(b'"seq":30', b'"seq":31')
    lines[90] = b"not json\n"
    bundle.write_entry_lines(lines)

    message = failure(bundle, workers=2)

    assert message.startswith("entries.ndjson line 31:")
    assert "must hold seq 30" in message


# --------------------------------------------------------------------------------------------
# Entries
# --------------------------------------------------------------------------------------------


def changed_byte(line: bytes) -> bytes:
    """Change one byte inside the leaf (in actor "user:tester-…"/"system") and re-encode it."""
    row = json.loads(line)
    leaf = base64.b64decode(row["leaf"])
    at = leaf.index(b'"actor":"') + len(b'"actor":"')
    tampered = leaf[:at] + bytes([leaf[at] ^ 0x01]) + leaf[at + 1 :]
    row["leaf"] = base64.b64encode(tampered).decode()
    return json.dumps(row, separators=(",", ":")).encode() + b"\n"


def test_it_reports_a_changed_leaf_byte_when_the_manifest_was_rehashed(bundle: Bundle) -> None:
    bundle.replace_entry(42, changed_byte(bundle.entry_lines()[42]))

    message = failure(bundle)

    assert message.startswith("entries.ndjson line 43 (seq 42): leaf_hash")
    assert "does not match the leaf" in message


def test_the_manifest_catches_a_changed_leaf_byte_first(bundle: Bundle) -> None:
    bundle.replace_entry(42, changed_byte(bundle.entry_lines()[42]), rehash=False)

    message = failure(bundle)

    assert message.startswith("manifest.json:")
    assert "SHA-256" in message
    assert "entries.ndjson" in message


def test_it_reports_a_dropped_line(bundle: Bundle) -> None:
    lines = bundle.entry_lines()
    del lines[42]
    bundle.write_entry_lines(lines)

    message = failure(bundle)

    assert message.startswith("entries.ndjson line 43:")
    assert "seq is 43 but line 43 must hold seq 42" in message


def test_it_reports_a_dropped_last_line_against_the_manifest_size(bundle: Bundle) -> None:
    bundle.write_entry_lines(bundle.entry_lines()[:-1])

    assert "has 99 entries but manifest.json says size 100" in failure(bundle)


def test_it_reports_two_reordered_lines(bundle: Bundle) -> None:
    lines = bundle.entry_lines()
    lines[10], lines[11] = lines[11], lines[10]
    bundle.write_entry_lines(lines)

    message = failure(bundle)

    assert message.startswith("entries.ndjson line 11:")
    assert "seq is 11 but line 11 must hold seq 10" in message


def test_it_reports_a_non_canonical_leaf(bundle: Bundle) -> None:
    # Same JSON value, different whitespace, with a matching leaf_hash.
    loose = json.dumps(leaf_object(7), ensure_ascii=False, sort_keys=True).encode()
    assert json.loads(loose) == json.loads(bundle.leaves[7])
    bundle.replace_entry(7, entry_line(7, loose))

    message = failure(bundle)

    assert message.startswith("entries.ndjson line 8 (seq 7): leaf is not canonical JSON")
    assert "RFC 8785" in message


def test_it_reports_a_leaf_with_members_out_of_order(bundle: Bundle) -> None:
    obj = leaf_object(3)
    unordered = json.dumps(dict(reversed(obj.items())), separators=(",", ":")).encode()
    bundle.replace_entry(3, entry_line(3, unordered))

    assert "line 4 (seq 3): leaf is not canonical JSON" in failure(bundle)


def test_it_reports_a_leaf_with_a_float(bundle: Bundle) -> None:
    leaf = leaf_bytes(3).replace(b'"seq_hint":3', b'"seq_hint":3.5')
    bundle.replace_entry(3, entry_line(3, leaf))

    message = failure(bundle)

    assert "(seq 3): leaf is not canonical JSON" in message
    assert "not an integer" in message


def test_it_reports_a_leaf_with_an_unsafe_integer(bundle: Bundle) -> None:
    leaf = leaf_bytes(3).replace(b'"seq_hint":3', b'"seq_hint":9007199254740993')
    bundle.replace_entry(3, entry_line(3, leaf))

    assert "outside ±(2**53 - 1)" in failure(bundle)


def test_it_reports_a_leaf_with_a_duplicate_key(bundle: Bundle) -> None:
    leaf = leaf_bytes(3).replace(b'{"actor":', b'{"actor":"x","actor":', 1)
    bundle.replace_entry(3, entry_line(3, leaf))

    assert "duplicate object key 'actor'" in failure(bundle)


def test_it_reports_a_leaf_that_is_not_utf8(bundle: Bundle) -> None:
    leaf = leaf_bytes(3).replace(b"user:", b"user\xff:").replace(b"system", b"syst\xffm")
    bundle.replace_entry(3, entry_line(3, leaf))

    assert "not valid UTF-8" in failure(bundle)


def test_it_reports_a_leaf_with_a_missing_member(bundle: Bundle) -> None:
    obj = leaf_object(3)
    del obj["actor"]
    bundle.replace_entry(3, entry_line(3, canonical.dumps(obj)))

    assert "(seq 3): leaf members are wrong: missing actor" in failure(bundle)


def test_it_reports_a_leaf_with_an_extra_member(bundle: Bundle) -> None:
    bundle.replace_entry(3, entry_line(3, leaf_bytes(3, extra="x")))

    assert "(seq 3): leaf members are wrong: unexpected extra" in failure(bundle)


def test_it_reports_a_leaf_member_of_the_wrong_type(bundle: Bundle) -> None:
    bundle.replace_entry(3, entry_line(3, leaf_bytes(3, data=["not", "an", "object"])))

    assert "(seq 3): leaf member data must be an object" in failure(bundle)


def test_it_reports_a_leaf_with_a_boolean_for_an_integer(bundle: Bundle) -> None:
    leaf = canonical.dumps({**leaf_object(1), "seq": True})
    bundle.replace_entry(1, entry_line(1, leaf))

    assert "(seq 1): leaf member seq must be an integer" in failure(bundle)


def test_it_reports_an_unknown_leaf_version(bundle: Bundle) -> None:
    bundle.replace_entry(3, entry_line(3, leaf_bytes(3, v=2)))

    assert "leaf version v=2 is not supported" in failure(bundle)


def test_it_reports_a_malformed_timestamp(bundle: Bundle) -> None:
    bundle.replace_entry(3, entry_line(3, leaf_bytes(3, ts="2026-11-27T23:40:01+00:00")))

    assert "leaf ts '2026-11-27T23:40:01+00:00' is not RFC 3339 UTC" in failure(bundle)


def test_it_reports_a_leaf_whose_seq_differs_from_its_line(bundle: Bundle) -> None:
    bundle.replace_entry(3, entry_line(3, leaf_bytes(4)))

    assert "(seq 3): leaf says seq 4 but is on the line of seq 3" in failure(bundle)


def test_it_reports_a_leaf_from_another_origin(bundle: Bundle) -> None:
    bundle.replace_entry(3, entry_line(3, leaf_bytes(3, origin="evil.example/ledger")))

    message = failure(bundle)

    assert "(seq 3): leaf origin 'evil.example/ledger' is not the bundle origin" in message


def test_it_reports_an_entry_line_that_is_not_json(bundle: Bundle) -> None:
    bundle.replace_entry(3, b'{"seq":3,\n')

    assert failure(bundle).startswith("entries.ndjson line 4: not valid JSON")


def test_it_reports_an_entry_line_with_extra_members(bundle: Bundle) -> None:
    line = bundle.entry_lines()[3].replace(b'"}\n', b'","more":1}\n')
    bundle.replace_entry(3, line)

    assert 'line 4: line must be an object with exactly "seq", "leaf_hash"' in failure(bundle)


def test_it_reports_a_leaf_that_is_not_base64(bundle: Bundle) -> None:
    line = bundle.entry_lines()[3].replace(b'"leaf":"', b'"leaf":"*')
    bundle.replace_entry(3, line)

    assert "line 4 (seq 3): leaf is not valid base64" in failure(bundle)


def test_it_reports_an_uppercase_leaf_hash(bundle: Bundle) -> None:
    line = bundle.entry_lines()[3]
    row = json.loads(line)
    bundle.replace_entry(3, line.replace(row["leaf_hash"].encode(), row["leaf_hash"].upper().encode()))

    assert "line 4 (seq 3): leaf_hash is not 64 lowercase hex digits" in failure(bundle)


def test_it_reports_an_over_long_line(bundle: Bundle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entries, "MAX_LINE_BYTES", 2000)
    monkeypatch.setattr(entries, "_BLOCK_BYTES", 1000)
    lines = bundle.entry_lines()
    bundle.write_entry_lines([*lines[:5], b"x" * 5000 + b"\n", *lines[6:]])

    assert failure(bundle).startswith("entries.ndjson line 6: line is longer than 2000 bytes")


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


def test_it_reports_a_forged_checkpoint(bundle: Bundle) -> None:
    forger = new_signer(bundle.signer.name)  # same name, different key
    lines = bundle.checkpoint_lines()
    lines[3] = checkpoint_line(bundle.sign(64, root=bytes(32), signer=forger))
    bundle.write_checkpoint_lines(lines)

    message = failure(bundle)

    assert message.startswith("checkpoints.ndjson line 4: checkpoint of size 64:")
    assert "no valid signature by a known key" in message


def test_it_reports_a_bad_signature_by_the_known_key(bundle: Bundle) -> None:
    lines = bundle.checkpoint_lines()
    row = json.loads(lines[3])
    body, sigs = row["note"].split("\n\n")
    # Sign a different text, then put the signature under this checkpoint's text.
    other_sigs = bundle.sign(65).split("\n\n")[1]
    row["note"] = body + "\n\n" + other_sigs
    lines[3] = json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    bundle.write_checkpoint_lines(lines)
    assert sigs != other_sigs

    assert "invalid signature by known key" in failure(bundle)


def test_it_refuses_a_bundle_signed_only_by_an_unknown_key(bundle: Bundle) -> None:
    stranger = new_signer()

    message = failure(bundle, keys=[stranger.verifier_key()])

    assert message.startswith("checkpoints.ndjson line 1: checkpoint of size 0:")
    assert "no valid signature by a known key" in message


def test_it_reports_a_checkpoint_whose_root_does_not_match(bundle: Bundle) -> None:
    lines = bundle.checkpoint_lines()
    lines[2] = checkpoint_line(bundle.sign(7, root=bundle.root(6)))
    bundle.write_checkpoint_lines(lines)

    message = failure(bundle)

    assert message.startswith("checkpoints.ndjson line 3: checkpoint of size 7: signed root")
    assert f"does not match the root {bundle.root(7).hex()} recomputed" in message


def test_it_reports_a_history_rewritten_consistently_below_a_checkpoint(bundle: Bundle) -> None:
    # Every entry is well formed and hashed, but the log no longer matches what was signed.
    bundle.replace_entry(50, entry_line(50, leaf_bytes(50, actor="user:mallory")))

    message = failure(bundle)

    assert message.startswith("checkpoints.ndjson line 4: checkpoint of size 64")
    assert "does not match the root" in message


def test_it_reports_equivocation(bundle: Bundle) -> None:
    lines = bundle.checkpoint_lines()
    forked = checkpoint_line(bundle.sign(64, root=bundle.root(63)))
    bundle.write_checkpoint_lines([*lines[:4], forked, *lines[4:]])

    message = failure(bundle)

    assert message.startswith("checkpoints.ndjson line 5:")
    assert "equivocation: two roots signed for size 64" in message


def test_it_reports_a_checkpoint_for_another_origin(bundle: Bundle) -> None:
    lines = bundle.checkpoint_lines()
    lines[1] = checkpoint_line(bundle.sign(1, origin="evil.example/ledger"))
    bundle.write_checkpoint_lines(lines)

    message = failure(bundle)

    assert message.startswith("checkpoints.ndjson line 2:")
    assert "origin 'evil.example/ledger' is not the bundle origin" in message


def test_it_reports_checkpoints_out_of_size_order(bundle: Bundle) -> None:
    lines = bundle.checkpoint_lines()
    lines[1], lines[2] = lines[2], lines[1]
    bundle.write_checkpoint_lines(lines)

    assert "line 3: checkpoints are not in size order: size 1 follows size 7" in failure(bundle)


def test_it_reports_a_checkpoint_root_field_that_disagrees_with_the_note(bundle: Bundle) -> None:
    lines = bundle.checkpoint_lines()
    row = json.loads(lines[2])
    row["root"] = bundle.root(6).hex()
    lines[2] = json.dumps(row, ensure_ascii=False).encode() + b"\n"
    bundle.write_checkpoint_lines(lines)

    assert 'line 3: checkpoint of size 7: the "root" field' in failure(bundle)


def test_it_reports_a_checkpoint_size_field_that_disagrees_with_the_note(bundle: Bundle) -> None:
    lines = bundle.checkpoint_lines()
    row = json.loads(lines[2])
    row["size"] = 8
    lines[2] = json.dumps(row, ensure_ascii=False).encode() + b"\n"
    bundle.write_checkpoint_lines(lines)

    assert 'the "size" field says 8 but the signed note says 7' in failure(bundle)


def test_it_reports_a_checkpoint_beyond_the_entries(tmp_path: Path) -> None:
    full = build_bundle(tmp_path / "full", size=120, checkpoint_sizes=(120,))
    leaves = full.leaves[:100]
    bundle = build_bundle(tmp_path / "short", checkpoint_sizes=(), leaves=leaves, signer=full.signer)
    bundle.write_checkpoint_lines(full.checkpoint_lines())

    message = failure(bundle)

    assert message.startswith("checkpoints.ndjson line 1: checkpoint of size 120 covers more")


def test_entry_errors_are_reported_before_checkpoint_errors(bundle: Bundle) -> None:
    bundle.write_checkpoint_lines([b"garbage\n"])
    bundle.replace_entry(3, b"garbage\n")

    assert failure(bundle).startswith("entries.ndjson line 4")


# --------------------------------------------------------------------------------------------
# Trusted checkpoint
# --------------------------------------------------------------------------------------------


def test_it_accepts_a_trusted_checkpoint_the_bundle_extends(bundle: Bundle) -> None:
    saved = bundle.sign(50)  # a size no checkpoint in the bundle has

    report = verify_bundle(bundle.path, [bundle.key], trusted_checkpoint=saved)

    assert report.trusted_checkpoint_size == 50
    assert report.trusted_checkpoint_root == bundle.root(50)


def test_it_accepts_a_trusted_checkpoint_given_as_a_checkpoints_line(bundle: Bundle) -> None:
    saved = checkpoint_line(bundle.sign(64)).decode()

    report = verify_bundle(bundle.path, [bundle.key], trusted_checkpoint=saved)

    assert report.trusted_checkpoint_size == 64


def test_it_reports_a_trusted_checkpoint_the_bundle_contradicts(bundle: Bundle, tmp_path: Path) -> None:
    forked = build_bundle(
        tmp_path / "fork",
        leaves=[leaf_bytes(i, actor="user:other") for i in range(60)],
        signer=bundle.signer,
        checkpoint_sizes=(),
    )
    saved = forked.sign(50)

    message = failure(bundle, trusted_checkpoint=saved)

    assert message.startswith("trusted checkpoint: inconsistent with this bundle")
    assert "size 50" in message


def test_it_reports_a_bundle_older_than_the_trusted_checkpoint(bundle: Bundle, tmp_path: Path) -> None:
    newer = build_bundle(tmp_path / "newer", size=150, signer=bundle.signer, checkpoint_sizes=())
    saved = newer.sign(150)

    message = failure(bundle, trusted_checkpoint=saved)

    assert message.startswith("trusted checkpoint: bundle is older than trusted checkpoint")
    assert "size 150" in message


def test_it_reports_a_trusted_checkpoint_signed_by_an_unknown_key(bundle: Bundle) -> None:
    saved = bundle.sign(50, signer=new_signer())

    message = failure(bundle, trusted_checkpoint=saved)

    assert message.startswith("trusted checkpoint: signature check failed")


# --------------------------------------------------------------------------------------------
# Manifest and files
# --------------------------------------------------------------------------------------------


def test_it_reports_a_missing_file(bundle: Bundle) -> None:
    (bundle.path / "keys.json").unlink()

    assert failure(bundle) == "manifest.json: lists keys.json, which is missing from the bundle"


def test_it_reports_a_missing_manifest(bundle: Bundle) -> None:
    (bundle.path / "manifest.json").unlink()

    assert failure(bundle) == "manifest.json: file is missing from the bundle"


def test_it_reports_a_file_the_manifest_does_not_list(bundle: Bundle) -> None:
    manifest = bundle.manifest()
    del manifest["files"]["checkpoints.ndjson"]
    bundle.write_manifest(manifest)

    assert failure(bundle) == "manifest.json: checkpoints.ndjson is in the bundle but not listed"


def test_it_reports_a_manifest_hash_mismatch(bundle: Bundle) -> None:
    (bundle.path / "keys.json").write_text('{"keys": []}\n')
    manifest = bundle.manifest()
    manifest["files"]["keys.json"]["bytes"] = len('{"keys": []}\n')
    bundle.write_manifest(manifest)

    message = failure(bundle)

    assert message.startswith("manifest.json: lists SHA-256")
    assert "for keys.json" in message


def test_it_reports_a_manifest_length_mismatch(bundle: Bundle) -> None:
    with bundle.checkpoints_file.open("ab") as fh:
        fh.write(b"\n")

    assert "lists checkpoints.ndjson as" in failure(bundle)


def test_it_reports_a_manifest_size_mismatch(bundle: Bundle) -> None:
    manifest = bundle.manifest()
    manifest["size"] = 101
    bundle.write_manifest(manifest)

    assert failure(bundle) == "entries.ndjson: has 100 entries but manifest.json says size 101"


def test_it_reports_an_unknown_bundle_format(bundle: Bundle) -> None:
    manifest = bundle.manifest()
    manifest["format"] = "ledger-bundle/2"
    bundle.write_manifest(manifest)

    assert "format is 'ledger-bundle/2', expected 'ledger-bundle/1'" in failure(bundle)


def test_it_refuses_a_listed_path_outside_the_bundle(bundle: Bundle) -> None:
    manifest = bundle.manifest()
    manifest["files"]["../secret"] = {"sha256": "0" * 64, "bytes": 0}
    bundle.write_manifest(manifest)

    assert "'../secret' is not a plain file name" in failure(bundle)


def test_it_reports_a_malformed_keys_file(bundle: Bundle) -> None:
    (bundle.path / "keys.json").write_text('{"keys": [{"verifier_key": "nope"}]}\n')
    bundle.rehash()

    assert failure(bundle).startswith("keys.json: keys[0].verifier_key is malformed")


def test_it_raises_value_error_for_a_malformed_key(bundle: Bundle) -> None:
    with pytest.raises(ValueError, match=r"verifier key 1 .* is malformed"):
        verify_bundle(bundle.path, ["not-a-key"])


def test_it_needs_at_least_one_key(bundle: Bundle) -> None:
    with pytest.raises(ValueError, match="at least one verifier key"):
        verify_bundle(bundle.path, [])


# --------------------------------------------------------------------------------------------
# The fast canonical check never disagrees with the reference one
# --------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=12,
)


def reference_canonical(data: bytes) -> bool:
    try:
        return canonical.dumps(canonical.loads(data)) == data
    except canonical.CanonicalError:
        return False


def encodings(value: object) -> list[bytes]:
    """Canonical bytes of ``value`` if it has any, plus near misses from the json module."""
    out = [
        json.dumps(value).encode(),
        json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(),
        json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(),
    ]
    with contextlib.suppress(canonical.CanonicalError):
        out.append(canonical.dumps(value))
    return out


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_the_fast_canonical_check_agrees_with_the_reference(value: object) -> None:
    for data in encodings(value):
        fast = leaf_format.fast_canonical(data)
        if fast is not None:
            assert reference_canonical(data), data
            assert fast == canonical.loads(data)
        try:
            parsed = leaf_format.parse_canonical(data)
        except canonical.CanonicalError:
            assert not reference_canonical(data)
        else:
            assert reference_canonical(data)
            assert parsed == canonical.loads(data)


leaf_fields = st.fixed_dictionaries(
    {
        "v": st.sampled_from([1, 1, 1, 2]),
        "origin": st.sampled_from([ORIGIN, ORIGIN, "other.example/log"]),
        "seq": st.integers(min_value=0, max_value=10**6),
        "ts": st.sampled_from(["2026-11-27T23:40:01.123456Z", "2026-11-27T23:40:01Z"]),
        "type": st.text(max_size=6),
        "actor": st.text(max_size=6),
        "subject": st.text(max_size=6),
        "idempotency_key": st.text(max_size=6),
        "data": st.dictionaries(st.text(max_size=4), json_values, max_size=4),
    }
)


@settings(max_examples=300, deadline=None)
@given(leaf_fields, st.none() | st.integers(min_value=0, max_value=10**6))
def test_the_fast_leaf_check_agrees_with_the_reference(obj: dict, other_seq: int | None) -> None:
    seq = obj["seq"] if other_seq is None else other_seq
    origin_token = canonical.dumps(ORIGIN)
    for data in encodings(obj):
        if not leaf_format.fast_accepts(data, b"%d" % seq, origin_token):
            continue
        assert reference_canonical(data), data
        leaf = canonical.loads(data)
        assert leaf_format.problem(leaf) is None
        assert (leaf["seq"], leaf["origin"]) == (seq, ORIGIN)


def test_the_fast_leaf_check_accepts_ordinary_leaves() -> None:
    # Payloads 0-2 have no non-BMP text and no 16-digit number, so no reason for the slow path.
    for seq in (0, 1, 2, 6, 7, 8):
        assert leaf_format.fast_accepts(leaf_bytes(seq), b"%d" % seq, canonical.dumps(ORIGIN)), seq


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1.0}',
        b'{"a":NaN}',
        b'{"a":-0}',
        b'{"a":9007199254740992}',
        b'{"a":"\\ud800"}',
        b'{"a":"\\u00e9"}',
        b'{"a":"\xc3\xa9"}',
        b'{"\xef\xac\x81":1,"\xf0\x9f\x98\x80":2}',
        b'{"\xf0\x9f\x98\x80":2,"\xef\xac\x81":1}',
        b'{"a":1,"a":1}',
        b' {"a":1}',
        b'{"a":"\x7f"}',
        b'{"a":"\\u001f"}',
        b'{"a":"\\u001F"}',
        b"[" * 201 + b"]" * 201,
        b"[" * 200 + b"]" * 200,
    ],
)
def test_the_fast_canonical_check_agrees_on_edge_cases(data: bytes) -> None:
    fast = leaf_format.fast_canonical(data)
    assert fast is None or reference_canonical(data)
    try:
        leaf_format.parse_canonical(data)
        accepted = True
    except canonical.CanonicalError:
        accepted = False
    assert accepted == reference_canonical(data)


# --------------------------------------------------------------------------------------------
# ledgerctl
# --------------------------------------------------------------------------------------------


def test_ledgerctl_verify_exits_0_with_a_summary(bundle: Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify", str(bundle.path), "--key", bundle.key])

    out = capsys.readouterr().out
    assert code == 0
    assert "entries:      100" in out
    assert f"latest:       size 100, root {bundle.root(100).hex()}" in out
    assert "elapsed:" in out


def test_ledgerctl_verify_exits_1_naming_the_failure(bundle: Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    bundle.replace_entry(42, changed_byte(bundle.entry_lines()[42]))

    code = main(["verify", str(bundle.path), "--key", bundle.key])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: entries.ndjson line 43 (seq 42): leaf_hash")


def test_ledgerctl_verify_prints_json(bundle: Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify", str(bundle.path), "--key", bundle.key, "--json"])

    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["ok"] is True
    assert result["entries"] == 100
    assert result["latest_checkpoint"] == {"size": 100, "root": bundle.root(100).hex()}


def test_ledgerctl_verify_prints_json_for_a_failure(bundle: Bundle, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify", str(bundle.path), "--key", new_signer().verifier_key(), "--json"])

    result = json.loads(capsys.readouterr().out)
    assert code == 1
    assert result["ok"] is False
    assert (result["file"], result["line"]) == ("checkpoints.ndjson", 1)


def test_ledgerctl_verify_checks_a_trusted_checkpoint_file(
    bundle: Bundle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "saved.note"
    saved.write_text(bundle.sign(64))
    args = ["verify", str(bundle.path), "--key", bundle.key, "--trusted-checkpoint", str(saved)]

    assert main(args) == 0
    assert "trusted:      checkpoint of size 64 is a prefix of this log" in capsys.readouterr().out

    saved.write_text(bundle.sign(64, root=bundle.root(63)))
    assert main(args) == 1
    assert "trusted checkpoint: inconsistent" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["verify", "{bundle}", "--key", "not-a-key"], "verifier key 1 ('not-a-key') is malformed"),
        (["verify", "{missing}", "--key", "{key}"], "is not a readable bundle directory"),
        (
            ["verify", "{bundle}", "--key", "{key}", "--trusted-checkpoint", "{missing}"],
            "cannot read",
        ),
        (["verify", "{bundle}"], "the following arguments are required: --key"),
        (["frobnicate"], "invalid choice"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_ledgerctl_exits_2_for_usage_errors(
    bundle: Bundle,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    values = {"bundle": str(bundle.path), "key": bundle.key, "missing": str(tmp_path / "nope")}

    code = main([arg.format(**values) for arg in args])

    assert code == 2
    assert expected in capsys.readouterr().err


def test_ledgerctl_runs_as_a_script(bundle: Bundle) -> None:
    command = [sys.executable, "-m", "model_ledger_verify", "verify", str(bundle.path), "--key", bundle.key]

    ok = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=120)
    bundle.replace_entry(5, b"{}\n")
    bad = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=120)

    assert ok.returncode == 0, ok.stderr
    assert "OK:" in ok.stdout
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: entries.ndjson line 6:")


def test_the_verifier_imports_no_django() -> None:
    code = (
        "import sys, model_ledger_verify.client.cli, model_ledger_verify.bundle; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'django', 'rest_framework', 'celery', 'requests', 'urllib3', 'http', 'socket'}); "
        "print(bad); sys.exit(1 if bad else 0)"
    )

    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr
