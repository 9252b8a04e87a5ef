"""Record kinds of monitoring and reporting: policies, thresholds, CI evidence, observations,
alerts, retraining requests and reports."""

from __future__ import annotations

from governance.models import (
    Alert,
    CiEvidence,
    MetricThreshold,
    MonitoringPolicy,
    Report,
    RetrainingPolicy,
    RetrainingRequest,
)
from governance.reconciliation.engine import (
    Fact,
    Field,
    Kind,
    Leaf,
    Row,
    actor,
    bound,
    by_key,
    by_pattern,
    moment,
    rfc3339,
)


def _threshold_extra(row: Row, leaves: dict[str, dict | None], _: object) -> list[Fact]:
    leaf = leaves["recorded"]
    if leaf is None:
        return []
    mine = {name: row[name] for name in ("metric", "slice", "operator", "value")}
    return [Fact("threshold", mine in leaf["data"]["thresholds"], leaf["seq"], mine)]


THRESHOLD = Kind(
    name="threshold",
    model=MetricThreshold,
    columns=(
        "pk",
        "model__slug",
        "metric",
        "slice",
        "operator",
        "value",
        "set_by__username",
        "set_at",
        "ledger_key",
    ),
    natural_key=lambda row: f"threshold {row['pk']} ({row['metric']} {row['operator']}) of {row['model__slug']}",
    leaves=(Leaf("recorded", by_key()),),
    fields=(bound("model", column="model__slug"), moment("set_at"), actor("set_by", "set_by__username")),
    more=_threshold_extra,
)

MONITORING_POLICY = Kind(
    name="monitoring policy",
    model=MonitoringPolicy,
    columns=(
        "pk",
        "model__slug",
        "expected_interval_minutes",
        "psi_threshold",
        "ks_threshold",
        "min_volume",
        "set_by__username",
        "set_at",
        "ledger_key",
    ),
    natural_key=lambda row: f"monitoring policy {row['pk']} of {row['model__slug']}",
    leaves=(Leaf("recorded", by_key()),),
    fields=(
        bound("model", column="model__slug"),
        *(bound(name) for name in ("expected_interval_minutes", "psi_threshold", "ks_threshold", "min_volume")),
        moment("set_at"),
        actor("set_by", "set_by__username"),
    ),
)

RETRAINING_POLICY = Kind(
    name="retraining policy",
    model=RetrainingPolicy,
    columns=(
        "pk",
        "model__slug",
        "drift_windows",
        "accuracy_metric",
        "accuracy_floor",
        "max_age_days",
        "new_data_uri_prefix",
        "set_by__username",
        "set_at",
        "ledger_key",
    ),
    natural_key=lambda row: f"retraining policy {row['pk']} of {row['model__slug']}",
    leaves=(Leaf("recorded", by_key()),),
    fields=(
        bound("model", column="model__slug"),
        *(
            bound(name)
            for name in ("drift_windows", "accuracy_metric", "accuracy_floor", "max_age_days", "new_data_uri_prefix")
        ),
        moment("set_at"),
        actor("set_by", "set_by__username"),
    ),
)

CI_EVIDENCE = Kind(
    name="CI evidence",
    model=CiEvidence,
    columns=(
        "pk",
        "version__model__slug",
        "version__version",
        "run_id",
        "url",
        "test_report_sha256",
        "passed",
        "tests",
        "failures",
        "errors",
        "skipped",
        "posted_by__username",
        "posted_at",
        "ledger_key",
    ),
    natural_key=lambda row: (
        f"CI evidence {row['run_id']} ({row['pk']}) of {row['version__model__slug']} {row['version__version']}"
    ),
    leaves=(Leaf("recorded", by_key()),),
    fields=(
        bound("model", column="version__model__slug"),
        bound("version", column="version__version"),
        *(
            bound(name)
            for name in ("run_id", "url", "test_report_sha256", "passed", "tests", "failures", "errors", "skipped")
        ),
        moment("posted_at"),
        actor("posted_by", "posted_by__username"),
    ),
)


def _alert_state(row: Row, leaves: dict[str, dict | None], _: object) -> list[Fact]:
    if leaves["resolved"] is not None:
        said, seq = Alert.State.RESOLVED.value, leaves["resolved"]["seq"]
    elif leaves["acknowledged"] is not None:
        said, seq = Alert.State.ACKNOWLEDGED.value, leaves["acknowledged"]["seq"]
    elif leaves["recorded"] is not None:
        said, seq = leaves["recorded"]["data"]["state"], leaves["recorded"]["seq"]
    else:
        return []
    return [Fact("state", row["state"] == said, seq, row["state"], said)]


