"""Import MLflow registered model versions into the ledger, through the ledger's own services.

What is read, and what it becomes:

- A registered model's name → the RegisteredModel whose slug is that name slugified
  ("Credit_Risk" → "credit-risk"). A model missing from the ledger is created only when the
  import user may register models and MLFLOW_IMPORT_OWNER names its owner; the MLflow model's
  tags `intended_purpose`, `regulated_use`, `risk_tier` and `runbook` fill those fields, and
  without them it is registered as high risk, regulated use "other": the strictest rules apply
  until a person says otherwise.
- A model version → a ModelVersion named by its tag `version` (or `semver`), else by MLflow's
  number ("3"). Its run gives the hyperparameters (params, strings), the metrics (decimal
  strings, never floats), the code commit and repository (tags `mlflow.source.git.commit`,
  `mlflow.source.git.repoURL`), the pipeline run id and, for an http(s) server, its URL.
- The run's dataset inputs → datasets, in the role their `mlflow.data.context` tag names
  (training when untagged). See `facts.dataset_facts` for how each is hashed.
- The version's artifacts are downloaded and hashed with the project's one fingerprint
  (model_ledger_verify/fingerprint.py: the SHA-256 root of a manifest of every file, as ledgerctl does).
- Aliases → deployments, through MLFLOW_ALIAS_ENVIRONMENTS (alias → environment). An alias does
  not bypass anything: only approved versions deploy, and production deployments must clear the
  gates; otherwise nothing is recorded and the alias is reported as skipped, with the reason.

Incremental and idempotent: a version already in the ledger is neither downloaded nor written
again, and an alias is acted on only when it points at a version the import has not yet deployed
for it. Each version (its datasets with it) is one transaction and each alias deployment another,
so a failure leaves everything else recorded. Whatever is not imported is in the report's
`skipped`, with the reason; only an unreadable registry raises.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import DataError, IntegrityError, transaction
from django.utils.text import slugify

from governance import access
from governance.errors import GovernanceError, InvalidInput
from governance.mlflow_import.facts import Mlflow, MlflowUnavailable, Unreadable, connect, gather, origin, redacted
from governance.mlflow_import.facts import version_name as mlflow_version_name
from governance.models import Deployment, ModelVersion, RegisteredModel
from governance.services.deployments import deployment_start
from governance.services.registry import dataset_register, model_register, version_register
from governance.validation import SLUG_RE

__all__ = ["ImportReport", "MlflowUnavailable", "NotConfigured", "Skipped", "import_actor", "mlflow_import"]

logger = logging.getLogger(__name__)

# Registry pages read per request: MLflow's default page for registered models.
PAGE_SIZE = 100


class NotConfigured(GovernanceError):
    """A setting the import needs is missing or names nobody."""

    code = "not_configured"


@dataclass(frozen=True)
class Skipped:
    """Something the import did not record, and why."""

    subject: str
    reason: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.reason}"


@dataclass
class ImportReport:
    """What one import run did. `imported` is 0 on a run that found nothing new."""

    models_created: list[str] = field(default_factory=list)
    versions_imported: list[str] = field(default_factory=list)
    datasets_registered: list[str] = field(default_factory=list)
    deployments_started: list[str] = field(default_factory=list)
    # Versions and aliases that were already in the ledger.
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return (
            len(self.models_created)
            + len(self.versions_imported)
            + len(self.datasets_registered)
            + len(self.deployments_started)
        )

    def skip(self, subject: str, reason: str) -> None:
        self.skipped.append(Skipped(subject, reason))
        logger.info("MLflow import skipped %s: %s", subject, reason)

    def summary(self) -> dict[str, int]:
        return {
            "models_created": len(self.models_created),
            "versions_imported": len(self.versions_imported),
            "datasets_registered": len(self.datasets_registered),
            "deployments_started": len(self.deployments_started),
            "unchanged": len(self.unchanged),
            "skipped": len(self.skipped),
        }


def import_actor(username: str | None = None) -> AbstractBaseUser:
    """Return the active user the import acts as: `username`, else settings.MLFLOW_IMPORT_USER.

    Raise NotConfigured when neither names an active user.
    """
    username = username or settings.MLFLOW_IMPORT_USER
    if not username:
        raise NotConfigured(
            "Set MLFLOW_IMPORT_USER to the account the MLflow import acts as "
            "(a pipeline granted `register` on the models it imports)."
        )
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotConfigured(f"The MLflow import user {username!r} is not an active user.")
    return user


def mlflow_import(
    *,
    actor: AbstractBaseUser,
    tracking_uri: str,
    model_name: str | None = None,
    version: str | None = None,
) -> ImportReport:
    """Record every MLflow model version not yet in the ledger, then its aliases; return the report.

    `model_name` limits the run to one MLflow registered model, and `version` (with it) to one
    of its versions and the aliases pointing at it. Raise MlflowUnavailable when the client is
    missing or the registry cannot be listed, InvalidInput for a version without a model;
    everything the ledger's rules refuse is reported in `skipped`, not raised.
    """
    if version is not None and model_name is None:
        raise InvalidInput("Name the MLflow model of the version.", errors={"model_name": ["Required with version."]})
    ml = connect(tracking_uri)
    report = ImportReport()
    try:
        models = _registered_models(ml, model_name, report)
    except ml.error as exc:
        raise MlflowUnavailable(f"Could not read the MLflow registry at {redacted(tracking_uri)}: {exc}") from exc
    for registered, slug in _slugs(models, report):
        model = _ledger_model(actor, registered, slug, report)
        if model is None:
            continue
        if not access.can(actor, "register", model):
            report.skip(
                f"model {registered.name}",
                f"{actor.get_username()} may not register versions of {slug}: "
                "a compliance officer grants it `register` on the model.",
            )
            continue
        try:
            versions = list(_model_versions(ml, registered.name, version, report))
        except ml.error as exc:
            raise MlflowUnavailable(f"Could not list the versions of {registered.name!r}: {exc}") from exc
        rows = {}
        for mlflow_version in versions:
            row = _import_version(ml, actor, model, mlflow_version, report)
            if row is not None:
                rows[str(mlflow_version.version)] = row
        _deploy_aliases(actor, model, registered, rows, version, report)
    return report


# --- The registry --------------------------------------------------------------------------------
def _registered_models(ml: Mlflow, name: str | None, report: ImportReport) -> list[Any]:
    if name is not None:
        try:
            return [ml.client.get_registered_model(name)]
        except ml.error as exc:
            if getattr(exc, "error_code", "") != "RESOURCE_DOES_NOT_EXIST":
                raise
            report.skip(f"model {name}", "MLflow has no registered model of that name.")
            return []
    return list(_pages(lambda token: ml.client.search_registered_models(max_results=PAGE_SIZE, page_token=token)))


def _model_versions(ml: Mlflow, name: str, version: str | None, report: ImportReport) -> Iterator[Any]:
    """Yield the model's versions, oldest first (or the one `version`)."""
    if version is not None:
        try:
            yield ml.client.get_model_version(name, version)
        except ml.error as exc:
            if getattr(exc, "error_code", "") != "RESOURCE_DOES_NOT_EXIST":
                raise
            report.skip(f"model {name} version {version}", "MLflow has no such version.")
        return
    # MLflow's filter language quotes with ' or "; a name holding both is matched here instead.
    quote = "'" if "'" not in name else '"'
    query = f"name={quote}{name}{quote}" if quote not in name else None
    found = _pages(
        lambda token: ml.client.search_model_versions(filter_string=query, max_results=PAGE_SIZE, page_token=token)
    )
    yield from sorted((v for v in found if v.name == name), key=lambda v: int(v.version))


