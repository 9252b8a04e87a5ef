"""The decision log: batches of regulated decisions, later reviews, and lawful erasure.

A decision's personal data (subject reference, input snapshot) goes to an erasable payload
row; its ledger leaf carries only a salted commitment to that payload.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from governance import access, events
from governance.errors import Conflict, InvalidInput
from governance.models import (
    Decision,
    DecisionPayload,
    DecisionReview,
    Deployment,
    ModelVersion,
    RegisteredModel,
)
from governance.records import rfc3339
from governance.results import Written
from governance.services.concurrency import retried_on_duplicate
from governance.services.decision_rows import json_text, rows_insert, rows_logged
from governance.validation import DECISION_ID_RE
from model_ledger_verify import canonical

# One request carries at most this many decisions: big enough for serving systems to batch,
# small enough to keep one transaction (and its ledger events) well under a second.
MAX_BATCH = 1_000
DECISION_ID_RULE = "ASCII letters and digits, then also . _ : -, at most 80 characters."
# The decision fields that must match when a decision id is sent again.
IDENTITY_FIELDS = ("version", "occurred_at", "input_sha256", "output_label", "output_score")


@dataclass(frozen=True)
class BatchResult:
    """What a batch logged: every item's decision id and ledger key in order, and how many were new."""

    model_id: int
    decision_ids: list[str]
    created: int
    ledger_keys: list[str]

    @property
    def decisions(self) -> list[Decision]:
        """The batch's decisions as model instances, in order (one query; the API does not need them)."""
        rows = Decision.objects.filter(model_id=self.model_id, decision_id__in=self.decision_ids)
        by_id = {decision.decision_id: decision for decision in rows}
        return [by_id[decision_id] for decision_id in self.decision_ids]


def commitment(salt: bytes, subject_ref: str, input_snapshot: Any) -> str:
    """Return SHA-256(salt ‖ canonical payload): binds the leaf to data that can be erased."""
    payload = canonical.dumps({"subject_ref": subject_ref, "input_snapshot": input_snapshot})
    return hashlib.sha256(salt + payload).hexdigest()


def _commitment_of(salt: bytes, subject_ref: str, snapshot_bytes: bytes) -> str:
    """`commitment` from the snapshot's canonical bytes, already made to check its hash.

    RFC 8785 orders the two keys `input_snapshot` < `subject_ref`, so the payload's canonical
    form is these bytes joined (a test holds this to `commitment`).
    """
    payload = b'{"input_snapshot":' + snapshot_bytes + b',"subject_ref":' + canonical.dumps(subject_ref) + b"}"
    return hashlib.sha256(salt + payload).hexdigest()


def _decision_event(item: dict[str, Any], model_slug: str, payload_commitment: str, posted_at: str) -> dict[str, Any]:
    """The `decision.logged` leaf's data, from the validated item (the key order is irrelevant:
    the leaf is canonical JSON)."""
    return {
        "model": model_slug,
        "version": item["version"],
        "decision_id": item["decision_id"],
        "occurred_at": rfc3339(item["occurred_at"]),
        "input_sha256": item["input_sha256"],
        "output_label": item["output_label"],
        "output_score": item.get("output_score", ""),
        "reasons": item.get("reasons", []),
        "mode": item["mode"],
        "reviewer": item.get("reviewer", ""),
        "overridden": item.get("overridden", False),
        "override_reason": item.get("override_reason", ""),
        "final_label": item.get("final_label", ""),
        "payload_commitment": payload_commitment,
        "posted_at": posted_at,
    }


def _deployed_at(versions: dict[str, ModelVersion], items: list[dict[str, Any]]) -> set[int]:
    """Return the indexes of items whose version was not deployed at their occurred_at."""
    spans: dict[int, list[tuple[datetime, datetime | None]]] = {}
    for version_id, started, ended in Deployment.objects.filter(
        version__in=[v.pk for v in versions.values()]
    ).values_list("version_id", "started_at", "ended_at"):
        spans.setdefault(version_id, []).append((started, ended))
    bad = set()
    for index, item in enumerate(items):
        version = versions.get(item["version"])
        moment = item["occurred_at"]
        if version is None or not any(
            start <= moment and (end is None or moment < end) for start, end in spans.get(version.pk, [])
        ):
            bad.add(index)
    return bad


