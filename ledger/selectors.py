"""Reads from the log: entries, checkpoints, proofs from stored tiles, export streams.

Every proof is assembled from the O(log n) complete-subtree hashes that
`model_ledger_verify.merkle` names, folded from the few tiles (`ledger.tiles`) that hold them,
fetched in one query; no proof ever loads the leaves of the tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q

from ledger import tiles
from ledger.errors import BadProofRequest, NotInLog
from ledger.models import Checkpoint, Entry, SigningKey, Tile, TreeState
from model_ledger_verify import merkle

EXPORT_CHUNK = 5_000


def tree_size() -> int:
    """Return the number of entries integrated so far."""
    state = TreeState.objects.filter(pk=TreeState.SINGLETON).only("size").first()
    return state.size if state else 0


def checkpoint_latest() -> Checkpoint | None:
    return Checkpoint.objects.select_related("key").order_by("-size").first()


def checkpoint_latest_size() -> int | None:
    return Checkpoint.objects.order_by("-size").values_list("size", flat=True).first()


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


def entries_at(seqs: Iterable[int]) -> dict[int, Entry]:
    """Return {seq: entry} for `seqs` (one query); raise NotInLog naming the first missing seq."""
    wanted = set(seqs)
    found = {entry.seq: entry for entry in Entry.objects.filter(seq__in=wanted)} if wanted else {}
    missing = sorted(wanted - found.keys())
    if missing:
        raise NotInLog(f"There is no entry with seq {missing[0]}.")
    return found


def entry_by_key(idempotency_key: str) -> Entry | None:
    return Entry.objects.filter(idempotency_key=idempotency_key).first()


def entries_with_prefixes(prefixes: Sequence[str]) -> list[Entry]:
    """Return the entries whose idempotency key starts with one of `prefixes` (one query), by seq."""
    if not prefixes:
        return []
    where = Q()
    for prefix in prefixes:
        where |= Q(idempotency_key__startswith=prefix)
    return list(Entry.objects.filter(where).order_by("seq"))


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


def entries_by_keys(keys: Sequence[str]) -> dict[str, Entry]:
    """Return {idempotency key: entry} for those of `keys` that are in the log."""
    keys = list(keys)
    if not keys:
        return {}
    if connection.vendor == "postgresql":
        # One array parameter instead of an IN list of thousands of placeholders.
        rows = Entry.objects.raw(
            "SELECT seq, leaf, leaf_hash, idempotency_key FROM ledger_entry WHERE idempotency_key = ANY(%s)", [keys]
        )
        return {entry.idempotency_key: entry for entry in rows}
    found: dict[str, Entry] = {}
    for start in range(0, len(keys), 500):
        found.update(
            (e.idempotency_key, e) for e in Entry.objects.filter(idempotency_key__in=keys[start : start + 500])
        )
    return found


@dataclass(frozen=True)
class Position:
    """Where an entry sits in the log: all a receipt quotes of it."""

    seq: int
    leaf_hash: bytes


def positions_by_keys(keys: Sequence[str]) -> dict[str, Position]:
    """Return {idempotency key: position} for those of `keys` that are in the log.

    `entries_by_keys` without the leaves and without model instances: a batch's receipts read
    a thousand of these per request.
    """
    keys = list(keys)
    found: dict[str, Position] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT idempotency_key, seq, leaf_hash FROM ledger_entry WHERE idempotency_key = ANY(%s)", [keys]
            )
            rows = cursor.fetchall()
        else:
            rows = []
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"SELECT idempotency_key, seq, leaf_hash FROM ledger_entry WHERE idempotency_key IN ({marks})",  # noqa: S608
                    chunk,
                )
                rows += cursor.fetchall()
    for key, seq, leaf_hash in rows:
        found[key] = Position(seq, bytes(leaf_hash))
    return found


@dataclass(frozen=True)
class _TileRead:
    """What one proof query read, from one snapshot: tiles, the tree size, the latest checkpoint."""

    tiles: dict[tuple[int, int], bytes]
    tree_size: int
    checkpoint_size: int | None
    note: str | None = None
    witnessed: Witnessed | None = None


# A query choosing one checkpoint row (id, size, root, note), with its parameters.
Chooser = tuple[str, Sequence[object]]


@dataclass(frozen=True)
class Witnessed:
    """A checkpoint chosen by a `Chooser`, read with a proof, and its cosignatures:
    (witness, key_id, line), in the order of witness and key."""

    size: int
    root: bytes
    note: str
    cosignatures: list[tuple[str, str, str]]


def _text_as_blob(expr: str) -> str:
    return f"convert_to({expr}, 'UTF8')" if connection.vendor == "postgresql" else f"CAST({expr} AS BLOB)"


def _read_tiles(
    wanted: set[tuple[int, int]], *, note_of: int | None = None, witnessed: Chooser | None = None
) -> _TileRead:
    """Fetch the tiles asked for, the tree state's partial tiles and the latest checkpoint's size.

    One statement, so the partial tiles and the full ones come from the same snapshot: a tile
    that fills meanwhile is found in one place or the other, never in neither. With `note_of`,
    the signed note of the checkpoint of that size comes along too; with `witnessed`, the
    checkpoint it chooses with its cosignatures.
    """
    pairs = sorted(wanted)
    where = " OR ".join(['(level = %s AND "index" = %s)'] * len(pairs)) or "1 = 0"
    params: list[int] = [value for pair in pairs for value in pair]
    sql = (
        f'SELECT level, "index", hashes FROM ledger_tile WHERE {where} '  # noqa: S608  (placeholders only)
        "UNION ALL SELECT -1, size, partial_tiles FROM ledger_treestate WHERE id = 1 "
        "UNION ALL SELECT -2, MAX(size), NULL FROM ledger_checkpoint"
    )
    if note_of is not None:
        sql += f" UNION ALL SELECT -3, size, {_text_as_blob('note')} FROM ledger_checkpoint WHERE size = %s"  # noqa: S608
        params.append(note_of)
    if witnessed is not None:
        # Witness names and key ids hold no newline, so the line is what follows the second.
        line = _text_as_blob("s.witness || '\n' || s.key_id || '\n' || s.line")
        sql = (
            f"WITH w AS ({witnessed[0]}) {sql} UNION ALL SELECT -4, size, root FROM w "  # noqa: S608
            f"UNION ALL SELECT -5, size, {_text_as_blob('note')} FROM w UNION ALL SELECT -6, 0, {line} "
            "FROM w JOIN ledger_cosignature s ON s.checkpoint_id = w.id"
        )
        params = [*witnessed[1], *params]
    tiles_found: dict[tuple[int, int], bytes] = {}
    tree_size, partials, checkpoint_size, note_text = 0, b"", None, None
    chosen: dict[int, bytes] = {}
    cosigned: list[tuple[str, str, str]] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for level, index, blob in cursor.fetchall():
            if level == -1:
                tree_size, partials = index, bytes(blob)
            elif level == -2:
                checkpoint_size = index
            elif level == -3:
                note_text = bytes(blob).decode()
            elif level in (-4, -5):
                chosen[level], chosen_size = bytes(blob), index
            elif level == -6:
                witness, key_id, line = bytes(blob).decode().split("\n", 2)
                cosigned.append((witness, key_id, line))
            else:
                tiles_found[(level, index)] = bytes(blob)
    found_witnessed = None
    if chosen:
        found_witnessed = Witnessed(chosen_size, chosen[-4], chosen[-5].decode(), sorted(cosigned))
    if tree_size:
        parts = tiles.split_partials(tree_size, partials)
        for (level, index, _), part in zip(tiles.partial_widths(tree_size), parts, strict=True):
            if (level, index) in wanted and (level, index) not in tiles_found:
                tiles_found[(level, index)] = bytes(part)
    return _TileRead(tiles_found, tree_size, checkpoint_size, note_text, found_witnessed)


def _bound(read: _TileRead, size: int, *, checkpoint_bound: bool) -> None:
    if checkpoint_bound:
        if read.checkpoint_size is None:
            raise BadProofRequest("No checkpoint has been signed yet.")
        if size > read.checkpoint_size:
            raise BadProofRequest(f"Tree size {size} is beyond the latest signed checkpoint ({read.checkpoint_size}).")
    elif size > read.tree_size:
        raise BadProofRequest(f"Tree size {size} is beyond the log's size ({read.tree_size}).")


def _hash_ranges(
    ranges: Sequence[tuple[int, int]],
    size: int,
    *,
    checkpoint_bound: bool,
    leaf: int | None = None,
    note_of: int | None = None,
    witnessed: Chooser | None = None,
) -> tuple[list[bytes], _TileRead, bytes | None]:
    """Return the MTH of each leaf range from the tiles, after checking `size` is servable,
    with what was read and, given `leaf`, that leaf's hash (from its level-0 tile)."""
    plans = [merkle.range_nodes(begin, end) for begin, end in ranges]
    wanted_nodes = {pair for plan in plans for pair in plan}
    if leaf is not None:
        wanted_nodes.add((0, leaf))
    wanted_tiles = {tiles.tile_for_node(level, index)[:2] for level, index in wanted_nodes}
    read = _read_tiles(wanted_tiles, note_of=note_of, witnessed=witnessed)
    _bound(read, size, checkpoint_bound=checkpoint_bound)
    try:
        found = tiles.node_hashes_from_tiles(wanted_nodes, read.tiles)
    except KeyError as exc:
        raise NotInLog(f"The log has no stored node {exc.args[0]}; is the tree that large?") from None
    hashes = [merkle.fold_nodes([found[pair] for pair in plan]) for plan in plans]
    return hashes, read, found.get((0, leaf)) if leaf is not None else None


