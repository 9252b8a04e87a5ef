"""The records a report shows, checked against their leaves before the report is built."""

from __future__ import annotations

from django.db.models import Q, QuerySet

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
    OversightMeasure,
    RegisteredModel,
    Report,
    RetrainingPolicy,
    RetrainingRequest,
    RiskEntry,
    StatusChange,
    ValidationFinding,
)
from governance.models.reports import VERSION_KINDS
from governance.reconciliation import BY_NAME
from governance.reconciliation.engine import Mismatch, first_failing, records_facts


def report_records(report: Report) -> list[tuple[str, QuerySet]]:
    """Return (kind, queryset) for every record the report's builder reads."""
    version = report.version
    records = [
        ("model", RegisteredModel.objects.filter(pk=report.model_id)),
        ("version", ModelVersion.objects.filter(pk=version.pk)),
        ("approval", Approval.objects.filter(version=version)),
        ("deployment", Deployment.objects.filter(version=version)),
    ]
    if report.kind in VERSION_KINDS:
        records += [
            ("dataset", Dataset.objects.filter(version_links__version=version)),
            ("card", ModelCard.objects.filter(version=version)),
            ("status change", StatusChange.objects.filter(version=version)),
            ("CI evidence", CiEvidence.objects.filter(version=version)),
            ("threshold", MetricThreshold.objects.filter(model_id=report.model_id, superseded_at__isnull=True)),
            (
                "monitoring policy",
                MonitoringPolicy.objects.filter(model_id=report.model_id, superseded_at__isnull=True),
            ),
            (
                "retraining policy",
                RetrainingPolicy.objects.filter(model_id=report.model_id, superseded_at__isnull=True),
            ),
            ("alert", Alert.objects.filter(version=version)),
            (
                "retraining request",
                RetrainingRequest.objects.filter(Q(version=version) | Q(closed_by_version=version)),
            ),
            ("classification", Classification.objects.filter(model_id=report.model_id)),
            ("risk entry", RiskEntry.objects.filter(model_id=report.model_id)),
            ("oversight measure", OversightMeasure.objects.filter(model_id=report.model_id)),
            ("validation finding", ValidationFinding.objects.filter(version=version)),
        ]
    else:
        records += [
            ("decision", Decision.objects.filter(pk=report.decision_id)),
            ("decision review", DecisionReview.objects.filter(decision_id=report.decision_id)),
        ]
    return records


def report_check(report: Report) -> tuple[Mismatch | None, list[dict]]:
    """Return the first record the report would show that differs from its leaves (None when
    all reconcile) and every fact its records state in a leaf, as evidence.json lists them:
    {record, field, seq, member, value}, the value being the leaf's (equal to the record's
    when there is no mismatch).

    One query per kind of record and one for the leaves of them all.
    """
    records = [(BY_NAME[name], queryset) for name, queryset in report_records(report)]
    checked = records_facts(records)
    mismatch, facts = None, []
    for (kind, _), rows in zip(records, checked, strict=True):
        mismatch = mismatch or first_failing(kind, rows)
        for row, row_facts in rows:
            record = kind.natural_key(row)
            facts += [
                {"record": record, "field": f.field, "seq": f.seq, "member": f.member, "value": f.ledger}
                for f in row_facts
                if f.ok and f.member is not None and f.seq is not None
            ]
    return mismatch, facts
