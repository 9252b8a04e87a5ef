"""A model's history as one timeline: versions, settled reviews, signatures, deployments and
rollbacks, alerts and retraining requests (the caller has already narrowed to a model it may see)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from governance.models import (
    Alert,
    Approval,
    Deployment,
    ModelVersion,
    RegisteredModel,
    RetrainingRequest,
    StatusChange,
)


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    title: str
    detail: str = ""
    version: str = ""


def model_timeline(model: RegisteredModel) -> list[TimelineItem]:
    """Return the model's history, newest first: versions, status changes, signatures,
    deployments and rollbacks, alerts and retraining requests."""
    items = [TimelineItem(model.created_at, "registered", f"Model {model.slug} registered", model.name)]
    for v in model.versions.select_related("registered_by"):
        items.append(
            TimelineItem(
                v.registered_at, "version", f"Version {v.version} registered", f"by {v.registered_by}", v.version
            )
        )
    # Status moves that settle a review or end a life; deployments say the rest themselves.
    settled = [ModelVersion.Status.APPROVED, ModelVersion.Status.REJECTED, ModelVersion.Status.RETIRED]
    changes = StatusChange.objects.filter(version__model=model, to_status__in=settled).select_related("version")
    for change in changes:
        items.append(
            TimelineItem(
                change.changed_at,
                "status",
                f"{change.version.version}: {change.from_status} → {change.to_status}",
                change.reason,
                change.version.version,
            )
        )
    for a in Approval.objects.filter(version__model=model).select_related("version"):
        items.append(
            TimelineItem(
                a.signed_at,
                a.meaning,
                f"{a.version.version} {a.get_meaning_display().lower()} by {a.signer_name}",
                a.reason,
                a.version.version,
            )
        )
    for d in Deployment.objects.filter(model=model).select_related("version", "rollback_of__version"):
        if d.rollback_of_id:
            title = f"Rollback of {d.environment} to {d.version.version} (from {d.rollback_of.version.version})"
            kind = "rollback"
        else:
            title, kind = f"{d.version.version} deployed to {d.environment}", "deployment"
        items.append(TimelineItem(d.started_at, kind, title, d.change_ticket, d.version.version))
        if d.ended_at:
            items.append(
                TimelineItem(
                    d.ended_at, "ended", f"{d.version.version} left {d.environment}", d.end_reason, d.version.version
                )
            )
    for alert in Alert.objects.filter(model=model).select_related("version"):
        number = alert.version.version if alert.version_id else ""
        title = f"{alert.get_kind_display()} alert opened"
        items.append(TimelineItem(alert.opened_at, "alert", title, alert.summary, number))
        if alert.acknowledged_at:
            note = alert.acknowledgement_note
            items.append(TimelineItem(alert.acknowledged_at, "acknowledged", "Alert acknowledged", note, number))
        if alert.resolved_at:
            items.append(TimelineItem(alert.resolved_at, "resolved", "Alert resolved", alert.resolution_note, number))
    for request in RetrainingRequest.objects.filter(model=model):
        title = f"Retraining requested ({request.get_rule_display()})"
        items.append(TimelineItem(request.opened_at, "retraining", title))
    return sorted(items, key=lambda item: item.at, reverse=True)
