"""The dossier's blocks for the assurance records: classification, oversight, findings, risks."""

from __future__ import annotations

from typing import Any

from governance.reports.content import Callout, KeyValues, Table


def classification_block(f: dict[str, Any]) -> KeyValues | Callout:
    c = f["assurance"]["classification"]
    if c is None:
        return Callout("No AI Act classification (Annex III point) is recorded for the model.", tone="error")
    return KeyValues(
        (
            ("AI Act classification", c["annex_iii"]),
            ("Role", c["role"]),
            ("Classification rationale", c["rationale"]),
            ("Classified purpose", c["intended_purpose"]),
            ("Classification recorded", c["recorded"]),
        )
    )


def oversight_block(f: dict[str, Any]) -> Table | Callout:
    rows = f["assurance"]["oversight"]
    if not rows:
        return Callout("No human-oversight measures are recorded (Art. 14, Annex IV 2(e)).", tone="error")
    return Table(
        ("Oversight measure", "Measure", "Responsible", "In place", "Recorded"),
        tuple((o["id"], o["measure"], o["responsible"], "yes" if o["active"] else "no", o["recorded"]) for o in rows),
        column_widths=(0.12, 0.38, 0.17, 0.08, 0.25),
    )


def findings_block(f: dict[str, Any]) -> Table | Callout:
    rows = f["assurance"]["findings"]
    if not rows:
        return Callout("No independent validation findings are on file for this version.", tone="warning")
    return Table(
        ("Finding", "Title", "Severity", "Remediation state", "Remediation", "Recorded"),
        tuple((x["id"], x["title"], x["severity"], x["state"], x["remediation"], x["recorded"]) for x in rows),
        column_widths=(0.09, 0.22, 0.1, 0.14, 0.25, 0.2),
    )


def risk_blocks(f: dict[str, Any]) -> list:
    risks = f["assurance"]["risks"]
    if not risks:
        return [Callout("No risk register entries are recorded for the model (Art. 9).", tone="error")]
    return [
        Table(
            ("Risk", "Hazard", "Affected", "Mitigation", "Residual"),
            tuple((r["id"], r["hazard"], r["affected"], r["mitigation"], r["residual"]) for r in risks),
            column_widths=(0.08, 0.3, 0.2, 0.3, 0.12),
        ),
        Table(
            ("Risk", "Acceptance", "Accepted by and basis", "Recorded"),
            tuple((r["id"], r["acceptance"], r["acceptance_note"], r["recorded"]) for r in risks),
            column_widths=(0.08, 0.14, 0.5, 0.28),
        ),
    ]
