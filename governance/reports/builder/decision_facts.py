"""The decision report's facts as plain data (REGULATORY.md §3(b)), redacted for their audience.

Three redaction levels, chosen when the report is requested:

- ``authority``: everything the record holds, the subject reference and the staff by name;
- ``internal``: pseudonymised: the subject reference becomes a keyed pseudonym (the same subject
  gets the same pseudonym in every report), staff keep their names;
- ``subject``: the data subject's own view: their own reference and inputs, and no third-party
  data: staff appear by role only, the logging account not at all.

Input values appear only when the requester may read inputs (``read_inputs``); otherwise each
value is replaced by a salted SHA-256, so a holder of the payload can still match it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from django.conf import settings

from governance.models import Approval, Decision, Deployment, ModelVersion, Report, StatusChange
from governance.reports.builder.common import _utc
from governance.selectors.assurance import assurance_current
from ledger import selectors as ledger_selectors
from model_ledger_verify import canonical

LEVELS = ("authority", "internal", "subject")
# FCRA 615(a) and Reg B comment 9(b)(2)-4: more than four key factors are not helpful.
MAX_DISCLOSED = 4
# Reg B 1002.9(a)(1): notice of action taken within 30 days; 1002.12(b): keep records 25 months.
NOTICE_DAYS, REG_B_MONTHS = 30, 25


def pseudonym(subject_ref: str) -> str:
    """Return a stable keyed pseudonym of a subject reference (HMAC-SHA-256 under SECRET_KEY)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), subject_ref.encode(), hashlib.sha256).hexdigest()
    return f"pseudonym {digest[:20]}"


def _redacted(salt: bytes, feature: str, value: Any) -> str:
    digest = hashlib.sha256(salt + canonical.dumps({"feature": feature, "value": value})).hexdigest()
    return f"redacted: sha256 {digest}"


def _inputs(decision: Decision, payload: Any, show_values: bool) -> list[dict[str, str]]:
    if payload is None or payload.erased_at is not None or not payload.input_snapshot:
        return []
    rows = []
    for feature, value in sorted(payload.input_snapshot.items()):
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
        rows.append(
            {
                "feature": str(feature),
                "value": text if show_values else _redacted(bytes(payload.salt), str(feature), value),
                "source": "input snapshot, as logged with the decision",
            }
        )
    return rows


def _explanation(decision: Decision) -> dict[str, Any]:
    reasons = [
        {
            "rank": i + 1,
            "code": r.get("code", "—"),
            "text": r.get("text", "—"),
            "contribution": r.get("contribution", "—"),
        }
        for i, r in enumerate(decision.reasons)
    ]
    values = []
    for r in decision.reasons:
        try:
            values.append(float(r.get("contribution")))
        except (TypeError, ValueError):
            values = None
            break
    ordered = values is not None and all(a >= b for a, b in pairwise(values))
    if not reasons:
        check = "FAILED: no reasons were disclosed"
    elif values is None:
        check = "not checkable: a disclosed reason has no contribution"
    elif not ordered:
        check = "FAILED: the disclosed reasons are not the top-scored factors in order"
    elif len(reasons) > MAX_DISCLOSED:
        check = f"FAILED: more than {MAX_DISCLOSED} key factors disclosed"
    else:
        check = f"passed: {len(reasons)} reason(s), ranked by contribution, at most {MAX_DISCLOSED}"
    return {"reasons": reasons, "consistency_check": check}


def _approval_state(version: ModelVersion, moment: datetime, level: str) -> dict[str, Any]:
    change = StatusChange.objects.filter(version=version, changed_at__lte=moment).order_by("-changed_at").first()
    approvals = list(version.approvals.filter(signed_at__lte=moment).order_by("signed_at"))
    return {
        "status": change.to_status if change else ModelVersion.Status.REGISTERED,
        "approved": any(a.meaning == Approval.Meaning.APPROVED for a in approvals),
        "signatures": [
            {
                "signer": a.signer_role if level == "subject" else a.signer_name,
                "role": a.signer_role,
                "signed_at": _utc(a.signed_at),
                "meaning": a.get_meaning_display(),
            }
            for a in approvals
        ],
        "keys": [a.ledger_key for a in approvals] + ([change.ledger_key] if change else []),
    }


def _trail(decision: Decision, reviews: list, level: str) -> list[dict[str, Any]]:
    """Every ledger entry about this decision: logged, reviewed, erased, reported, downloaded."""
    keys = [decision.ledger_key, *(r.ledger_key for r in reviews), f"decision.payload_erased:{decision.pk}"]
    reports = list(Report.objects.filter(decision=decision).values_list("pk", flat=True))
    keys += [f"report.generated:{pk}" for pk in reports]
    found = list(ledger_selectors.entries_by_keys(keys).values())
    found += ledger_selectors.entries_with_prefixes([f"report.downloaded:{pk}:" for pk in reports])
    rows = []
    for entry in sorted(found, key=lambda e: e.seq):
        leaf = json.loads(bytes(entry.leaf))
        rows.append(
            {
                "seq": entry.seq,
                "type": leaf["type"],
                "actor": "—" if level == "subject" else (leaf.get("actor") or "—"),
                "at": leaf["ts"],
                "leaf_hash": bytes(entry.leaf_hash).hex(),
            }
        )
    return rows


