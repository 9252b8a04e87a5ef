"""Ask the configured witnesses to cosign our checkpoints (C2SP tlog-witness), and publish them.

Each witness gets an add-checkpoint request with the consistency proof from the size it last
cosigned; a 409 answer names that size and the request is retried once from it. A cosignature
is verified with the witness's configured key before it is stored. The published checkpoint is
the latest one that meets LEDGER_WITNESS_POLICY, with its cosignatures as extra signature lines.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from ledger import selectors
from ledger.models import Checkpoint, Cosignature, WitnessAlert, WitnessStatus
from ledger.witness_alerts import (
    ALERT_AFTER_FAILURES,
    alert_json,
    witness_alert_open,
    witness_alerts_open,
    witness_alerts_refresh,
)
from model_ledger_verify import notes
from model_ledger_verify.tlog.cosign import CosignatureVerifier, WitnessPolicy, add_signatures, cosignatures
from model_ledger_verify.tlog.witness import encode_add_checkpoint

logger = logging.getLogger(__name__)

# A witness answers in milliseconds; a slow one must not hold up the checkpoint task for long.
REQUEST_TIMEOUT_SECONDS = 10
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Witness:
    name: str
    url: str
    verifier: CosignatureVerifier


@cache
def _parse(entries: tuple[str, ...], threshold: int) -> tuple[tuple[Witness, ...], WitnessPolicy]:
    witnesses = []
    for entry in entries:
        parts = entry.split()
        if len(parts) != 2 or not parts[0].startswith(("http://", "https://")):
            raise ImproperlyConfigured(f"LEDGER_WITNESSES: {entry!r} is not '<URL> <witness verifier key>'")
        try:
            verifier = CosignatureVerifier.from_string(parts[1])
        except notes.NoteError as exc:
            raise ImproperlyConfigured(f"LEDGER_WITNESSES: {exc}") from None
        witnesses.append(Witness(verifier.name, parts[0].rstrip("/"), verifier))
    try:
        policy = WitnessPolicy(threshold, tuple(w.verifier for w in witnesses))
    except notes.NoteError as exc:
        raise ImproperlyConfigured(f"LEDGER_WITNESS_POLICY: {exc}") from None
    return tuple(witnesses), policy


def configured() -> tuple[tuple[Witness, ...], WitnessPolicy]:
    """Return the configured witnesses and the policy; raise ImproperlyConfigured if malformed."""
    return _parse(tuple(settings.LEDGER_WITNESSES), settings.LEDGER_WITNESS_POLICY)


def _post(url: str, body: bytes) -> tuple[int, bytes]:
    # The URL is the operator's configuration, checked to be http(s) when parsed.
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/plain"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:  # noqa: S310 (configured URL)
            return response.status, response.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(MAX_ANSWER_BYTES)


# Answers that asking again will not change: the witness refuses the checkpoint (400, 403, 404,
# 422), has cosigned a larger tree of ours, or answers with a cosignature our key does not verify.
REFUSAL_STATUSES = frozenset({400, 403, 404, 422})


@dataclass(frozen=True)
class Failure:
    error: str
    refused: bool = False


def _ask(witness: Witness, checkpoint: Checkpoint) -> Failure | None:
    """Ask one witness to cosign; store its cosignature. Return None, or what went wrong."""
    status_row, _ = WitnessStatus.objects.get_or_create(name=witness.name, defaults={"url": witness.url})
    old = status_row.cosigned_size or 0
    answer, body = 0, b""
    for _attempt in range(2):
        if old > checkpoint.size:
            return Failure(f"the witness has cosigned size {old}, beyond checkpoint {checkpoint.size}", refused=True)
        proof = selectors.consistency_proof(old, checkpoint.size, checkpoint_bound=False) if old else []
        try:
            answer, body = _post(f"{witness.url}/add-checkpoint", encode_add_checkpoint(old, proof, checkpoint.note))
        except (OSError, ValueError) as exc:
            return Failure(f"unreachable: {exc}")
        if answer != 409:
            break
        text = body.decode("ascii", "replace").strip()
        if not text.isdigit():
            return Failure(f"HTTP 409 without a size: {text[:100]!r}")
        old = int(text)
    if answer != 200:
        error = f"HTTP {answer}: {body.decode('utf-8', 'replace').strip()[:300]}"
        return Failure(error, refused=answer in REFUSAL_STATUSES)
    try:
        found = cosignatures(checkpoint.note + body.decode("utf-8"), [witness.verifier])
    except (notes.NoteError, UnicodeDecodeError) as exc:
        return Failure(f"invalid cosignature: {exc}", refused=True)
    if not found:
        return Failure("the answer holds no cosignature by the configured key", refused=True)
    cosig = found[0]
    Cosignature.objects.get_or_create(
        checkpoint=checkpoint,
        witness=witness.name,
        key_id=cosig.key_id.hex(),
        defaults={"timestamp": cosig.timestamp, "line": cosig.line, "received_at": timezone.now()},
    )
    status_row.cosigned_size = checkpoint.size
    status_row.save(update_fields=["cosigned_size"])
    return None


def checkpoint_witness(checkpoint: Checkpoint | None = None) -> dict[str, str | None]:
    """Ask every configured witness that has not cosigned it to cosign ``checkpoint``.

    The latest checkpoint by default. Return witness name → None (cosigned) or the failure,
    record each outcome on the witness's status row, then open or resolve the witness alerts.
    """
    witnesses, _ = configured()
    checkpoint = checkpoint or selectors.checkpoint_latest()
    outcomes: dict[str, str | None] = {}
    if checkpoint is None:
        return outcomes
    done = set(checkpoint.cosignatures.values_list("witness", flat=True))
    for witness in witnesses:
        if witness.name in done:
            continue
        failure = _ask(witness, checkpoint)
        error = failure.error if failure else None
        now = timezone.now()
        row = WitnessStatus.objects.get(name=witness.name)
        row.url, row.last_attempt_at = witness.url, now
        if error is None:
            row.last_success_at, row.last_error, row.failures = now, "", 0
        else:
            row.last_error, row.failures = error, row.failures + 1
            level = logging.ERROR if row.failures >= ALERT_AFTER_FAILURES else logging.WARNING
            logger.log(
                level,
                "witness %s did not cosign checkpoint %s (%s failures in a row): %s",
                witness.name,
                checkpoint.size,
                row.failures,
                error,
            )
        row.save(update_fields=["url", "last_attempt_at", "last_success_at", "last_error", "failures"])
        if failure is not None and failure.refused:
            # No need to wait for more failures: asking again will not change the answer.
            witness_alert_open(witness.name, WitnessAlert.Reason.REFUSED, f"checkpoint {checkpoint.size}: {error}")
        outcomes[witness.name] = error
    witness_alerts_refresh([w.name for w in witnesses])
    return outcomes


def cosigned_note(checkpoint: Checkpoint) -> str:
    """Return the checkpoint's note with every stored cosignature appended."""
    lines = [c.line for c in checkpoint.cosignatures.all()]
    return add_signatures(checkpoint.note, lines) if lines else checkpoint.note