def _pages(fetch: Callable[[str | None], Any]) -> Iterator[Any]:
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def _slug(name: str) -> str:
    """Return the ledger slug for an MLflow model name, or "" when nothing usable is left."""
    slug = slugify(re.sub(r"[\W_]+", "-", name))
    slug = re.sub(r"-{2,}", "-", slug).strip("-")[:100].strip("-")
    return slug if SLUG_RE.match(slug) else ""


def _slugs(models: list[Any], report: ImportReport) -> list[tuple[Any, str]]:
    """Pair each registered model with its slug; two MLflow models on one slug are both skipped."""
    by_slug: dict[str, list[Any]] = defaultdict(list)
    for registered in models:
        slug = _slug(registered.name)
        if slug:
            by_slug[slug].append(registered)
        else:
            report.skip(f"model {registered.name}", "Its name leaves no letters or digits for a ledger slug.")
    pairs = []
    for slug, same in sorted(by_slug.items()):
        if len(same) > 1:
            names = ", ".join(repr(r.name) for r in same)
            report.skip(f"models {names}", f"They would share the ledger model {slug!r}; rename one in MLflow.")
            continue
        pairs.append((same[0], slug))
    return pairs


def _ledger_model(actor: AbstractBaseUser, registered: Any, slug: str, report: ImportReport) -> RegisteredModel | None:
    """Return the ledger model for `slug`, registering it when the import may; None to skip it."""
    model = RegisteredModel.objects.filter(slug=slug).first()
    if model is not None:
        return model
    subject = f"model {registered.name}"
    if not access.can(actor, "register_model"):
        report.skip(
            subject,
            f"The ledger has no model {slug!r}, and {actor.get_username()} may not register models: "
            "register it in the ledger first.",
        )
        return None
    owner_name = settings.MLFLOW_IMPORT_OWNER
    owner = get_user_model().objects.filter(username=owner_name, is_active=True).first() if owner_name else None
    if owner is None:
        report.skip(
            subject, f"The ledger has no model {slug!r}, and MLFLOW_IMPORT_OWNER names no active owner for it."
        )
        return None
    tags = dict(registered.tags or {})
    description = registered.description or ""
    try:
        model = model_register(
            actor=actor,
            slug=slug,
            name=registered.name,
            intended_purpose=tags.get("intended_purpose")
            or description
            or f"Imported from MLflow registered model {registered.name!r}; the intended purpose is not stated yet.",
            regulated_use=tags.get("regulated_use", RegisteredModel.RegulatedUse.OTHER),
            risk_tier=tags.get("risk_tier", RegisteredModel.RiskTier.HIGH),
            owner=owner,
            description=description,
            runbook=tags.get("runbook", ""),
        )
    except GovernanceError as exc:
        report.skip(subject, _reason(exc))
        return None
    except IntegrityError:
        # Registered at the same moment by a concurrent import: use theirs.
        return RegisteredModel.objects.filter(slug=slug).first()
    report.models_created.append(slug)
    return model


