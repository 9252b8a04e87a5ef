"""Deploying approved versions, ending deployments, rolling back and retiring."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from governance import access, events
from governance.errors import Conflict, InvalidInput
from governance.models import Deployment, ModelVersion
from governance.records import rfc3339
from governance.results import Written
from governance.selectors.gates import gates_for_deployment
from governance.services.registry import status_change
from governance.validation import SLUG_RE, Errors

DEPLOYABLE = frozenset({ModelVersion.Status.APPROVED, ModelVersion.Status.DEPLOYED})


def _end(deployment: Deployment, actor: AbstractBaseUser, reason: str, *, settle: bool = True) -> None:
    """End a deployment; with `settle`, a version left serving nowhere goes back to approved."""
    deployment.ended_at = timezone.now()
    deployment.ended_by = actor
    deployment.end_reason = reason
    deployment.end_ledger_key = f"deployment.ended:{deployment.pk}"
    deployment.save(update_fields=["ended_at", "ended_by", "end_reason", "end_ledger_key"])
    events.record(
        type="deployment.ended",
        actor=actor,
        subject=f"model:{deployment.model.slug}",
        key=deployment.end_ledger_key,
        data={
            "model": deployment.model.slug,
            "version": deployment.version.version,
            "environment": deployment.environment,
            "started_at": rfc3339(deployment.started_at),
            "ended_at": rfc3339(deployment.ended_at),
            "reason": reason,
        },
    )
    version = deployment.version
    serving_elsewhere = version.deployments.filter(ended_at__isnull=True).exists()
    if settle and version.status == ModelVersion.Status.DEPLOYED and not serving_elsewhere:
        status_change(actor=actor, version=version, to=ModelVersion.Status.APPROVED, reason="no longer serving")


@transaction.atomic
def deployment_start(
    *,
    actor: AbstractBaseUser,
    version: ModelVersion,
    environment: str,
    change_ticket: str = "",
    ci_run_id: str = "",
    config_version: str = "",
    notes: str = "",
    reason: str = "",
) -> Deployment:
    """Deploy an approved version to `environment`, replacing what served it, and log it.

    Deploying an earlier version than the one serving is a rollback and names it. Raise
    Forbidden (only pipelines granted the model, and its owner, deploy), Conflict (not
    approved, already serving, gates failing).
    """
    model = version.model
    access.require(actor, "register", version)
    errors = Errors()
    errors.check(
        isinstance(environment, str) and bool(SLUG_RE.match(environment or "")) and len(environment) <= 50,
        "environment",
        "A short lowercase name such as production or staging.",
    )
    for field, value in (
        ("change_ticket", change_ticket),
        ("ci_run_id", ci_run_id),
        ("config_version", config_version),
    ):
        errors.text(value, field, limit=200, required=False)
    errors.raise_if_any()
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    passed, gates = gates_for_deployment(version, environment)
    failing = [gate["gate"] for gate in gates if not gate["passed"]]
    if version.status not in DEPLOYABLE:
        # The gates go with the refusal, so the caller sees everything still missing at once.
        still = f" Failing gates: {', '.join(failing)}." if failing else ""
        raise Conflict(
            f"{version} is {version.status}; only approved versions are deployed.{still}",
            errors={"gates": gates} if gates else None,
        )
    if not passed:
        raise Conflict(f"Deployment blocked by failing gates: {', '.join(failing)}.", errors={"gates": gates})
    current = (
        Deployment.objects.select_for_update()
        .filter(model=model, environment=environment, ended_at__isnull=True)
        .select_related("version")
        .first()
    )
    if current is not None and current.version_id == version.pk:
        raise Conflict(f"{version} already serves {environment}.")
    rollback_of = None
    if current is not None:
        if current.version.registered_at > version.registered_at:
            rollback_of = current
        _end(current, actor, reason or f"replaced by {version.version}")
    deployment = Deployment.objects.create(
        model=model,
        version=version,
        environment=environment,
        started_at=timezone.now(),
        deployed_by=actor,
        rollback_of=rollback_of,
        change_ticket=change_ticket,
        ci_run_id=ci_run_id,
        config_version=config_version,
        notes=notes,
        gates=gates,
        ledger_key=f"deployment.started:{uuid.uuid4()}",
    )
    approvals = list(version.approvals.values_list("ledger_key", flat=True))
    events.record(
        type="deployment.started",
        actor=actor,
        subject=f"model:{model.slug}",
        key=deployment.ledger_key,
        data={
            "model": model.slug,
            "version": version.version,
            "environment": environment,
            "started_at": rfc3339(deployment.started_at),
            "change_ticket": change_ticket,
            "ci_run_id": ci_run_id,
            "config_version": config_version,
            "notes": notes,
            "reason": reason,
            "rollback_of": rollback_of.ledger_key if rollback_of else None,
            "replaced": current.ledger_key if current else None,
            "approvals": approvals,
            "gates": gates,
        },
    )
    if version.status != ModelVersion.Status.DEPLOYED:
        status_change(
            actor=actor,
            version=version,
            to=ModelVersion.Status.DEPLOYED,
            reason=f"deployed to {environment}",
        )
    return deployment


@transaction.atomic
def deployment_end(*, actor: AbstractBaseUser, deployment: Deployment, reason: str) -> Written[Deployment]:
    """Stop a deployment (a suspension: who, when, why) and log `deployment.ended`."""
    access.require(actor, "register", deployment)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("Say why the deployment ends.", errors={"reason": ["This field is required."]})
    deployment = Deployment.objects.select_for_update().select_related("model", "version").get(pk=deployment.pk)
    if deployment.ended_at is not None:
        raise Conflict("This deployment has already ended.")
    _end(deployment, actor, reason)
    return Written(deployment, deployment.end_ledger_key)


@transaction.atomic
def version_retire(*, actor: AbstractBaseUser, version: ModelVersion, reason: str) -> Written[ModelVersion]:
    """Retire a version: end its deployments and log the status change."""
    access.require(actor, "register", version)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("Say why the version retires.", errors={"reason": ["This field is required."]})
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status == ModelVersion.Status.RETIRED:
        raise Conflict(f"{version} is already retired.")
    for deployment in version.deployments.filter(ended_at__isnull=True).select_related("model", "version"):
        _end(deployment, actor, f"version retired: {reason}", settle=False)
    change = status_change(actor=actor, version=version, to=ModelVersion.Status.RETIRED, reason=reason)
    return Written(version, change.ledger_key)
