"""The version dossier: the model, the version, its lineage, card, evaluation, approvals, deployments and gaps."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from governance import selectors
from governance.models import Approval, Decision, ModelCard, ModelVersion
from governance.reports.builder.common import (
    MAX_CITED,
    Built,
    _number,
    _officer_grant_rows,
    _person,
    _utc,
    _verify_help,
)
from governance.reports.content import (
    BarChart,
    Callout,
    KeyValues,
    LineChart,
    Paragraph,
    ReportContent,
    Section,
    Table,
    Timeline,
)
from governance.selectors.approvals import approvals_required


def _missing_evidence(version: ModelVersion, card: ModelCard | None, approvals: list[Approval]) -> list[str]:
    model = version.model
    gaps = []
    if card is None:
        gaps.append("No model card has been submitted.")
    elif card.missing_sections:
        gaps.append(f"Model card sections empty: {', '.join(card.missing_sections)}.")
    approved = {a.signer_id for a in approvals if a.meaning == Approval.Meaning.APPROVED}
    if len(approved) < approvals_required(model):
        gaps.append(f"Approvals: {len(approved)} of {approvals_required(model)} required signatures on file.")
    if not version.code_commit:
        gaps.append("No code commit recorded (the pipeline cannot be rebuilt).")
    if not version.pipeline_run_id:
        gaps.append("No pipeline run recorded.")
    if not version.environment_lock_sha256:
        gaps.append("No environment lock hash recorded.")
    if not version.metrics:
        gaps.append("No evaluation metrics recorded.")
    roles = {link.role for link in version.dataset_links.all()}
    for role in ("validation", "test"):
        if role not in roles:
            gaps.append(f"No {role} dataset recorded.")
    if not model.runbook:
        gaps.append("The model has no runbook.")
    if not model.validated_at:
        gaps.append("No independent validation date on file.")
    if model.valid_until and model.valid_until < timezone.now().date():
        gaps.append(f"The model's validity expired on {model.valid_until}.")
    return gaps


def version_dossier(version: ModelVersion, *, report_id: str, generated_at: datetime, development: bool) -> Built:
    """Return the model-version dossier (REGULATORY.md §3(a)) and the ledger keys it cites."""
    model = version.model
    keys: list[str] = [model.ledger_key, version.ledger_key]
    links = list(version.dataset_links.select_related("dataset").order_by("role"))
    cards = list(version.cards.select_related("author").order_by("revision"))
    approvals = list(version.approvals.select_related("card").order_by("signed_at"))
    signed_card = next((a.card for a in reversed(approvals) if a.card_id), None)
    card = signed_card or (cards[-1] if cards else None)
    deployments = list(version.deployments.select_related("deployed_by", "ended_by").order_by("started_at"))
    changes = list(version.status_changes.select_related("actor").order_by("changed_at"))
    keys += [link.dataset.ledger_key for link in links] + [c.ledger_key for c in cards]
    keys += [a.ledger_key for a in approvals] + [c.ledger_key for c in changes]
    for deployment in deployments:
        keys.append(deployment.ledger_key)
        if deployment.end_ledger_key:
            keys.append(deployment.end_ledger_key)

    sections = []
    sections.append(
        Section(
            "Identification",
            (
                KeyValues(
                    (
                        ("Model", f"{model.name} ({model.slug})"),
                        ("Version", version.version),
                        ("Status", version.get_status_display()),
                        ("Artifact SHA-256", version.artifact_sha256),
                        ("Artifact", version.artifact_uri),
                        ("Provider", model.provider or "—"),
                        ("Intended purpose", model.intended_purpose),
                        ("Out of scope", model.out_of_scope_uses or "—"),
                        ("Registered", f"{_utc(version.registered_at)} by {version.registered_by.get_username()}"),
                        (
                            "Relation to previous",
                            f"derived from {version.parent.version}" if version.parent_id else "first version",
                        ),
                    )
                ),
            ),
        )
    )
    sections.append(
        Section(
            "Inventory and ownership",
            (
                KeyValues(
                    (
                        (
                            "Owner",
                            _person(model.owner),
                        ),
                        ("Runbook", model.runbook or "—"),
                        ("Risk tier", model.get_risk_tier_display()),
                        ("Regulated use", model.get_regulated_use_display()),
                        ("Approvals required", str(approvals_required(model))),
                        ("Validated", str(model.validated_at or "—")),
                        ("Next validation due", str(model.next_validation_due or "—")),
                        ("Valid until", str(model.valid_until or "—")),
                    )
                ),
            ),
        )
    )
    sections.append(
        Section(
            "Data",
            (
                Table(
                    ("Role", "Dataset", "SHA-256", "Rows", "Provenance"),
                    tuple(
                        (
                            link.role,
                            link.dataset.name,
                            link.dataset.sha256
                            + (
                                " (reference only: content never read)"
                                if link.dataset.hash_kind == "reference"
                                else ""
                            ),
                            str(link.dataset.row_count or "—"),
                            link.dataset.provenance or "—",
                        )
                        for link in links
                    ),
                    column_widths=(0.12, 0.18, 0.38, 0.1, 0.22),
                ),
            ),
        )
    )
    ancestors = selectors.version_ancestors(version)
    sections.append(
        Section(
            "Design and lineage",
            (
                KeyValues(
                    (
                        ("Lineage", " ← ".join([version.version, *(a.version for a in ancestors)])),
                        ("Code", f"{version.code_repository or '—'} @ {version.code_commit or '—'}"),
                        ("Pipeline run", f"{version.pipeline_run_id or '—'} {version.pipeline_run_url}".strip()),
                        ("Environment lock SHA-256", version.environment_lock_sha256 or "—"),
                    )
                ),
                Table(("Hyperparameter", "Value"), tuple(sorted(version.hyperparameters.items())) or (("—", "—"),)),
            ),
        )
    )
    evaluation: list = [
        Table(
            ("Metric", "Value", "Slice", "Dataset"),
            tuple(
                (m["name"], m["value"], m.get("slice", "overall"), m.get("dataset_sha256", "")[:16] or "—")
                for m in version.metrics
            )
            or (("—", "—", "—", "—"),),
        )
    ]
    siblings = list(model.versions.order_by("registered_at"))
    overall = [m["name"] for m in version.metrics if "slice" not in m][:3]
    series = []
    for name in overall:
        values = []
        for sibling in siblings:
            found = next((m["value"] for m in sibling.metrics if m["name"] == name and "slice" not in m), None)
            values.append(_number(found) if found is not None else 0.0)
        series.append((name, tuple(v or 0.0 for v in values)))
    if series and len(siblings) > 0:
        evaluation.append(
            BarChart("Key metrics across versions", tuple(s.version for s in siblings), tuple(series), "value")
        )
    sections.append(Section("Evaluation", tuple(evaluation)))
    if card is not None:
        state = "approved revision" if signed_card else "latest revision, not yet approved"
        blocks = [
            Paragraph(
                f"Model card revision {card.revision} ({state}), by "
                f"{card.author.get_username()} at {_utc(card.created_at)}; SHA-256 {card.content_sha256}."
            )
        ]
        for name in ModelCard.SECTIONS:
            blocks.append(KeyValues(((name.replace("_", " ").capitalize(), card.content.get(name) or "— (empty)"),)))
        sections.append(Section("Model card", tuple(blocks)))
    else:
        sections.append(Section("Model card", (Callout("No model card on file.", tone="error"),)))
    sig_rows = tuple(
        (
            a.signer_name,
            a.signer_role,
            _utc(a.signed_at),
            a.get_meaning_display(),
            a.reason or "—",
            a.signed_sha256,
            "passed" if all(c["passed"] for c in a.sod_checks) else "FAILED",
        )
        for a in approvals
    )
    sig_blocks = [
        Paragraph(
            "Electronic signatures (21 CFR 11.50): printed name, role, UTC time, meaning, "
            "the signer's stated reason, the SHA-256 of exactly what was signed, and the separation-of-duties checks."
        )
    ]
    sig_blocks.append(
        Table(
            ("Signer", "Role", "Signed (UTC)", "Meaning", "Reason", "Hash signed", "SoD"),
            sig_rows,
            column_widths=(0.14, 0.12, 0.14, 0.09, 0.17, 0.26, 0.08),
        )
        if sig_rows
        else Callout("No signatures on file.", tone="warning")
    )
    checks = Counter((c["rule"], c["passed"]) for a in approvals for c in a.sod_checks)
    if checks:
        sig_blocks.append(
            Table(
                ("Separation-of-duties rule", "Outcome", "Signatures"),
                tuple((rule, "passed" if ok else "FAILED", str(n)) for (rule, ok), n in sorted(checks.items())),
            )
        )
    if grant_rows := _officer_grant_rows(approvals):
        sig_blocks.append(
            Table(
                ("Signer", "Officer role proposed by", "Confirmed by", "Confirmed (UTC)", "Ledger seq"),
                grant_rows,
            )
        )
    sections.append(Section("Approvals and signatures", tuple(sig_blocks)))
    events = [(c.changed_at, f"status {c.from_status} → {c.to_status} ({c.actor.get_username()})") for c in changes]
    events += [(d.started_at, f"deployed to {d.environment} by {d.deployed_by.get_username()}") for d in deployments]
    events += [(d.ended_at, f"left {d.environment}: {d.end_reason}") for d in deployments if d.ended_at]
    deploy_blocks: list = [Timeline("Lifecycle", tuple(sorted(events)))] if events else []
    deploy_blocks.append(
        Table(
            ("Environment", "From (UTC)", "To (UTC)", "Change ticket", "CI run", "Rollback of"),
            tuple(
                (
                    d.environment,
                    _utc(d.started_at),
                    _utc(d.ended_at),
                    d.change_ticket or "—",
                    d.ci_run_id or "—",
                    "yes" if d.rollback_of_id else "—",
                )
                for d in deployments
            )
            or (("—",) * 6,),
        )
    )
    sections.append(Section("Deployment and change history", tuple(deploy_blocks)))
    sections.append(Section("Decision statistics", tuple(_decision_stats(version))))
    gaps = _missing_evidence(version, card, approvals)
    sections.append(
        Section(
            "Missing evidence",
            (
                Callout("\n".join(f"• {gap}" for gap in gaps), tone="warning", title=f"{len(gaps)} gap(s) found")
                if gaps
                else Callout("No expected evidence is missing.", tone="ok"),
            ),
        )
    )
    sections.append(Section("Integrity appendix", (_verify_help(f"{model.slug} {version.version}"),)))
    content = ReportContent(
        kind="version",
        title=f"Model-version dossier: {model.slug} {version.version}",
        report_id=report_id,
        generated_at=generated_at,
        subject=f"model:{model.slug}/version:{version.version}",
        development=development,
        sections=tuple(sections),
        footer_note="Sealed with PAdES; evidence manifest embedded.",
        title_rows=(
            ("Model", model.slug),
            ("Version", version.version),
        ),
    )
    return Built(content, list(dict.fromkeys(keys))[:MAX_CITED])


def _decision_stats(version: ModelVersion) -> list:
    decisions = Decision.objects.filter(version=version)
    total = decisions.count()
    if not total:
        return [Callout("No decisions were logged with this version.", tone="warning")]
    weekly = list(
        decisions.annotate(week=TruncWeek("occurred_at")).values("week").annotate(n=Count("id")).order_by("week")
    )
    outcomes = list(decisions.values("output_label").annotate(n=Count("id")).order_by("output_label"))
    overridden = decisions.filter(overridden=True).count()
    reviewed = decisions.filter(mode=Decision.Mode.HUMAN_REVIEWED).count()
    blocks: list = [
        KeyValues(
            (
                ("Decisions", f"{total:,}"),
                ("Human reviewed", f"{reviewed:,} ({reviewed / total:.1%})"),
                ("Overridden", f"{overridden:,} ({overridden / total:.1%})"),
                ("First", _utc(decisions.order_by("occurred_at").values_list("occurred_at", flat=True).first())),
                ("Last", _utc(decisions.order_by("-occurred_at").values_list("occurred_at", flat=True).first())),
            )
        )
    ]
    if len(weekly) > 1:
        blocks.append(
            LineChart(
                "Decisions per week",
                tuple(w["week"].strftime("%Y-%m-%d") for w in weekly),
                (("decisions", tuple(float(w["n"]) for w in weekly)),),
                "decisions",
            )
        )
    blocks.append(
        BarChart(
            "Outcome distribution",
            tuple(o["output_label"] for o in outcomes),
            (("decisions", tuple(float(o["n"]) for o in outcomes)),),
            "decisions",
        )
    )
    return blocks
