"""The compliance officer role takes two people: an administrator proposes, another officer confirms.

- `officer_propose`: an administrator proposes an active person who is neither an administrator
  nor a superuser (the two roles are exclusive) and not themselves; logs `role.proposed`.
- `officer_confirm`: an existing officer other than the grantee and the proposer confirms; the
  membership is added and `role.granted` names both people and the proposal.
- `officer_reject`: an officer or administrator closes a proposal; logs `role.proposal_rejected`.
- `officer_bootstrap`: the first officer of an installation, when there is none, from a
  management command; its `role.granted` says `bootstrap`.

Adding the compliance_officer group by any other path (Django admin, the ORM, the role API) is
refused by the identity rules: only these services open the gate (`rules.officer_gate`).
"""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance import access, actors, events
from governance.errors import Conflict, Forbidden, InvalidInput, NotVisible
from governance.models import RoleGrant
from governance.records import rfc3339
from governance.roles import Role
from governance.services.identity import rules

OFFICER = Role.COMPLIANCE_OFFICER


def is_officer(user: AbstractBaseUser) -> bool:
    return user.is_active and user.groups.filter(name=OFFICER).exists()


def _check_grantee(grantee: AbstractBaseUser) -> None:
    if not grantee.is_active:
        raise InvalidInput(f"{grantee.get_username()} is deactivated.", errors={"user": ["Not active."]})
    if grantee.is_superuser or grantee.groups.filter(name=Role.ADMIN).exists():
        raise Conflict(
            f"{grantee.get_username()} is an administrator: the administrator and compliance officer roles are "
            "exclusive. Remove the admin role and superuser status first.",
            errors={"user": ["Holds the admin role or superuser status."]},
        )
    if is_officer(grantee):
        raise Conflict(f"{grantee.get_username()} is already a compliance officer.")


@transaction.atomic
def officer_propose(
    *, actor: AbstractBaseUser, grantee: AbstractBaseUser, reason: str = "", via: str = "api"
) -> RoleGrant:
    """Propose `grantee` for the compliance officer role; it takes effect when confirmed."""
    access.require(actor, "manage_people")
    if actor.pk == grantee.pk:
        raise Forbidden("Nobody may grant a role to themselves, nor propose themselves for one.")
    _check_grantee(grantee)
    grant = RoleGrant(
        grantee=grantee,
        proposed_by=actor,
        proposed_at=timezone.now(),
        reason=reason,
        proposal_key=f"role.proposed:{uuid.uuid4()}",
    )
    try:
        with transaction.atomic():
            grant.save()
    except IntegrityError:
        raise Conflict(f"{grantee.get_username()} already has an open proposal.") from None
    with actors.acting_as(actor, via):
        events.record(
            type="role.proposed",
            actor=actor,
            subject=f"user:{grantee.get_username()}",
            key=grant.proposal_key,
            data={
                "user": grantee.get_username(),
                "role": OFFICER,
                "proposed_by": actor.get_username(),
                "reason": reason,
                "via": via,
                "proposed_at": rfc3339(grant.proposed_at),
            },
        )
    return grant


def _open(grant: RoleGrant) -> RoleGrant:
    # Lock the grant row only: PostgreSQL cannot lock the nullable side of the proposer's join.
    grant = RoleGrant.objects.select_for_update(of=("self",)).select_related("grantee", "proposed_by").get(pk=grant.pk)
    if grant.state != RoleGrant.State.PROPOSED:
        raise Conflict(f"This proposal is already {grant.state}.")
    return grant


