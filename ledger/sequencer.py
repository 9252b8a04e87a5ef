"""The sequencer: turns queued submissions into leaves, tiles and a new tree state.

One integration is one transaction under the tree-state row lock (DESIGN.md, the write path):
take a batch off the queue, number it from the current size, build the canonical leaves, extend
the compact range, write the entries and every tile that filled, and store the new size, root,
frontier and partial tiles. Concurrent integrations take turns on the lock, so the tree cannot
fork and `seq` has no gaps.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger import tiles
from ledger.models import TreeState
from model_ledger_verify import compact_range, merkle
from model_ledger_verify import leaf as leaf_format

# Submissions sequenced per transaction: large enough that the lock, the commit and the
# statements are a small share of the work (about 0.3 s of CPU per batch on one core), small
# enough that the transaction stays short and a waiting receipt is not held up for long.
INTEGRATE_BATCH_SIZE = 10_000


def tree_state_locked(*, wait: bool = True) -> TreeState | None:
    """Return the tree-state row locked for this transaction, creating it for an empty log.

    With `wait=False`, return None at once if another transaction holds the lock.
    """
    query = TreeState.objects.select_for_update(skip_locked=not wait).filter(pk=TreeState.SINGLETON)
    state = query.first()
    if state is None:
        if not wait and TreeState.objects.filter(pk=TreeState.SINGLETON).exists():
            return None  # skipped: it is locked
        TreeState.objects.get_or_create(
            pk=TreeState.SINGLETON,
            defaults={"root": merkle.EMPTY_ROOT, "updated_at": timezone.now()},
        )
        state = query.first()
    return state


def _take_batch(cursor, batch_size: int) -> list[tuple]:
    """Delete up to `batch_size` of the oldest submissions and return them, oldest first.

    One statement (DELETE … RETURNING) both reads and removes the batch; the tree lock keeps any
    other sequencer away from the queue meanwhile.
    """
    cursor.execute(
        "DELETE FROM ledger_submission WHERE id IN "
        "(SELECT id FROM ledger_submission ORDER BY id LIMIT %s) "
        "RETURNING id, idempotency_key, type, actor, subject, data",
        [batch_size],
    )
    return sorted(cursor.fetchall())


def _keys_in_log(cursor, keys: list[str]) -> set[str]:
    if cursor.db.vendor == "postgresql":
        cursor.execute("SELECT idempotency_key FROM ledger_entry WHERE idempotency_key = ANY(%s)", [keys])
        return {row[0] for row in cursor.fetchall()}
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join(["%s"] * len(chunk))
        cursor.execute(f"SELECT idempotency_key FROM ledger_entry WHERE idempotency_key IN ({marks})", chunk)  # noqa: S608
        found.update(row[0] for row in cursor.fetchall())
    return found


class _Batch:
    """The rows one integration writes, built from the queued submissions."""

    def __init__(self, state: TreeState, queued: list[tuple], skip: set[str]) -> None:
        frontier = bytes(state.frontier)
        compact = compact_range.CompactRange(state.size, [frontier[i : i + 32] for i in range(0, len(frontier), 32)])
        builder = tiles.TileBuilder(state.size, bytes(state.partial_tiles))
        add = builder.add
        append = compact.append
        encode = leaf_format.encode
        leaf_hash = merkle.leaf_hash
        origin = settings.LEDGER_ORIGIN
        ts = leaf_format.timestamp(timezone.now())
        seen = set(skip)
        entries: list[tuple[int, bytes, bytes, str]] = []
        for _id, key, type_, actor, subject, data in queued:
            if key in seen:
                continue
            seen.add(key)
            seq = compact.size
            leaf = encode(
                origin=origin,
                seq=seq,
                ts=ts,
                type=type_,
                actor=actor,
                subject=subject,
                idempotency_key=key,
                data=bytes(data),
            )
            lh = leaf_hash(leaf)
            entries.append((seq, leaf, lh, key))
            done = append(lh)
            add(0, seq, lh)
            if len(done) > tiles.TILE_HEIGHT:
                for level, index, digest in done[tiles.TILE_HEIGHT :: tiles.TILE_HEIGHT]:
                    add(level, index, digest)
        self.entries = entries
        self.full_tiles = builder.full
        self.partials = builder.partials()
        self.compact = compact


def _write(cursor, batch: _Batch) -> None:
    """Insert the batch's entries and full tiles: COPY on PostgreSQL, executemany elsewhere."""
    if cursor.db.vendor == "postgresql":
        # COPY streams every row in one round trip: an order of magnitude above INSERTs.
        raw = cursor.cursor
        with raw.copy("COPY ledger_entry (seq, leaf, leaf_hash, idempotency_key) FROM STDIN") as copy:
            for row in batch.entries:
                copy.write_row(row)
        if batch.full_tiles:
            with raw.copy('COPY ledger_tile (level, "index", hashes) FROM STDIN') as copy:
                for row in batch.full_tiles:
                    copy.write_row(row)
        return
    cursor.executemany(
        "INSERT INTO ledger_entry (seq, leaf, leaf_hash, idempotency_key) VALUES (%s, %s, %s, %s)", batch.entries
    )
    if batch.full_tiles:
        cursor.executemany('INSERT INTO ledger_tile (level, "index", hashes) VALUES (%s, %s, %s)', batch.full_tiles)


