"""Model signals that put identity changes into the ledger, whichever path made them.

Services log their own events; these receivers exist because users, groups and tokens are also
changed by Django admin, Django's own commands (createsuperuser, changepassword) and the ORM in a
shell, none of which call our services. Each receiver only observes and hands over to
`governance.services.identity`; the rules themselves live there.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils import timezone
from knox.models import AuthToken

from governance.roles import forget_roles
from governance.services.identity import events, rules, tokens

User = get_user_model()
_WATCHED = frozenset({"is_active", "is_staff", "is_superuser", "password"})


def _before_user_save(sender: type, instance: Any, raw: bool = False, update_fields: Any = None, **kw: Any) -> None:
    instance._identity_before = None
    if raw or instance.pk is None or (update_fields is not None and not _WATCHED & set(update_fields)):
        return
    instance._identity_before = (
        User.objects.filter(pk=instance.pk).values("is_active", "is_staff", "is_superuser", "password").first()
    )


def _rehashed(before: str, after: str, update_fields: Any) -> bool:
    """Return whether only the stored hash was upgraded (Django's check_password does this)."""
    if update_fields is None or set(update_fields) != {"password"}:
        return False
    try:
        return identify_hasher(before).must_update(before)
    except ValueError:
        return False


def _after_user_save(
    sender: type, instance: Any, created: bool, raw: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    if raw:
        return
    if created:
        events.user_created(instance)
        return
    before = getattr(instance, "_identity_before", None)
    instance._identity_before = None
    if before is None:
        return
    if before["is_active"] != instance.is_active:
        events.user_active_changed(instance)
        rules.after_deactivation(instance)
    if (before["is_staff"], before["is_superuser"]) != (instance.is_staff, instance.is_superuser):
        forget_roles(instance)
        events.user_privileges_changed(
            instance, {"is_staff": before["is_staff"], "is_superuser": before["is_superuser"]}
        )
    if before["password"] != instance.password:
        explicit = getattr(instance, "_password", None) is not None  # set_password() was called
        if explicit or not _rehashed(before["password"], instance.password, update_fields):
            events.password_changed(instance)
            rules.after_password_change(instance)


def _pairs(instance: Any, reverse: bool, pk_set: set[int]) -> list[tuple[Any, Group]]:
    """Return (user, group) pairs for a membership change seen from either side."""
    if reverse:  # group.user_set.add(users)
        return [(user, instance) for user in User.objects.filter(pk__in=pk_set).order_by("pk")]
    return [(instance, group) for group in Group.objects.filter(pk__in=pk_set).order_by("pk")]


def _current_members(instance: Any, reverse: bool) -> set[int]:
    if reverse:
        return set(instance.user_set.values_list("pk", flat=True))
    return set(instance.groups.values_list("pk", flat=True))


def _groups_changed(
    sender: type, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    if not reverse and action.startswith("post_"):
        forget_roles(instance)
    if action == "pre_add":
        rules.check_role_grants(_pairs(instance, reverse, pk_set or set()))
    elif action == "post_add":
        for user, group in _pairs(instance, reverse, pk_set or set()):
            rules.role_granted(user, group.name)
    elif action in ("pre_remove", "pre_clear"):
        # Django reports the ids asked for, not the memberships that existed: keep only those.
        present = _current_members(instance, reverse)
        instance._identity_removed = present if pk_set is None else present & set(pk_set)
    elif action in ("post_remove", "post_clear"):
        removed = getattr(instance, "_identity_removed", set())
        instance._identity_removed = set()
        for user, group in _pairs(instance, reverse, removed):
            rules.role_revoked(user, group.name)


def _token_saved(sender: type, instance: AuthToken, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        tokens.token_profile_create(instance)
        events.token_issued(instance.user, instance.digest, instance.expiry)


def _token_deleted(sender: type, instance: AuthToken, **kwargs: Any) -> None:
    expired = instance.expiry is not None and instance.expiry <= timezone.now()
    events.token_revoked(instance.user, instance.digest, expired=expired)


def connect() -> None:
    """Connect the receivers (called once from the app's ready())."""
    pre_save.connect(_before_user_save, sender=User, dispatch_uid="identity-before-user-save")
    post_save.connect(_after_user_save, sender=User, dispatch_uid="identity-after-user-save")
    m2m_changed.connect(_groups_changed, sender=User.groups.through, dispatch_uid="identity-groups")
    post_save.connect(_token_saved, sender=AuthToken, dispatch_uid="identity-token-saved")
    post_delete.connect(_token_deleted, sender=AuthToken, dispatch_uid="identity-token-deleted")
