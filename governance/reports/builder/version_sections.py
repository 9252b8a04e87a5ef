"""The dossier's sections, numbered as REGULATORY.md §3(a), drawn from its facts (plain data)."""

from __future__ import annotations

from typing import Any

from governance.models import ModelCard
from governance.reports.builder.common import _number, _verify_help
from governance.reports.builder.version_assurance import (
    classification_block,
    findings_block,
    oversight_block,
    risk_blocks,
)
from governance.reports.builder.version_operations import monitoring_section, usage_section
from governance.reports.content import BarChart, Callout, KeyValues, Paragraph, Section, Table

NONE = ("—",)


def _rows(rows: list[tuple[str, ...]], width: int) -> tuple[tuple[str, ...], ...]:
    return tuple(rows) or (NONE * width,)


def _kv(facts: dict[str, Any], labels: tuple[tuple[str, str], ...]) -> KeyValues:
    return KeyValues(tuple((label, str(facts[key])) for key, label in labels))


def _identification(f: dict[str, Any]) -> Section:
    labels = (
        ("model", "Model"),
        ("version", "Version"),
        ("status", "Status"),
        ("artifact_sha256", "Artifact SHA-256"),
        ("artifact_uri", "Artifact"),
        ("provider", "Provider"),
        ("intended_purpose", "Intended purpose"),
        ("out_of_scope_uses", "Out of scope"),
        ("regulated_use", "Regulated use"),
        ("registered", "Registered"),
        ("relation_to_previous", "Relation to previous"),
        ("dependencies", "Dependencies"),
    )
    return Section("1. Identification", (_kv(f["identification"], labels), classification_block(f)))


def _governance(f: dict[str, Any]) -> Section:
    labels = (
        ("owner", "Owner"),
        ("developer", "Developer (registered the version)"),
        ("card_authors", "Model card authors"),
        ("approvers", "Approvers"),
        ("runbook", "Runbook"),
        ("risk_tier", "Risk tier"),
        ("approvals_required", "Approvals required"),
        ("lifecycle_status", "Lifecycle status"),
        ("validated_at", "Validated"),
        ("next_validation_due", "Next validation due"),
        ("valid_until", "Valid until"),
    )
    return Section("2. Inventory and governance", (_kv(f["governance"], labels),))


def _data(f: dict[str, Any]) -> Section:
    rows = [
        (
            d["role"],
            d["name"],
            d["sha256"] + (" (reference only: content never read)" if d["hash_kind"] == "reference" else ""),
            str(d["rows"] or "—"),
            f"{d['provenance']} {d['preparation']}",
        )
        for d in f["datasets"]
    ]
    table = Table(("Role", "Dataset", "SHA-256", "Rows", "Provenance and preparation"), _rows(rows, 5))
    return Section("3. Data", (table,))


def _design(f: dict[str, Any]) -> Section:
    d = f["design"]
    labels = (
        ("lineage", "Lineage"),
        ("code", "Code"),
        ("pipeline_run", "Pipeline run"),
        ("environment_lock_sha256", "Environment lock SHA-256"),
    )
    params = "; ".join(f"{k} = {v}" for k, v in d["hyperparameters"].items()) or "—"
    return Section(
        "4. Design and development", (_kv(d, labels), KeyValues((("Hyperparameters", params),)), oversight_block(f))
    )


def _version_chart(chart: dict[str, Any]) -> BarChart | None:
    if not chart["metrics"] or not chart["versions"]:
        return None
    labels = tuple(
        v["version"] if v["ever_approved"] else f"{v['version']} (never approved)" for v in chart["versions"]
    )
    series = tuple(
        (name, tuple(_number(v["metrics"].get(name, "")) or 0.0 for v in chart["versions"]))
        for name in chart["metrics"]
    )
    return BarChart("Key metrics across versions", labels, series, "value")


def _validation(f: dict[str, Any]) -> Section:
    gates = f["gates"]
    blocks: list = [
        Paragraph(f"Production gates evaluated at {gates['evaluated_at']} from the recorded evidence."),
        Table(
            ("Gate", "Required", "Result", "Reason"),
            tuple((g["title"], "yes" if g["required"] else "no", g["status"], g["reason"]) for g in gates["gates"]),
            column_widths=(0.22, 0.1, 0.1, 0.58),
        ),
        Table(
            ("Metric", "Threshold", "Value", "Result"),
            _rows([(c["metric"], c["threshold"], c["value"], c["result"]) for c in gates["thresholds"]], 4),
        ),
    ]
    if gates["waivers"]:
        blocks.append(
            Table(
                ("Waived gate", "Reason", "Waived by"),
                tuple((w["gate"], w["reason"], w["signer"]) for w in gates["waivers"]),
            )
        )
    blocks.append(
        Table(("Metric", "Value", "Slice"), _rows([(m["name"], m["value"], m["slice"]) for m in f["metrics"]], 3))
    )
    if chart := _version_chart(f["version_chart"]):
        never = [v["version"] for v in f["version_chart"]["versions"] if not v["ever_approved"]]
        blocks.append(chart)
        if never:
            blocks.append(Paragraph(f"Never approved: {', '.join(never)} (labelled so in the chart)."))
    runs = f["ci"]["runs"]
    counts = ("tests", "failures", "errors", "skipped")
    blocks.append(
        Table(
            ("CI run", "Result", "Tests", "Failures", "Errors", "Skipped"),
            _rows(
                [
                    (
                        r["run_id"],
                        "passed" if r["passed"] else "FAILED",
                        *(str(r[k] if r[k] is not None else "—") for k in counts),
                    )
                    for r in runs
                ],
                6,
            ),
        )
    )
    if runs:
        blocks.append(
            Table(
                ("CI run", "Test report SHA-256", "Posted"),
                tuple((r["run_id"], r["report_sha256"], r["posted"]) for r in runs),
                column_widths=(0.15, 0.5, 0.35),
            )
        )
    blocks.append(findings_block(f))
    card = f["card"]
    if card is None:
        blocks.append(Callout("No model card on file.", tone="error"))
    else:
        blocks.append(
            Paragraph(
                f"Model card revision {card['revision']} ({card['state']}), by {card['author']} at "
                f"{card['created_at']}; SHA-256 {card['sha256']}."
            )
        )
        blocks.append(
            KeyValues(
                tuple(
                    (name.replace("_", " ").capitalize(), card["sections"][name] or "— (empty)")
                    for name in ModelCard.SECTIONS
                )
            )
        )
    return Section("5. Validation and testing", tuple(blocks))


