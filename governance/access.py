"""Who may do what to which registered model: the rule table, and the only django-guardian caller.

`RULES` is the whole authorization policy as data: for each action, the roles that hold it on
every model, whether a model's owner holds it on the models they own, and the object permission
by which a pipeline holds it on a granted model. Services call `require(user, action, obj)` in
one line; lists are narrowed with `restrict`; the console and the API ask `can` and `offers`
what to show. docs/security.md's role matrix is written from this table (`manage.py
access_matrix`), and a test fails when the two disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.db.models import Model, Q, QuerySet
from guardian.shortcuts import assign_perm, get_perms, remove_perm

from governance.errors import Forbidden, NotVisible
from governance.grants import GrantHeld
from governance.models import RegisteredModel
from governance.roles import Role, holds_permission, roles_of

User = AbstractBaseUser | AnonymousUser | None

# The object permission behind each grantable action; granting any of them also grants view.
GRANTABLE = {
    "view": "view_registeredmodel",
    "register": "register_version",
    "log": "log_decisions",
    "reports": "read_reports",
}
# A pipeline holding any grant on a model may read it.
ANY_GRANT = "*"


@dataclass(frozen=True)
class Rule:
    """One action: what it lets one do, and who holds it.

    `roles` hold it on every model; a model owner holds it on models they own when `owner`;
    a pipeline holds it on a model granted it by the object permission of `grant` (an action of
    GRANTABLE, or ANY_GRANT). A rule that is not `per_model` is decided by roles alone.
    """

    does: str
    roles: frozenset[str] = frozenset()
    owner: bool = False
    grant: str = ""
    per_model: bool = True

    def holders(self) -> str:
        """Return who holds the action, in words ("compliance officers and the model's owner")."""
        names = [_PLURALS[role] for role in _ROLE_ORDER if role in self.roles]
        if self.owner:
            names.append("the model's owner")
        if self.grant == ANY_GRANT:
            names.append("pipelines granted any access")
        elif self.grant:
            names.append(f"pipelines granted `{self.grant}`")
        if len(names) > 1:
            return ", ".join(names[:-1]) + " and " + names[-1]
        return names[0]


_ROLE_ORDER = (Role.PIPELINE, Role.MODEL_OWNER, Role.COMPLIANCE_OFFICER, Role.AUDITOR, Role.ADMIN)
_PLURALS = {
    Role.PIPELINE: "pipelines",
    Role.MODEL_OWNER: "model owners",
    Role.COMPLIANCE_OFFICER: "compliance officers",
    Role.AUDITOR: "auditors",
    Role.ADMIN: "admins",
}
_OFFICER = frozenset({Role.COMPLIANCE_OFFICER})
_OFFICER_ADMIN = frozenset({Role.COMPLIANCE_OFFICER, Role.ADMIN})
_READERS = frozenset({Role.COMPLIANCE_OFFICER, Role.AUDITOR, Role.ADMIN})

# The authorization policy (DESIGN.md, roles table). Separation of duties, which depends on the
# history of a version rather than on who the caller is, is checked by the approval service.
RULES: dict[str, Rule] = {
    "view": Rule("read the model's records", roles=_READERS, owner=True, grant=ANY_GRANT),
    "register": Rule(
        "register versions, post metrics, CI evidence and cards, request review and deploy",
        owner=True,
        grant="register",
    ),
    "log": Rule("log decisions and post monitoring observations", grant="log"),
    "review": Rule("review logged decisions", roles=_OFFICER, grant="log"),
    "approve": Rule("sign approvals", roles=_OFFICER),
    "oversee": Rule(
        "set thresholds and policies, handle alerts, record the classification, risks and oversight measures",
        roles=_OFFICER,
        owner=True,
    ),
    "validate": Rule("record validation findings", roles=_OFFICER),
    "transfer": Rule("propose a new owner", roles=_OFFICER_ADMIN, owner=True),
    "manage": Rule("grant and revoke access, record validation dates and erase personal data", roles=_OFFICER_ADMIN),
    "reports": Rule("generate and download reports", roles=_READERS, owner=True),
    "register_model": Rule(
        "register models",
        roles=frozenset({Role.MODEL_OWNER, Role.COMPLIANCE_OFFICER, Role.ADMIN}),
        per_model=False,
    ),
    "register_dataset": Rule("register datasets", roles=frozenset({Role.PIPELINE, Role.MODEL_OWNER}), per_model=False),
    "webhooks": Rule("manage webhooks and read their deliveries", roles=_OFFICER_ADMIN, per_model=False),
    "read_inputs": Rule("see decision inputs in decision reports they request", roles=_READERS, per_model=False),
    "read_people": Rule("list people and their roles, and officer proposals", roles=_OFFICER_ADMIN, per_model=False),
    "manage_people": Rule(
        "create, deactivate and reactivate people, grant and revoke roles, reset passwords, revoke anyone's "
        "tokens and propose compliance officers (never for themselves)",
        roles=frozenset({Role.ADMIN}),
        per_model=False,
    ),
    "tokens": Rule(
        "hold API tokens of their own: issue them (named, expiring) and see their last use",
        roles=frozenset({Role.MODEL_OWNER, Role.COMPLIANCE_OFFICER, Role.AUDITOR, Role.ADMIN}),
        per_model=False,
    ),
    "confirm_officer": Rule(
        "confirm a proposed compliance officer (not themselves, not their own proposal)",
        roles=_OFFICER,
        per_model=False,
    ),
}
ACTIONS = frozenset(RULES)


def _rule(action: str) -> Rule:
    try:
        return RULES[action]
    except KeyError:
        raise ValueError(f"Unknown action {action!r}; the actions are those of governance.access.RULES.") from None


def _by_role(user: User, rule: Rule) -> bool | None:
    """Return True/False when the user's roles decide alone, None when the model matters."""
    roles = roles_of(user)
    if roles & rule.roles:
        return True
    if not rule.per_model:
        return False
    if rule.owner and Role.MODEL_OWNER in roles:
        return None
    if rule.grant and Role.PIPELINE in roles:
        return None
    return False


