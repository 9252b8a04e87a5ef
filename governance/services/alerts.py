"""Alerts: opened by the watch jobs, acknowledged and resolved by people, each a ledger event.

An alert names its condition in a dedupe key; while an alert for that key is unresolved, the
condition opens nothing new, so a job that runs every few minutes raises a breach once.
Also here: the ownership watch, which raises an "orphaned" alert when a model's owner is
deactivated or leaves the model-owner role.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from governance import access, events
from governance.errors import Conflict, InvalidInput
from governance.models import Alert, Deployment, ModelVersion, RegisteredModel
from governance.records import rfc3339
from governance.results import Written
from governance.roles import Role
from governance.services import notifications


def alert_record(alert: Alert) -> dict[str, Any]:
    return {
        "alert": alert.pk,
        "model": alert.model.slug,
        "version": alert.version.version if alert.version_id else None,
        "environment": alert.deployment.environment if alert.deployment_id else None,
        "kind": alert.kind,
        "state": alert.state,
        "summary": alert.summary,
        "details": alert.details,
        "dedupe_key": alert.dedupe_key,
        "opened_at": rfc3339(alert.opened_at),
    }


def _emails_for(alert: Alert) -> list[str]:
    # Compliance handles orphaned models (the owner is the problem); otherwise the owner too.
    # Integrity alerts go to compliance only: whoever edited the record may be on the model's side.
    owner = None if alert.kind in (Alert.Kind.ORPHANED, Alert.Kind.INTEGRITY) else alert.model.owner
    return notifications.recipients(Role.COMPLIANCE_OFFICER, include=[owner])


@transaction.atomic
def alert_open(
    *,
    model: RegisteredModel,
    kind: str,
    dedupe_key: str,
    summary: str,
    details: dict[str, Any],
    version: ModelVersion | None = None,
    deployment: Deployment | None = None,
) -> tuple[Alert, bool]:
    """Open an alert for a condition and log `alert.opened`; return (alert, created).

    While an unresolved alert has the same `dedupe_key`, return it and write nothing: the
    duplicate is suppressed. The watch jobs call this as the system (no human actor).
    """
    existing = Alert.objects.filter(dedupe_key=dedupe_key).exclude(state=Alert.State.RESOLVED).first()
    if existing is not None:
        return existing, False
    try:
        # A savepoint: a concurrent job may open the same alert first (the unique constraint).
        with transaction.atomic():
            alert = Alert.objects.create(
                model=model,
                version=version,
                deployment=deployment,
                kind=kind,
                summary=summary[:500],
                details=details,
                dedupe_key=dedupe_key,
                opened_at=timezone.now(),
                ledger_key=f"alert.opened:{uuid.uuid4()}",
            )
    except IntegrityError:
        return Alert.objects.filter(dedupe_key=dedupe_key).exclude(state=Alert.State.RESOLVED).get(), False
    data = alert_record(alert)
    events.record(type="alert.opened", actor=None, subject=f"model:{model.slug}", key=alert.ledger_key, data=data)
    notifications.notify(
        event="alert.opened",
        key=alert.ledger_key,
        model=model,
        data=data,
        email_to=_emails_for(alert),
        subject=f"[{model.slug}] {alert.get_kind_display()} alert: {alert.summary}"[:300],
        text=f"{alert.summary}\n\nModel: {model.slug}\nOpened at: {rfc3339(alert.opened_at)}",
    )
    return alert, True


def _locked(alert: Alert) -> Alert:
    return (
        Alert.objects.select_for_update(of=("self",)).select_related("model", "version", "deployment").get(pk=alert.pk)
    )


@transaction.atomic
def alert_acknowledge(*, actor: AbstractBaseUser, alert: Alert, note: str = "") -> Written[Alert]:
    """Record who took charge of an open alert, and when; log `alert.acknowledged`.

    Raise NotVisible, Forbidden (only the model's owner and compliance officers), Conflict
    (the alert is not open).
    """
    access.require(actor, "oversee", alert.model)
    if not isinstance(note, str) or len(note) > 10_000:
        raise InvalidInput("The note is not valid.", errors={"note": ["A string of at most 10,000 characters."]})
    alert = _locked(alert)
    if alert.state != Alert.State.OPEN:
        raise Conflict(f"This alert is {alert.state}; only open alerts are acknowledged.")
    alert.state, alert.acknowledged_by, alert.acknowledged_at = Alert.State.ACKNOWLEDGED, actor, timezone.now()
    alert.acknowledgement_note = note
    alert.save(update_fields=["state", "acknowledged_by", "acknowledged_at", "acknowledgement_note"])
    data = {
        "alert": alert.pk,
        "model": alert.model.slug,
        "opened": alert.ledger_key,
        "acknowledged_by": actor.get_username(),
        "acknowledged_at": rfc3339(alert.acknowledged_at),
        "note": note,
    }
    key = events.record(
        type="alert.acknowledged",
        actor=actor,
        subject=f"model:{alert.model.slug}",
        key=f"alert.acknowledged:{alert.pk}",
        data=data,
    )
    notifications.notify(event="alert.acknowledged", key=key, model=alert.model, data=data)
    return Written(alert, key)


@transaction.atomic
def alert_resolve(*, actor: AbstractBaseUser, alert: Alert, note: str) -> Written[Alert]:
    """Close an acknowledged alert with what was done about it; log `alert.resolved`.

    Raise NotVisible, Forbidden, InvalidInput (no note), Conflict (not acknowledged yet, or
    already resolved).
    """
    access.require(actor, "oversee", alert.model)
    if not isinstance(note, str) or not note.strip() or len(note) > 10_000:
        raise InvalidInput("Say how the alert was resolved.", errors={"note": ["This field is required."]})
    alert = _locked(alert)
    if alert.state == Alert.State.OPEN:
        raise Conflict("Acknowledge the alert before resolving it.")
    if alert.state == Alert.State.RESOLVED:
        raise Conflict("This alert is already resolved.")
    alert.state, alert.resolved_by, alert.resolved_at = Alert.State.RESOLVED, actor, timezone.now()
    alert.resolution_note = note
    alert.save(update_fields=["state", "resolved_by", "resolved_at", "resolution_note"])
    data = {
        "alert": alert.pk,
        "model": alert.model.slug,
        "opened": alert.ledger_key,
        "resolved_by": actor.get_username(),
        "resolved_at": rfc3339(alert.resolved_at),
        "note": note,
    }
    key = events.record(
        type="alert.resolved",
        actor=actor,
        subject=f"model:{alert.model.slug}",
        key=f"alert.resolved:{alert.pk}",
        data=data,
    )
    notifications.notify(event="alert.resolved", key=key, model=alert.model, data=data)
    return Written(alert, key)


def ownership_check() -> list[Alert]:
    """Open an "orphaned" alert (to compliance) for each model whose owner is deactivated or no
    longer holds the model-owner role; return the alerts opened now.

    One alert per model and owner while unresolved; safe to run any number of times.
    """
    owners = get_user_model().objects.filter(is_active=True, groups__name=Role.MODEL_OWNER).values("pk")
    orphaned = (
        RegisteredModel.objects.filter(Q(owner__is_active=False) | ~Q(owner__in=owners))
        .select_related("owner")
        .order_by("slug")
    )
    opened = []
    for model in orphaned:
        owner = model.owner
        why = "was deactivated" if not owner.is_active else "no longer holds the model-owner role"
        alert, created = alert_open(
            model=model,
            kind=Alert.Kind.ORPHANED,
            dedupe_key=f"orphaned:{model.pk}:{owner.pk}",
            summary=f"{model.slug} has no active owner: {owner.get_username()} {why}.",
            details={"owner": owner.get_username(), "owner_active": owner.is_active, "reason": why},
        )
        if created:
            opened.append(alert)
    return opened
