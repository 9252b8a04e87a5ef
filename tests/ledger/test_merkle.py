"""Tests for model_ledger_verify.merkle: RFC 6962 tree hashes, proofs and their verification."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_ledger_verify import merkle
from model_ledger_verify.compact_range import CompactRange
from model_ledger_verify.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    consistency_proof_ranges,
    fold_nodes,
    inclusion_proof,
    inclusion_proof_ranges,
    leaf_hash,
    node_hash,
    range_nodes,
    root,
    verify_consistency,
    verify_inclusion,
)

# transparency-dev/merkle test vectors, copied with their licence (see vectors/README.md).
VECTORS = Path(__file__).resolve().parent / "vectors"

# The leaves of Certificate Transparency's Merkle tree tests, and the RFC 6962 roots of each
# prefix of them.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]

# One tree shared by the property tests: every prefix of it is a tree in its own right, and its
# complete subtrees are the same in every prefix that contains them.
BIG = 2500
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(BIG)]
NODES: dict[tuple[int, int], bytes] = {}
ROOTS: list[bytes] = [EMPTY_ROOT]
_compact = CompactRange()
for _leaf in LEAVES:
    for _level, _index, _hash in _compact.append(_leaf):
        NODES[(_level, _index)] = _hash
    ROOTS.append(_compact.root())

sizes = st.one_of(st.integers(1, 300), st.integers(301, BIG))


def from_storage(ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """Return the proof a storage layer would build from complete-subtree nodes."""
    return [fold_nodes([NODES[n] for n in range_nodes(b, e)]) for b, e in ranges]


def flip(proof: list[bytes], element: int, bit: int) -> list[bytes]:
    changed = bytearray(proof[element])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:element], bytes(changed), *proof[element + 1 :]]


# -- shared test vectors -----------------------------------------------------------------------


def _vector_files() -> list[Any]:
    files = sorted(VECTORS.rglob("*.json"))
    if not files:
        return [pytest.param(None, id="empty-vector-folder")]
    return [pytest.param(f, id=str(f.relative_to(VECTORS))) for f in files]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _check_vector(case: dict[str, Any]) -> None:
    proof = [_b64(p) for p in case.get("proof") or []]
    if "leafIdx" in case:
        verify_inclusion(
            case["leafIdx"],
            case["treeSize"],
            _b64(case.get("leafHash")),
            proof,
            _b64(case.get("root")),
        )
    else:
        verify_consistency(case["size1"], case["size2"], _b64(case.get("root1")), _b64(case.get("root2")), proof)


@pytest.mark.parametrize("path", _vector_files())
def test_it_agrees_with_every_shared_test_vector(path: Path | None) -> None:
    assert path is not None, f"{VECTORS} exists but holds no JSON test vectors"
    case = json.loads(path.read_text(encoding="utf-8"))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            _check_vector(case)
    else:
        _check_vector(case)


# -- hashing and roots -------------------------------------------------------------------------


def test_it_hashes_leaves_and_nodes_with_domain_separation() -> None:
    assert leaf_hash(b"") == bytes.fromhex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert node_hash(b"a", b"b") != node_hash(b"b", b"a")
    assert leaf_hash(b"\x01ab") != node_hash(b"a", b"b")
    assert CT_ROOTS[0] == EMPTY_ROOT


@pytest.mark.parametrize("size", range(9))
def test_it_computes_the_rfc_6962_roots_of_the_standard_leaves(size: int) -> None:
    hashes = [leaf_hash(x) for x in CT_LEAVES[:size]]
    assert root(hashes) == CT_ROOTS[size]
    compact = CompactRange()
    compact.extend(hashes)
    assert compact.root() == CT_ROOTS[size]


def test_it_verifies_proofs_over_the_standard_leaves() -> None:
    hashes = [leaf_hash(x) for x in CT_LEAVES]
    for size in range(1, 9):
        for index in range(size):
            proof = inclusion_proof(index, hashes[:size])
            verify_inclusion(index, size, hashes[index], proof, CT_ROOTS[size])
        for size1 in range(size + 1):
            proof = consistency_proof(size1, hashes[:size])
            verify_consistency(size1, size, CT_ROOTS[size1], CT_ROOTS[size], proof)


def test_it_builds_the_rfc_6962_example_inclusion_proof() -> None:
    # RFC 6962 §2.1.3: in the seven-leaf tree the path of d0 is [b, h, l], i.e. leaf 1,
    # MTH(leaves 2..3) and MTH(leaves 4..6).
    assert inclusion_proof_ranges(0, 7) == [(1, 2), (2, 4), (4, 7)]
    assert inclusion_proof_ranges(3, 7) == [(2, 3), (0, 2), (4, 7)]
    assert inclusion_proof_ranges(4, 7) == [(5, 6), (6, 7), (0, 4)]
    assert inclusion_proof_ranges(6, 7) == [(4, 6), (0, 4)]


def test_it_builds_the_rfc_6962_example_consistency_proofs() -> None:
    # RFC 6962 §2.1.3: PROOF(3, D[7]) = [c, d, g, l], PROOF(4, D[7]) = [l] and
    # PROOF(6, D[7]) = [i, j, k].
    assert consistency_proof_ranges(3, 7) == [(2, 3), (3, 4), (0, 2), (4, 7)]
    assert consistency_proof_ranges(4, 7) == [(4, 7)]
    assert consistency_proof_ranges(6, 7) == [(4, 6), (6, 7), (0, 4)]
    assert consistency_proof_ranges(0, 7) == []
    assert consistency_proof_ranges(7, 7) == []


def test_it_decomposes_ranges_into_complete_subtrees_largest_first() -> None:
    assert range_nodes(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert range_nodes(4, 7) == [(1, 2), (0, 6)]
    assert range_nodes(8, 16) == [(3, 1)]
    assert range_nodes(5, 6) == [(0, 5)]


def test_it_rejects_ranges_that_are_not_made_of_aligned_subtrees() -> None:
    for begin, end in [(1, 3), (3, 7), (2, 2), (5, 4), (-1, 2)]:
        with pytest.raises(ValueError):
            range_nodes(begin, end)


def test_it_folds_a_single_hash_to_itself_and_refuses_none() -> None:
    assert fold_nodes([LEAVES[0]]) == LEAVES[0]
    assert fold_nodes(LEAVES[:3]) == node_hash(LEAVES[0], node_hash(LEAVES[1], LEAVES[2]))
    with pytest.raises(ValueError):
        fold_nodes([])


def test_it_rejects_out_of_range_arguments_to_the_generators() -> None:
    with pytest.raises(ValueError):
        inclusion_proof(3, LEAVES[:3])
    with pytest.raises(ValueError):
        inclusion_proof(-1, LEAVES[:3])
    with pytest.raises(ValueError):
        inclusion_proof(0, [])
    with pytest.raises(ValueError):
        consistency_proof(4, LEAVES[:3])
    with pytest.raises(ValueError):
        consistency_proof(-1, LEAVES[:3])
    with pytest.raises(ValueError):
        inclusion_proof_ranges(5, 5)
    with pytest.raises(ValueError):
        consistency_proof_ranges(6, 5)
    with pytest.raises(ValueError):
        consistency_proof_ranges(-1, 5)


# -- compact ranges ----------------------------------------------------------------------------


def test_it_reports_every_completed_subtree_on_append() -> None:
    compact = CompactRange()
    assert compact.append(LEAVES[0]) == [(0, 0, LEAVES[0])]
    assert compact.append(LEAVES[1]) == [(0, 1, LEAVES[1]), (1, 0, NODES[(1, 0)])]
    assert compact.append(LEAVES[2]) == [(0, 2, LEAVES[2])]
    assert compact.append(LEAVES[3]) == [
        (0, 3, LEAVES[3]),
        (1, 1, NODES[(1, 1)]),
        (2, 0, NODES[(2, 0)]),
    ]
    assert compact.size == 4
    assert compact.hashes == [NODES[(2, 0)]]


def test_it_stores_exactly_the_complete_subtrees() -> None:
    for (level, index), digest in NODES.items():
        assert (index + 1) << level <= BIG
        assert digest == root(LEAVES[index << level : (index + 1) << level])
    assert len(NODES) == sum(BIG >> level for level in range(BIG.bit_length()))


def test_it_resumes_a_compact_range_from_its_size_and_hashes() -> None:
    head = CompactRange()
    head.extend(LEAVES[:77])
    resumed = CompactRange(head.size, head.hashes)
    resumed.extend(LEAVES[77:200])
    assert resumed.root() == root(LEAVES[:200])
    assert CompactRange().root() == EMPTY_ROOT


def test_it_rejects_a_compact_range_whose_hashes_do_not_fit_its_size() -> None:
    with pytest.raises(ValueError):
        CompactRange(3, [LEAVES[0]])
    with pytest.raises(ValueError):
        CompactRange(0, [LEAVES[0]])
    with pytest.raises(ValueError):
        CompactRange(1, [b"short"])
    with pytest.raises(ValueError):
        CompactRange(-1)
    with pytest.raises(ValueError):
        CompactRange().append(b"short")


def test_it_hands_out_copies_of_the_frontier() -> None:
    compact = CompactRange()
    compact.extend(LEAVES[:3])
    compact.hashes.clear()
    assert len(compact.hashes) == 2


def test_it_matches_root_for_every_prefix() -> None:
    compact = CompactRange()
    for size in range(1, 300):
        compact.append(LEAVES[size - 1])
        assert compact.root() == root(LEAVES[:size])


@settings(max_examples=30, deadline=None)
@given(st.integers(300, BIG))
def test_it_matches_root_for_random_larger_prefixes(size: int) -> None:
    assert ROOTS[size] == root(LEAVES[:size])


# -- verification: exhaustive small trees ------------------------------------------------------


def test_it_verifies_every_proof_in_small_trees_and_rebuilds_them_from_storage() -> None:
    for size in range(1, 65):
        leaves = LEAVES[:size]
        tree_root = root(leaves)
        for index in range(size):
            proof = inclusion_proof(index, leaves)
            assert from_storage(inclusion_proof_ranges(index, size)) == proof
            verify_inclusion(index, size, leaves[index], proof, tree_root)
        for size1 in range(size + 1):
            proof = consistency_proof(size1, leaves)
            assert from_storage(consistency_proof_ranges(size1, size)) == proof
            verify_consistency(size1, size, root(leaves[:size1]), tree_root, proof)


# -- verification: properties ------------------------------------------------------------------


@st.composite
def inclusion_cases(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(sizes)
    return draw(st.integers(0, size - 1)), size


@st.composite
def consistency_cases(draw: st.DrawFn) -> tuple[int, int]:
    size2 = draw(sizes)
    return draw(st.integers(1, size2)), size2


@settings(max_examples=100, deadline=None)
@given(inclusion_cases())
def test_it_verifies_generated_inclusion_proofs_and_storage_builds_the_same(
    case: tuple[int, int],
) -> None:
    index, size = case
    proof = inclusion_proof(index, LEAVES[:size])
    assert from_storage(inclusion_proof_ranges(index, size)) == proof
    assert len(proof) <= size.bit_length()
    verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])


@settings(max_examples=100, deadline=None)
@given(consistency_cases())
def test_it_verifies_generated_consistency_proofs_and_storage_builds_the_same(
    case: tuple[int, int],
) -> None:
    size1, size2 = case
    proof = consistency_proof(size1, LEAVES[:size2])
    assert from_storage(consistency_proof_ranges(size1, size2)) == proof
    verify_consistency(size1, size2, ROOTS[size1], ROOTS[size2], proof)


@settings(max_examples=100, deadline=None)
@given(inclusion_cases(), st.data())
def test_it_rejects_tampered_inclusion_proofs(case: tuple[int, int], data: st.DataObject) -> None:
    index, size = case
    proof = inclusion_proof(index, LEAVES[:size])
    tree_root = ROOTS[size]
    bad: list[list[bytes]] = [[*proof, LEAVES[0]], [LEAVES[0], *proof]]
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1), label="element")
        bad += [flip(proof, element, data.draw(st.integers(0, 255), label="bit")), proof[:-1]]
    for tampered in bad:
        with pytest.raises(ProofError):
            verify_inclusion(index, size, LEAVES[index], tampered, tree_root)
    other = data.draw(st.integers(0, size).filter(lambda i: i != index), label="index")
    with pytest.raises(ProofError):
        verify_inclusion(other, size, LEAVES[index], proof, tree_root)
    other_size = data.draw(st.integers(index + 1, BIG).filter(lambda s: s != size), label="size")
    with pytest.raises(ProofError):
        verify_inclusion(index, other_size, LEAVES[index], proof, ROOTS[other_size])
    bit = data.draw(st.integers(0, 255), label="leaf bit")
    with pytest.raises(ProofError):
        verify_inclusion(index, size, flip([LEAVES[index]], 0, bit)[0], proof, tree_root)


@settings(max_examples=100, deadline=None)
@given(consistency_cases(), st.data())
def test_it_rejects_tampered_consistency_proofs(case: tuple[int, int], data: st.DataObject) -> None:
    size1, size2 = case
    proof = consistency_proof(size1, LEAVES[:size2])
    root1, root2 = ROOTS[size1], ROOTS[size2]
    bad: list[list[bytes]] = [[*proof, LEAVES[0]], [LEAVES[0], *proof]]
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1), label="element")
        bad += [flip(proof, element, data.draw(st.integers(0, 255), label="bit")), proof[:-1]]
    for tampered in bad:
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, root1, root2, tampered)
    if size1 < size2:
        bit = data.draw(st.integers(0, 255), label="root bit")
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, flip([root1], 0, bit)[0], root2, proof)
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, root1, flip([root2], 0, bit)[0], proof)
        new1 = data.draw(st.integers(1, BIG), label="size1")
        new2 = data.draw(st.integers(new1, BIG), label="size2")
        if (new1, new2) != (size1, size2):
            with pytest.raises(ProofError):
                verify_consistency(new1, new2, ROOTS[new1], ROOTS[new2], proof)


# -- verification: malformed input -------------------------------------------------------------


def test_it_rejects_an_index_at_or_beyond_the_size() -> None:
    proof = inclusion_proof(2, LEAVES[:4])
    for index, size in [(4, 4), (5, 4), (-1, 4), (0, 0)]:
        with pytest.raises(ProofError):
            verify_inclusion(index, size, LEAVES[2], proof, ROOTS[4])


def test_it_rejects_hashes_of_the_wrong_length() -> None:
    proof = inclusion_proof(2, LEAVES[:4])
    tree_root = ROOTS[4]
    with pytest.raises(ProofError):
        verify_inclusion(2, 4, LEAVES[2][:31], proof, tree_root)
    with pytest.raises(ProofError):
        verify_inclusion(2, 4, LEAVES[2], proof, tree_root + b"\x00")
    with pytest.raises(ProofError):
        verify_inclusion(2, 4, LEAVES[2], [proof[0][:16], proof[1]], tree_root)
    cproof = consistency_proof(3, LEAVES[:4])
    with pytest.raises(ProofError):
        verify_consistency(3, 4, ROOTS[3][:31], tree_root, cproof)
    with pytest.raises(ProofError):
        verify_consistency(3, 4, ROOTS[3], b"", cproof)
    with pytest.raises(ProofError):
        verify_consistency(3, 4, ROOTS[3], tree_root, [cproof[0] + b"\x00", *cproof[1:]])


def test_it_rejects_a_consistency_check_that_goes_backwards() -> None:
    with pytest.raises(ProofError):
        verify_consistency(5, 4, ROOTS[5], ROOTS[4], [])
    with pytest.raises(ProofError):
        verify_consistency(-1, 4, EMPTY_ROOT, ROOTS[4], [])


def test_it_accepts_equal_sizes_only_with_equal_roots_and_no_proof() -> None:
    r = ROOTS[5]
    verify_consistency(5, 5, r, r, [])
    with pytest.raises(ProofError):
        verify_consistency(5, 5, r, ROOTS[4], [])
    with pytest.raises(ProofError):
        verify_consistency(5, 5, r, r, [r])


def test_it_accepts_growth_from_the_empty_tree_only_with_an_empty_proof() -> None:
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 9, EMPTY_ROOT, ROOTS[9], [])
    with pytest.raises(ProofError):
        verify_consistency(0, 9, EMPTY_ROOT, ROOTS[9], [LEAVES[0]])
    with pytest.raises(ProofError):
        verify_consistency(0, 9, LEAVES[0], ROOTS[9], [])
    with pytest.raises(ProofError):
        verify_consistency(0, 0, EMPTY_ROOT, LEAVES[0], [])


def test_it_rejects_an_empty_proof_between_different_non_empty_sizes() -> None:
    with pytest.raises(ProofError):
        verify_consistency(4, 8, ROOTS[4], ROOTS[8], [])


def test_it_exposes_a_root_from_an_inclusion_proof() -> None:
    proof = inclusion_proof(5, LEAVES[:11])
    assert merkle.root_from_inclusion_proof(5, 11, LEAVES[5], proof) == ROOTS[11]