def _object_condition(user: AbstractBaseUser, rule: Rule, prefix: str) -> Q:
    roles = roles_of(user)
    condition = Q(pk__in=[])
    if rule.owner and Role.MODEL_OWNER in roles:
        condition |= Q(**{f"{prefix}owner": user})
    if rule.grant and Role.PIPELINE in roles:
        perms = list(GRANTABLE.values()) if rule.grant == ANY_GRANT else [GRANTABLE[rule.grant]]
        condition |= Q(GrantHeld(f"{prefix}pk", user, perms))
    return condition


def restrict(user: User, action: str, queryset: QuerySet, *, model_field: str = "") -> QuerySet:
    """Narrow `queryset` to rows whose registered model `user` may perform `action` on.

    `model_field` is the path from the queryset's model to RegisteredModel ("" when the
    queryset is of RegisteredModel itself, "model" for versions, …).
    """
    rule = _rule(action)
    decided = _by_role(user, rule)
    if decided is True:
        return queryset
    if decided is False:
        return queryset.none()
    prefix = f"{model_field}__" if model_field else ""
    return queryset.filter(_object_condition(user, rule, prefix))


def _model_of(obj: Model | None) -> RegisteredModel | None:
    if obj is None or isinstance(obj, RegisteredModel):
        return obj
    return obj.model


def can(user: User, action: str, obj: Model | None = None) -> bool:
    """Return whether `user` may perform `action` on `obj` (a registered model or a row of one).

    Without `obj`, return whether the caller's roles let them hold the action on some model.
    """
    rule = _rule(action)
    decided = _by_role(user, rule)
    if decided is not None:
        return decided
    model = _model_of(obj)
    if model is None:
        return True
    return restrict(user, action, RegisteredModel.objects.filter(pk=model.pk)).exists()


def offers(user: User, obj: Model) -> frozenset[str]:
    """Return the actions `user` may perform on `obj`, for pages and responses to offer."""
    if not can(user, "view", obj):
        return frozenset()
    return frozenset(action for action, rule in RULES.items() if rule.per_model and can(user, action, obj))


