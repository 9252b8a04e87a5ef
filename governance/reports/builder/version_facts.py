"""The dossier's facts as plain data: what a version's records say, before anything is drawn.

`dossier_facts` returns JSON-ready dicts and lists (strings, integers, booleans), so that the
same facts feed the PDF's sections and a machine-readable twin. Each group names the ledger
keys of the records it comes from in `keys`, so their leaves and proofs go into the evidence.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import TruncWeek

from governance.models import Alert, Decision, ModelVersion, Observation, RetrainingRequest
from governance.reports.builder.common import _utc
from governance.selectors.assurance import assurance_current
from governance.selectors.gates import gates_evaluate
from governance.selectors.monitoring import monitoring_policy_current, retraining_policy_current, thresholds_current

APPROVING = ("approved",)


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def gate_facts(version: ModelVersion) -> dict[str, Any]:
    """The production gates evaluated now: each gate's status and reason, and for the metric gate
    every declared threshold with the version's value and the outcome."""
    report = gates_evaluate(version=version, environment="production")
    gates, checks = [], []
    for gate in report.gates:
        gates.append({k: gate[k] for k in ("gate", "title", "required", "status", "reason")})
        for check in gate["evidence"].get("checks", []) if gate["gate"] == "evaluation_metrics" else []:
            checks.append(
                {
                    "metric": check["metric"] + (f" [{check['slice']}]" if check["slice"] else ""),
                    "threshold": f"{'≥' if check['operator'] == 'min' else '≤'} {check['threshold']}",
                    "value": ", ".join(check["values"]) or "not reported",
                    "result": "pass" if check["passed"] else "FAIL",
                }
            )
    waivers = [
        {"gate": g["title"], "reason": g["reason"], "signer": f"none: the {report.risk_tier}-risk tier policy"}
        for g in report.gates
        if g["status"] == "waived"
    ]
    return {
        "evaluated_at": report.evaluated_at,
        "passed": report.passed,
        "gates": gates,
        "thresholds": checks,
        "waivers": waivers,
    }


def ci_facts(version: ModelVersion) -> dict[str, Any]:
    runs = list(version.ci_evidence.select_related("posted_by").order_by("posted_at"))
    return {
        "runs": [
            {
                "run_id": c.run_id,
                "url": c.url or "—",
                "passed": c.passed,
                "tests": c.tests,
                "failures": c.failures,
                "errors": c.errors,
                "skipped": c.skipped,
                "report_sha256": c.test_report_sha256,
                "posted": f"{_utc(c.posted_at)} by {c.posted_by.get_username()}",
            }
            for c in runs
        ],
        "keys": [c.ledger_key for c in runs],
    }


def signature_facts(version: ModelVersion) -> dict[str, Any]:
    approvals = list(version.approvals.order_by("signed_at"))
    rows = [
        {
            "signer": a.signer_name,
            "role": a.signer_role,
            "signed_at": _utc(a.signed_at),
            "meaning": a.get_meaning_display(),
            "reason": a.reason or "—",
            "signed_sha256": a.signed_sha256,
            "authentication": a.authentication,
            "separation_of_duties": "passed" if all(c["passed"] for c in a.sod_checks) else "FAILED",
        }
        for a in approvals
    ]
    checks = Counter((c["rule"], c["passed"]) for a in approvals for c in a.sod_checks)
    return {
        "signatures": rows,
        "separation_of_duties": [
            {"rule": rule, "outcome": "passed" if ok else "FAILED", "signatures": n}
            for (rule, ok), n in sorted(checks.items())
        ],
        "keys": [a.ledger_key for a in approvals],
    }


def deployment_facts(version: ModelVersion) -> dict[str, Any]:
    deployments = list(
        version.deployments.select_related("deployed_by", "ended_by", "rollback_of__version").order_by("started_at")
    )
    rows, keys = [], []
    for d in deployments:
        keys += [d.ledger_key] + ([d.end_ledger_key] if d.end_ledger_key else [])
        replaced_by = d.rolled_back_by.select_related("version").first()
        failing = [g["title"] for g in d.gates if not g.get("passed", True)]
        rows.append(
            {
                "environment": d.environment,
                "started_at": _utc(d.started_at),
                "deployed_by": d.deployed_by.get_username(),
                "ended_at": _utc(d.ended_at),
                "end_reason": d.end_reason or "—",
                "change_ticket": d.change_ticket or "—",
                "ci_run_id": d.ci_run_id or "—",
                "rollback": (
                    f"rolls back to this version from {d.rollback_of.version.version}"
                    if d.rollback_of_id
                    else (f"rolled back to {replaced_by.version.version}" if replaced_by else "—")
                ),
                "gates_at_deployment": f"{len(d.gates) - len(failing)} of {len(d.gates)} passed" if d.gates else "—",
            }
        )
    changes = list(version.status_changes.select_related("actor").order_by("changed_at"))
    keys += [c.ledger_key for c in changes]
    return {
        "deployments": rows,
        "status_changes": [
            {
                "at": _utc(c.changed_at),
                "from": c.from_status,
                "to": c.to_status,
                "by": c.actor.get_username(),
                "reason": c.reason or "—",
            }
            for c in changes
        ],
        "keys": keys,
    }


