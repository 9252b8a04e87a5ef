"""Writes to the log: submit an event, integrate the queue (the sequencer), sign a checkpoint.

The write path (DESIGN.md): a domain service calls `submit` inside its own transaction; after
commit the sequencer turns queued submissions into entries under the tree-state row lock; the
signer publishes checkpoints that it has first proved consistent with the last one it signed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ledger import keys, selectors, tasks
from ledger.errors import EventRejected, NotInLog, SigningRefused
from ledger.models import Checkpoint, Entry
from ledger.sequencer import (  # noqa: F401  (the write API of the log lives here)
    INTEGRATE_BATCH_SIZE,
    queue_is_empty,
    queue_vacuum,
    tree_integrate,
    tree_integrate_all,
    tree_integrate_before_commit,
)
from ledger.sequencer import tree_state_locked as _tree_state_locked
from model_ledger_verify import canonical, checkpoints, merkle

# An event's canonical size limit. Leaves are evidence, not storage: bulky or personal content
# belongs in domain rows and enters the leaf as a hash.
MAX_EVENT_BYTES = 64 * 1024

ENVELOPE_FIELDS = frozenset({"type", "actor", "subject", "idempotency_key", "data"})
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")


@dataclass(frozen=True)
class SubmitResult:
    """What `submit` did: `entry` is set when the key was already in the log."""

    idempotency_key: str
    created: bool
    entry: Entry | None


def _text(name: str, value: object, *, limit: int) -> list[str]:
    if not isinstance(value, str):
        return [f"{name} must be a non-empty string."]
    return list(_text_problems(name, value, limit))


@functools.lru_cache(maxsize=256)
def _text_problems(name: str, value: str, limit: int) -> tuple[str, ...]:
    # Cached: a batch's events share one actor and one subject, checked once instead of per event.
    if not value.strip():
        return (f"{name} must be a non-empty string.",)
    if len(value) > limit:
        return (f"{name} must be at most {limit} characters.",)
    if any(ch in value for ch in "\r\n\t\x00"):
        return (f"{name} must be a single line without control characters.",)
    try:
        canonical.dumps(value)
    except canonical.CanonicalError as exc:
        return (f"{name}: {exc}",)
    return ()


def _validate(type: str, actor: str, subject: str, idempotency_key: str, data: Any) -> bytes:
    errors: dict[str, list[str]] = {}
    if not isinstance(type, str) or not _TYPE_RE.match(type) or len(type) > 64:
        errors["type"] = ["type must be a dotted lowercase name such as `model.registered`."]
    for name, value, limit in (("actor", actor, 200), ("subject", subject, 200)):
        if problems := _text(name, value, limit=limit):
            errors[name] = problems
    if not isinstance(idempotency_key, str) or not _KEY_RE.match(idempotency_key):
        errors["idempotency_key"] = ["idempotency_key must be 1 to 200 printable ASCII characters without spaces."]
    if not isinstance(data, Mapping):
        errors["data"] = ["data must be a JSON object."]
    if errors:
        raise EventRejected("The event is not valid; nothing was written.", errors=errors)
    try:
        data_bytes = canonical.dumps(dict(data))
    except canonical.CanonicalError as exc:
        raise EventRejected(f"The event's data cannot be logged: {exc}", errors={"data": [str(exc)]}) from None
    size = len(data_bytes) + sum(len(s.encode()) for s in (type, actor, subject, idempotency_key))
    if size > MAX_EVENT_BYTES:
        raise EventRejected(
            f"The event is {size} bytes; the limit is {MAX_EVENT_BYTES} bytes. Store bulky "
            "content in its own record and log its SHA-256 instead.",
            errors={"data": [f"Event too large ({size} > {MAX_EVENT_BYTES} bytes)."]},
        )
    return data_bytes


# One statement queues the event unless its key is in the log or already queued: no separate
# lookup, no savepoint, and outside a transaction it commits on its own (one round trip).
_SUBMIT_SQL = (
    "INSERT INTO ledger_submission (idempotency_key, type, actor, subject, data, submitted_at) "
    "SELECT %s, %s, %s, %s, %s, %s WHERE NOT EXISTS "
    "(SELECT 1 FROM ledger_entry WHERE idempotency_key = %s) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)
# The batch form: the events as parallel arrays, kept in their order.
_SUBMIT_MANY_SQL = (
    "INSERT INTO ledger_submission (idempotency_key, type, actor, subject, data, submitted_at) "
    "SELECT u.k, u.t, u.a, u.s, u.d, %s "
    "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::bytea[]) WITH ORDINALITY AS u(k, t, a, s, d, n) "
    "WHERE NOT EXISTS (SELECT 1 FROM ledger_entry e WHERE e.idempotency_key = u.k) "
    "ORDER BY u.n ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key"
)


def submit(*, type: str, actor: str, subject: str, idempotency_key: str, data: Mapping[str, Any]) -> SubmitResult:
    """Queue an event for the log inside the caller's transaction and return what happened.

    A key already in the log or the queue writes nothing and returns the original. Raise
    EventRejected (nothing written) for a malformed, oversized or float-carrying event. Not
    wrapped in a transaction of its own: the write is one statement, atomic by itself.
    """
    data_bytes = _validate(type, actor, subject, idempotency_key, data)
    connection = transaction.get_connection()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_SUBMIT_SQL, [idempotency_key, type, actor, subject, data_bytes, now, idempotency_key])
        inserted = cursor.fetchone() is not None
    if not inserted:
        # Already logged (return its entry) or already queued (a retry racing the original).
        return SubmitResult(idempotency_key, created=False, entry=selectors.entry_by_key(idempotency_key))
    _integrate_after_commit()
    return SubmitResult(idempotency_key, created=True, entry=None)


def _integrate_after_commit() -> None:
    """Ask for the sequencer once per outermost transaction, however many events it submits.

    Not `delay_on_commit`: the hook must be one callable, so a transaction queues it once, and
    `tasks.request_integration` debounces the enqueue per process (at thousands of commits a
    second, one task per commit would flood the broker for no more work done).
    """
    connection = transaction.get_connection()
    # run_on_commit holds (savepoint ids, callable, robust) for the pending transaction.
    if any(item[1] is tasks.request_integration for item in connection.run_on_commit):
        return
    transaction.on_commit(tasks.request_integration)


def _queue_many(rows: list[tuple[str, str, str, str, bytes]]) -> set[str]:
    """Queue the rows whose keys are neither logged nor queued; return the keys queued."""
    connection = transaction.get_connection()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = [list(column) for column in zip(*rows, strict=True)]
            cursor.execute(_SUBMIT_MANY_SQL, [now, *columns])
            return {row[0] for row in cursor.fetchall()}
        queued = set()
        for key, type_, actor, subject, data in rows:
            cursor.execute(_SUBMIT_SQL, [key, type_, actor, subject, data, now, key])
            if cursor.fetchone() is not None:
                queued.add(key)
        return queued


@transaction.atomic
def submit_many(events: list[Mapping[str, Any]]) -> list[SubmitResult]:
    """Queue many events at once (one statement for the whole batch).

    Each event is an envelope mapping as for `submit`; the same rules apply to each, and a
    rejected event rejects the whole call before anything is written.
    """
    rows = []
    for index, event in enumerate(events):
        try:
            data_bytes = _validate(
                event["type"], event["actor"], event["subject"], event["idempotency_key"], event["data"]
            )
        except EventRejected as exc:
            raise EventRejected(f"Event {index}: {exc.message}", errors={str(index): exc.errors}) from None
        rows.append((event["idempotency_key"], event["type"], event["actor"], event["subject"], data_bytes))
    if not rows:
        return []
    queued = _queue_many(rows)
    if queued:
        _integrate_after_commit()
    known = [row[0] for row in rows if row[0] not in queued]
    logged = selectors.entries_by_keys(known) if known else {}
    results = []
    for key, *_ in rows:
        if key in queued:
            queued.discard(key)  # a key given twice is created once, by its first occurrence
            results.append(SubmitResult(key, created=True, entry=None))
        else:
            results.append(SubmitResult(key, created=False, entry=logged.get(key)))
    return results


def entries_wait(keys: list[str], *, attempts: int = 50) -> dict[str, selectors.Position]:
    """Integrate in-process until every key is in the log; return {key: its seq and leaf hash}.

    Call after the submitting transaction committed. Raise NotInLog if a key never arrives
    (it was never submitted, or its transaction rolled back).
    """
    found: dict[str, selectors.Position] = {}
    wanted = list(dict.fromkeys(keys))
    for _ in range(attempts):
        found.update(selectors.positions_by_keys([key for key in wanted if key not in found]))
        if len(found) == len(wanted):
            return found
        tree_integrate_all()
    raise NotInLog(f"{len(wanted) - len(found)} submitted events never reached the log.")


def submit_envelope(envelope: Mapping[str, Any]) -> SubmitResult:
    """Submit an event given as one mapping; refuse unknown or missing envelope fields."""
    if not isinstance(envelope, Mapping):
        raise EventRejected("An event must be a JSON object.")
    unknown = sorted(set(envelope) - ENVELOPE_FIELDS)
    missing = sorted(ENVELOPE_FIELDS - set(envelope))
    if unknown or missing:
        errors = {name: ["Unknown field."] for name in unknown}
        errors.update({name: ["This field is required."] for name in missing})
        raise EventRejected("The event's fields are not the envelope's fields.", errors=errors)
    return submit(**{name: envelope[name] for name in ENVELOPE_FIELDS})


@transaction.atomic
def checkpoint_sign() -> Checkpoint:
    """Sign the current (size, root) unless the latest checkpoint already covers it; return it.

    Before signing, prove with stored nodes that the new root extends the last signed root
    (RFC 9162 §2.1.4); raise SigningRefused rather than ever sign a fork, or a second root for
    a size that already has one.
    """
    state = _tree_state_locked()
    size, root = state.size, bytes(state.root)
    last = Checkpoint.objects.order_by("-size").first()
    if last is not None:
        if last.size == size:
            if bytes(last.root) != root:
                raise SigningRefused(f"A different root was already signed for size {size}.")
            return last
        if last.size > size:
            raise SigningRefused(f"The tree has {size} entries but size {last.size} was already signed.")
        proof = selectors.consistency_proof(last.size, size, checkpoint_bound=False)
        try:
            merkle.verify_consistency(last.size, size, bytes(last.root), root, proof)
        except merkle.ProofError as exc:
            raise SigningRefused(
                f"The tree at size {size} is not consistent with the checkpoint at size "
                f"{last.size}: {exc}. Refusing to sign a fork."
            ) from None
    signer = keys.active_signer()
    key_row, replaced = keys.signing_key_register(signer)
    if replaced is not None:
        submit(
            type="key.rotated",
            actor="system",
            subject=f"key:{key_row.key_id}",
            idempotency_key=f"key.rotated:{replaced.key_id}:{key_row.key_id}",
            data={"previous": replaced.verifier_key, "current": key_row.verifier_key},
        )
    body = checkpoints.Checkpoint(origin=settings.LEDGER_ORIGIN, size=size, root=root)
    return Checkpoint.objects.create(
        size=size,
        root=root,
        note=checkpoints.sign_checkpoint(body, signer),
        key=key_row,
        signed_at=timezone.now(),
    )
