"""The columns of each list's CSV export: the same rows the page shows, every filtered one."""

from __future__ import annotations

from typing import Any

DECISIONS = (
    [
        "decision_id",
        "model",
        "version",
        "occurred_at",
        "output_label",
        "output_score",
        "overridden",
        "final_label",
        "mode",
        "reviewer",
        "ledger_key",
    ],
    lambda d: [
        d.decision_id,
        d.model.slug,
        d.version.version,
        d.occurred_at,
        d.output_label,
        d.output_score,
        d.overridden,
        d.final_label,
        d.mode,
        d.reviewer,
        d.ledger_key,
    ],
)


def _who(user: Any) -> str:
    return user.get_username() if user is not None else ""


ALERTS = (
    [
        "id",
        "model",
        "version",
        "kind",
        "state",
        "summary",
        "opened_at",
        "acknowledged_by",
        "acknowledged_at",
        "resolved_by",
        "resolved_at",
        "resolution_note",
        "ledger_key",
    ],
    lambda a: [
        a.pk,
        a.model.slug,
        a.version.version if a.version else "",
        a.kind,
        a.state,
        a.summary,
        a.opened_at,
        _who(a.acknowledged_by),
        a.acknowledged_at,
        _who(a.resolved_by),
        a.resolved_at,
        a.resolution_note,
        a.ledger_key,
    ],
)

REPORTS = (
    [
        "id",
        "kind",
        "model",
        "version",
        "decision_id",
        "status",
        "purpose",
        "requested_at",
        "requested_by",
        "generated_at",
        "file_sha256",
        "development",
    ],
    lambda r: [
        r.pk,
        r.kind,
        r.model.slug,
        r.version.version if r.version else "",
        r.decision.decision_id if r.decision else "",
        r.status,
        r.purpose,
        r.requested_at,
        _who(r.requested_by),
        r.generated_at,
        r.file_sha256,
        r.development,
    ],
)

MODELS = (
    ["slug", "name", "risk_tier", "regulated_use", "owner", "versions", "open_alerts", "created_at"],
    lambda m: [
        m.slug,
        m.name,
        m.risk_tier,
        m.regulated_use,
        m.owner.get_username(),
        m.version_count,
        m.open_alerts,
        m.created_at,
    ],
)

VERSIONS = (
    ["version", "status", "registered_at", "registered_by", "parent", "artifact_sha256", "ledger_key"],
    lambda v: [
        v.version,
        v.status,
        v.registered_at,
        v.registered_by.get_username(),
        v.parent.version if v.parent else "",
        v.artifact_sha256,
        v.ledger_key,
    ],
)

ENTRIES = (
    ["seq", "ts", "type", "subject", "actor", "leaf_hash"],
    lambda e: [e["seq"], e["ts"], e["type"], e["subject"], e["actor"], e["leaf_hash"]],
)

__all__ = ["ALERTS", "DECISIONS", "ENTRIES", "MODELS", "REPORTS", "VERSIONS"]