def _alert_row(a: Alert) -> dict[str, Any]:
    handling = []
    if a.acknowledged_at:
        handling.append(
            f"acknowledged {_utc(a.acknowledged_at)} by {a.acknowledged_by.get_username()}: "
            f"{a.acknowledgement_note or '—'}"
        )
    if a.resolved_at:
        handling.append(
            f"resolved {_utc(a.resolved_at)} by {a.resolved_by.get_username()}: {a.resolution_note or '—'}"
        )
    return {
        "id": a.pk,
        "kind": a.kind,
        "state": a.state,
        "opened_at": _utc(a.opened_at),
        "summary": a.summary,
        "handling": "; ".join(handling) or "no action recorded",
    }


def monitoring_facts(version: ModelVersion) -> dict[str, Any]:
    """The monitoring policy, a summary per monitored series, the charted series, every alert on
    the version, and the retraining requests raised while it served or answered by it."""
    model = version.model
    policy = monitoring_policy_current(model)
    retraining = retraining_policy_current(model)
    thresholds = list(thresholds_current(model))
    observations = Observation.objects.filter(version=version)
    series = list(
        observations.values("kind", "feature", "metric", "judged_against")
        .annotate(
            windows=Count("id"),
            breaches=Count("id", filter=Q(breached=True)),
            first=Min("window_start"),
            last=Max("window_end"),
        )
        .order_by("kind", "feature", "metric")
    )
    charted = {}
    for kind, name in (("feature_drift", None), ("prediction_drift", ""), ("performance", None)):
        rows = observations.filter(kind=kind).order_by("window_end")
        if kind == "feature_drift":
            # The feature that breached most, else the first: one chart, not one per feature.
            top = next((s["feature"] for s in sorted(series, key=lambda s: -s["breaches"]) if s["kind"] == kind), None)
            rows, name = rows.filter(feature=top), top
        field = "value" if kind == "performance" else "psi"
        points = [(end.strftime("%m-%d"), y) for end, y in rows.values_list("window_end", field) if y]
        if points and name is not None:
            charted[kind] = {"name": name or "predictions", "measure": field, "points": points}
    alerts = list(
        Alert.objects.filter(version=version).select_related("acknowledged_by", "resolved_by").order_by("opened_at")
    )
    requests = list(
        RetrainingRequest.objects.filter(Q(version=version) | Q(closed_by_version=version))
        .select_related("version", "closed_by_version")
        .order_by("opened_at")
    )
    keys = [policy.ledger_key] if policy else []
    keys += [retraining.ledger_key] if retraining else []
    keys += [t.ledger_key for t in thresholds] + [a.ledger_key for a in alerts] + [r.ledger_key for r in requests]
    return {
        "policy": {
            "expected_interval_minutes": policy.expected_interval_minutes if policy else None,
            "psi_threshold": (policy.psi_threshold or "—") if policy else None,
            "ks_threshold": (policy.ks_threshold or "—") if policy else None,
            "min_volume": policy.min_volume if policy else None,
            "set": f"{_utc(policy.set_at)} by {policy.set_by.get_username()}" if policy else None,
        },
        "retraining_policy": {
            "drift_windows": retraining.drift_windows,
            "accuracy": f"{retraining.accuracy_metric} ≥ {retraining.accuracy_floor}"
            if retraining.accuracy_metric
            else "—",
            "max_age_days": retraining.max_age_days,
            "new_data_uri_prefix": retraining.new_data_uri_prefix or "—",
        }
        if retraining
        else None,
        "series": [
            {
                "kind": s["kind"],
                "name": s["feature"] or s["metric"] or "—",
                "windows": s["windows"],
                "breaches": s["breaches"],
                "judged_against": s["judged_against"] or "—",
                "period": f"{_utc(s['first'])} to {_utc(s['last'])}",
            }
            for s in series
        ],
        "charts": charted,
        "alerts": [_alert_row(a) for a in alerts],
        "retraining_requests": [
            {
                "rule": r.get_rule_display(),
                "state": r.state,
                "opened_at": _utc(r.opened_at),
                "serving": r.version.version if r.version_id else "—",
                "answered_by": r.closed_by_version.version if r.closed_by_version_id else "—",
                "windows": len(r.details.get("windows", [])),
            }
            for r in requests
        ],
        "keys": keys,
    }