# --- Versions ------------------------------------------------------------------------------------
def _import_version(
    ml: Mlflow, actor: AbstractBaseUser, model: RegisteredModel, mlflow_version: Any, report: ImportReport
) -> ModelVersion | None:
    """Import one MLflow version (unless it is already in); return its ledger row, or None."""
    subject = f"{model.slug} (MLflow {mlflow_version.name} version {mlflow_version.version})"
    status = str(mlflow_version.status or "READY")
    if status != "READY":
        report.skip(subject, f"MLflow has not finished registering it ({status}); a later run imports it.")
        return None
    try:
        name = mlflow_version_name(mlflow_version)
    except Unreadable as exc:
        report.skip(subject, str(exc))
        return None
    first_line = origin(mlflow_version)
    # The description names the MLflow version a ledger version was imported from: it still
    # finds it after a `version` tag renamed it, and tells it from a same-named version
    # registered some other way.
    existing = ModelVersion.objects.filter(model=model, description__startswith=first_line).first()
    if existing is not None:
        report.unchanged.append(f"{model.slug} {existing.version}")
        return existing
    if ModelVersion.objects.filter(model=model, version=name).exists():
        report.skip(subject, f"The ledger already has {model.slug} {name}, not imported from this MLflow version.")
        return None
    # Everything slow (MLflow reads, downloads, hashing) happens before the transaction opens,
    # so no database lock is held while it runs.
    try:
        facts = gather(ml, mlflow_version, subject=subject, note=report.skip)
    except Unreadable as exc:
        report.skip(subject, str(exc))
        return None
    except (ml.error, OSError) as exc:
        report.skip(subject, f"Could not read it: {exc}")
        return None
    created: list[str] = []
    try:
        with transaction.atomic():
            links = []
            for dataset_facts in facts.datasets:
                dataset, new = dataset_register(actor=actor, **dataset_facts.fields)
                if new:
                    created.append(dataset.sha256)
                links.append({"sha256": dataset.sha256, "role": dataset_facts.role})
            row = version_register(actor=actor, model=model, version=name, datasets=links, **facts.fields)
    except GovernanceError as exc:
        report.skip(subject, _reason(exc))
        return None
    except IntegrityError:
        report.skip(subject, "Written at the same moment by another import; the next run sees it.")
        return None
    except DataError as exc:
        report.skip(subject, f"A value does not fit the ledger: {exc}")
        return None
    report.datasets_registered.extend(created)
    report.versions_imported.append(f"{model.slug} {row.version}")
    return row


