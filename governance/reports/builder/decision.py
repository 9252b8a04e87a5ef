"""The decision report (REGULATORY.md §3(b) 1 to 12): facts gathered and redacted as plain data
(`decision_facts`), then laid out as sections numbered as the checklist."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from governance.models import Decision
from governance.reports.builder.common import Built, _utc, _verify_help
from governance.reports.builder.decision_facts import LEVELS, decision_facts
from governance.reports.content import Callout, KeyValues, Paragraph, ReportContent, Section, Table, Timeline

LEVEL_NOTES = {
    "authority": "Authority edition: everything the record holds, identities included.",
    "internal": "Internal edition: the data subject is pseudonymised; staff are named.",
    "subject": "Data-subject edition: your own data; no third-party data (staff appear by role only).",
}


def _kv(facts: dict[str, Any], labels: tuple[tuple[str, str], ...]) -> KeyValues:
    return KeyValues(tuple((label, str(facts[key])) for key, label in labels))


def _sections(f: dict[str, Any]) -> tuple[Section, ...]:
    ident, system, inputs, out = f["identification"], f["system"], f["inputs"], f["output"]
    signatures = tuple((s["signer"], s["role"], s["signed_at"], s["meaning"]) for s in system["signatures"])
    state = "approved" if system["approved_at_decision"] else "NOT approved"
    input_blocks: list = [
        KeyValues(
            (
                ("Input SHA-256 (canonical JSON)", inputs["input_sha256"]),
                ("Payload commitment", inputs["payload_commitment"]),
            )
        )
    ]
    if inputs["rows"]:
        input_blocks.append(
            Table(
                ("Feature", "Value or redacted hash", "Source"),
                tuple((r["feature"], r["value"], r["source"]) for r in inputs["rows"]),
                column_widths=(0.2, 0.4, 0.4),
            )
        )
    else:
        input_blocks.append(Paragraph("No input snapshot is held (never kept, or erased)."))
    explanation = f["explanation"]
    oversight = f["oversight"]
    return (
        Section(
            "1. Decision identification",
            (
                _kv(
                    ident,
                    (
                        ("decision_id", "Decision id"),
                        ("model", "Model"),
                        ("ledger_seq", "Ledger sequence"),
                        ("record_hash", "Record (leaf) hash"),
                        ("subject_reference", "Subject reference"),
                        ("deployer", "Deployer"),
                        ("product", "Product"),
                        ("jurisdiction", "Jurisdiction"),
                        ("logged_by", "Logged by"),
                    ),
                ),
            ),
        ),
        Section(
            "2. System in use at decision time",
            (
                _kv(
                    system,
                    (
                        ("version", "Version"),
                        ("artifact_sha256", "Artifact SHA-256"),
                        ("status_at_decision", "Status at that instant"),
                        ("deployment", "Deployment"),
                        ("config_version", "Config version"),
                        ("explainer_version", "Explainer version"),
                        ("risk_tier", "Risk tier"),
                        ("intended_purpose", "Intended purpose"),
                        ("classification", "AI Act classification"),
                    ),
                ),
                Paragraph(f"Approval state at the instant of the decision: {state}."),
                Table(("Signed by", "Role", "Signed (UTC)", "Meaning"), signatures)
                if signatures
                else Callout("No signature preceded the decision.", tone="error"),
            ),
        ),
        Section(
            "3. Timeline",
            (Timeline("Decision timeline", tuple(f["timeline"]["events"])), Paragraph(f["timeline"]["notice"])),
        ),
        Section("4. Inputs", tuple(input_blocks)),
        Section(
            "5. Model output",
            (_kv(out, (("label", "Output"), ("score", "Score"), ("threshold", "Threshold"), ("mode", "Mode"))),),
        ),
        Section(
            "6. Explanation",
            (
                Table(
                    ("Rank", "Reason code", "Reason disclosed", "Contribution"),
                    tuple((str(r["rank"]), r["code"], r["text"], r["contribution"]) for r in explanation["reasons"])
                    or (("—", "—", "no reasons recorded", "—"),),
                    column_widths=(0.08, 0.15, 0.57, 0.2),
                ),
                KeyValues((("Disclosed reasons match the top factors", explanation["consistency_check"]),)),
                Paragraph(f"Role of the AI system: {f['role_of_ai']}"),
            ),
        ),
        Section(
            "7. Human oversight",
            (
                KeyValues(
                    (
                        ("Reviewer", oversight["reviewer"]),
                        ("Overridden", "yes" if oversight["overridden"] else "no"),
                        ("Override reason", oversight["override_reason"]),
                        ("Solely automated (GDPR Art. 22)", "yes" if oversight["solely_automated"] else "no"),
                    )
                ),
                Table(
                    ("Oversight measure in force", "Responsible"),
                    tuple((m["measure"], m["responsible"]) for m in oversight["measures"])
                    or (("none recorded", "—"),),
                ),
            ),
        ),
        Section(
            "8. Final decision and notices",
            (
                KeyValues(
                    (
                        ("Final outcome", oversight["final_outcome"]),
                        ("Notices", "no adverse-action or AI-use notice recorded"),
                    )
                ),
            ),
        ),
        Section(
            "9. Post-decision events",
            (
                Table(
                    ("Reviewed (UTC)", "Reviewer", "Action", "Reason code", "Reason", "Final"),
                    tuple(
                        (r["at"], r["reviewer"], r["action"], r["reason_code"], r["reason"], r["final_label"])
                        for r in oversight["reviews"]
                    )
                    or (("—", "—", "no later reviews, contests or complaints recorded", "—", "—", "—"),),
                ),
            ),
        ),
        Section(
            "10. Audit trail of the record",
            (
                Table(
                    ("Seq", "Event", "Actor", "Time (UTC)", "Leaf hash"),
                    tuple((str(t["seq"]), t["type"], t["actor"], t["at"], t["leaf_hash"]) for t in f["trail"]),
                    column_widths=(0.07, 0.2, 0.15, 0.2, 0.38),
                ),
            ),
        ),
        Section(
            "11. Retention and legal hold",
            (
                _kv(
                    f["retention"],
                    (("bases", "Bases"), ("until", "Keep until"), ("legal_hold", "Legal hold"), ("erased", "Erased")),
                ),
            ),
        ),
    )


def decision_report(
    decision: Decision,
    *,
    report_id: str,
    generated_at: datetime,
    development: bool,
    include_snapshot: bool,
    redaction: str = "authority",
    purpose: str = "",
    requester: str = "",
) -> Built:
    """Return the single regulated-decision report (REGULATORY.md §3(b)), its cited keys and facts."""
    if redaction not in LEVELS:
        raise ValueError(f"redaction must be one of {', '.join(LEVELS)}")
    facts = decision_facts(decision, level=redaction, show_values=include_snapshot)
    keys = facts.pop("keys")
    facts["request"] = {
        "report_id": report_id,
        "purpose": purpose or "not stated",
        # The subject edition holds no third-party data, in its pages or its report.json.
        "requester": "on behalf of the data subject"
        if redaction == "subject"
        else requester or "the operator (command line)",
        "redaction": redaction,
    }
    sections = (
        *_sections(facts),
        Section("12. Integrity appendix", (_verify_help(f"decision {decision.decision_id}"),)),
    )
    # Plain data from here: the timeline's instants as UTC strings.
    facts["timeline"]["events"] = [{"at": _utc(at), "event": label} for at, label in facts["timeline"]["events"]]
    content = ReportContent(
        kind="decision",
        title=f"Decision report: {decision.model.slug} / {decision.decision_id}",
        report_id=report_id,
        generated_at=generated_at,
        subject=f"model:{decision.model.slug}/decision:{decision.decision_id}",
        development=development,
        sections=sections,
        footer_note=f"Sealed with PAdES; evidence manifest embedded. {redaction.capitalize()} edition.",
        title_rows=(
            ("Decision", decision.decision_id),
            ("Edition", LEVEL_NOTES[redaction]),
            ("Purpose of this report", facts["request"]["purpose"]),
            (
                "Requested by",
                facts["request"]["requester"],
            ),
        ),
    )
    return Built(content, list(dict.fromkeys(keys)), facts)