ALERT = Kind(
    name="alert",
    model=Alert,
    columns=(
        "pk",
        "model__slug",
        "version__version",
        "deployment__environment",
        "kind",
        "state",
        "summary",
        "details",
        "dedupe_key",
        "opened_at",
        "acknowledged_by__username",
        "acknowledged_at",
        "acknowledgement_note",
        "resolved_by__username",
        "resolved_at",
        "resolution_note",
        "ledger_key",
    ),
    natural_key=lambda row: f"alert {row['pk']} ({row['kind']}) of {row['model__slug']}",
    leaves=(
        Leaf("recorded", by_key()),
        Leaf(
            "acknowledged",
            by_pattern("alert.acknowledged:{}"),
            required=lambda row: row["acknowledged_at"] is not None,
        ),
        Leaf("resolved", by_pattern("alert.resolved:{}"), required=lambda row: row["resolved_at"] is not None),
    ),
    fields=(
        bound("id", column="pk", path="alert"),
        bound("model", column="model__slug"),
        bound("version", column="version__version"),
        bound("environment", column="deployment__environment"),
        *(bound(name) for name in ("kind", "summary", "details", "dedupe_key")),
        moment("opened_at"),
        bound("acknowledged_by", column="acknowledged_by__username", leaf="acknowledged"),
        moment("acknowledged_at", leaf="acknowledged"),
        bound("acknowledgement_note", path="note", leaf="acknowledged"),
        bound("resolved_by", column="resolved_by__username", leaf="resolved"),
        moment("resolved_at", leaf="resolved"),
        bound("resolution_note", path="note", leaf="resolved"),
    ),
    more=_alert_state,
)


def _request_state(row: Row, leaves: dict[str, dict | None], _: object) -> list[Fact]:
    closed, opened = leaves["closed"], leaves["recorded"]
    if closed is not None:
        said, seq = RetrainingRequest.State.CLOSED.value, closed["seq"]
    elif opened is not None:
        said, seq = RetrainingRequest.State.OPEN.value, opened["seq"]
    else:
        return []
    return [Fact("state", row["state"] == said, seq, row["state"], said)]


RETRAINING_REQUEST = Kind(
    name="retraining request",
    model=RetrainingRequest,
    columns=(
        "pk",
        "model__slug",
        "version__version",
        "rule",
        "details",
        "state",
        "opened_at",
        "closed_at",
        "closed_by_version__version",
        "ledger_key",
    ),
    natural_key=lambda row: f"retraining request {row['pk']} of {row['model__slug']}",
    leaves=(
        Leaf("recorded", by_key()),
        Leaf("closed", by_pattern("retraining.closed:{}"), required=lambda row: row["closed_at"] is not None),
    ),
    fields=(
        bound("id", column="pk", path="request"),
        bound("model", column="model__slug"),
        bound("version", column="version__version"),
        bound("rule"),
        bound("details"),
        moment("opened_at"),
        moment("closed_at", leaf="closed"),
        bound("closed_by_version", column="closed_by_version__version", path="version", leaf="closed"),
    ),
    more=_request_state,
)


def _report_subject(row: Row) -> str:
    if row["kind"] in (Report.Kind.VERSION, Report.Kind.ANNEX_IV):
        return f"model:{row['model__slug']}/version:{row['version__version']}"
    return f"model:{row['model__slug']}/decision:{row['decision__decision_id']}"


def _report_status(row: Row, leaves: dict[str, dict | None], _: object) -> list[Fact]:
    leaf = leaves["generated"]
    if leaf is None:
        return []
    ok = row["status"] == Report.Status.READY
    return [Fact("status", ok, leaf["seq"], row["status"], Report.Status.READY.value)]


REPORT = Kind(
    name="report",
    model=Report,
    columns=(
        "pk",
        "kind",
        "model__slug",
        "version__version",
        "decision__decision_id",
        "purpose",
        "status",
        "generated_at",
        "file_sha256",
        "content_sha256",
        "certificate_sha256",
        "checkpoint_size",
        "ledger_entries",
        "development",
        "redaction",
        "requested_at",
        "requested_by__username",
    ),
    natural_key=lambda row: f"report {row['pk']} ({row['kind']} of {row['model__slug']})",
    leaves=(
        Leaf(
            "generated",
            lambda row: f"report.generated:{row['pk']}",
            required=lambda row: row["status"] == Report.Status.READY,
        ),
    ),
    fields=(
        bound("kind", leaf="generated"),
        Field("subject", "generated", "subject", _report_subject),
        bound("purpose", leaf="generated"),
        bound("generated_at", convert=rfc3339, leaf="generated"),
        bound("redaction", leaf="generated"),
        moment("requested_at", leaf="generated"),
        actor("requested_by", "requested_by__username", leaf="generated"),
        *(
            bound(name, leaf="generated")
            for name in (
                "file_sha256",
                "content_sha256",
                "certificate_sha256",
                "checkpoint_size",
                "ledger_entries",
                "development",
            )
        ),
    ),
    more=_report_status,
)

KINDS = (
    THRESHOLD,
    MONITORING_POLICY,
    RETRAINING_POLICY,
    CI_EVIDENCE,
    ALERT,
    RETRAINING_REQUEST,
    REPORT,
)
