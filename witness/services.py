"""The witness's one write: decide an add-checkpoint request, record the new view, cosign it."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from model_ledger_verify.tlog import witness as protocol
from model_ledger_verify.tlog.cosign import add_signatures
from witness import config
from witness.models import Refusal, WitnessedLog


def origin_hash(origin: str) -> str:
    """Return the lowercase hex SHA-256 of an origin (the monitoring path element)."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


def _record_refusal(request: protocol.AddCheckpoint, origin: str, refusal: protocol.WitnessRefusal) -> None:
    # 409 is a stale client, not misbehaviour; 422 on a validly signed note is evidence.
    if refusal.status != 422:
        return
    view = WitnessedLog.objects.filter(origin=origin).first()
    Refusal.objects.create(
        origin=origin,
        status=refusal.status,
        reason=str(refusal),
        note=request.note,
        witnessed_note=view.note if view else "",
        received_at=timezone.now(),
    )


def checkpoint_add(*, body: bytes) -> str:
    """Cosign the checkpoint in an add-checkpoint request body; return the signature line.

    Raise WitnessRefusal with the status the spec gives. The check and the update are atomic:
    the view is updated only if it is still the one the request was checked against, so two
    racing requests cannot roll it back.
    """
    request = protocol.parse_add_checkpoint(body)
    # Without a cosigning key this service witnesses no log: every origin is unknown (404).
    logs = config.logs() if settings.WITNESS_SIGNING_KEY_FILE else {}
    origin = protocol.note_origin(request.note)
    try:
        with transaction.atomic():
            return _check_and_cosign(request, origin, logs)
    except protocol.WitnessRefusal as refusal:
        _record_refusal(request, origin, refusal)
        raise


def _check_and_cosign(request: protocol.AddCheckpoint, origin: str, logs: dict) -> str:
    view = WitnessedLog.objects.filter(origin=origin).first()
    latest = (view.size, bytes(view.root)) if view is not None else None
    checkpoint = protocol.check_add_checkpoint(request, logs, latest)
    line = config.cosigner().cosign(checkpoint.to_text())
    note = add_signatures(request.note, [line])
    now = timezone.now()
    if view is None:
        _, created = WitnessedLog.objects.get_or_create(
            origin=origin, defaults={"size": checkpoint.size, "root": checkpoint.root, "note": note, "updated_at": now}
        )
    else:
        fields = {"size": checkpoint.size, "root": checkpoint.root, "note": note, "updated_at": now}
        created = bool(
            WitnessedLog.objects.filter(pk=view.pk, size=view.size, updated_at=view.updated_at).update(**fields)
        )
    if not created:
        raise protocol.WitnessRefusal(409, "a concurrent request changed the view", size=_size(origin))
    return line


def _size(origin: str) -> int:
    return WitnessedLog.objects.filter(origin=origin).values_list("size", flat=True).first() or 0


def witnessed_note(origin_hex: str) -> str | None:
    """Return the latest cosigned note of the log whose origin hashes to ``origin_hex``."""
    for view in WitnessedLog.objects.exclude(note=""):
        if origin_hash(view.origin) == origin_hex:
            return view.note
    return None
