"""Adding models to the inventory and recording their validation dates."""

from __future__ import annotations

import uuid
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from governance import access, events
from governance.errors import Conflict, InvalidInput
from governance.models import (
    RegisteredModel,
)
from governance.records import model_record
from governance.results import Written
from governance.validation import SLUG_RE, Errors


@transaction.atomic
def model_register(
    *,
    actor: AbstractBaseUser,
    slug: str,
    name: str,
    intended_purpose: str,
    regulated_use: str,
    risk_tier: str,
    owner: AbstractBaseUser,
    description: str = "",
    out_of_scope_uses: str = "",
    provider: str = "",
    runbook: str = "",
    next_validation_due: date | None = None,
    valid_until: date | None = None,
) -> RegisteredModel:
    """Add a model to the inventory and log `model.registered`.

    Model owners, compliance officers and admins register models; the owner must be an active
    user holding the model-owner role.
    """
    access.require(actor, "register_model")
    errors = Errors()
    errors.check(
        isinstance(slug, str) and bool(SLUG_RE.match(slug)),
        "slug",
        "Lowercase letters, digits and hyphens, at most 100.",
    )
    errors.text(name, "name", limit=200)
    errors.text(intended_purpose, "intended_purpose", limit=10_000)
    errors.url(runbook, "runbook", limit=1000)
    errors.check(
        regulated_use in RegisteredModel.RegulatedUse.values,
        "regulated_use",
        f"One of {', '.join(RegisteredModel.RegulatedUse.values)}.",
    )
    errors.check(
        risk_tier in RegisteredModel.RiskTier.values,
        "risk_tier",
        f"One of {', '.join(RegisteredModel.RiskTier.values)}.",
    )
    errors.check(
        access.may_own(owner),
        "owner",
        "The owner must be an active user with the model-owner role.",
    )
    errors.raise_if_any()
    if RegisteredModel.objects.filter(slug=slug).exists():
        raise Conflict(f"A model named {slug!r} is already registered.", errors={"slug": ["Taken."]})
    model = RegisteredModel.objects.create(
        slug=slug,
        name=name,
        description=description,
        intended_purpose=intended_purpose,
        out_of_scope_uses=out_of_scope_uses,
        regulated_use=regulated_use,
        risk_tier=risk_tier,
        provider=provider,
        owner=owner,
        runbook=runbook,
        next_validation_due=next_validation_due,
        valid_until=valid_until,
        created_by=actor,
        created_at=timezone.now(),
        ledger_key=f"model.registered:{slug}",
    )
    events.record(
        type="model.registered",
        actor=actor,
        subject=f"model:{slug}",
        key=model.ledger_key,
        data=model_record(model),
    )
    return model


@transaction.atomic
def model_update_validation(
    *,
    actor: AbstractBaseUser,
    model: RegisteredModel,
    validated_at: date | None,
    next_validation_due: date | None,
    valid_until: date | None,
) -> Written[RegisteredModel]:
    """Record validation dates (compliance officers) and log `model.validation_updated`."""
    access.require(actor, "manage", model)
    if validated_at and next_validation_due and next_validation_due < validated_at:
        raise InvalidInput(
            "The next validation cannot be due before the last one.",
            errors={"next_validation_due": ["Before validated_at."]},
        )
    model.validated_at, model.next_validation_due, model.valid_until = (
        validated_at,
        next_validation_due,
        valid_until,
    )
    model.save(update_fields=["validated_at", "next_validation_due", "valid_until"])
    key = events.record(
        type="model.validation_updated",
        actor=actor,
        subject=f"model:{model.slug}",
        key=f"model.validation_updated:{uuid.uuid4()}",
        data=model_record(model),
    )
    return Written(model, key)
