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
    decisions: list[Decision]
    created: int
    ledger_keys: list[str]


def commitment(salt: bytes, subject_ref: str, input_snapshot: Any) -> str:
    """Return SHA-256(salt ‖ canonical payload): binds the leaf to data that can be erased."""
    payload = canonical.dumps({"subject_ref": subject_ref, "input_snapshot": input_snapshot})
    return hashlib.sha256(salt + payload).hexdigest()


def _decision_event(decision: Decision, model_slug: str, version: str) -> dict[str, Any]:
    return {
        "model": model_slug,
        "version": version,
        "decision_id": decision.decision_id,
        "occurred_at": rfc3339(decision.occurred_at),
        "input_sha256": decision.input_sha256,
        "output_label": decision.output_label,
        "output_score": decision.output_score,
        "reasons": decision.reasons,
        "mode": decision.mode,
        "reviewer": decision.reviewer,
        "overridden": decision.overridden,
        "override_reason": decision.override_reason,
        "final_label": decision.final_label,
        "payload_commitment": decision.payload_commitment,
        "posted_at": rfc3339(decision.posted_at),
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
def decision_log_batch(*, actor: AbstractBaseUser, model: RegisteredModel, items: list[dict[str, Any]]) -> BatchResult:
    """Log up to MAX_BATCH decisions, all or nothing; resending the same batch changes nothing.

    Items are already shaped by the API (types checked). Raise InvalidInput with per-item errors
    (unknown version, hash mismatch), Conflict with per-item errors (version not deployed at
    `occurred_at`, a decision id reused with different content).
    """
    access.require(actor, "log", model)
    if not items or len(items) > MAX_BATCH:
        raise InvalidInput(f"Send 1 to {MAX_BATCH} decisions per request.", errors={"decisions": ["Bad size."]})
    errors: dict[str, Any] = {}
    seen: dict[str, int] = {}
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
                digest = hashlib.sha256(canonical.dumps(snapshot)).hexdigest()
            except canonical.CanonicalError as exc:
                errors[str(index)] = {"input_snapshot": [str(exc)]}
                continue
            if digest != item["input_sha256"]:
                errors[str(index)] = {"input_sha256": ["Does not match the SHA-256 of the canonical input_snapshot."]}
    versions = {v.version: v for v in model.versions.filter(version__in={i["version"] for i in items})}
    for index, item in enumerate(items):
        if item["version"] not in versions:
            errors.setdefault(str(index), {})["version"] = [f"{model.slug} has no version {item['version']!r}."]
    if errors:
        raise InvalidInput("Some decisions are not valid; none was logged.", errors=errors)

    existing = {
        d.decision_id: d
        for d in Decision.objects.filter(model=model, decision_id__in=list(seen)).select_related("version")
    }
    conflicts: dict[str, Any] = {}
    for index, item in enumerate(items):
        old = existing.get(item["decision_id"])
        if old is not None:
            same = (
                old.version.version,
                old.occurred_at,
                old.input_sha256,
                old.output_label,
                old.output_score,
            ) == tuple(item[f] if f != "output_score" else item.get(f, "") for f in IDENTITY_FIELDS)
            if not same:
                conflicts[str(index)] = {"decision_id": ["Already logged with different content."]}
    fresh = [(index, item) for index, item in enumerate(items) if item["decision_id"] not in existing]
    for index in _deployed_at(versions, [item for _, item in fresh]):
        original_index, item = fresh[index]
        when = rfc3339(item["occurred_at"])
        conflicts[str(original_index)] = {"version": [f"Version {item['version']} was not deployed at {when}."]}
    if conflicts:
        raise Conflict("Some decisions conflict with the record; none was logged.", errors=conflicts)

    now = timezone.now()
    new_decisions, payloads, ledger_events = [], [], []
    for _, item in fresh:
        salt = os.urandom(16)
        decision = Decision(
            model=model,
            version=versions[item["version"]],
            decision_id=item["decision_id"],
            occurred_at=item["occurred_at"],
            input_sha256=item["input_sha256"],
            output_label=item["output_label"],
            output_score=item.get("output_score", ""),
            reasons=item.get("reasons", []),
            mode=item["mode"],
            reviewer=item.get("reviewer", ""),
            overridden=item.get("overridden", False),
            override_reason=item.get("override_reason", ""),
            final_label=item.get("final_label", ""),
            payload_commitment=commitment(salt, item.get("subject_ref", ""), item.get("input_snapshot")),
            posted_by=actor,
            posted_at=now,
            ledger_key=f"decision.logged:{model.slug}:{item['decision_id']}",
        )
        new_decisions.append(decision)
        payloads.append(
            DecisionPayload(
                subject_ref=item.get("subject_ref", ""),
                input_snapshot=item.get("input_snapshot"),
                salt=salt,
            )
        )
        ledger_events.append(
            {
                "type": "decision.logged",
                "actor": events.actor_name(actor),
                "subject": f"model:{model.slug}",
                "idempotency_key": decision.ledger_key,
                "data": _decision_event(decision, model.slug, item["version"]),
            }
        )
    if new_decisions:
        Decision.objects.bulk_create(new_decisions, batch_size=500)
        if not all(d.pk for d in new_decisions):
            # Backends that cannot return ids from a bulk insert (older SQLite): fetch them.
            ids = dict(
                Decision.objects.filter(
                    model=model, decision_id__in=[d.decision_id for d in new_decisions]
                ).values_list("decision_id", "pk")
            )
            for d in new_decisions:
                d.pk = ids[d.decision_id]
        for decision, payload in zip(new_decisions, payloads, strict=True):
            payload.decision_id = decision.pk
        DecisionPayload.objects.bulk_create(payloads, batch_size=500)
        events.record_many(ledger_events)
    by_id = {**existing, **{d.decision_id: d for d in new_decisions}}
    ordered = [by_id[item["decision_id"]] for item in items]
    return BatchResult(ordered, len(new_decisions), [d.ledger_key for d in ordered])


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
