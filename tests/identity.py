"""Shared helpers for identity tests: the ledger's identity events, read back from the log."""

from __future__ import annotations

import json
from typing import Any

from ledger import services as ledger_services
from ledger.models import Entry

IDENTITY_TYPES = (
    "user.created",
    "user.deactivated",
    "user.reactivated",
    "user.privileges_changed",
    "role.granted",
    "role.revoked",
    "role.proposed",
    "role.proposal_rejected",
    "token.issued",
    "token.revoked",
    "password.changed",
)


def logged(*types: str, user: str | None = None) -> list[dict[str, Any]]:
    """Sequence the queue, then return the leaves of `types` (identity events by default), in order."""
    ledger_services.tree_integrate_all()
    wanted = set(types or IDENTITY_TYPES)
    leaves = [json.loads(bytes(leaf)) for leaf in Entry.objects.order_by("seq").values_list("leaf", flat=True)]
    return [leaf for leaf in leaves if leaf["type"] in wanted and (user is None or leaf["subject"] == f"user:{user}")]


def summary(*types: str, user: str | None = None) -> list[tuple[str, str, str]]:
    """Return (type, actor, via) for each identity event, the shape most tests compare."""
    return [(leaf["type"], leaf["actor"], leaf["data"]["via"]) for leaf in logged(*types, user=user)]


# --- People for fixtures ------------------------------------------------------------------------
# The compliance officer role takes two people, so fixtures make officers the way an installation
# does: an administrator ("registrar") proposes and the head of compliance ("compliance-head",
# bootstrapped) confirms. Neither is a fixture's own officer, so two fixture officers never
# confirmed each other and may co-sign a high-risk version.


def _registrar():
    from django.contrib.auth.models import Group, User

    from governance.roles import Role

    user, created = User.objects.get_or_create(username="registrar", defaults={"first_name": "Registrar"})
    if created:
        user.groups.add(Group.objects.get_or_create(name=Role.ADMIN)[0])
    return user


def _compliance_head():
    from django.contrib.auth.models import User

    from governance.services.identity import officers

    head, _ = User.objects.get_or_create(username="compliance-head", defaults={"first_name": "Head"})
    if not officers.is_officer(head):
        if User.objects.filter(is_active=True, groups__name="compliance_officer").exists():
            grant = officers.officer_propose(actor=_registrar(), grantee=head)
            confirmer = User.objects.filter(is_active=True, groups__name="compliance_officer").first()
            officers.officer_confirm(actor=confirmer, grant=grant)
        else:
            officers.officer_bootstrap(grantee=head)
    return head


def make_officer(user) -> None:
    """Make `user` a compliance officer through the two-person path (proposed, then confirmed)."""
    from governance.roles import forget_roles
    from governance.services.identity import officers

    head = _compliance_head()
    grant = officers.officer_propose(actor=_registrar(), grantee=user, reason="test fixture")
    officers.officer_confirm(actor=head, grant=grant)
    forget_roles(user)  # the grant added the group through another copy of the user


def add_roles(user, *roles: str, superuser: bool = False, active: bool = True) -> None:
    """Give `user` its roles: the officer role first through `make_officer`, then the others
    (an administrator cannot be proposed as an officer, but an officer may later be made one);
    a user who is to be inactive is deactivated last (only active people are made officers)."""
    from django.contrib.auth.models import Group

    from governance.roles import Role

    if Role.COMPLIANCE_OFFICER in roles:
        make_officer(user)
    others = [Group.objects.get_or_create(name=role)[0] for role in roles if role != Role.COMPLIANCE_OFFICER]
    if others:
        user.groups.add(*others)
    if superuser:
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    if not active:
        user.is_active = False
        user.save(update_fields=["is_active"])