def root_at(size: int) -> bytes:
    """Return the Merkle tree hash of the first `size` entries, from the stored tiles."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return _hash_ranges([(0, size)], size, checkpoint_bound=False)[0][0]


def _check_size(size: int, *, checkpoint_bound: bool) -> None:
    if size < 0:
        raise BadProofRequest("Tree sizes cannot be negative.")
    _bound(_read_tiles(set()), size, checkpoint_bound=checkpoint_bound)


def inclusion_proof(index: int, size: int, *, checkpoint_bound: bool = True) -> list[bytes]:
    """Return the RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves.

    With `checkpoint_bound`, `size` may not exceed the latest signed checkpoint, so the proof can
    always be checked against a signed root. Raise BadProofRequest for out-of-range arguments.
    One query: the tiles holding the proof's nodes, the partial tiles and the bound together.
    """
    return inclusion_proof_signed(index, size, checkpoint_bound=checkpoint_bound).proof


def inclusion_proofs(indexes: Iterable[int], size: int, *, checkpoint_bound: bool = True) -> dict[int, list[bytes]]:
    """Return {index: RFC 9162 inclusion proof of leaf index in the tree of `size` leaves}.

    Each proof equals `inclusion_proof(index, size)`; the tiles that hold all their nodes are
    read with one query (proofs in one tree share most of their upper nodes, so the tiles are few).
    Raise BadProofRequest as `inclusion_proof` does for any index out of range.
    """
    wanted = sorted(set(indexes))
    if not wanted:
        return {}
    for index in wanted:
        if not 0 <= index < size:
            _check_size(size, checkpoint_bound=checkpoint_bound)
            raise BadProofRequest(f"Leaf index {index} is not within a tree of size {size}.")
    plans = [merkle.inclusion_proof_ranges(index, size) for index in wanted]
    hashes = _hash_ranges([r for ranges in plans for r in ranges], size, checkpoint_bound=checkpoint_bound)[0]
    proofs, start = {}, 0
    for index, ranges in zip(wanted, plans, strict=True):
        proofs[index] = hashes[start : start + len(ranges)]
        start += len(ranges)
    return proofs


@dataclass(frozen=True)
class InclusionProof:
    """An inclusion proof with the leaf hash it proves and the note of the checkpoint at `size`."""

    index: int
    size: int
    leaf_hash: bytes
    proof: list[bytes]
    checkpoint: str | None
    witnessed: Witnessed | None = None


def inclusion_proof_signed(
    index: int, size: int, *, checkpoint_bound: bool = True, witnessed: Chooser | None = None
) -> InclusionProof:
    """Return the inclusion proof of leaf `index` in the tree of `size`, with the leaf's hash and
    the signed note of the checkpoint of that size (None if that size was never signed), and the
    checkpoint `witnessed` chooses (None if it chooses none).

    One query: the tiles (the leaf hash is in its level-0 tile), the bound and the notes together.
    """
    if not 0 <= index < size:
        _check_size(size, checkpoint_bound=checkpoint_bound)
        raise BadProofRequest(f"Leaf index {index} is not within a tree of size {size}.")
    ranges = merkle.inclusion_proof_ranges(index, size)
    proof, read, leaf_hash = _hash_ranges(
        ranges, size, checkpoint_bound=checkpoint_bound, leaf=index, note_of=size, witnessed=witnessed
    )
    assert leaf_hash is not None
    return InclusionProof(index, size, leaf_hash, proof, read.note, read.witnessed)


def consistency_proof(size1: int, size2: int, *, checkpoint_bound: bool = True) -> list[bytes]:
    """Return the RFC 9162 consistency proof between tree sizes `size1` ≤ `size2`."""
    return consistency_proof_witnessed(size1, size2, checkpoint_bound=checkpoint_bound)[0]


def consistency_proof_witnessed(
    size1: int, size2: int, *, checkpoint_bound: bool = True, witnessed: Chooser | None = None
) -> tuple[list[bytes], Witnessed | None]:
    """Return the consistency proof between `size1` ≤ `size2` and, read in the same query, the
    checkpoint `witnessed` chooses (None if it chooses none)."""
    if size2 < 0 or not 0 <= size1 <= size2:
        _check_size(size2, checkpoint_bound=checkpoint_bound)
        raise BadProofRequest(f"size1 ({size1}) must be between 0 and size2 ({size2}).")
    ranges = merkle.consistency_proof_ranges(size1, size2)
    proof, read, _ = _hash_ranges(ranges, size2, checkpoint_bound=checkpoint_bound, witnessed=witnessed)
    return proof, read.witnessed


def tile_hashes(level: int, index: int, width: int) -> bytes:
    """Return the first `width` hashes of tile (level, index), full or the partial one.

    Raise NotInLog if the tree does not hold that many hashes there yet.
    """
    found = _read_tiles({(level, index)}).tiles.get((level, index), b"")
    if len(found) < width * tiles.HASH_SIZE:
        raise NotInLog(f"The log is missing hashes of tile {level}/{index}.")
    return found[: width * tiles.HASH_SIZE]


def tiles_between(level: int, first: int, last: int) -> Iterator[tuple[int, bytes]]:
    """Yield (index, hashes) of the stored full tiles of a tile level, first ≤ index ≤ last."""
    rows = Tile.objects.filter(level=level, index__gte=first, index__lte=last).order_by("index")
    for index, blob in rows.values_list("index", "hashes"):
        yield index, bytes(blob)


def tile_count() -> int:
    return Tile.objects.count()


def tree_state() -> TreeState | None:
    return TreeState.objects.filter(pk=TreeState.SINGLETON).first()
