"""Reads of people and roles: users with their groups, and compliance officer grants and proposals
(administrators and officers only)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from governance import access
from governance.errors import NotVisible


def _may_see_people(user: AbstractBaseUser) -> bool:
    return access.can(user, "read_people")


def user_list(user: AbstractBaseUser) -> QuerySet:
    """Return everyone, with their groups, for administrators and officers; else NotVisible."""
    from django.contrib.auth import get_user_model

    if not _may_see_people(user):
        raise NotVisible("Not found.")
    return get_user_model().objects.prefetch_related("groups").order_by("username")


def user_get(user: AbstractBaseUser, username: str) -> AbstractBaseUser:
    """Return one person for administrators and officers; NotVisible otherwise or if missing."""
    found = user_list(user).filter(username=username).first()
    if found is None:
        raise NotVisible("No such user.")
    return found


def role_grant_list(user: AbstractBaseUser, state: str | None = None) -> QuerySet:
    """Return compliance officer grants and proposals, newest first (administrators and officers)."""
    from governance.models import RoleGrant

    if not _may_see_people(user):
        raise NotVisible("Not found.")
    grants = RoleGrant.objects.select_related("grantee", "proposed_by", "decided_by").order_by("-proposed_at", "-pk")
    return grants.filter(state=state) if state else grants


def officer_grant_of(person: AbstractBaseUser) -> dict | None:
    """Return how `person` became a compliance officer: their latest confirmed grant, who proposed
    and who confirmed it (None for the bootstrap), when, and the `role.granted` ledger seq.

    Return None when they hold no such grant (for example an officer from before two-person grants).
    """
    from governance.models import RoleGrant
    from governance.records import rfc3339
    from ledger import selectors as ledger_selectors

    grant = (
        RoleGrant.objects.filter(grantee=person, state=RoleGrant.State.CONFIRMED)
        .select_related("proposed_by", "decided_by")
        .order_by("-decided_at", "-pk")
        .first()
    )
    if grant is None:
        return None
    entry = ledger_selectors.entry_by_key(grant.grant_key) if grant.grant_key else None
    return {
        "user": person.get_username(),
        "bootstrap": grant.bootstrap,
        "proposed_by": grant.proposed_by.get_username() if grant.proposed_by else None,
        "proposed_at": rfc3339(grant.proposed_at),
        "confirmed_by": grant.decided_by.get_username() if grant.decided_by else None,
        "confirmed_at": rfc3339(grant.decided_at),
        "grant_key": grant.grant_key,
        "seq": entry.seq if entry is not None else None,
        "confirmed_by_id": grant.decided_by_id,
    }