def checkpoint_witnessed() -> Checkpoint | None:
    """Return the latest checkpoint that meets the witness policy, or None if none does.

    Under a policy of 0 witnesses every checkpoint meets it: the latest.
    """
    _, policy = configured()
    if policy.threshold == 0:
        return selectors.checkpoint_latest()
    names = [w.name for w in policy.witnesses]
    # Newest first by checkpoint id, which grows with the size (a checkpoint is only ever signed
    # for a larger tree than the last): PostgreSQL walks the cosignatures' checkpoint index
    # backwards and stops at the first checkpoint enough witnesses cosigned, so this stays a
    # millisecond however many checkpoints there are (every tile and proof request asks).
    found = (
        Cosignature.objects.filter(witness__in=names)
        .values("checkpoint_id")
        .annotate(witnesses=Count("witness", distinct=True))
        .filter(witnesses__gte=policy.threshold)
        .order_by("-checkpoint_id")
        .values_list("checkpoint_id", flat=True)
        .first()
    )
    return Checkpoint.objects.select_related("key").get(pk=found) if found is not None else None


def checkpoint_published() -> Checkpoint | None:
    """Return the latest checkpoint that meets the witness policy (the latest, if none does)."""
    return checkpoint_witnessed() or selectors.checkpoint_latest()


