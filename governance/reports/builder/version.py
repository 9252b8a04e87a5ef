"""The version dossier (REGULATORY.md §3(a) 1 to 13): facts gathered as plain data, then sections.

`version_dossier` collects every group of facts (`version_facts`), lists what is expected and
absent (`version_gaps`), and lays the facts out as sections (`version_sections`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from governance import selectors
from governance.models import Approval, ModelCard, ModelVersion
from governance.reports.builder import version_facts as gather
from governance.reports.builder.common import MAX_CITED, Built, _officer_grant_rows, _person, _utc
from governance.reports.builder.version_gaps import missing_evidence
from governance.reports.builder.version_sections import dossier_sections
from governance.reports.content import ReportContent
from governance.selectors.approvals import approvals_required

# Technical documentation is kept 10 years after the system is placed on the market (Art. 18).
RETENTION_YEARS = 10


def _identification(version: ModelVersion) -> dict[str, Any]:
    model = version.model
    return {
        "model": f"{model.name} ({model.slug})",
        "version": version.version,
        "status": version.get_status_display(),
        "artifact_sha256": version.artifact_sha256,
        "artifact_uri": version.artifact_uri,
        "provider": model.provider or "—",
        "intended_purpose": model.intended_purpose,
        "out_of_scope_uses": model.out_of_scope_uses or "—",
        "regulated_use": model.get_regulated_use_display(),
        "registered": f"{_utc(version.registered_at)} by {version.registered_by.get_username()}",
        "relation_to_previous": f"derived from {version.parent.version}" if version.parent_id else "first version",
        "dependencies": f"environment lock SHA-256 {version.environment_lock_sha256}"
        if version.environment_lock_sha256
        else "—",
    }


def _governance(version: ModelVersion, approvals: list[Approval]) -> dict[str, Any]:
    model = version.model
    signers = sorted({a.signer_name for a in approvals if a.meaning == Approval.Meaning.APPROVED})
    authors = sorted({c.author.get_username() for c in version.cards.select_related("author")})
    return {
        "owner": _person(model.owner),
        "developer": version.registered_by.get_username(),
        "card_authors": ", ".join(authors) or "—",
        "approvers": ", ".join(signers) or "—",
        "runbook": model.runbook or "—",
        "risk_tier": model.get_risk_tier_display(),
        "approvals_required": approvals_required(model),
        "lifecycle_status": version.get_status_display(),
        "validated_at": str(model.validated_at or "—"),
        "next_validation_due": str(model.next_validation_due or "—"),
        "valid_until": str(model.valid_until or "—"),
    }


def _design(version: ModelVersion) -> dict[str, Any]:
    return {
        "lineage": " ← ".join([version.version, *(a.version for a in selectors.version_ancestors(version))]),
        "code": f"{version.code_repository or '—'} @ {version.code_commit or '—'}",
        "pipeline_run": f"{version.pipeline_run_id or '—'} {version.pipeline_run_url}".strip(),
        "environment_lock_sha256": version.environment_lock_sha256 or "—",
        "hyperparameters": dict(sorted(version.hyperparameters.items())),
    }


def _card(version: ModelVersion, approvals: list[Approval]) -> dict[str, Any] | None:
    signed = next((a.card for a in reversed(approvals) if a.card_id), None)
    card = signed or version.cards.select_related("author").order_by("-revision").first()
    if card is None:
        return None
    return {
        "revision": card.revision,
        "state": "approved revision" if signed else "latest revision, not yet approved",
        "author": card.author.get_username(),
        "created_at": _utc(card.created_at),
        "sha256": card.content_sha256,
        "sections": {name: card.content.get(name) or "" for name in ModelCard.SECTIONS},
        "missing_sections": card.missing_sections,
    }


def _retention(version: ModelVersion) -> dict[str, Any]:
    starts = [d.started_at for d in version.deployments.all()]
    if not starts:
        return {
            "class": "technical documentation (AI Act Art. 18)",
            "until": "not yet running: the version was never put into service",
        }
    last = max(starts)
    until = last.replace(year=last.year + RETENTION_YEARS)
    return {
        "class": "technical documentation (AI Act Art. 18)",
        "until": f"at least {until:%Y-%m-%d} ({RETENTION_YEARS} years after last put into service, {last:%Y-%m-%d});"
        " later if a later version keeps the system on the market",
    }


def version_dossier(
    version: ModelVersion,
    *,
    report_id: str,
    generated_at: datetime,
    development: bool,
    purpose: str = "",
    requester: str = "",
) -> Built:
    """Return the model-version dossier (REGULATORY.md §3(a)), its cited keys and its facts."""
    model = version.model
    approvals = list(version.approvals.select_related("card", "signer").order_by("signed_at"))
    links = list(version.dataset_links.select_related("dataset").order_by("role"))
    card_facts = _card(version, approvals)
    facts: dict[str, Any] = {
        "request": {
            "report_id": report_id,
            "purpose": purpose or "not stated",
            "requester": requester or "the operator (command line)",
            "generated_at": _utc(generated_at),
        },
        "identification": _identification(version),
        "governance": _governance(version, approvals),
        "datasets": [
            {
                "role": link.role,
                "name": link.dataset.name,
                "sha256": link.dataset.sha256,
                "hash_kind": link.dataset.hash_kind,
                "rows": link.dataset.row_count,
                "provenance": link.dataset.provenance or "—",
                "preparation": link.dataset.preparation or "—",
            }
            for link in links
        ],
        "design": _design(version),
        "metrics": [
            {"name": m["name"], "value": m["value"], "slice": m.get("slice", "overall")} for m in version.metrics
        ],
        "version_chart": gather.version_chart_facts(version),
        "gates": gather.gate_facts(version),
        "ci": gather.ci_facts(version),
        "card": card_facts,
        "signatures": gather.signature_facts(version),
        "officer_grants": [list(row) for row in _officer_grant_rows(approvals)],
        "deployments": gather.deployment_facts(version),
        "monitoring": gather.monitoring_facts(version),
        "usage": gather.usage_facts(version),
        "assurance": gather.assurance_facts(version),
        "conformity": {"standards": [], "eu_declaration": None, "eu_database_id": None, "instructions_for_use": None},
    }
    facts["retention"] = _retention(version)
    facts["missing_evidence"] = missing_evidence(version, facts, now=timezone.now())
    keys: list[str] = [model.ledger_key, version.ledger_key]
    keys += [link.dataset.ledger_key for link in links] + [c.ledger_key for c in version.cards.all()]
    for group in ("signatures", "ci", "deployments", "monitoring", "assurance"):
        keys += facts[group].pop("keys")
    status_line = facts["identification"]["status"]
    open_alerts = [a for a in facts["monitoring"]["alerts"] if a["state"] != "resolved"]
    content = ReportContent(
        kind="version",
        title=f"Model-version dossier: {model.slug} {version.version}",
        report_id=report_id,
        generated_at=generated_at,
        subject=f"model:{model.slug}/version:{version.version}",
        development=development,
        sections=dossier_sections(facts, subject=f"{model.slug} {version.version}"),
        footer_note="Sealed with PAdES; evidence manifest embedded.",
        title_rows=(
            ("Purpose of this report", facts["request"]["purpose"]),
            ("Requested by", facts["request"]["requester"]),
            ("Model", f"{model.slug} ({model.get_risk_tier_display()} risk, {model.get_regulated_use_display()})"),
            ("Version", f"{version.version} ({status_line})"),
            (
                "Open alerts",
                "; ".join(f"{a['kind']} {a['state']} since {a['opened_at']}" for a in open_alerts) or "none",
            ),
            ("Gaps", f"{len(facts['missing_evidence'])} item(s) of expected evidence missing (see Missing evidence)"),
        ),
    )
    return Built(content, list(dict.fromkeys(keys))[:MAX_CITED], facts)
