"""Builders for the governance API tests: everything is written through the services.

`build_world` writes the small governed world most tests start from:

- credit-risk (high risk, owned by `owner`; `pipeline_granted` may register and log on it):
  datasets train / validation / test; version 1.0.0 with a full card, approved by both officers,
  serving production, with three logged decisions (two about applicant-1, one about
  applicant-2); version 1.1.0 (child of 1.0.0) with a full card, registered and unsigned.
- fraud-score (low risk, owned by `owner`, no grants): dataset fraud-train, version 0.1.0
  registered by the owner, without a card.
- stranger-notes: a dataset `pipeline_stranger` registered for itself, linked to nothing.

Both models carry what the production gates ask for (a runbook, metric thresholds, monitoring
and retraining policies) and every version registered here carries reproducible-pipeline
evidence; `post_ci` records a passing CI run, the last piece a version needs for production.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User

from governance.demo import FULL_CARD
from governance.models import Decision, Deployment, ModelVersion, RegisteredModel
from governance.services import access as access_services
from governance.services import approvals, ci_evidence, decisions, deployments, policies, registry
from ledger.models import Entry, Submission
from model_ledger_verify import canonical
from tests.governance.readiness import junit_report
from tests.personas import PASSWORD

PERSONAS = (
    "anonymous",
    "pipeline_granted",
    "pipeline_stranger",
    "owner",
    "other_owner",
    "officer_1",
    "officer_2",
    "auditor",
    "admin",
)
OFFICERS = ("officer_1", "officer_2")
READ_ALL = ("officer_1", "officer_2", "auditor", "admin")
# Who may read credit-risk: its granted pipeline, its owner and every reader of all records.
CREDIT_READERS = ("pipeline_granted", "owner", *READ_ALL)
# Signed in, but credit-risk does not exist for them.
CREDIT_STRANGERS = ("pipeline_stranger", "other_owner")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def ledger_size() -> int:
    """Entries in the log plus events still queued for it."""
    return Entry.objects.count() + Submission.objects.count()


@dataclass
class World:
    model: RegisteredModel
    low_model: RegisteredModel
    datasets: dict[str, str]  # name -> sha256
    v100: ModelVersion
    v110: ModelVersion
    v010: ModelVersion
    deployment: Deployment
    decisions: list[Decision] = field(default_factory=list)


def dataset(actor: User, name: str) -> str:
    row, _ = registry.dataset_register(
        actor=actor,
        name=name,
        uri=f"s3://data/{name}.parquet",
        sha256=sha(name),
        size_bytes=1_000,
        row_count=10,
        provenance="Core banking exports, pseudonymised.",
    )
    return row.sha256


def model_body(slug: str, owner: str, risk_tier: str = "high") -> dict[str, Any]:
    """A model as its owner registers it (the JSON body; the service takes the owner as a user)."""
    return {
        "slug": slug,
        "name": slug.replace("-", " ").capitalize(),
        "intended_purpose": "Estimate 24-month default risk of consumer credit applicants.",
        "regulated_use": "credit",
        "risk_tier": risk_tier,
        "owner": owner,
        "runbook": f"https://wiki.example.com/runbooks/{slug}",
    }


def register_model(owner: User, slug: str, risk_tier: str = "high") -> RegisteredModel:
    body = model_body(slug, owner.get_username(), risk_tier)
    model = registry.model_register(actor=owner, **{**body, "owner": owner})
    declare_policies(model, owner)
    return model


def declare_policies(model: RegisteredModel, actor: User) -> None:
    """The owner's thresholds, monitoring and retraining policies (production gates)."""
    policies.thresholds_set(
        actor=actor, model=model, thresholds=[{"metric": "auc", "operator": "min", "value": "0.80"}]
    )
    policies.monitoring_policy_set(
        actor=actor, model=model, expected_interval_minutes=60, psi_threshold="0.25", ks_threshold="0.20"
    )
    policies.retraining_policy_set(actor=actor, model=model, drift_windows=3, max_age_days=365)


def post_ci(version: ModelVersion, actor: User) -> None:
    """A passing CI run for `version` (posted by a pipeline granted register, or the owner)."""
    ci_evidence.ci_evidence_post(
        actor=actor,
        version=version,
        run_id=f"ci-{version.version}",
        report=junit_report(name=f"{version.model_id}-{version.version}"),
        url=f"https://ci.example.com/runs/{version.version}",
    )