# The witnessed checkpoint: the latest, or the latest enough witnesses cosigned (the same
# backward walk of the cosignatures' checkpoint index as `checkpoint_witnessed`). Proofs read it
# in their own statement (`selectors`' `witnessed=`); `witnessed_for` alone reads it with
# its cosignatures in one statement.
_LATEST = "SELECT id, size, root, note FROM ledger_checkpoint ORDER BY size DESC LIMIT 1"
_COSIGNED = (
    "SELECT id, size, root, note FROM ledger_checkpoint WHERE id = (SELECT checkpoint_id "
    "FROM ledger_cosignature WHERE witness IN ({names}) GROUP BY checkpoint_id "
    "HAVING COUNT(DISTINCT witness) >= %s ORDER BY checkpoint_id DESC LIMIT 1)"
)
_WITNESSED_SQL = (
    "SELECT c.size, c.root, c.note, s.witness, s.key_id, s.line FROM ({chosen}) c "
    "LEFT JOIN ledger_cosignature s ON s.checkpoint_id = c.id"
)
_UNREAD = object()


def witnessed_chooser() -> selectors.Chooser:
    """Return the query choosing the checkpoint that meets LEDGER_WITNESS_POLICY, for a proof."""
    _, policy = configured()
    if policy.threshold == 0:
        return _LATEST, []
    names = [w.name for w in policy.witnesses]
    return _COSIGNED.format(names=", ".join(["%s"] * len(names))), [*names, policy.threshold]


def _witnessed_read() -> selectors.Witnessed | None:
    chosen, params = witnessed_chooser()
    with connection.cursor() as cursor:
        cursor.execute(_WITNESSED_SQL.format(chosen=chosen), params)
        rows = cursor.fetchall()
    if not rows:
        return None
    # Sorted here as a proof's statement sorts them: by code point, whatever the collation.
    cosigned = sorted((witness, key_id, line) for *_, witness, key_id, line in rows if witness is not None)
    return selectors.Witnessed(rows[0][0], bytes(rows[0][1]), rows[0][2], cosigned)


def witnessed_for(size: int, found: selectors.Witnessed | object | None = _UNREAD) -> dict | None:
    """Name the witnessed checkpoint that a proof about the tree of ``size`` relies on.

    The latest checkpoint meeting LEDGER_WITNESS_POLICY: its size, root (hex), note with the
    cosignatures, the configured witnesses that cosigned it, the policy, and the RFC 9162
    consistency proof between ``size`` and its size (from the smaller to the larger; empty when
    they are equal). None when no checkpoint meets the policy yet. ``found`` is that checkpoint
    as a proof's statement read it with `witnessed_chooser()`, when the caller has it.
    """
    witnessed = _witnessed_read() if found is _UNREAD else found
    if witnessed is None:
        return None
    assert isinstance(witnessed, selectors.Witnessed)
    witnesses, policy = configured()
    lines = [line for _, _, line in witnessed.cosignatures]
    smaller, larger = sorted((size, witnessed.size))
    proof = selectors.consistency_proof(smaller, larger, checkpoint_bound=False) if smaller != larger else []
    return {
        "size": witnessed.size,
        "root": witnessed.root.hex(),
        "note": add_signatures(witnessed.note, lines) if lines else witnessed.note,
        "witnesses": sorted({c[0] for c in witnessed.cosignatures} & {w.name for w in witnesses}),
        "policy": policy.threshold,
        "consistency_proof": [node.hex() for node in proof],
    }


def witness_statuses() -> list[dict]:
    """Return each configured witness's state: cosigned size, lag behind the latest, last error."""
    witnesses, _ = configured()
    latest = selectors.checkpoint_latest()
    rows = {row.name: row for row in WitnessStatus.objects.all()}
    alerts = {alert.witness: alert for alert in witness_alerts_open()}
    out = []
    for witness in witnesses:
        row = rows.get(witness.name)
        size = row.cosigned_size if row else None
        out.append(
            {
                "name": witness.name,
                "url": witness.url,
                "verifier_key": witness.verifier.verifier_key(),
                "cosigned_size": size,
                "behind": (latest.size - (size or 0)) if latest else 0,
                "last_attempt_at": row.last_attempt_at if row else None,
                "last_success_at": row.last_success_at if row else None,
                "last_error": row.last_error if row else "",
                "failures": row.failures if row else 0,
                "alert": alert_json(alerts[witness.name]) if witness.name in alerts else None,
            }
        )
    return out
