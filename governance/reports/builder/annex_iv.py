"""EU AI Act Annex IV technical documentation of a version: points 1 to 9, each fact filled from
the record with the ledger entry that states it, or listed as missing.

Facts are plain data: `{"points": [{"point", "title", "facts": [{"fact", "value", "key"}],
"missing": [...]}]}`; the ledger key of each fact's record is resolved to its sequence number
when the report is built, and every key is cited, so its leaf and proof go into the evidence.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from governance.models import ModelCard, ModelVersion
from governance.reports.builder.common import MAX_CITED, Built, _utc, _verify_help
from governance.reports.content import Callout, Paragraph, ReportContent, Section, Table
from governance.selectors.assurance import assurance_current
from governance.selectors.monitoring import monitoring_policy_current, retraining_policy_current, thresholds_current
from ledger import selectors as ledger_selectors

TITLES = {
    "1": "General description of the AI system",
    "2": "Detailed description of the elements and of the development process",
    "3": "Monitoring, functioning and control",
    "4": "Appropriateness of the performance metrics",
    "5": "Risk management system (Art. 9)",
    "6": "Changes made through the lifecycle",
    "7": "Harmonised standards and other specifications applied",
    "8": "EU declaration of conformity (Art. 47)",
    "9": "Post-market monitoring plan (Art. 72)",
}


class _Point:
    def __init__(self, number: str) -> None:
        self.number, self.facts, self.missing = number, [], []

    def add(self, fact: str, value: Any, key: str) -> None:
        if value in (None, "", [], {}):
            self.missing.append(fact)
        else:
            self.facts.append({"fact": fact, "value": str(value), "key": key})

    def lack(self, *facts: str) -> None:
        self.missing += facts

    def data(self) -> dict[str, Any]:
        return {"point": self.number, "title": TITLES[self.number], "facts": self.facts, "missing": self.missing}


def _card(version: ModelVersion) -> ModelCard | None:
    return version.cards.order_by("-revision").first()


def _points(version: ModelVersion) -> list[_Point]:
    model = version.model
    card = _card(version)
    section = (lambda name: card.content.get(name, "")) if card else (lambda name: "")
    card_key = card.ledger_key if card else ""
    classification = next(iter(assurance_current("classification", model=model)), None)
    p = {n: _Point(n) for n in TITLES}

    one = p["1"]
    one.add("(a) Intended purpose", model.intended_purpose, model.ledger_key)
    one.add("(a) Provider", model.provider, model.ledger_key)
    one.add("(a) System and version", f"{model.name} ({model.slug}) {version.version}", version.ledger_key)
    one.add("(a) Artifact SHA-256", version.artifact_sha256, version.ledger_key)
    if classification:
        one.add("(a) Classification", classification.get_annex_iii_display(), classification.ledger_key)
    else:
        one.lack("(a) Classification (Annex III point)")
    parent = version.parent.version if version.parent_id else "first version"
    one.add("(c) Relation to previous version", parent, version.ledger_key)
    one.add(
        "(c) Software dependencies (environment lock SHA-256)", version.environment_lock_sha256, version.ledger_key
    )
    environments = sorted({d.environment for d in version.deployments.all()})
    first = version.deployments.order_by("started_at").first()
    one.add("(d) Forms of deployment (environments)", ", ".join(environments), first.ledger_key if first else "")
    one.lack("(e) Hardware", "(f) Product photographs or markings", "(g) User interface for the deployer")
    one.add("(h) Instructions for use (model card, intended use)", section("intended_use"), card_key)

    two = p["2"]
    code = f"{version.code_repository} @ {version.code_commit}" if version.code_commit else ""
    two.add(
        "(a) Development method: code and pipeline run",
        f"{code} run {version.pipeline_run_id}".strip(),
        version.ledger_key,
    )
    two.add("(b) Design: general logic", section("model_details"), card_key)
    params = "; ".join(f"{k} = {v}" for k, v in sorted(version.hyperparameters.items()))
    two.add("(b) Design: parameters", params, version.ledger_key)
    two.lack("(c) System architecture and computational resources")
    for link in version.dataset_links.select_related("dataset").order_by("role"):
        d = link.dataset
        two.add(
            f"(d) {link.role} data",
            f"{d.name}, SHA-256 {d.sha256}; {d.provenance or 'provenance not stated'}",
            d.ledger_key,
        )
    two.add("(d) Training data description", section("training_data"), card_key)
    oversight = assurance_current("oversight", model=model)
    for o in oversight:
        two.add(f"(e) Human oversight {o.entry_id}", f"{o.measure} (responsible: {o.responsible})", o.ledger_key)
    if not oversight:
        two.lack("(e) Human-oversight measures")
    retraining = retraining_policy_current(model)
    if retraining:
        accuracy = f"{retraining.accuracy_metric} ≥ {retraining.accuracy_floor}"
        rules = f"drift over {retraining.drift_windows} windows; {accuracy}; max age {retraining.max_age_days} days"
        two.add("(f) Pre-determined changes (retraining rules)", rules, retraining.ledger_key)
    else:
        two.lack("(f) Pre-determined changes")
    for t in thresholds_current(model):
        label = t.metric + (f" [{t.slice}]" if t.slice else "")
        values = ", ".join(
            m["value"] for m in version.metrics if m["name"] == t.metric and m.get("slice", "") == t.slice
        )
        two.add(
            f"(g) Metric {label}",
            f"{values or 'not reported'} (threshold {t.operator} {t.value}, fixed {_utc(t.set_at)})",
            t.ledger_key,
        )
    for ci in version.ci_evidence.order_by("posted_at"):
        two.add(
            f"(g) Test log {ci.run_id}",
            f"{ci.tests} tests, {ci.failures} failures, report SHA-256 {ci.test_report_sha256}",
            ci.ledger_key,
        )
    for a in version.approvals.order_by("signed_at"):
        two.add(
            "(g) Signed by the responsible person",
            f"{a.signer_name}, {a.signer_role}, {_utc(a.signed_at)}, {a.get_meaning_display()}",
            a.ledger_key,
        )
    for f in assurance_current("finding", model=model, version=version):
        two.add(
            f"(g) Validation finding {f.entry_id}", f"{f.title} ({f.severity}, {f.get_state_display()})", f.ledger_key
        )
    two.lack("(h) Cybersecurity measures and tests")

    three = p["3"]
    three.add("Capabilities and limitations", section("caveats_and_recommendations"), card_key)
    three.add("Foreseeable misuse and out-of-scope uses", model.out_of_scope_uses, model.ledger_key)
    three.add("Accuracy overall and for groups", section("quantitative_analyses"), card_key)
    for m in version.metrics:
        if m.get("slice"):
            three.add(f"Metric {m['name']} for {m['slice']}", m["value"], version.ledger_key)
    three.add("Factors examined", section("factors"), card_key)

    p["4"].add("Why these metrics", section("metrics"), card_key)

    five = p["5"]
    risks = assurance_current("risk", model=model)
    for r in risks:
        five.add(
            f"Risk {r.entry_id}",
            f"{r.hazard} Residual {r.residual_level}; {r.get_acceptance_display()}: {r.acceptance_note or '—'}",
            r.ledger_key,
        )
    if not risks:
        five.lack("Risk register entries")
    accepted = [a for a in version.approvals.all() if a.meaning == "risk_accepted"]
    for a in accepted:
        five.add("Residual-risk acceptance signed", f"{a.signer_name}, {_utc(a.signed_at)}", a.ledger_key)
    if not accepted:
        five.lack("Signed residual-risk acceptance")

    six = p["6"]
    for c in version.status_changes.order_by("changed_at"):
        six.add(f"Status {c.from_status} → {c.to_status}", f"{_utc(c.changed_at)}: {c.reason or '—'}", c.ledger_key)
    for d in version.deployments.order_by("started_at"):
        six.add(
            f"Deployed to {d.environment}",
            f"{_utc(d.started_at)}, change ticket {d.change_ticket or '—'}",
            d.ledger_key,
        )
    six.lack("Substantial-modification determination (Art. 43(4))")

    p["7"].lack("Harmonised standards or other specifications applied")
    p["8"].lack("Copy or reference of the EU declaration of conformity")

    nine = p["9"]
    policy = monitoring_policy_current(model)
    if policy:
        nine.add(
            "Monitoring policy",
            f"every {policy.expected_interval_minutes} min; PSI > {policy.psi_threshold}, KS > {policy.ks_threshold}",
            policy.ledger_key,
        )
    else:
        nine.lack("Monitoring policy (metrics, windows, thresholds)")
    nine.add("Owner responsible", model.owner.get_full_name() or model.owner.get_username(), model.ledger_key)
    for alert in version.alerts.order_by("opened_at"):
        nine.add(f"Alert {alert.pk} ({alert.kind})", f"{alert.state}: {alert.summary}", alert.ledger_key)
    return list(p.values())


def annex_iv_report(
    version: ModelVersion,
    *,
    report_id: str,
    generated_at: datetime,
    development: bool,
    purpose: str = "",
    requester: str = "",
) -> Built:
    """Return the Annex IV technical documentation of `version`, its cited keys and its facts."""
    model = version.model
    points = _points(version)
    keys = [f["key"] for point in points for f in point.facts if f["key"]]
    seqs = {key: entry.seq for key, entry in ledger_selectors.entries_by_keys(list(dict.fromkeys(keys))).items()}
    facts = {
        "request": {
            "report_id": report_id,
            "purpose": purpose or "not stated",
            "requester": requester or "the operator (command line)",
        },
        "points": [],
    }
    sections = []
    for point in points:
        data = point.data()
        for fact in data["facts"]:
            fact["seq"] = seqs.get(fact["key"])
        facts["points"].append(data)
        blocks: list = [
            Table(
                ("Fact", "Value", "Ledger evidence"),
                tuple(
                    (f["fact"], f["value"], f"seq {f['seq']}" if f["seq"] is not None else f["key"])
                    for f in data["facts"]
                ),
                column_widths=(0.28, 0.56, 0.16),
            )
            if data["facts"]
            else Paragraph("Nothing on record for this point.")
        ]
        if data["missing"]:
            blocks.append(Callout("\n".join(f"• {m}" for m in data["missing"]), tone="warning", title="Missing"))
        sections.append(Section(f"{data['point']}. {data['title']} (Annex IV {data['point']})", tuple(blocks)))
    missing = sum(len(p["missing"]) for p in facts["points"])
    sections.append(Section("Integrity appendix", (_verify_help(f"{model.slug} {version.version}"),)))
    content = ReportContent(
        kind="annex-iv",
        title=f"EU AI Act Annex IV technical documentation: {model.slug} {version.version}",
        report_id=report_id,
        generated_at=generated_at,
        subject=f"model:{model.slug}/version:{version.version}",
        development=development,
        sections=tuple(sections),
        footer_note="Sealed with PAdES; evidence manifest embedded.",
        title_rows=(
            ("Purpose of this report", facts["request"]["purpose"]),
            ("Requested by", facts["request"]["requester"]),
            ("Model", f"{model.slug} {version.version} ({version.get_status_display()})"),
            (
                "Completeness",
                f"{sum(len(p['facts']) for p in facts['points'])} facts on record; {missing} item(s) missing",
            ),
        ),
    )
    return Built(content, list(dict.fromkeys([model.ledger_key, version.ledger_key, *keys]))[:MAX_CITED], facts)