# --- Aliases -------------------------------------------------------------------------------------
def _marker(name: str, environment: str) -> str:
    """The note line by which the import finds the deployments it made for a model's aliases."""
    return f"mlflow-import: {json.dumps([name, environment])}"


def _deploy_aliases(
    actor: AbstractBaseUser,
    model: RegisteredModel,
    registered: Any,
    rows: dict[str, ModelVersion],
    only_version: str | None,
    report: ImportReport,
) -> None:
    """Deploy the versions the model's aliases point at, through `deployment_start`.

    An environment is left alone when the alias points at the version serving it, or at the
    version the import last deployed for it: so a deployment a person ended or replaced in the
    ledger is not redone until the alias moves again.
    """
    environments = {alias.lower(): env for alias, env in settings.MLFLOW_ALIAS_ENVIRONMENTS.items()}
    pointers: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for alias, number in sorted((registered.aliases or {}).items()):
        environment = environments.get(alias.lower())
        if environment is not None:
            pointers[environment].append((alias, str(number)))
    for environment, aliases in sorted(pointers.items()):
        numbers = sorted({number for _, number in aliases}, key=int)
        if only_version is not None and str(only_version) not in numbers:
            continue
        names = ", ".join(alias for alias, _ in aliases)
        subject = f"{model.slug} alias {names} → {environment}"
        if len(numbers) > 1:
            report.skip(subject, f"The aliases point at different versions ({', '.join(numbers)}); make them agree.")
            continue
        row = rows.get(numbers[0])
        if row is None:
            report.skip(subject, f"MLflow version {numbers[0]} is not in the ledger.")
            continue
        marker = _marker(registered.name, environment)
        serving = Deployment.objects.filter(model=model, environment=environment, ended_at__isnull=True).first()
        last = (
            Deployment.objects.filter(model=model, environment=environment, notes__contains=marker)
            .order_by("-started_at", "-pk")
            .first()
        )
        if (serving and serving.version_id == row.pk) or (last and last.version_id == row.pk):
            report.unchanged.append(f"{subject} ({row.version})")
            continue
        try:
            deployment_start(
                actor=actor,
                version=row,
                environment=environment,
                reason=f"MLflow alias {names} set on version {numbers[0]}",
                notes=f"Recorded by the MLflow import from alias {names} of {registered.name!r}.\n{marker}",
            )
        except GovernanceError as exc:
            report.skip(subject, _reason(exc))
            continue
        except IntegrityError:
            report.skip(subject, "Deployed at the same moment by another import; the next run sees it.")
            continue
        report.deployments_started.append(f"{model.slug} {row.version} → {environment}")


def _reason(exc: GovernanceError) -> str:
    """The service's message, with its per-field messages when they are plain text."""
    details = [
        f"{name}: {' '.join(messages)}"
        for name, messages in exc.errors.items()
        if isinstance(messages, list) and all(isinstance(m, str) for m in messages)
    ]
    return " ".join([exc.message, *details])
