"""The tamper-evident log: queued submissions, entries, tree nodes, tree state, checkpoints, keys.

Entries, tiles and checkpoints are append-only in the database itself (triggers installed by
migrations 0002 and 0003). The tree state row is the only row ever updated, always under a row
lock.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Submission(models.Model):
    """An event waiting to be sequenced into the log.

    Written inside the caller's transaction, so it exists only if the caller's own writes
    committed. The sequencer deletes each submission in the same transaction that turns it into an
    entry, so the queue holds only what is not yet in the log.
    """

    idempotency_key = models.CharField(max_length=200)
    type = models.CharField(max_length=64)
    actor = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    # The event payload as RFC 8785 canonical JSON bytes, validated at submit time.
    data = models.BinaryField()
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            # A constraint rather than unique=True: no unused varchar_pattern_ops twin on
            # PostgreSQL. `submit` relies on it (ON CONFLICT) to queue a key once.
            models.UniqueConstraint(
                fields=["idempotency_key"],
                name="%(app_label)s_%(class)s_key_unique",
                violation_error_message="This idempotency key is already queued.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} ({self.idempotency_key})"


class Entry(models.Model):
    """One leaf of the log: canonical JSON bytes, stored exactly as hashed, never re-serialised.

    `seq` is the leaf index, assigned by the sequencer contiguously from 0 (never by a database
    sequence, which would leave gaps on rollback).
    """

    seq = models.BigIntegerField(primary_key=True)
    leaf = models.BinaryField()
    # Not unique by constraint: every leaf carries its own seq, so two leaves cannot share a
    # hash short of a SHA-256 collision, and a unique B-tree costs twice the space of a hash index.
    leaf_hash = models.BinaryField(max_length=32)
    idempotency_key = models.CharField(max_length=200)

    class Meta:
        verbose_name_plural = "entries"
        ordering = ["seq"]
        indexes = [
            # Lookups by leaf hash (proof by leaf hash, receipts checks): equality only, so a
            # hash index on PostgreSQL (migration 0003 creates it `USING hash`).
            models.Index(fields=["leaf_hash"], name="ledger_entry_leaf_hash"),
        ]
        constraints = [
            # Receipts and retries look entries up by key (equality). On PostgreSQL the column
            # has the "C" collation (migration 0009), so this index also serves reconciliation's
            # reads of a few leaves by key prefix (`LIKE 'role.granted:%'`).
            models.UniqueConstraint(
                fields=["idempotency_key"],
                name="%(app_label)s_%(class)s_key_unique",
                violation_error_message="This idempotency key is already in the log.",
            ),
            models.CheckConstraint(
                condition=Q(seq__gte=0),
                name="%(app_label)s_%(class)s_seq_non_negative",
                violation_error_message="An entry's sequence number cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"entry {self.seq}"


class Tile(models.Model):
    """A full tile of 256 node hashes, as C2SP tlog-tiles lays them out (`ledger.tiles`).

    Tile (level, index) holds the tree nodes at tree level 8·level, indexes 256·index to
    256·index + 255, as 8,192 concatenated bytes: exactly what `GET tile/<level>/<index>`
    serves. Only full tiles are rows (they never change); the partial tile of each level lives
    on the tree state row. Nodes between tile levels are folded from a tile when a proof needs them.
    """

    pk = models.CompositePrimaryKey("level", "index")
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hashes = models.BinaryField(max_length=8192)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=0) & Q(index__gte=0),
                name="%(app_label)s_%(class)s_position_non_negative",
                violation_error_message="A tile's level and index cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index}"


class TreeState(models.Model):
    """The single row holding the log's current size and compact range (its frontier).

    Every integration locks this row (SELECT … FOR UPDATE) for its whole transaction, so two
    sequencers can never both extend the tree from the same size: they take turns.
    """

    SINGLETON = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON)
    size = models.BigIntegerField(default=0)
    # Concatenated 32-byte roots of the frontier's complete subtrees, largest first.
    frontier = models.BinaryField(default=b"")
    # The partial tile of each tile level, lowest first; widths follow from `size`
    # (ledger.tiles.partial_widths). Rewritten with every integration, under the lock.
    partial_tiles = models.BinaryField(default=b"")
    root = models.BinaryField(max_length=32)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(id=1),
                name="%(app_label)s_%(class)s_singleton",
                violation_error_message="There is exactly one tree state row.",
            ),
        ]

    def __str__(self) -> str:
        return f"tree of {self.size}"


class SigningKey(models.Model):
    """A checkpoint signing key's public half, with the period in which it signed.

    Keys are rotated by configuring a new key file; the previous key's row gets its
    `valid_until` and stays, so checkpoints it signed keep verifying.
    """

    key_id = models.CharField(max_length=8, unique=True)
    name = models.CharField(max_length=200)
    verifier_key = models.CharField(max_length=400, unique=True)
    development = models.BooleanField(default=False)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["valid_until"],
                condition=Q(valid_until__isnull=True),
                name="%(app_label)s_%(class)s_one_active",
                violation_error_message="Only one signing key can be active at a time.",
            ),
        ]

    def __str__(self) -> str:
        return self.verifier_key


class Checkpoint(models.Model):
    """A signed C2SP checkpoint: the log's (size, root) at a moment, as published.

    One root per size, ever (the size is unique), and each checkpoint was verified consistent with
    the previous one before it was signed.
    """

    size = models.BigIntegerField(unique=True)
    root = models.BinaryField(max_length=32)
    note = models.TextField()
    key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="checkpoints")
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["size"]
        constraints = [
            models.CheckConstraint(
                condition=Q(size__gte=0),
                name="%(app_label)s_%(class)s_size_non_negative",
                violation_error_message="A checkpoint's size cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class Cosignature(models.Model):
    """A witness's C2SP cosignature/v1 on one of our checkpoints, verified before it was stored.

    Served as an extra signature line on the checkpoint note; a checkpoint counts as witnessed
    when enough configured witnesses cosigned it (LEDGER_WITNESS_POLICY).
    """

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="cosignatures")
    witness = models.CharField(max_length=255)
    key_id = models.CharField(max_length=8)
    timestamp = models.BigIntegerField()
    line = models.TextField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["checkpoint_id", "witness"]
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "witness", "key_id"],
                name="%(app_label)s_%(class)s_one_per_witness_key",
                violation_error_message="A witness key cosigns a checkpoint once.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.witness} on {self.checkpoint_id}"


class WitnessStatus(models.Model):
    """What we know of one configured witness: the size it last cosigned and how it answered.

    Updated after every request to the witness; `cosigned_size` is the `old` size of the next
    add-checkpoint request.
    """

    name = models.CharField(max_length=255, unique=True)
    url = models.CharField(max_length=500)
    cosigned_size = models.BigIntegerField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # The last failure or refusal, "" after a success.
    last_error = models.TextField(blank=True)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "witness statuses"

    def __str__(self) -> str:
        return self.name


class WitnessAlertReason(models.TextChoices):
    REFUSED = "refused", "Refused: the witness refused our checkpoint or its answer did not verify"
    FAILING = "failing", "Failing: requests failed"
    BEHIND = "behind", "Behind: has not cosigned a checkpoint in time"


class WitnessAlert(models.Model):
    """A configured witness that stopped cosigning our checkpoints: an alert for the operators.

    Opened by the witness client when a witness refuses a checkpoint, fails
    `ALERT_AFTER_FAILURES` requests in a row, or has not cosigned a checkpoint signed more than
    LEDGER_WITNESS_MAX_LAG seconds ago;
    resolved (`resolved_at`) as soon as the witness has cosigned the latest checkpoint again, or
    is no longer configured. At most one open alert per witness. Operational state, like
    WitnessStatus: it is not a ledger fact and is not in the log.
    """

    Reason = WitnessAlertReason

    witness = models.CharField(max_length=255)
    reason = models.CharField(max_length=10, choices=Reason.choices)
    # What was wrong when it opened (the witness's status row has the latest error).
    summary = models.CharField(max_length=500)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["witness"],
                condition=Q(resolved_at__isnull=True),
                name="%(app_label)s_%(class)s_one_open_per_witness",
                violation_error_message="This witness already has an open alert.",
            ),
            models.CheckConstraint(
                condition=Q(reason__in=WitnessAlertReason.values),
                name="%(app_label)s_%(class)s_reason_valid",
                violation_error_message="reason must be refused, failing or behind.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.witness} {self.reason} since {self.opened_at:%Y-%m-%d %H:%M}"
