"""The verifier's block fast path accepts a run of lines only when every line is good."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from model_ledger_verify import canonical, compact_range, merkle
from model_ledger_verify import leaf as leaf_format
from model_ledger_verify.bundle import entries
from model_ledger_verify.bundle.block import accept_block
from tests.client.bundles import ORIGIN, build_bundle, entry_line, leaf_bytes, leaf_object
from tests.client.test_verify_bundle import leaf_fields, reference_canonical

ORIGIN_TOKEN = canonical.dumps(ORIGIN)


def lines_of(leaves: list[bytes]) -> list[bytes]:
    return [entry_line(seq, leaf).rstrip(b"\n") for seq, leaf in enumerate(leaves)]


def raw_leaf(seq: int, data: bytes) -> bytes:
    """A leaf whose data object is the given bytes, the envelope canonical around it."""
    return (
        b'{"actor":"user:a","data":'
        + data
        + b',"idempotency_key":"k-%d","origin":' % seq
        + ORIGIN_TOKEN
        + b',"seq":%d,"subject":"model:m","ts":"2026-11-27T23:40:01.123456Z","type":"t","v":1}' % seq
    )


def test_it_accepts_ordinary_leaves_and_returns_their_hashes():
    leaves = [
        canonical.dumps(leaf_object(seq, data={"sha256": "1234567890123456789a" * 3, "n": seq})) for seq in range(50)
    ]
    hashes = accept_block(lines_of(leaves), 0, ORIGIN_TOKEN)
    assert hashes == b"".join(merkle.leaf_hash(leaf) for leaf in leaves)


def test_it_leaves_doubtful_runs_to_the_line_by_line_check():
    good = [canonical.dumps(leaf_object(seq, data={"n": seq})) for seq in range(3)]
    for data in (
        b'{"n":12345678901234567}',  # an unsafe integer
        b'{"n":-12345678901234567}',
        b'{"\xef\xac\x81":1,"\xf0\x9f\x98\x80":2}',  # keys ordered by code point, not UTF-16
        b'{"a":1.5}',
        b'{"b":1,"a":2}',
        b'{"a":"\\u00e9"}',
    ):
        leaves = [*good, raw_leaf(3, data)]
        assert accept_block(lines_of(leaves), 0, ORIGIN_TOKEN) is None, data
        assert not reference_canonical(raw_leaf(3, data)) or b"\xf0" in data


def test_it_refuses_data_objects_that_are_canonical_only_when_joined():
    # Joined with commas these three read [{"a":[{},{}]},{"x":1},{"y":1}]: canonical, and three
    # values for three leaves, but no leaf's data is a whole object of its own.
    leaves = [raw_leaf(0, b'{"a":[{}'), raw_leaf(1, b"{}]}"), raw_leaf(2, b'{"x":1},{"y":1}')]
    assert accept_block(lines_of(leaves), 0, ORIGIN_TOKEN) is None


def test_it_refuses_a_wrong_seq_origin_or_hash():
    leaves = [leaf_bytes(seq) for seq in (0, 1, 2)]
    lines = lines_of(leaves)
    assert accept_block(lines, 1, ORIGIN_TOKEN) is None
    assert accept_block(lines, 0, canonical.dumps("other.example/log")) is None
    tampered = lines[1].replace(b'"leaf_hash":"', b'"leaf_hash":"0', 1)[: len(lines[1])]
    assert accept_block([lines[0], tampered, lines[2]], 0, ORIGIN_TOKEN) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(leaf_fields, min_size=1, max_size=6))
def test_an_accepted_run_is_one_the_reference_check_accepts(objects: list[dict]) -> None:
    # Sorted compact JSON: the canonical bytes for most leaves, a near miss for the rest (floats,
    # keys outside the BMP, unsafe integers, another version, origin or timestamp form).
    leaves = [
        json.dumps({**obj, "seq": seq}, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        for seq, obj in enumerate(objects)
    ]
    hashes = accept_block(lines_of(leaves), 0, ORIGIN_TOKEN)
    if hashes is None:
        return
    for seq, leaf in enumerate(leaves):
        assert reference_canonical(leaf), leaf
        parsed = canonical.loads(leaf)
        assert leaf_format.problem(parsed) is None
        assert (parsed["seq"], parsed["origin"]) == (seq, ORIGIN)
    assert hashes == b"".join(merkle.leaf_hash(leaf) for leaf in leaves)


def test_a_block_checks_the_same_with_and_without_the_fast_path(tmp_path, monkeypatch):
    bundle = build_bundle(tmp_path / "bundle", size=700, checkpoint_sizes=(700,))
    data = bundle.entries_file.read_bytes()
    with_fast = entries._check_block(data, 1, ORIGIN)
    monkeypatch.setattr(entries, "accept_block", lambda *args: None)
    assert entries._check_block(data, 1, ORIGIN) == with_fast
    assert base64.b64encode(with_fast)  # 700 hashes
    assert len(with_fast) == 700 * 32


def test_appending_a_run_of_leaves_gives_the_compact_range_of_leaf_by_leaf_appends():
    leaves = [merkle.leaf_hash(b"%d" % n) for n in range(80)]
    for size in range(0, 40):
        for count in (0, 1, 2, 3, 5, 8, 13, 31, 40):
            expected = compact_range.CompactRange(0, [])
            expected.extend(leaves[: size + count])
            start = compact_range.CompactRange(0, [])
            start.extend(leaves[:size])
            stack = start.hashes
            compact_range.append_leaves(size, stack, b"".join(leaves[size : size + count]))
            assert stack == expected.hashes, (size, count)
            assert compact_range.CompactRange(size + count, stack).root() == merkle.root(leaves[: size + count])


def test_the_tree_captures_roots_at_wanted_sizes_inside_a_run():
    leaves = [merkle.leaf_hash(b"%d" % n) for n in range(300)]
    wanted = {0, 1, 2, 7, 64, 65, 255, 256, 299}
    tree = entries._Tree(wanted)
    tree.extend(b"".join(leaves[:100]))
    tree.extend(b"".join(leaves[100:]))
    assert tree.roots == {size: merkle.root(leaves[:size]) for size in wanted}
    assert tree.root() == merkle.root(leaves)