def decision_facts(decision: Decision, *, level: str, show_values: bool) -> dict[str, Any]:
    """Return the decision report's facts for `level` (see LEVELS), and the ledger keys cited."""
    version, model = decision.version, decision.model
    payload = getattr(decision, "payload", None)
    reviews = list(decision.reviews.select_related("reviewer").order_by("reviewed_at"))
    deployment = (
        Deployment.objects.filter(version=version, started_at__lte=decision.occurred_at)
        .order_by("-started_at")
        .first()
    )
    subject_ref = payload.subject_ref if payload and payload.erased_at is None else ""
    if not subject_ref:
        reference = "erased" if payload and payload.erased_at else "—"
    else:
        reference = pseudonym(subject_ref) if level == "internal" else subject_ref
    approval = _approval_state(version, decision.occurred_at, level)
    classification = next(iter(assurance_current("classification", model=model)), None)
    oversight = assurance_current("oversight", model=model)
    final = decision.final_label or decision.output_label
    reviewer = decision.reviewer or "—"
    if level == "subject" and decision.reviewer:
        reviewer = "a trained reviewer of the deployer"
    trail = _trail(decision, reviews, level)
    logged = next((row for row in trail if row["type"] == "decision.logged"), None)
    keys = [decision.ledger_key, version.ledger_key, *approval.pop("keys"), *(r.ledger_key for r in reviews)]
    keys += [deployment.ledger_key] if deployment else []
    keys += [row.ledger_key for row in [*([classification] if classification else []), *oversight]]
    return {
        "redaction": level,
        "identification": {
            "decision_id": decision.decision_id,
            "model": model.slug,
            "ledger_seq": logged["seq"] if logged else None,
            "record_hash": logged["leaf_hash"] if logged else "—",
            "subject_reference": reference,
            "deployer": model.provider or "—",
            "product": model.get_regulated_use_display(),
            "jurisdiction": "— (not recorded)",
            "logged_by": "—" if level == "subject" else decision.posted_by.get_username(),
        },
        "system": {
            "version": version.version,
            "artifact_sha256": version.artifact_sha256,
            "status_at_decision": approval["status"],
            "approved_at_decision": approval["approved"],
            "signatures": approval["signatures"],
            "deployment": f"{deployment.environment} since {_utc(deployment.started_at)}" if deployment else "—",
            "config_version": (deployment.config_version or "—") if deployment else "—",
            "explainer_version": "— (not recorded)",
            "risk_tier": model.get_risk_tier_display(),
            "intended_purpose": model.intended_purpose,
            "classification": classification.get_annex_iii_display() if classification else "— (not recorded)",
        },
        "timeline": _timeline(decision, reviews, payload),
        "inputs": {
            "input_sha256": decision.input_sha256,
            "payload_commitment": decision.payload_commitment,
            "rows": _inputs(decision, payload, show_values),
            "values_shown": show_values,
        },
        "output": {
            "label": decision.output_label,
            "score": decision.output_score or "—",
            "threshold": "— (not recorded per decision)",
            "mode": decision.get_mode_display(),
        },
        "explanation": _explanation(decision),
        "role_of_ai": (
            "The model's output was the sole basis of this decision (solely automated, GDPR Art. 22)."
            if decision.mode == Decision.Mode.AUTOMATED and not reviews
            else "The model's output was one input; a person reviewed the case and made the final decision."
        ),
        "oversight": {
            "reviewer": reviewer,
            "overridden": decision.overridden,
            "override_reason": decision.override_reason or "—",
            "final_outcome": final,
            "solely_automated": decision.mode == Decision.Mode.AUTOMATED and not reviews,
            "measures": [{"measure": o.measure, "responsible": o.responsible} for o in oversight if o.active],
            "reviews": [
                {
                    "at": _utc(r.reviewed_at),
                    "reviewer": _who(r.reviewer, level),
                    "action": r.get_action_display(),
                    "reason_code": r.reason_code or "—",
                    "reason": r.reason or "—",
                    "final_label": r.final_label or "—",
                }
                for r in reviews
            ],
        },
        "retention": {
            "bases": "Reg B 1002.12(b) (25 months); AI Act Art. 19 and 26(6) (at least 6 months)",
            "until": f"at least {(decision.occurred_at + timedelta(days=REG_B_MONTHS * 31)).date()}",
            "legal_hold": "none recorded",
            "erased": _utc(payload.erased_at) if payload and payload.erased_at else "no",
        },
        "trail": trail,
        "keys": keys,
    }


def _who(user: Any, level: str) -> str:
    return "a reviewer of the deployer" if level == "subject" else user.get_username()


def _timeline(decision: Decision, reviews: list, payload: Any) -> dict[str, Any]:
    events = [(decision.occurred_at, "decision made (model scored)"), (decision.posted_at, "decision logged")]
    events += [(r.reviewed_at, f"human review: {r.get_action_display().lower()}") for r in reviews]
    if payload is not None and payload.erased_at:
        events.append((payload.erased_at, "personal data erased"))
    due = decision.occurred_at + timedelta(days=NOTICE_DAYS)
    return {
        "events": [(moment, label) for moment, label in sorted(events)],
        "notice": f"no notice of action taken recorded; Reg B 1002.9(a)(1) deadline {_utc(due)}",
    }
