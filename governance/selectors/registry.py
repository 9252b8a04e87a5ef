"""Reads of the registry: models, versions, lineage, cards, approvals, datasets, deployments."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, Q, QuerySet

from governance import access
from governance.errors import NotVisible
from governance.models import (
    Approval,
    Dataset,
    Deployment,
    ModelCard,
    ModelVersion,
    RegisteredModel,
    VersionDataset,
)

# Lineage walks stop here: deeper chains are almost certainly a data error, not history.
MAX_LINEAGE_DEPTH = 1_000


def model_list(user: AbstractBaseUser) -> QuerySet[RegisteredModel]:
    return access.restrict(user, "view", RegisteredModel.objects.select_related("owner"))


def model_get(user: AbstractBaseUser, slug: str) -> RegisteredModel:
    model = model_list(user).filter(slug=slug).first()
    if model is None:
        raise NotVisible(f"No model named {slug!r}.")
    return model


def version_list(user: AbstractBaseUser, model: RegisteredModel | None = None) -> QuerySet[ModelVersion]:
    queryset = ModelVersion.objects.select_related("model", "registered_by", "parent").prefetch_related(
        Prefetch("dataset_links", queryset=VersionDataset.objects.select_related("dataset"))
    )
    if model is not None:
        queryset = queryset.filter(model=model)
    return access.restrict(user, "view", queryset, model_field="model")


def version_dataset_links(version_ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """Return each version's datasets as {role, sha256, name} dicts.

    The rows come in the order of `version_list`'s prefetch: the same join and filter, with no
    ORDER BY (the list has never promised one).
    """
    links: dict[int, list[dict[str, str]]] = {pk: [] for pk in version_ids}
    if not version_ids:
        return links
    rows = VersionDataset.objects.filter(version_id__in=version_ids).values_list(
        "version_id", "role", "dataset__sha256", "dataset__name"
    )
    for version_id, role, sha256, name in rows:
        links[version_id].append({"role": role, "sha256": sha256, "name": name})
    return links


def version_get(user: AbstractBaseUser, slug: str, version: str) -> ModelVersion:
    model = model_get(user, slug)
    row = version_list(user, model).filter(version=version).first()
    if row is None:
        raise NotVisible(f"{slug} has no version {version!r}.")
    return row


def version_ancestors(version: ModelVersion) -> list[ModelVersion]:
    """Return the parent chain, nearest first."""
    chain, current, seen = [], version, {version.pk}
    while current.parent_id and len(chain) < MAX_LINEAGE_DEPTH:
        current = ModelVersion.objects.select_related("model").get(pk=current.parent_id)
        if current.pk in seen:
            break
        seen.add(current.pk)
        chain.append(current)
    return chain


def version_descendants(version: ModelVersion) -> list[ModelVersion]:
    """Return every version derived from `version`, breadth first (one query per generation)."""
    found, frontier, seen = [], [version.pk], {version.pk}
    while frontier and len(found) < MAX_LINEAGE_DEPTH:
        children = list(
            ModelVersion.objects.filter(parent_id__in=frontier).select_related("model").order_by("registered_at")
        )
        children = [child for child in children if child.pk not in seen]
        seen.update(child.pk for child in children)
        found.extend(children)
        frontier = [child.pk for child in children]
    return found


def previous_version(version: ModelVersion) -> ModelVersion | None:
    """The version to compare with: the parent, else the one registered just before."""
    if version.parent_id:
        return version.parent
    return (
        ModelVersion.objects.filter(model_id=version.model_id, registered_at__lt=version.registered_at)
        .order_by("-registered_at")
        .first()
    )


def card_list(version: ModelVersion) -> QuerySet[ModelCard]:
    return version.cards.select_related("author").order_by("revision")


def approval_list(version: ModelVersion) -> QuerySet[Approval]:
    return version.approvals.select_related("card", "signer").order_by("signed_at")


def dataset_list(user: AbstractBaseUser) -> QuerySet[Dataset]:
    """Every dataset for readers of all records; otherwise those linked to visible models or
    registered by the caller."""
    queryset = Dataset.objects.all()
    if access.reads_every_model(user):
        return queryset
    visible = access.restrict(user, "view", RegisteredModel.objects.all()).values("pk")
    return queryset.filter(Q(versions__model__in=visible) | Q(registered_by=user)).distinct()


def dataset_get(user: AbstractBaseUser, sha256: str) -> Dataset:
    dataset = dataset_list(user).filter(sha256=sha256).first()
    if dataset is None:
        raise NotVisible("No dataset with that hash.")
    return dataset


def versions_trained_on(user: AbstractBaseUser, sha256: str) -> QuerySet[ModelVersion]:
    return version_list(user).filter(dataset_links__dataset__sha256=sha256, dataset_links__role="training").distinct()


def deployment_list(user: AbstractBaseUser, model: RegisteredModel) -> QuerySet[Deployment]:
    queryset = Deployment.objects.filter(model=model).select_related(
        "model", "version", "deployed_by", "rollback_of__version"
    )
    return access.restrict(user, "view", queryset, model_field="model")


def deployment_at(model: RegisteredModel, environment: str, at: datetime) -> Deployment | None:
    """Return the deployment that served `environment` at `at`, if any."""
    return (
        Deployment.objects.filter(model=model, environment=environment, started_at__lte=at)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
        .select_related("version", "deployed_by")
        .order_by("-started_at")
        .first()
    )