def offers_each(user: User, models: list[RegisteredModel]) -> dict[object, frozenset[str]]:
    """Return `offers(user, model)` for each of `models` by primary key, one query per action.

    For answers that list many models with what the caller may do on each (`/api/v1/me`),
    where asking per model would cost a query per model and action.
    """
    ids = [model.pk for model in models]
    held: dict[object, set[str]] = {pk: set() for pk in ids}
    for action, rule in RULES.items():
        if not rule.per_model:
            continue
        decided = _by_role(user, rule)
        if decided is False:
            continue
        pks = (
            ids
            if decided
            else restrict(user, action, RegisteredModel.objects.filter(pk__in=ids)).values_list("pk", flat=True)
        )
        for pk in pks:
            held[pk].add(action)
    return {pk: frozenset(actions) if "view" in actions else frozenset() for pk, actions in held.items()}


def _noun(obj: Model) -> str:
    return "model" if isinstance(obj, RegisteredModel) else obj._meta.verbose_name


def denial(action: str, obj: Model | None = None) -> str:
    """Return the refusal message for `action`: who holds it, and the right the caller lacks."""
    rule = _rule(action)
    model = _model_of(obj)
    where = f" on {model.slug}" if model is not None and rule.per_model else ""
    return f"Only {rule.holders()} {rule.does}; you lack the `{action}` right{where}."


def require(user: User, action: str, obj: Model | None = None) -> None:
    """Raise NotVisible unless `user` may read `obj`, then Forbidden unless they may do `action`.

    `obj` is a registered model or a row that belongs to one (`.model`); without it, only the
    caller's roles decide. The 404 says only that there is no such thing (no existence oracle);
    the 403 names the missing right.
    """
    per_model = _rule(action).per_model
    if not per_model and not can(user, action):
        # A right no model can give is refused first: the refusal says nothing about `obj`.
        raise Forbidden(denial(action))
    if obj is not None and not can(user, "view", obj):
        raise NotVisible(f"No such {_noun(obj)}.")
    if per_model and action != "view" and not can(user, action, obj):
        raise Forbidden(denial(action, obj))


def reads_every_model(user: User) -> bool:
    """Return whether `user` reads every model's records by role (no narrowing needed)."""
    return _by_role(user, RULES["view"]) is True


def reads_ledger(user: User) -> bool:
    """Return whether `user` may read the ledger's entries and proofs (`ledger.view_entry`)."""
    return holds_permission(user, "ledger", "view_entry")


def may_own(user: AbstractBaseUser) -> bool:
    """Return whether `user` may be named a model's owner (active, holding the model-owner role)."""
    return user.is_active and Role.MODEL_OWNER in roles_of(user)


def is_service_account(user: User) -> bool:
    """Return whether the user's only role is pipeline (service accounts use tokens, not pages)."""
    roles = roles_of(user)
    return Role.PIPELINE in roles and not roles - {Role.PIPELINE}


def is_officer(user: User) -> bool:
    """Return whether `user` is a compliance officer (the console opens on their review queue)."""
    return Role.COMPLIANCE_OFFICER in roles_of(user)


MATRIX_START = "<!-- role matrix: written by `manage.py access_matrix --write`; do not edit -->"
MATRIX_END = "<!-- end of role matrix -->"


def matrix_markdown() -> str:
    """Return the role matrix as the Markdown table docs/security.md carries, with its markers."""
    header = ["action", "allows", *(Role(role).label.lower() for role in _ROLE_ORDER)]
    lines = [MATRIX_START, "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for action, does, cells in matrix():
        lines.append("| " + " | ".join([f"`{action}`", does, *(cells[role] for role in _ROLE_ORDER)]) + " |")
    return "\n".join([*lines, MATRIX_END])


def matrix() -> list[tuple[str, str, dict[str, str]]]:
    """Return (action, what it allows, {role: who holds it}) for every action: the role matrix."""
    rows = []
    for action, rule in RULES.items():
        cells = {}
        for role in _ROLE_ORDER:
            if role in rule.roles:
                cells[role] = "all models" if rule.per_model else "yes"
            elif role == Role.MODEL_OWNER and rule.owner:
                cells[role] = "own models"
            elif role == Role.PIPELINE and rule.grant:
                cells[role] = "granted models" if rule.grant == ANY_GRANT else f"granted `{rule.grant}`"
            else:
                cells[role] = "no"
        rows.append((action, rule.does, cells))
    return rows


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
    rows: list[Any] = [
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