@transaction.atomic
def tree_integrate(*, batch_size: int = INTEGRATE_BATCH_SIZE, wait: bool = True) -> int:
    """Sequence up to `batch_size` queued submissions into the log; return how many.

    Holds the tree-state row lock for the whole transaction, so concurrent calls take turns and
    each starts from the size the previous one committed: the tree cannot fork and seq has no
    gaps. With `wait=False`, return -1 at once when another integration holds the lock.
    """
    state = tree_state_locked(wait=wait)
    if state is None:
        return -1
    connection = transaction.get_connection()
    with connection.cursor() as cursor:
        queued = _take_batch(cursor, batch_size)
        if not queued:
            return 0
        batch = _Batch(state, queued, set())
        try:
            # Optimistic: a key reaches the queue only when it is not in the log, so the
            # check below runs only when a retry raced its original past that test.
            with transaction.atomic(), connection.wrap_database_errors:
                _write(cursor, batch)
        except IntegrityError:
            batch = _Batch(state, queued, _keys_in_log(cursor, [row[1] for row in queued]))
            with connection.wrap_database_errors:
                _write(cursor, batch)
        compact = batch.compact
        cursor.execute(
            "UPDATE ledger_treestate SET size = %s, frontier = %s, partial_tiles = %s, root = %s, updated_at = %s "
            "WHERE id = %s",
            [
                compact.size,
                b"".join(compact.hashes),
                batch.partials,
                compact.root(),
                timezone.now(),
                TreeState.SINGLETON,
            ],
        )
    return len(batch.entries)


def queue_is_empty() -> bool:
    # By the primary key rather than `NOT EXISTS (SELECT 1 FROM ledger_submission)`: the queue is
    # emptied by DELETE, and a sequential scan reads every page its dead rows still fill until a
    # vacuum reclaims them (128 ms at 110,000 dead rows, on every call; 0.5 ms by the index).
    with transaction.get_connection().cursor() as cursor:
        cursor.execute("SELECT id FROM ledger_submission ORDER BY id LIMIT 1")
        return cursor.fetchone() is None


def queue_vacuum() -> bool:
    """VACUUM the submission queue on PostgreSQL (outside a transaction); return whether it ran.

    Every sequenced submission leaves a dead row behind (`_take_batch` deletes it), at the rate
    events are written. Until a vacuum reclaims them the heap and both indexes only grow, and
    every scan of the queue walks them: a log that writes 2,000 events a second would depend on
    autovacuum keeping up with a table it may visit once a minute, or never where it is off. The
    periodic `vacuum` job (config/celery.py) runs this; on an empty queue the vacuum also gives
    the table's pages back.
    """
    connection = transaction.get_connection()
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False  # SQLite reuses freed pages itself; VACUUM cannot run inside a transaction
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ledger_submission")
    return True


def tree_integrate_all(*, batch_size: int = INTEGRATE_BATCH_SIZE, wait: bool = True) -> int:
    """Integrate until the queue is empty; return the number of entries added.

    With `wait=False` (group commit), give way at once to an integration already running:
    that one drains the queue, and it looks at the queue again after releasing the lock, so a
    submission committed before this call gave way is never left behind. With `wait=False` and
    an empty queue, return 0 without taking the lock (locking the row would cost a commit).
    """
    if not wait and queue_is_empty():
        return 0
    total = 0
    while True:
        added = tree_integrate(batch_size=batch_size, wait=wait)
        if added < 0:
            return total
        total += added
        if not added and queue_is_empty():
            return total


def tree_integrate_before_commit() -> int:
    """Sequence the queue, this transaction's own submissions included; return the entries added.

    For a writer that answers only once its entries are in the log: its rows, its submissions
    and their entries commit together, one commit instead of two, and the sequencer runs once
    for it instead of once after its commit and again while it waits. Call last in the
    transaction: the tree lock is held from here to the commit, so the other writers' integrations
    wait for this one. On PostgreSQL the transaction's deferred foreign-key checks run first,
    so they are not done under the lock.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("tree_integrate_before_commit needs a transaction.")
    if connection.vendor == "postgresql":
        connection.check_constraints()  # SET CONSTRAINTS ALL IMMEDIATE, then DEFERRED again
    return tree_integrate_all()
