"""Reads from the log: entries, checkpoints, proofs from stored nodes, export streams.

Every proof is assembled from the O(log n) complete-subtree hashes that `model_ledger_verify.merkle` names,
fetched in at most two queries (leaf hashes from entries, interior nodes from nodes); no proof
ever loads the leaves of the tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from django.db.models import Q

from ledger.errors import BadProofRequest, NotInLog
from ledger.models import Checkpoint, Entry, Node, SigningKey, TreeState
from model_ledger_verify import merkle

EXPORT_CHUNK = 5_000


def tree_size() -> int:
    """Return the number of entries integrated so far."""
    state = TreeState.objects.filter(pk=TreeState.SINGLETON).only("size").first()
    return state.size if state else 0


def checkpoint_latest() -> Checkpoint | None:
    return Checkpoint.objects.select_related("key").order_by("-size").first()


def checkpoint_list() -> Iterable[Checkpoint]:
    return Checkpoint.objects.select_related("key").order_by("size")


def signing_key_list() -> Iterable[SigningKey]:
    return SigningKey.objects.order_by("valid_from")


def entry_get(seq: int) -> Entry:
    """Return the entry at `seq`; raise NotInLog if there is none."""
    entry = Entry.objects.filter(seq=seq).first()
    if entry is None:
        raise NotInLog(f"There is no entry with seq {seq}.")
    return entry


def entry_by_key(idempotency_key: str) -> Entry | None:
    return Entry.objects.filter(idempotency_key=idempotency_key).first()


def entry_by_leaf_hash(leaf_hash: bytes) -> Entry:
    entry = Entry.objects.filter(leaf_hash=leaf_hash).first()
    if entry is None:
        raise NotInLog("No entry has that leaf hash.")
    return entry


def entry_range(start: int, end: int) -> Iterator[tuple[int, bytes, bytes]]:
    """Yield (seq, leaf_hash, leaf) for start ≤ seq < end, in order, in bounded chunks."""
    rows = Entry.objects.filter(seq__gte=start, seq__lt=end).order_by("seq").values_list("seq", "leaf_hash", "leaf")
    for seq, leaf_hash, leaf in rows.iterator(chunk_size=EXPORT_CHUNK):
        yield seq, bytes(leaf_hash), bytes(leaf)


def node_hashes(wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Return the stored hash of each complete subtree (level, index) asked for.

    Raise NotInLog if one is missing, which means the tree is not that big yet.
    """
    wanted = set(wanted)
    leaves = [index for level, index in wanted if level == 0]
    interior = [pair for pair in wanted if pair[0] > 0]
    found: dict[tuple[int, int], bytes] = {}
    if leaves:
        for seq, digest in Entry.objects.filter(seq__in=leaves).values_list("seq", "leaf_hash"):
            found[(0, seq)] = bytes(digest)
    if interior:
        # One condition per level (at most 63), not one per node: keeps the SQL shallow.
        by_level: dict[int, list[int]] = {}
        for level, index in interior:
            by_level.setdefault(level, []).append(index)
        condition = Q()
        for level, indexes in by_level.items():
            condition |= Q(level=level, index__in=indexes)
        for level, index, digest in Node.objects.filter(condition).values_list("level", "index", "hash"):
            found[(level, index)] = bytes(digest)
    missing = wanted - found.keys()
    if missing:
        raise NotInLog(f"The log has no stored node {min(missing)}; is the tree that large?")
    return found


def node_hashes_between(
    wanted: Iterable[tuple[int, int]],
) -> Iterator[tuple[tuple[int, int], bytes]]:
    """Yield the stored interior nodes spanning the index ranges of `wanted`, level by level.

    For bulk checks: one range query per level rather than one condition per node.
    """
    spans: dict[int, list[int]] = {}
    for level, index in wanted:
        low_high = spans.setdefault(level, [index, index])
        low_high[0], low_high[1] = min(low_high[0], index), max(low_high[1], index)
    for level, (low, high) in sorted(spans.items()):
        rows = Node.objects.filter(level=level, index__gte=low, index__lte=high)
        for index, digest in rows.values_list("index", "hash"):
            yield (level, index), bytes(digest)


def _hash_ranges(ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    plans = [merkle.range_nodes(begin, end) for begin, end in ranges]
    found = node_hashes(pair for plan in plans for pair in plan)
    return [merkle.fold_nodes([found[pair] for pair in plan]) for plan in plans]


def root_at(size: int) -> bytes:
    """Return the Merkle tree hash of the first `size` entries, from stored nodes."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return _hash_ranges([(0, size)])[0]


def _check_size(size: int, *, checkpoint_bound: bool) -> None:
    if size < 0:
        raise BadProofRequest("Tree sizes cannot be negative.")
    if checkpoint_bound:
        latest = Checkpoint.objects.order_by("-size").values_list("size", flat=True).first()
        if latest is None:
            raise BadProofRequest("No checkpoint has been signed yet.")
        if size > latest:
            raise BadProofRequest(f"Tree size {size} is beyond the latest signed checkpoint ({latest}).")
    elif size > tree_size():
        raise BadProofRequest(f"Tree size {size} is beyond the log's size ({tree_size()}).")


def inclusion_proof(index: int, size: int, *, checkpoint_bound: bool = True) -> list[bytes]:
    """Return the RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves.

    With `checkpoint_bound`, `size` may not exceed the latest signed checkpoint, so the proof can
    always be checked against a signed root. Raise BadProofRequest for out-of-range arguments.
    """
    _check_size(size, checkpoint_bound=checkpoint_bound)
    if not 0 <= index < size:
        raise BadProofRequest(f"Leaf index {index} is not within a tree of size {size}.")
    return _hash_ranges(merkle.inclusion_proof_ranges(index, size))


def consistency_proof(size1: int, size2: int, *, checkpoint_bound: bool = True) -> list[bytes]:
    """Return the RFC 9162 consistency proof between tree sizes `size1` ≤ `size2`."""
    _check_size(size2, checkpoint_bound=checkpoint_bound)
    if not 0 <= size1 <= size2:
        raise BadProofRequest(f"size1 ({size1}) must be between 0 and size2 ({size2}).")
    return _hash_ranges(merkle.consistency_proof_ranges(size1, size2))