@transaction.atomic
def officer_confirm(*, actor: AbstractBaseUser, grant: RoleGrant, via: str = "api") -> RoleGrant:
    """Confirm a proposal as an existing officer other than the grantee and the proposer."""
    access.require(actor, "confirm_officer")
    if not is_officer(actor):  # the role read at the start of the request may have been revoked since
        raise Forbidden("Only an existing compliance officer confirms a new one.")
    grant = _open(grant)
    if actor.pk == grant.grantee_id:
        raise Forbidden("Nobody may grant a role to themselves: another compliance officer must confirm.")
    if actor.pk == grant.proposed_by_id:
        raise Forbidden("The grant takes two people: the proposer cannot also confirm it.")
    _check_grantee(grant.grantee)
    grant.state, grant.decided_by, grant.decided_at = RoleGrant.State.CONFIRMED, actor, timezone.now()
    extra = {
        "proposal": grant.proposal_key,
        "proposed_by": grant.proposed_by.get_username(),
        "confirmed_by": actor.get_username(),
        "decided_at": rfc3339(grant.decided_at),
    }
    with actors.acting_as(actor, via), rules.officer_gate(grant.grantee, extra) as gate:
        grant.grantee.groups.add(Group.objects.get_or_create(name=OFFICER)[0])
    grant.grant_key = gate["key"]
    grant.save(update_fields=["state", "decided_by", "decided_at", "grant_key"])
    return grant


@transaction.atomic
def officer_reject(*, actor: AbstractBaseUser, grant: RoleGrant, reason: str = "", via: str = "api") -> RoleGrant:
    """Close a proposal without granting it (officers and administrators)."""
    access.require(actor, "read_people")
    grant = _open(grant)
    grant.state, grant.decided_by, grant.decided_at = RoleGrant.State.REJECTED, actor, timezone.now()
    if actor.pk == grant.grantee_id:
        raise Forbidden("Nobody decides their own proposal.")
    if actor.pk == grant.proposed_by_id:
        grant.decided_by = None  # a proposer withdrawing their own proposal is not a second person
    grant.save(update_fields=["state", "decided_by", "decided_at"])
    with actors.acting_as(actor, via):
        events.record(
            type="role.proposal_rejected",
            actor=actor,
            subject=f"user:{grant.grantee.get_username()}",
            key=f"role.proposal_rejected:{grant.pk}",
            data={
                "user": grant.grantee.get_username(),
                "role": OFFICER,
                "proposal": grant.proposal_key,
                "reason": reason,
                "via": via,
                "decided_at": rfc3339(grant.decided_at),
            },
        )
    return grant


@transaction.atomic
def officer_bootstrap(*, grantee: AbstractBaseUser, reason: str = "first compliance officer") -> RoleGrant:
    """Make `grantee` the first compliance officer of an installation that has none.

    For `manage.py bootstrap_officer` and the demo only: the event's actor is the command.
    """
    User = get_user_model()
    if User.objects.filter(is_active=True, groups__name=OFFICER).exists():
        raise Conflict(
            "This installation already has a compliance officer; new officers are proposed by an "
            "administrator and confirmed by an existing officer."
        )
    _check_grantee(grantee)
    now = timezone.now()
    grant = RoleGrant.objects.create(
        grantee=grantee,
        state=RoleGrant.State.CONFIRMED,
        bootstrap=True,
        proposed_at=now,
        decided_at=now,
        reason=reason,
        proposal_key=f"role.bootstrap:{uuid.uuid4()}",
    )
    with rules.officer_gate(grantee, {"bootstrap": True, "reason": reason, "decided_at": rfc3339(now)}) as gate:
        grantee.groups.add(Group.objects.get_or_create(name=OFFICER)[0])
    grant.grant_key = gate["key"]
    grant.save(update_fields=["grant_key"])
    return grant


def grant_get(actor: AbstractBaseUser, pk: int) -> RoleGrant:
    """Return a proposal for officers and administrators; 404 for everyone else."""
    if not access.can(actor, "read_people"):
        raise NotVisible("No such proposal.")
    grant = RoleGrant.objects.select_related("grantee", "proposed_by", "decided_by").filter(pk=pk).first()
    if grant is None:
        raise NotVisible("No such proposal.")
    return grant