@retried_on_duplicate
@transaction.atomic
def decision_log_batch(
    *, actor: AbstractBaseUser, model: RegisteredModel, items: list[dict[str, Any]], sequenced: bool = False
) -> BatchResult:
    """Log up to MAX_BATCH decisions, all or nothing; resending the same batch changes nothing.

    Items are already shaped by the API (types checked). With `sequenced`, the new decisions'
    ledger entries are sequenced in the same transaction (for an answer that waits for them).
    Raise InvalidInput with per-item errors (unknown version, hash mismatch), Conflict with
    per-item errors (version not deployed at `occurred_at`, a decision id reused with different
    content).
    """
    access.require(actor, "log", model)
    if not items or len(items) > MAX_BATCH:
        raise InvalidInput(f"Send 1 to {MAX_BATCH} decisions per request.", errors={"decisions": ["Bad size."]})
    errors: dict[str, Any] = {}
    seen: dict[str, int] = {}
    snapshots: dict[int, bytes] = {}  # each item's canonical input_snapshot, reused for its commitment
    for index, item in enumerate(items):
        if not DECISION_ID_RE.fullmatch(item["decision_id"]):
            errors[str(index)] = {"decision_id": [DECISION_ID_RULE]}
            continue
        if item["decision_id"] in seen:
            errors[str(index)] = {"decision_id": [f"Repeats item {seen[item['decision_id']]}."]}
        seen[item["decision_id"]] = index
        snapshot = item.get("input_snapshot")
        if snapshot is not None:
            try:
                snapshots[index] = canonical.dumps(snapshot)
            except canonical.CanonicalError as exc:
                errors[str(index)] = {"input_snapshot": [str(exc)]}
                continue
            if hashlib.sha256(snapshots[index]).hexdigest() != item["input_sha256"]:
                errors[str(index)] = {"input_sha256": ["Does not match the SHA-256 of the canonical input_snapshot."]}
    versions = {v.version: v for v in model.versions.filter(version__in={i["version"] for i in items})}
    for index, item in enumerate(items):
        if item["version"] not in versions:
            errors.setdefault(str(index), {})["version"] = [f"{model.slug} has no version {item['version']!r}."]
    if errors:
        raise InvalidInput("Some decisions are not valid; none was logged.", errors=errors)

    # One query for the batch's ids already logged: a retry, or a reuse with other content.
    existing = rows_logged(model.pk, list(seen))
    conflicts: dict[str, Any] = {}
    for index, item in enumerate(items):
        old = existing.get(item["decision_id"])
        if old is not None:
            # LOGGED_COLUMNS: the ledger key, then the IDENTITY_FIELDS with the version by id.
            sent = (versions[item["version"]].pk, *(item.get(f, "") for f in IDENTITY_FIELDS[1:]))
            if old[1:] != sent:
                conflicts[str(index)] = {"decision_id": ["Already logged with different content."]}
    fresh = [(index, item) for index, item in enumerate(items) if item["decision_id"] not in existing]
    for index in _deployed_at(versions, [item for _, item in fresh]):
        original_index, item = fresh[index]
        when = rfc3339(item["occurred_at"])
        conflicts[str(original_index)] = {"version": [f"Version {item['version']} was not deployed at {when}."]}
    if conflicts:
        raise Conflict("Some decisions conflict with the record; none was logged.", errors=conflicts)

    # Rows as tuples and leaf data as dicts straight from the items: no model instances.
    now = timezone.now()
    posted_at, actor_name, subject = rfc3339(now), events.actor_name(actor), f"model:{model.slug}"
    rows, payloads, ledger_events = [], [], []
    keys = {decision_id: old[0] for decision_id, old in existing.items()}
    for index, item in fresh:
        salt = os.urandom(16)
        subject_ref = item.get("subject_ref", "")
        snapshot = item.get("input_snapshot")
        payload_commitment = _commitment_of(salt, subject_ref, snapshots.get(index, b"null"))
        key = keys[item["decision_id"]] = f"decision.logged:{model.slug}:{item['decision_id']}"
        rows.append(
            (
                model.pk,
                versions[item["version"]].pk,
                item["decision_id"],
                item["occurred_at"],
                item["input_sha256"],
                item["output_label"],
                item.get("output_score", ""),
                json_text(item.get("reasons", [])),
                item["mode"],
                item.get("reviewer", ""),
                item.get("overridden", False),
                item.get("override_reason", ""),
                item.get("final_label", ""),
                payload_commitment,
                actor.pk,
                now,
                key,
            )
        )
        payloads.append((subject_ref, json_text(snapshot), salt))
        ledger_events.append(
            {
                "type": "decision.logged",
                "actor": actor_name,
                "subject": subject,
                "idempotency_key": key,
                "data": _decision_event(item, model.slug, payload_commitment, posted_at),
            }
        )
    if rows:
        rows_insert(rows, payloads)
        events.record_many(ledger_events)
        if sequenced:
            events.sequence_before_commit()
    decision_ids = [item["decision_id"] for item in items]
    return BatchResult(model.pk, decision_ids, len(rows), [keys[decision_id] for decision_id in decision_ids])


