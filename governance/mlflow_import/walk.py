"""Walking the MLflow registry: its models (paged), their ledger slugs and models, and each version recorded."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import DataError, IntegrityError, transaction
from django.utils.text import slugify

from governance import access
from governance.errors import GovernanceError
from governance.mlflow_import.facts import Mlflow, Unreadable, gather, origin
from governance.mlflow_import.facts import version_name as mlflow_version_name
from governance.mlflow_import.outcome import PAGE_SIZE, ImportReport, _reason
from governance.models import ModelVersion, RegisteredModel
from governance.services.registry import dataset_register, model_register, version_register
from governance.validation import SLUG_RE


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
