"""Granting and revoking per-model access, and transferring ownership; each a ledger event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.utils import timezone

from governance import access, events
from governance.errors import Conflict, Forbidden, InvalidInput
from governance.models import OwnershipTransfer, RegisteredModel
from governance.records import rfc3339
from governance.results import Written


@dataclass(frozen=True)
class AccessChange:
    """The grantee's actions after the change, and the change's ledger key."""

    actions: list[str]
    ledger_key: str


def _grantee_name(grantee: AbstractBaseUser | Group) -> str:
    return f"group:{grantee.name}" if isinstance(grantee, Group) else f"user:{grantee.get_username()}"


def _check_actions(actions: list[str]) -> list[str]:
    if not isinstance(actions, list) or not actions or set(actions) - set(access.GRANTABLE):
        raise InvalidInput("Unknown actions.", errors={"actions": [f"A list of: {', '.join(access.GRANTABLE)}."]})
    return sorted(set(actions))


def _access_change(
    *,
    verb: str,
    actor: AbstractBaseUser,
    model: RegisteredModel,
    grantee: AbstractBaseUser | Group,
    actions: list[str],
    reason: str,
) -> AccessChange:
    """Grant or revoke (`verb`) object permissions and log `access.<verb>`, in one transaction."""
    access.require(actor, "manage", model)
    actions = _check_actions(actions)
    change = access.grant if verb == "granted" else access.revoke
    permissions = change(grantee, actions, model)
    key = events.record(
        type=f"access.{verb}",
        actor=actor,
        subject=f"model:{model.slug}",
        key=f"access.{verb}:{uuid.uuid4()}",
        data={
            "model": model.slug,
            "grantee": _grantee_name(grantee),
            "actions": actions,
            "permissions": permissions,
            "reason": reason,
        },
    )
    return AccessChange(access.grants_of(grantee, model), key)


@transaction.atomic
def access_grant(
    *,
    actor: AbstractBaseUser,
    model: RegisteredModel,
    grantee: AbstractBaseUser | Group,
    actions: list[str],
    reason: str = "",
) -> AccessChange:
    """Grant `actions` on `model` to a user or group (view always included) and log it."""
    return _access_change(verb="granted", actor=actor, model=model, grantee=grantee, actions=actions, reason=reason)


@transaction.atomic
def access_revoke(
    *,
    actor: AbstractBaseUser,
    model: RegisteredModel,
    grantee: AbstractBaseUser | Group,
    actions: list[str],
    reason: str = "",
) -> AccessChange:
    """Revoke `actions` on `model` (revoking view revokes everything) and log it."""
    return _access_change(verb="revoked", actor=actor, model=model, grantee=grantee, actions=actions, reason=reason)


@transaction.atomic
def ownership_transfer_request(
    *, actor: AbstractBaseUser, model: RegisteredModel, to_owner: AbstractBaseUser, reason: str = ""
) -> OwnershipTransfer:
    """Propose `to_owner` as the model's owner; effective when they accept."""
    access.require(actor, "transfer", model)
    if not access.may_own(to_owner):
        raise InvalidInput("The new owner must be an active model owner.", errors={"to_owner": ["Not eligible."]})
    if to_owner.pk == model.owner_id:
        raise Conflict("That user already owns the model.")
    if model.transfers.filter(state=OwnershipTransfer.State.PENDING).exists():
        raise Conflict("A transfer is already pending for this model.")
    transfer = OwnershipTransfer.objects.create(
        model=model,
        from_owner=model.owner,
        to_owner=to_owner,
        requested_by=actor,
        reason=reason,
        requested_at=timezone.now(),
        ledger_key=f"owner.transfer_requested:{uuid.uuid4()}",
    )
    events.record(
        type="owner.transfer_requested",
        actor=actor,
        subject=f"model:{model.slug}",
        key=transfer.ledger_key,
        data={
            "model": model.slug,
            "from": model.owner.get_username(),
            "to": to_owner.get_username(),
            "reason": reason,
            "requested_at": rfc3339(transfer.requested_at),
        },
    )
    return transfer


@transaction.atomic
def ownership_transfer_accept(*, actor: AbstractBaseUser, transfer: OwnershipTransfer) -> Written[RegisteredModel]:
    """The proposed owner accepts: the model changes hands and `owner.changed` is logged."""
    transfer = OwnershipTransfer.objects.select_for_update().select_related("model").get(pk=transfer.pk)
    if actor.pk != transfer.to_owner_id:
        raise Forbidden("Only the proposed owner accepts a transfer.")
    if transfer.state != OwnershipTransfer.State.PENDING:
        raise Conflict(f"This transfer is {transfer.state}.")
    model = transfer.model
    previous = model.owner.get_username()
    transfer.state, transfer.decided_at = OwnershipTransfer.State.ACCEPTED, timezone.now()
    transfer.save(update_fields=["state", "decided_at"])
    model.owner = actor
    model.save(update_fields=["owner"])
    key = events.record(
        type="owner.changed",
        actor=actor,
        subject=f"model:{model.slug}",
        key=f"owner.changed:{transfer.pk}",
        data={
            "model": model.slug,
            "from": previous,
            "to": actor.get_username(),
            "transfer": transfer.ledger_key,
            "decided_at": rfc3339(transfer.decided_at),
        },
    )
    return Written(model, key)
