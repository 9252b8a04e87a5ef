"""End-to-end check of the live database: the `verify_ledger` command and the periodic audit.

Recomputes the tree from the stored leaves and compares everything stored alongside them:
sequence numbers, leaf hashes, canonical leaf bytes, hash tiles, the tree state, and every
checkpoint's root and signature, and every stored witness cosignature against the configured
witness's key. Reports the first failure, naming the seq where it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from ledger import selectors, tiles, witnessing
from ledger.models import Checkpoint, Cosignature, SigningKey
from model_ledger_verify import canonical, checkpoints, compact_range, merkle, notes
from model_ledger_verify.tlog.cosign import cosignatures

CHUNK = 5_000


class IntegrityError(Exception):
    """The stored log is not intact; the message names the first problem found."""


@dataclass
class IntegrityReport:
    entries: int = 0
    tiles: int = 0
    checkpoints: int = 0
    cosignatures: int = 0
    # Cosignatures by witnesses no longer configured: their keys are not known here any more.
    cosignatures_unchecked: int = 0
    root: bytes = merkle.EMPTY_ROOT
    problems: list[str] = field(default_factory=list)


def _check_leaf(seq: int, leaf: bytes, origin: str) -> None:
    try:
        decoded = canonical.loads(leaf)
        if canonical.dumps(decoded) != leaf:
            raise IntegrityError(f"seq {seq}: leaf bytes are not canonical JSON.")
    except canonical.CanonicalError as exc:
        raise IntegrityError(f"seq {seq}: leaf is not valid canonical JSON ({exc}).") from None
    if not isinstance(decoded, dict) or decoded.get("seq") != seq:
        raise IntegrityError(
            f"seq {seq}: leaf says seq {decoded.get('seq') if isinstance(decoded, dict) else '?'}; "
            "entries were reordered or rewritten."
        )
    if decoded.get("origin") != origin:
        raise IntegrityError(f"seq {seq}: leaf origin {decoded.get('origin')!r} is not {origin!r}.")


def _compare_partials(size: int, stored: bytes, expected: bytes) -> None:
    """Name the first hash where the tree state's partial tiles differ from the leaves'."""
    if stored == expected:
        return
    pos = 0
    for level, index, width in tiles.partial_widths(size):
        for offset in range(width):
            at = slice(pos, pos + tiles.HASH_SIZE)
            if stored[at] != expected[at]:
                first = (index * tiles.TILE_WIDTH + offset) << (tiles.TILE_HEIGHT * level)
                raise IntegrityError(
                    f"seq {first}: the tree state's partial tile {level}/{index} does not match the leaves."
                )
            pos += tiles.HASH_SIZE
    raise IntegrityError(f"seq {size}: the tree state's partial tiles do not match the leaves.")


def verify_database(*, progress: Callable[[int, int], None] | None = None) -> IntegrityReport:
    """Return a report of the intact log; raise IntegrityError naming the first bad seq."""
    origin = settings.LEDGER_ORIGIN
    state = selectors.tree_state()
    size = state.size if state else 0
    stored = list(Checkpoint.objects.order_by("size"))
    wanted_sizes = {cp.size for cp in stored}
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
    report = IntegrityReport()
    compact = compact_range.CompactRange()
    builder = tiles.TileBuilder(0, b"")

    def compare_tiles() -> None:
        """Compare the tiles the leaves filled so far with the stored ones, level by level."""
        expected = builder.full
        if not expected:
            return
        by_level: dict[int, list[tuple[int, bytes]]] = {}
        for level, index, blob in expected:
            by_level.setdefault(level, []).append((index, blob))
        for level, rows in sorted(by_level.items()):
            stored = dict(selectors.tiles_between(level, rows[0][0], rows[-1][0]))
            for index, blob in rows:
                if stored.get(index) != blob:
                    first = index << (tiles.TILE_HEIGHT * (level + 1))
                    last = ((index + 1) << (tiles.TILE_HEIGHT * (level + 1))) - 1
                    problem = "is missing" if index not in stored else "does not match the leaves"
                    raise IntegrityError(f"seq {first}..{last}: stored tile {level}/{index} {problem}.")
        report.tiles += len(expected)
        expected.clear()

    next_seq = 0
    for seq, leaf_hash, leaf in selectors.entry_range(0, 2**62):
        if seq != next_seq:
            raise IntegrityError(f"seq {next_seq}: missing; the next stored entry is seq {seq}.")
        _check_leaf(seq, leaf, origin)
        if merkle.leaf_hash(leaf) != leaf_hash:
            raise IntegrityError(f"seq {seq}: stored leaf hash does not match the leaf bytes.")
        for level, index, digest in compact.append(leaf_hash):
            if level % tiles.TILE_HEIGHT == 0:
                builder.add(level, index, digest)
        next_seq += 1
        if next_seq in wanted_sizes:
            roots[next_seq] = compact.root()
        if next_seq % CHUNK == 0:
            compare_tiles()
            if progress:
                progress(next_seq, size)
    compare_tiles()
    report.entries = next_seq
    if next_seq != size:
        raise IntegrityError(
            f"seq {min(next_seq, size)}: the tree state says {size} entries but {next_seq} are stored."
        )
    stored_tiles = selectors.tile_count()
    if stored_tiles != report.tiles:
        raise IntegrityError(f"seq {size}: {stored_tiles - report.tiles} stored tiles lie outside the tree.")
    _compare_partials(size, bytes(state.partial_tiles) if state else b"", builder.partials())
    report.root = compact.root()
    if state is not None and bytes(state.root) != report.root:
        raise IntegrityError(f"seq {size}: the tree state root does not match the leaves.")
    verifiers = {key.pk: notes.Verifier.from_string(key.verifier_key) for key in SigningKey.objects.all()}
    for cp in stored:
        if cp.size > size:
            raise IntegrityError(f"seq {size}: a checkpoint claims size {cp.size}, beyond the log.")
        if bytes(cp.root) != roots[cp.size]:
            raise IntegrityError(
                f"seq {cp.size - 1 if cp.size else 0}: the checkpoint at size {cp.size} "
                "does not match the stored leaves."
            )
        verifier = verifiers.get(cp.key_id)
        try:
            if verifier is None:
                raise notes.NoteError("its key is not registered")
            body = checkpoints.open_checkpoint(cp.note, [verifier], origin=origin)
        except notes.NoteError as exc:
            raise IntegrityError(f"checkpoint at size {cp.size}: signature invalid ({exc}).") from None
        if body.size != cp.size or body.root != bytes(cp.root):
            raise IntegrityError(f"checkpoint at size {cp.size}: the signed note says otherwise.")
        report.checkpoints += 1
    _check_cosignatures({cp.pk: cp for cp in stored}, report)
    return report


def _check_cosignatures(by_id: dict[int, Checkpoint], report: IntegrityReport) -> None:
    """Check each stored cosignature on its checkpoint's note with the witness's configured key."""
    witnesses, _ = witnessing.configured()
    keys = {(w.name, w.verifier.key_id.hex()): w.verifier for w in witnesses}
    rows = Cosignature.objects.order_by("checkpoint_id", "witness").values_list(
        "checkpoint_id", "witness", "key_id", "timestamp", "line"
    )
    for checkpoint_id, witness, key_id, timestamp, line in rows.iterator(chunk_size=CHUNK):
        size = by_id[checkpoint_id].size
        verifier = keys.get((witness, key_id))
        if verifier is None:
            report.cosignatures_unchecked += 1
            continue
        try:
            found = cosignatures(by_id[checkpoint_id].note + line, [verifier])
        except notes.NoteError as exc:
            raise IntegrityError(
                f"checkpoint at size {size}: the cosignature by {witness} is invalid ({exc})."
            ) from None
        if not found or found[0].timestamp != timestamp or found[0].line != line:
            raise IntegrityError(f"checkpoint at size {size}: the cosignature by {witness} is not the one stored.")
        report.cosignatures += 1
