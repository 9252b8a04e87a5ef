"""Who may do what to which registered model: the only module that calls django-guardian.

Actions and who holds them (DESIGN.md, roles table):

| action     | pipeline        | model owner | officer | auditor | admin |
|------------|-----------------|-------------|---------|---------|-------|
| view       | granted models  | own models  | all     | all     | all   |
| register   | granted models  | own models  | no      | no      | no    |
| approve    | no              | no          | yes (SoD checked by the service) | no | no |
| manage     | no              | no          | yes     | no      | yes   |
| log        | granted models  | no          | no      | no      | no    |
| reports    | no              | own models  | yes     | yes     | yes   |
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.db.models import Q, QuerySet
from guardian.shortcuts import assign_perm, get_objects_for_user, get_perms, remove_perm

from governance.models import RegisteredModel
from governance.roles import READ_ALL, Role, roles_of

User = AbstractBaseUser | AnonymousUser | None

# The object permission behind each grantable action; granting any of them also grants view.
GRANTABLE = {
    "view": "view_registeredmodel",
    "register": "register_version",
    "log": "log_decisions",
    "reports": "read_reports",
}
ACTIONS = frozenset({"view", "register", "approve", "manage", "log", "reports"})


def _by_role(user: User, action: str) -> bool | None:
    """Return True/False when the user's roles decide alone, None when objects matter."""
    roles = roles_of(user)
    if not roles:
        return False
    if action == "view" and roles & READ_ALL:
        return True
    if action == "approve":
        return Role.COMPLIANCE_OFFICER in roles
    if action == "manage":
        return bool(roles & {Role.COMPLIANCE_OFFICER, Role.ADMIN})
    if action == "reports" and roles & {Role.COMPLIANCE_OFFICER, Role.AUDITOR, Role.ADMIN}:
        return True
    return None


def _object_condition(user: AbstractBaseUser, action: str, queryset: QuerySet, prefix: str) -> Q:
    roles = roles_of(user)
    condition = Q(pk__in=[])
    if Role.MODEL_OWNER in roles and action in {"view", "register", "reports"}:
        condition |= Q(**{f"{prefix}owner": user})
    if Role.PIPELINE in roles and action in {"view", "register", "log"}:
        perms = [GRANTABLE[action]] if action != "view" else list(GRANTABLE.values())
        granted = get_objects_for_user(
            user,
            perms,
            klass=RegisteredModel,
            any_perm=True,
            accept_global_perms=False,
            with_superuser=False,
        ).values("pk")
        condition |= Q(**{f"{prefix}pk__in": granted})
    return condition


def restrict(user: User, action: str, queryset: QuerySet, *, model_field: str = "") -> QuerySet:
    """Narrow `queryset` to rows whose registered model `user` may perform `action` on.

    `model_field` is the path from the queryset's model to RegisteredModel ("" when the
    queryset is of RegisteredModel itself, "model" for versions, …).
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}.")
    decided = _by_role(user, action)
    if decided is True:
        return queryset
    if decided is False:
        return queryset.none()
    prefix = f"{model_field}__" if model_field else ""
    return queryset.filter(_object_condition(user, action, queryset, prefix))


def can(user: User, action: str, model: RegisteredModel) -> bool:
    """Return whether `user` may perform `action` on `model`."""
    decided = _by_role(user, action)
    if decided is not None:
        return decided
    return restrict(user, action, RegisteredModel.objects.filter(pk=model.pk)).exists()


def grant(grantee: AbstractBaseUser | Group, actions: Iterable[str], model: RegisteredModel) -> list[str]:
    """Give `grantee` the object permissions for `actions` on `model` (view always included).

    Return the permission codenames now held.
    """
    codenames = {GRANTABLE["view"], *(GRANTABLE[a] for a in actions)}
    for codename in sorted(codenames):
        assign_perm(codename, grantee, model)
    return sorted(codenames)


def revoke(grantee: AbstractBaseUser | Group, actions: Iterable[str], model: RegisteredModel) -> list[str]:
    """Remove the object permissions for `actions`; revoking view removes them all."""
    actions = set(actions)
    codenames = set(GRANTABLE.values()) if "view" in actions else {GRANTABLE[a] for a in actions}
    for codename in sorted(codenames):
        remove_perm(codename, grantee, model)
    return sorted(codenames)


def grants_of(grantee: AbstractBaseUser | Group, model: RegisteredModel) -> list[str]:
    """Return the actions `grantee` holds on `model` by object permission."""
    held = set(get_perms(grantee, model))
    return sorted(action for action, codename in GRANTABLE.items() if codename in held)


def grant_rows(model: RegisteredModel) -> list[tuple[str, str, str]]:
    """Return (kind, name, action) for every object permission held on `model`."""
    from governance.models import ModelGroupObjectPermission, ModelUserObjectPermission

    by_codename = {codename: action for action, codename in GRANTABLE.items()}
    rows = [
        ("user", username, by_codename[codename])
        for username, codename in ModelUserObjectPermission.objects.filter(content_object=model).values_list(
            "user__username", "permission__codename"
        )
        if codename in by_codename
    ]
    rows += [
        ("group", name, by_codename[codename])
        for name, codename in ModelGroupObjectPermission.objects.filter(content_object=model).values_list(
            "group__name", "permission__codename"
        )
        if codename in by_codename
    ]
    return sorted(rows)
