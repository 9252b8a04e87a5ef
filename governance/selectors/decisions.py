"""Reads of logged decisions, each narrowed to what the caller may see."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from governance import access
from governance.errors import NotVisible
from governance.models import Decision, RegisteredModel


def decision_list(user: AbstractBaseUser, model: RegisteredModel | None = None) -> QuerySet[Decision]:
    queryset = Decision.objects.select_related("model", "version")
    if model is not None:
        queryset = queryset.filter(model=model)
    return access.restrict(user, "view", queryset, model_field="model")


def decision_get(user: AbstractBaseUser, model: RegisteredModel, decision_id: str) -> Decision:
    decision = decision_list(user, model).select_related("payload").filter(decision_id=decision_id).first()
    if decision is None:
        raise NotVisible(f"{model.slug} has no decision {decision_id!r}.")
    return decision


def decisions_for_subject(user: AbstractBaseUser, subject_ref: str) -> QuerySet[Decision]:
    """Return the decisions about a pseudonymous subject that `user` may read (explanations)."""
    queryset = (
        Decision.objects.filter(payload__subject_ref=subject_ref)
        .filter(~Q(payload__subject_ref=""))
        .select_related("model", "version")
    )
    return access.restrict(user, "view", queryset, model_field="model")
