"""Leaves whose record is gone: a row deleted outright contradicts the leaf that created it.

Reconciling rows with their leaves finds every edited row and every row with no leaf; this is
the other direction. For each event that creates a record, every entry of that type must still
have its row: a decision, an approval or an alert deleted from the database is named here with
the `seq` that records it. One anti-join per event type (the entries' key prefix is indexed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Q

from governance.models import (
    Alert,
    Approval,
    CiEvidence,
    Classification,
    Dataset,
    Decision,
    DecisionReview,
    Deployment,
    MetricThreshold,
    ModelCard,
    ModelVersion,
    MonitoringPolicy,
    Observation,
    OversightMeasure,
    OwnershipTransfer,
    RegisteredModel,
    Report,
    RetrainingPolicy,
    RetrainingRequest,
    RiskEntry,
    StatusChange,
    ValidationFinding,
    Webhook,
)
from governance.reconciliation.engine import Mismatch
from ledger.models import Entry

# The event that creates each kind of record, and the tables whose `ledger_key` holds its key
# (a `policy.set` entry creates thresholds, a monitoring policy or a retraining policy).
BY_LEDGER_KEY = {
    "model.registered": ("model", (RegisteredModel,)),
    "dataset.registered": ("dataset", (Dataset,)),
    "version.registered": ("version", (ModelVersion,)),
    "card.revised": ("card", (ModelCard,)),
    "approval.signed": ("approval", (Approval,)),
    "version.status_changed": ("status change", (StatusChange,)),
    "owner.transfer_requested": ("ownership transfer", (OwnershipTransfer,)),
    "deployment.started": ("deployment", (Deployment,)),
    "decision.logged": ("decision", (Decision,)),
    "decision.reviewed": ("decision review", (DecisionReview,)),
    "policy.set": ("threshold or policy", (MetricThreshold, MonitoringPolicy, RetrainingPolicy)),
    "ci.evidence_posted": ("CI evidence", (CiEvidence,)),
    "monitoring.observed": ("observation", (Observation,)),
    "alert.opened": ("alert", (Alert,)),
    "retraining.requested": ("retraining request", (RetrainingRequest,)),
    "classification.recorded": ("classification", (Classification,)),
    "risk.recorded": ("risk entry", (RiskEntry,)),
    "oversight.recorded": ("oversight measure", (OversightMeasure,)),
    "finding.recorded": ("validation finding", (ValidationFinding,)),
}
# Events keyed by the id of the record they create: `<type>:<id>`.
BY_ID = {"report.generated": ("report", Report), "webhook.created": ("webhook", Webhook)}


def _mismatch(kind: str, table: str, seq: int, key: str, leaf: bytes) -> Mismatch:
    subject = json.loads(bytes(leaf)).get("subject", "")
    record = f"{kind} {key.split(':', 1)[1]}" + (f" ({subject})" if subject else "")
    return Mismatch(table, kind, record, "row", None, seq, ledger=key)


def orphans() -> Iterator[Mismatch]:
    """Yield a mismatch for every creating entry whose record no longer exists."""
    for event, (kind, tables) in BY_LEDGER_KEY.items():
        present = Q()
        for table in tables:
            present |= Exists(table.objects.filter(ledger_key=OuterRef("idempotency_key")))
        missing = (
            Entry.objects.filter(idempotency_key__startswith=f"{event}:")
            .exclude(present)
            .order_by("seq")
            .values_list("seq", "idempotency_key", "leaf")
        )
        for seq, key, leaf in missing.iterator(chunk_size=2_000):
            yield _mismatch(kind, tables[0]._meta.db_table, seq, key, leaf)
    for event, (kind, table) in BY_ID.items():
        ids = {str(pk) for pk in table.objects.values_list("pk", flat=True)}
        entries = Entry.objects.filter(idempotency_key__startswith=f"{event}:").order_by("seq")
        for seq, key, leaf in entries.values_list("seq", "idempotency_key", "leaf").iterator(chunk_size=2_000):
            if key.split(":", 1)[1] not in ids:
                yield _mismatch(kind, table._meta.db_table, seq, key, leaf)
