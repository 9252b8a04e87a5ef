"""The decision report: one regulated decision, the version that made it, and its review."""

from __future__ import annotations

import json
from datetime import datetime

from governance.models import Decision, Deployment, ModelVersion, StatusChange
from governance.reports.builder.common import Built, _utc, _verify_help
from governance.reports.content import (
    KeyValues,
    Paragraph,
    ReportContent,
    Section,
    Table,
)


def _inputs_table(snapshot: dict) -> Table:
    """The input snapshot, one row per feature; a value logged already hashed reads as such."""
    rows = []
    for feature, value in sorted(snapshot.items()):
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
        rows.append((str(feature), text, "input snapshot, as logged with the decision"))
    return Table(("Feature", "Value or redacted hash", "Source"), tuple(rows), column_widths=(0.3, 0.4, 0.3))


def _status_at(version: ModelVersion, moment: datetime) -> str:
    change = StatusChange.objects.filter(version=version, changed_at__lte=moment).order_by("-changed_at").first()
    return change.to_status if change else ModelVersion.Status.REGISTERED


def decision_report(
    decision: Decision, *, report_id: str, generated_at: datetime, development: bool, include_snapshot: bool
) -> Built:
    """Return the single regulated-decision report (REGULATORY.md §3(b)) and its cited keys."""
    version, model = decision.version, decision.model
    approvals = list(version.approvals.filter(signed_at__lte=decision.occurred_at).order_by("signed_at"))
    deployment = (
        Deployment.objects.filter(version=version, started_at__lte=decision.occurred_at)
        .order_by("-started_at")
        .first()
    )
    reviews = list(decision.reviews.select_related("reviewer").order_by("reviewed_at"))
    keys = [
        decision.ledger_key,
        version.ledger_key,
        *(a.ledger_key for a in approvals),
        *(r.ledger_key for r in reviews),
    ]
    if deployment:
        keys.append(deployment.ledger_key)
    payload = getattr(decision, "payload", None)
    sections = [
        Section(
            "Decision identification",
            (
                KeyValues(
                    (
                        ("Decision id", decision.decision_id),
                        ("Model", model.slug),
                        ("Occurred (UTC)", _utc(decision.occurred_at)),
                        ("Subject reference", (payload.subject_ref or "erased") if payload else "—"),
                        ("Logged by", decision.posted_by.get_username()),
                        ("Ledger key", decision.ledger_key),
                    )
                ),
            ),
        ),
        Section(
            "System in use at decision time",
            (
                KeyValues(
                    (
                        ("Version", version.version),
                        ("Artifact SHA-256", version.artifact_sha256),
                        ("Status at that instant", _status_at(version, decision.occurred_at)),
                        (
                            "Deployment",
                            f"{deployment.environment} since {_utc(deployment.started_at)}" if deployment else "—",
                        ),
                        ("Risk tier", model.get_risk_tier_display()),
                        ("Intended purpose", model.intended_purpose),
                    )
                ),
                Table(
                    ("Approved by", "Role", "Signed (UTC)", "Meaning"),
                    tuple(
                        (a.signer_name, a.signer_role, _utc(a.signed_at), a.get_meaning_display()) for a in approvals
                    )
                    or (("no signature before the decision", "", "", ""),),
                ),
            ),
        ),
        Section(
            "Inputs",
            (
                KeyValues(
                    (
                        ("Input SHA-256 (canonical JSON)", decision.input_sha256),
                        ("Payload commitment", decision.payload_commitment),
                    )
                ),
                *(
                    (_inputs_table(payload.input_snapshot),)
                    if include_snapshot and payload and payload.input_snapshot
                    else (
                        Paragraph("The input snapshot is not shown in this edition (erased, not kept, or redacted)."),
                    )
                ),
            ),
        ),
        Section(
            "Model output and explanation",
            (
                KeyValues(
                    (
                        ("Output", decision.output_label),
                        ("Score", decision.output_score or "—"),
                        ("Mode", decision.get_mode_display()),
                    )
                ),
                Table(
                    ("Rank", "Reason code", "Reason disclosed", "Contribution"),
                    tuple(
                        (str(i + 1), r.get("code", ""), r.get("text", ""), r.get("contribution", "—"))
                        for i, r in enumerate(decision.reasons)
                    )
                    or (("—", "—", "no reasons recorded", "—"),),
                ),
            ),
        ),
        Section(
            "Human oversight",
            (
                KeyValues(
                    (
                        ("Reviewer", decision.reviewer or "—"),
                        ("Overridden", "yes" if decision.overridden else "no"),
                        ("Override reason", decision.override_reason or "—"),
                        ("Final outcome", decision.final_label or decision.output_label),
                    )
                ),
                Table(
                    ("Reviewed (UTC)", "Reviewer", "Action", "Reason"),
                    tuple(
                        (_utc(r.reviewed_at), r.reviewer.get_username(), r.get_action_display(), r.reason or "—")
                        for r in reviews
                    )
                    or (("—", "—", "no later reviews", "—"),),
                ),
            ),
        ),
        Section("Integrity appendix", (_verify_help(f"decision {decision.decision_id}"),)),
    ]
    content = ReportContent(
        kind="decision",
        title=f"Decision report: {model.slug} / {decision.decision_id}",
        report_id=report_id,
        generated_at=generated_at,
        subject=f"model:{model.slug}/decision:{decision.decision_id}",
        development=development,
        sections=tuple(sections),
        footer_note="Sealed with PAdES; evidence manifest embedded.",
        title_rows=(("Decision", decision.decision_id),),
    )
    return Built(content, list(dict.fromkeys(keys)))