@transaction.atomic
def decision_review(
    *,
    actor: AbstractBaseUser,
    decision: Decision,
    action: str,
    reason: str,
    reason_code: str = "",
    final_label: str = "",
) -> DecisionReview:
    """Record a human review of a decision (confirm, override, reverse, escalate) as an event."""
    model = decision.model
    access.require(actor, "review", decision)
    if action not in DecisionReview.Action.values:
        raise InvalidInput(
            "Unknown action.",
            errors={"action": [f"One of {', '.join(DecisionReview.Action.values)}."]},
        )
    if action != DecisionReview.Action.CONFIRM and not (isinstance(reason, str) and reason.strip()):
        raise InvalidInput("Overrides, reversals and escalations need a reason.", errors={"reason": ["Required."]})
    review = DecisionReview.objects.create(
        decision=decision,
        reviewer=actor,
        action=action,
        reason_code=reason_code,
        reason=reason,
        final_label=final_label,
        reviewed_at=timezone.now(),
        ledger_key=f"decision.reviewed:{uuid.uuid4()}",
    )
    events.record(
        type="decision.reviewed",
        actor=actor,
        subject=f"model:{model.slug}",
        key=review.ledger_key,
        data={
            "model": model.slug,
            "decision_id": decision.decision_id,
            "decision": decision.ledger_key,
            "action": action,
            "reason_code": reason_code,
            "reason": reason,
            "final_label": final_label,
            "reviewed_at": rfc3339(review.reviewed_at),
        },
    )
    return review


@transaction.atomic
def decision_payload_erase(*, actor: AbstractBaseUser, decision: Decision, reason: str) -> Written[DecisionPayload]:
    """Erase a decision's personal data (GDPR Art. 17); the ledger keeps the commitment only."""
    access.require(actor, "manage", decision)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("Say on what basis the data is erased.", errors={"reason": ["Required."]})
    payload = DecisionPayload.objects.select_for_update().get(decision=decision)
    if payload.erased_at is not None:
        raise Conflict("This decision's personal data is already erased.")
    payload.subject_ref, payload.input_snapshot, payload.salt = "", None, b""
    payload.erased_at = timezone.now()
    payload.save(update_fields=["subject_ref", "input_snapshot", "salt", "erased_at"])
    key = events.record(
        type="decision.payload_erased",
        actor=actor,
        subject=f"model:{decision.model.slug}",
        key=f"decision.payload_erased:{decision.pk}",
        data={"model": decision.model.slug, "decision_id": decision.decision_id, "reason": reason},
    )
    return Written(payload, key)
