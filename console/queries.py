"""What each console page shows, assembled from the governance and ledger selectors.

Every read starts from a selector that narrows to what the user may see (a model, a version, a
decision); rows hanging off an object already shown are read from it. Nothing here decides a
rule: separation of duties, gates and permissions come from the governance modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet

from console import charts, diffs, timecharts
from console.receipts import Receipt, receipt_list
from governance import access, selectors
from governance.errors import NotVisible
from governance.models import (
    Alert,
    Approval,
    ModelCard,
    ModelVersion,
    RegisteredModel,
)
from governance.selectors import history, observations
from governance.selectors import monitoring as status
from governance.selectors.approvals import SIGNABLE, approvals_required, sign_offer
from governance.selectors.gates import GateReport, gates_evaluate

# The review queue shows at most this many versions; filters narrow it.
QUEUE_LIMIT = 200


# --- Review queue ----------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueRow:
    version: ModelVersion
    gates: GateReport
    approvals: int
    required: int


def review_queue(user: AbstractBaseUser, *, model: str = "", risk_tier: str = "", state: str = "") -> list[QueueRow]:
    """Return the versions waiting for review (oldest first) with their gates evaluated now."""
    waiting = [state] if state else sorted(SIGNABLE)
    queryset = (
        selectors.version_list(user)
        .filter(status__in=waiting)
        .annotate(approved=Count("approvals__signer", filter=Q(approvals__meaning="approved"), distinct=True))
        .order_by("registered_at")
    )
    if model:
        queryset = queryset.filter(model__slug=model)
    if risk_tier:
        queryset = queryset.filter(model__risk_tier=risk_tier)
    return [
        QueueRow(v, gates_evaluate(version=v), v.approved, approvals_required(v.model)) for v in queryset[:QUEUE_LIMIT]
    ]


def model_slugs(user: AbstractBaseUser) -> list[str]:
    return list(selectors.model_list(user).values_list("slug", flat=True))


# --- Models ------------------------------------------------------------------------------------
def model_page(user: AbstractBaseUser, slug: str) -> dict[str, Any]:
    model = selectors.model_get(user, slug)
    versions = list(selectors.version_list(user, model).order_by("registered_at"))
    thresholds = list(status.thresholds_current(model))
    approved = observations.approved_version_ids(model)
    observed = observations.chart_observations(user, model)
    policy = status.monitoring_policy_current(model)
    return {
        "model": model,
        "status": status.model_status(user, model),
        "versions": versions,
        "timeline": history.model_timeline(model),
        "charts": charts.metric_charts(versions, thresholds, approved),
        "drift_charts": timecharts.drift_charts(observed, policy, approved),
        "live_charts": timecharts.performance_charts(observed, thresholds, approved)
        + timecharts.volume_charts(observed, policy, approved),
        "can_report": access.can(user, "reports", model),
    }


# --- Versions ------------------------------------------------------------------------------------
def version_receipts(version: ModelVersion, cards: list[ModelCard], approvals: list[Approval]) -> list[Receipt]:
    facts = [(f"Version {version.version} registered", version.ledger_key)]
    facts += [(f"Dataset {d.dataset.name} registered", d.dataset.ledger_key) for d in version.dataset_links.all()]
    facts += [(f"Model card revision {card.revision}", card.ledger_key) for card in cards]
    facts += [(f"CI run {ci.run_id}", ci.ledger_key) for ci in status.ci_evidence_list(version)]
    facts += [(f"Signature: {a.get_meaning_display().lower()} by {a.signer_name}", a.ledger_key) for a in approvals]
    facts += [
        (f"Status {c.from_status} → {c.to_status}", c.ledger_key)
        for c in version.status_changes.order_by("changed_at")
    ]
    for d in version.deployments.order_by("started_at"):
        facts.append((f"Deployed to {d.environment}", d.ledger_key))
        facts.append((f"Left {d.environment}", d.end_ledger_key))
    return receipt_list(facts)


def version_page(user: AbstractBaseUser, slug: str, number: str) -> dict[str, Any]:
    version = selectors.version_get(user, slug, number)
    cards = list(selectors.card_list(version))
    approvals = list(selectors.approval_list(version))
    previous = selectors.previous_version(version)
    card = cards[-1] if cards else None
    previous_card = previous.cards.order_by("-revision").first() if previous else None
    return {
        "model": version.model,
        "version": version,
        "ancestors": selectors.version_ancestors(version),
        "descendants": selectors.version_descendants(version),
        "datasets": [link for link in version.dataset_links.all()],
        "cards": cards,
        "card": card,
        "previous": previous,
        "card_diff": diffs.card_diff(previous_card.content if previous_card else None, card.content if card else None),
        "metric_diff": diffs.metric_diff(previous.metrics if previous else [], version.metrics),
        "gates": gates_evaluate(version=version),
        "approvals": approvals,
        "required": approvals_required(version.model),
        "ci": list(status.ci_evidence_list(version)),
        "receipts": version_receipts(version, cards, approvals),
        "offer": sign_offer(user, version),
        "can_report": access.can(user, "reports", version.model),
    }


def approval_get(user: AbstractBaseUser, slug: str, number: str, pk: int) -> Approval:
    version = selectors.version_get(user, slug, number)
    approval = selectors.approval_list(version).filter(pk=pk).first()
    if approval is None:
        raise NotVisible("No such signature.")
    return approval


# --- Decisions ---------------------------------------------------------------------------------
def decision_page(user: AbstractBaseUser, slug: str, decision_id: str) -> dict[str, Any]:
    model = selectors.model_get(user, slug)
    decision = selectors.decision_get(user, model, decision_id)
    reviews = list(decision.reviews.select_related("reviewer").order_by("reviewed_at"))
    facts = [("Decision logged", decision.ledger_key)] + [
        (f"Review: {r.get_action_display().lower()}", r.ledger_key) for r in reviews
    ]
    return {
        "model": model,
        "decision": decision,
        "payload": getattr(decision, "payload", None),
        "reviews": reviews,
        "served_by": selectors.deployment_at(model, "production", decision.occurred_at),
        "receipts": receipt_list(facts),
        "can_report": access.can(user, "reports", model),
    }


# --- Alerts --------------------------------------------------------------------------------------
def may_handle_alert(user: AbstractBaseUser, model: RegisteredModel) -> bool:
    """Whether the alert service would let `user` acknowledge and resolve alerts of `model`."""
    return access.can(user, "oversee", model)


class AlertRows:
    """Alerts paired with whether `user` may handle each (asked once per model), sliced lazily
    so a paginator reads one page of alerts, and iterated in chunks for an export."""

    def __init__(self, user: AbstractBaseUser, alerts: QuerySet[Alert]) -> None:
        self.user, self.alerts, self.handles = user, alerts, {}

    def _pair(self, alert: Alert) -> tuple[Alert, bool]:
        if alert.model_id not in self.handles:
            self.handles[alert.model_id] = may_handle_alert(self.user, alert.model)
        return alert, self.handles[alert.model_id] and alert.state != Alert.State.RESOLVED

    def count(self) -> int:
        return self.alerts.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[tuple[Alert, bool]]:
        return [self._pair(alert) for alert in self.alerts[index]]

    def iterator(self, chunk_size: int) -> Iterator[tuple[Alert, bool]]:
        return (self._pair(alert) for alert in self.alerts.iterator(chunk_size=chunk_size))


def alert_rows(user: AbstractBaseUser, alerts: QuerySet[Alert]) -> AlertRows:
    """Return `alerts` (already narrowed to what `user` may read) with the actions offered."""
    return AlertRows(user, alerts.select_related("version", "acknowledged_by", "resolved_by"))


def alert_get(user: AbstractBaseUser, pk: int) -> Alert:
    alert = status.alert_list(user).filter(pk=pk).first()
    if alert is None:
        raise NotVisible(f"No alert {pk}.")
    return alert
