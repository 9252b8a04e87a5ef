"""Registering model versions with their lineage, revising model cards, moving status."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from governance import access, events
from governance.errors import Conflict
from governance.models import (
    Dataset,
    ModelCard,
    ModelVersion,
    RegisteredModel,
    StatusChange,
    VersionDataset,
)
from governance.records import rfc3339, sha256_of, version_record
from governance.results import Written
from governance.services.concurrency import retried_on_duplicate
from governance.services.retraining import retraining_close_for_version
from governance.validation import VERSION_RE, Errors

MAX_METRICS = 500


MAX_HYPERPARAMETERS = 500


def _check_metrics(metrics: Any, errors: Errors) -> None:
    if not isinstance(metrics, list) or len(metrics) > MAX_METRICS:
        errors.add("metrics", f"A list of at most {MAX_METRICS} metrics.")
        return
    for index, metric in enumerate(metrics):
        field = f"metrics[{index}]"
        if not isinstance(metric, dict) or set(metric) - {
            "name",
            "value",
            "slice",
            "dataset_sha256",
        }:
            errors.add(field, "An object with name, value, and optionally slice and dataset_sha256.")
            continue
        errors.text(metric.get("name"), f"{field}.name", limit=100)
        errors.decimal(metric.get("value"), f"{field}.value")
        if "slice" in metric:
            errors.text(metric["slice"], f"{field}.slice", limit=200)
        if "dataset_sha256" in metric:
            errors.sha256(metric["dataset_sha256"], f"{field}.dataset_sha256")


@retried_on_duplicate
@transaction.atomic
def version_register(
    *,
    actor: AbstractBaseUser,
    model: RegisteredModel,
    version: str,
    artifact_sha256: str,
    artifact_uri: str,
    datasets: list[dict[str, str]],
    code_repository: str = "",
    code_commit: str = "",
    pipeline_run_id: str = "",
    pipeline_run_url: str = "",
    environment_lock_sha256: str = "",
    hyperparameters: dict[str, str] | None = None,
    metrics: list[dict[str, str]] | None = None,
    parent: str | None = None,
    description: str = "",
    retraining_request: int | None = None,
) -> ModelVersion:
    """Register an immutable model version with its lineage and log `version.registered`.

    `datasets` are [{"sha256", "role"}] of already registered datasets (at least one training
    set); `parent` names an earlier version of the same model; `retraining_request` names the
    model's open retraining request this version answers, which it closes. Raise InvalidInput,
    NotVisible, Forbidden or Conflict; nothing is written unless everything holds.
    """
    access.require(actor, "register", model)
    hyperparameters = {} if hyperparameters is None else hyperparameters
    metrics = [] if metrics is None else metrics
    errors = Errors()
    errors.check(
        isinstance(version, str) and bool(VERSION_RE.match(version)),
        "version",
        "Letters, digits and . + _ -, at most 64, e.g. 1.2.0.",
    )
    errors.sha256(artifact_sha256, "artifact_sha256")
    errors.url(artifact_uri, "artifact_uri", limit=1000, storage=True, required=True)
    errors.url(code_repository, "code_repository", limit=500)
    errors.url(pipeline_run_url, "pipeline_run_url", limit=1000)
    errors.sha256(environment_lock_sha256, "environment_lock_sha256", optional=True)
    errors.text(code_commit, "code_commit", limit=64, required=False)
    if (
        not isinstance(hyperparameters, dict)
        or len(hyperparameters) > MAX_HYPERPARAMETERS
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in hyperparameters.items())
    ):
        errors.add("hyperparameters", "An object of string values (numbers as decimal strings).")
    _check_metrics(metrics, errors)
    links: list[tuple[str, str]] = []
    if not isinstance(datasets, list) or not datasets:
        errors.add("datasets", "At least one dataset, with role training.")
    else:
        for index, item in enumerate(datasets):
            if not isinstance(item, dict) or item.get("role") not in VersionDataset.Role.values:
                errors.add(
                    f"datasets[{index}]",
                    f"An object with sha256 and role ({', '.join(VersionDataset.Role.values)}).",
                )
                continue
            errors.sha256(item.get("sha256"), f"datasets[{index}].sha256")
            links.append((item["role"], item.get("sha256", "")))
        errors.check(
            any(role == "training" for role, _ in links),
            "datasets",
            "At least one dataset must have the role training.",
        )
    errors.raise_if_any()
    known = {d.sha256: d for d in Dataset.objects.filter(sha256__in=[sha for _, sha in links])}
    for index, (_, sha) in enumerate(links):
        errors.check(sha in known, f"datasets[{index}].sha256", "No dataset is registered with that hash.")
    parent_version = None
    if parent:
        parent_version = ModelVersion.objects.filter(model=model, version=parent).first()
        errors.check(parent_version is not None, "parent", f"Model {model.slug} has no version {parent!r}.")
    errors.raise_if_any()
    if ModelVersion.objects.filter(model=model, version=version).exists():
        raise Conflict(f"{model.slug} already has version {version}.", errors={"version": ["Taken."]})
    row = ModelVersion.objects.create(
        model=model,
        version=version,
        description=description,
        artifact_sha256=artifact_sha256,
        artifact_uri=artifact_uri,
        code_repository=code_repository,
        code_commit=code_commit,
        pipeline_run_id=pipeline_run_id,
        pipeline_run_url=pipeline_run_url,
        environment_lock_sha256=environment_lock_sha256 or "",
        hyperparameters=hyperparameters,
        metrics=metrics,
        parent=parent_version,
        registered_by=actor,
        registered_at=timezone.now(),
        ledger_key=f"version.registered:{model.slug}:{version}",
    )
    VersionDataset.objects.bulk_create(
        VersionDataset(version=row, dataset=known[sha], role=role) for role, sha in sorted(set(links))
    )
    events.record(
        type="version.registered",
        actor=actor,
        subject=f"model:{model.slug}",
        key=row.ledger_key,
        data=version_record(row),
    )
    if retraining_request is not None:
        retraining_close_for_version(actor=actor, version=row, request_id=retraining_request)
    return row


FROZEN_STATUSES = frozenset(
    {
        ModelVersion.Status.APPROVED,
        ModelVersion.Status.REJECTED,
        ModelVersion.Status.DEPLOYED,
        ModelVersion.Status.RETIRED,
    }
)


@retried_on_duplicate
@transaction.atomic
def card_revise(*, actor: AbstractBaseUser, version: ModelVersion, content: dict[str, str]) -> ModelCard:
    """Add a new model-card revision for `version` and log `card.revised`.

    Sections are those of ModelCard.SECTIONS, each a string (Markdown). A version whose card an
    approval has frozen (approved, rejected, deployed, retired) takes no new revision.
    """
    access.require(actor, "register", version)
    errors = Errors()
    if not isinstance(content, dict) or not content:
        errors.add("content", f"An object with sections: {', '.join(ModelCard.SECTIONS)}.")
    else:
        for key, value in content.items():
            errors.check(key in ModelCard.SECTIONS, f"content.{key}", "Not a model-card section.")
            errors.text(value, f"content.{key}", limit=100_000, required=False)
    errors.raise_if_any()
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status in FROZEN_STATUSES:
        raise Conflict(f"The card of {version} is frozen: the version is {version.status}.")
    if version.approvals.filter(meaning="approved").exists():
        # Every approval of a version must cover the same card: the first one freezes it.
        raise Conflict(f"The card of {version} is frozen: an approval has been signed over it.")
    last = version.cards.order_by("-revision").values_list("revision", flat=True).first() or 0
    card = ModelCard.objects.create(
        version=version,
        revision=last + 1,
        content=content,
        content_sha256=sha256_of(content),
        author=actor,
        created_at=timezone.now(),
        ledger_key=f"card.revised:{version.model.slug}:{version.version}:{last + 1}",
    )
    events.record(
        type="card.revised",
        actor=actor,
        subject=f"model:{version.model.slug}",
        key=card.ledger_key,
        data={
            "model": version.model.slug,
            "version": version.version,
            "revision": card.revision,
            "content_sha256": card.content_sha256,
            "content": content,
            "created_at": rfc3339(card.created_at),
        },
    )
    return card


def status_change(*, actor: AbstractBaseUser, version: ModelVersion, to: str, reason: str = "") -> StatusChange:
    """Move `version` to status `to`, writing the history row and `version.status_changed`.

    Call inside the service transaction that justifies the move.
    """
    change = StatusChange.objects.create(
        version=version,
        from_status=version.status,
        to_status=to,
        actor=actor,
        reason=reason,
        changed_at=timezone.now(),
        ledger_key=f"version.status_changed:{uuid.uuid4()}",
    )
    version.status = to
    version.save(update_fields=["status"])
    events.record(
        type="version.status_changed",
        actor=actor,
        subject=f"model:{version.model.slug}",
        key=change.ledger_key,
        data={
            "model": version.model.slug,
            "version": version.version,
            "from": change.from_status,
            "to": to,
            "reason": reason,
            "changed_at": rfc3339(change.changed_at),
        },
    )
    return change


@transaction.atomic
def version_request_review(*, actor: AbstractBaseUser, version: ModelVersion) -> Written[ModelVersion]:
    """Put a registered version in the review queue."""
    access.require(actor, "register", version)
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ModelVersion.Status.REGISTERED:
        raise Conflict(f"{version} is {version.status}; only registered versions go to review.")
    change = status_change(actor=actor, version=version, to=ModelVersion.Status.IN_REVIEW, reason="review requested")
    return Written(version, change.ledger_key)