def _risk(f: dict[str, Any]) -> Section:
    accepted = [s for s in f["signatures"]["signatures"] if s["meaning"] == "Risk accepted"]
    blocks = [
        *risk_blocks(f),
        Table(
            ("Residual risk acceptance signed by", "Role", "Signed (UTC)", "Reason"),
            tuple((s["signer"], s["role"], s["signed_at"], s["reason"]) for s in accepted),
        )
        if accepted
        else Callout("No residual-risk acceptance is signed for this version.", tone="error"),
    ]
    return Section("6. Risk management", tuple(blocks))


def _signatures(f: dict[str, Any]) -> Section:
    sig = f["signatures"]
    rows = [
        (s["signer"], s["role"], s["signed_at"], s["meaning"], s["authentication"], s["separation_of_duties"])
        for s in sig["signatures"]
    ]
    blocks: list = [
        Paragraph(
            "Electronic signatures (21 CFR 11.50): printed name, role, UTC time, meaning, the signer's stated "
            "reason, the SHA-256 of exactly what was signed, how the signer authenticated, and the "
            "separation-of-duties outcome."
        ),
        Table(
            ("Signer", "Role", "Signed (UTC)", "Meaning", "Authentication", "Separation of duties"),
            tuple(rows),
            column_widths=(0.2, 0.17, 0.17, 0.13, 0.18, 0.15),
        )
        if rows
        else Callout("No signatures on file: this version was never approved.", tone="error"),
    ]
    if rows:
        blocks.append(
            Table(
                ("Signer", "Reason given", "SHA-256 signed"),
                tuple((s["signer"], s["reason"], s["signed_sha256"]) for s in sig["signatures"]),
                column_widths=(0.2, 0.4, 0.4),
            )
        )
    if sig["separation_of_duties"]:
        blocks.append(
            Table(
                ("Separation-of-duties rule", "Outcome", "Signatures"),
                tuple((c["rule"], c["outcome"], str(c["signatures"])) for c in sig["separation_of_duties"]),
            )
        )
    if f["officer_grants"]:
        blocks.append(
            Table(
                ("Signer", "Officer role proposed by", "Confirmed by", "Confirmed (UTC)", "Ledger seq"),
                tuple(tuple(row) for row in f["officer_grants"]),
            )
        )
    return Section("7. Approvals and signatures", tuple(blocks))


def _deployments(f: dict[str, Any]) -> Section:
    d = f["deployments"]
    rows = d["deployments"]
    deployments = Table(
        ("Environment", "From (UTC)", "To (UTC)", "Change ticket", "CI run", "Gates at deployment"),
        _rows(
            [
                (
                    r["environment"],
                    r["started_at"],
                    r["ended_at"],
                    r["change_ticket"],
                    r["ci_run_id"],
                    r["gates_at_deployment"],
                )
                for r in rows
            ],
            6,
        ),
    )
    endings = Table(
        ("Deployed (UTC)", "Rollback", "End reason"),
        _rows([(r["started_at"], r["rollback"], r["end_reason"]) for r in rows], 3),
        column_widths=(0.2, 0.3, 0.5),
    )
    changes = Table(
        ("When (UTC)", "From", "To", "By", "Reason"),
        _rows([(c["at"], c["from"], c["to"], c["by"], c["reason"]) for c in d["status_changes"]], 5),
    )
    return Section("8. Deployment and change history", (deployments, endings, changes))


def _closing(f: dict[str, Any], subject: str) -> tuple[Section, ...]:
    gaps = f["missing_evidence"]
    return (
        Section(
            "11. Conformity",
            (
                Callout(
                    "No standards, EU declaration of conformity, EU database registration or "
                    "instructions-for-use version are recorded.",
                    tone="warning",
                ),
            ),
        ),
        Section(
            "12. Retention",
            (KeyValues((("Retention class", f["retention"]["class"]), ("Keep until", f["retention"]["until"]))),),
        ),
        Section(
            "Missing evidence",
            (
                Callout("\n".join(f"• {gap}" for gap in gaps), tone="warning", title=f"{len(gaps)} gap(s) found")
                if gaps
                else Callout("No expected evidence is missing.", tone="ok"),
            ),
        ),
        Section("13. Integrity appendix", (_verify_help(subject),)),
    )


def dossier_sections(facts: dict[str, Any], *, subject: str) -> tuple[Section, ...]:
    """Return the dossier's sections from `facts` (see `version_dossier`)."""
    return (
        _identification(facts),
        _governance(facts),
        _data(facts),
        _design(facts),
        _validation(facts),
        _risk(facts),
        _signatures(facts),
        _deployments(facts),
        monitoring_section(facts),
        usage_section(facts),
        *_closing(facts, subject),
    )