def links(datasets: dict[str, str]) -> list[dict[str, str]]:
    return [
        {"sha256": datasets["train"], "role": "training"},
        {"sha256": datasets["validation"], "role": "validation"},
        {"sha256": datasets["test"], "role": "test"},
    ]


def version_body(number: str, datasets: list[dict[str, str]], parent: str | None = None) -> dict[str, Any]:
    """A version as a pipeline registers it (the service's keyword arguments, or the JSON body)."""
    return {
        "version": number,
        "parent": parent,
        "artifact_sha256": sha(f"weights-{number}"),
        "artifact_uri": f"s3://models/{number}/model.tar.gz",
        "datasets": datasets,
        "code_repository": "https://git.example.com/risk/credit-risk",
        "code_commit": sha(number)[:40],
        "pipeline_run_id": f"run-{number}",
        "environment_lock_sha256": sha(f"lock-{number}"),
        "hyperparameters": {"max_depth": "6"},
        "metrics": [{"name": "auc", "value": "0.87"}],
    }


def version(actor: User, model: RegisteredModel, number: str, datasets: list[dict], parent: str | None = None):
    return registry.version_register(actor=actor, model=model, **version_body(number, datasets, parent))


def approve(version: ModelVersion, *officers: User, meaning: str = "approved") -> None:
    for officer in officers:
        approvals.approval_sign(
            signer=officer,
            version=version,
            password=PASSWORD,
            meaning=meaning,
            reason="Validation report reviewed; metrics within thresholds.",
        )


def decision_item(n: int, version: str, at: datetime, subject_ref: str = "") -> dict[str, Any]:
    """A decision as the services take it (occurred_at a datetime); see `as_json` for HTTP."""
    snapshot = {"income_band": str(n % 7), "region": "north"}
    return {
        "decision_id": f"d-{n:05d}",
        "version": version,
        "occurred_at": at,
        "subject_ref": subject_ref or f"applicant-{n:05d}",
        "input_snapshot": snapshot,
        "input_sha256": hashlib.sha256(canonical.dumps(snapshot)).hexdigest(),
        "output_label": "approve",
        "output_score": f"0.{n % 1000:03d}",
        "reasons": [{"code": "R01", "text": "Credit utilisation is high", "contribution": "0.31"}],
        "mode": "automated",
    }


def as_json(item: dict[str, Any]) -> dict[str, Any]:
    """A decision as a serving system sends it over HTTP."""
    return {**item, "occurred_at": rfc3339(item["occurred_at"])}


def build_world(people: dict[str, User | None]) -> World:
    owner, pipeline = people["owner"], people["pipeline_granted"]
    officer_1, officer_2 = people["officer_1"], people["officer_2"]
    model = register_model(owner, "credit-risk", "high")
    access_services.access_grant(
        actor=officer_1,
        model=model,
        grantee=pipeline,
        actions=["register", "log"],
        reason="Training and serving pipeline",
    )
    sets = {name: dataset(pipeline, name) for name in ("train", "validation", "test")}
    sets["stranger-notes"] = dataset(people["pipeline_stranger"], "stranger-notes")
    v100 = version(pipeline, model, "1.0.0", links(sets))
    registry.card_revise(actor=pipeline, version=v100, content=FULL_CARD)
    post_ci(v100, pipeline)
    approve(v100, officer_1, officer_2)
    deployment = deployments.deployment_start(
        actor=pipeline, version=v100, environment="production", change_ticket="CHG-1"
    )
    start = deployment.started_at
    items = [
        decision_item(1, "1.0.0", start + timedelta(seconds=1), "applicant-1"),
        decision_item(2, "1.0.0", start + timedelta(seconds=2), "applicant-1"),
        decision_item(3, "1.0.0", start + timedelta(seconds=3), "applicant-2"),
    ]
    logged = decisions.decision_log_batch(actor=pipeline, model=model, items=items).decisions
    v110 = version(pipeline, model, "1.1.0", links(sets), parent="1.0.0")
    registry.card_revise(actor=pipeline, version=v110, content=FULL_CARD)

    low = register_model(owner, "fraud-score", "low")
    sets["fraud-train"] = dataset(owner, "fraud-train")
    v010 = version(owner, low, "0.1.0", [{"sha256": sets["fraud-train"], "role": "training"}])
    v100.refresh_from_db()
    return World(
        model=model,
        low_model=low,
        datasets=sets,
        v100=v100,
        v110=v110,
        v010=v010,
        deployment=deployment,
        decisions=logged,
    )