def usage_facts(version: ModelVersion) -> dict[str, Any]:
    decisions = Decision.objects.filter(version=version)
    totals = decisions.aggregate(
        total=Count("id"),
        reviewed=Count("id", filter=Q(mode=Decision.Mode.HUMAN_REVIEWED)),
        overridden=Count("id", filter=Q(overridden=True)),
        first=Min("occurred_at"),
        last=Max("occurred_at"),
    )
    total = totals["total"]
    model_counts: Counter[str] = Counter()
    final_counts: Counter[str] = Counter()
    overridden_from: Counter[str] = Counter()
    for label, final, overridden, n in (
        decisions.values_list("output_label", "final_label", "overridden").annotate(n=Count("id")).order_by()
    ):
        model_counts[label] += n
        final_counts[final or label] += n
        if overridden:
            overridden_from[label] += n
    weekly = []
    if total:
        weekly = [
            (w["week"].strftime("%Y-%m-%d"), w["n"])
            for w in decisions.annotate(week=TruncWeek("occurred_at"))
            .values("week")
            .annotate(n=Count("id"))
            .order_by("week")
        ]
    return {
        "decisions": total,
        "first": _utc(totals["first"]),
        "last": _utc(totals["last"]),
        "human_reviewed": totals["reviewed"],
        "human_reviewed_rate": _pct(totals["reviewed"], total),
        "overridden": totals["overridden"],
        "override_rate": _pct(totals["overridden"], total),
        "outcomes": [
            {
                "outcome": label,
                "model": model_counts[label],
                "model_rate": _pct(model_counts[label], total),
                "final": final_counts[label],
                "final_rate": _pct(final_counts[label], total),
                "overridden_from": overridden_from[label],
            }
            for label in sorted(set(model_counts) | set(final_counts))
        ],
        "weekly": weekly,
    }


def version_chart_facts(version: ModelVersion) -> dict[str, Any]:
    """Every version of the model with its overall metrics, and whether it was ever approved."""
    siblings = list(version.model.versions.order_by("registered_at").prefetch_related("approvals", "status_changes"))
    names = [m["name"] for m in version.metrics if "slice" not in m][:3]
    rows = []
    for sibling in siblings:
        approved = any(a.meaning in APPROVING for a in sibling.approvals.all()) or any(
            c.to_status == ModelVersion.Status.APPROVED for c in sibling.status_changes.all()
        )
        values = {m["name"]: m["value"] for m in sibling.metrics if "slice" not in m and m["name"] in names}
        rows.append({"version": sibling.version, "ever_approved": approved, "metrics": values})
    return {"metrics": names, "versions": rows}


def assurance_facts(version: ModelVersion) -> dict[str, Any]:
    """The classification, risk register, oversight measures and validation findings in force."""
    model = version.model
    classification = assurance_current("classification", model=model)
    risks = assurance_current("risk", model=model)
    oversight = assurance_current("oversight", model=model)
    findings = assurance_current("finding", model=model, version=version)
    rows = [*classification, *risks, *oversight, *findings]

    def recorded(row: Any) -> str:
        return f"r{row.revision}, {_utc(row.recorded_at)} by {row.recorded_by.get_username()}"

    return {
        "classification": {
            "annex_iii": classification[0].get_annex_iii_display(),
            "intended_purpose": classification[0].intended_purpose,
            "rationale": classification[0].rationale or "—",
            "role": classification[0].role,
            "recorded": recorded(classification[0]),
        }
        if classification
        else None,
        "risks": [
            {
                "id": r.entry_id,
                "hazard": r.hazard,
                "affected": r.affected or "—",
                "mitigation": r.mitigation or "—",
                "residual": r.residual_level,
                "acceptance": r.acceptance,
                "acceptance_note": r.acceptance_note or "—",
                "recorded": recorded(r),
            }
            for r in risks
        ],
        "oversight": [
            {
                "id": o.entry_id,
                "measure": o.measure,
                "responsible": o.responsible,
                "active": o.active,
                "recorded": recorded(o),
            }
            for o in oversight
        ],
        "findings": [
            {
                "id": f.entry_id,
                "title": f.title,
                "severity": f.severity,
                "state": f.state,
                "remediation": f.remediation or "—",
                "recorded": recorded(f),
            }
            for f in findings
        ],
        "keys": [row.ledger_key for row in rows],
    }
