"""SQL over django-guardian's object permission tables: which models a user holds a grant on.

Guardian's tables stay the one source of truth; `governance.access` narrows lists with these
fixed statements instead of guardian's querysets (the user's own rows and their groups', the
permission ids as literals), and tests/governance/test_access_lists.py holds them to guardian's
answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import BooleanField, Expression, F
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_migrate

from governance.models import ModelGroupObjectPermission, ModelUserObjectPermission, RegisteredModel


def _user_rows(marks: str) -> str:
    # Table names from model metadata and placeholders only: no input is spliced in.
    return (
        f"SELECT u.content_object_id FROM {ModelUserObjectPermission._meta.db_table} u "  # noqa: S608
        f"WHERE u.user_id = %s AND u.permission_id IN ({marks})"
    )


def _group_rows(user: AbstractBaseUser, marks: str) -> str:
    return (
        f"SELECT g.content_object_id FROM {ModelGroupObjectPermission._meta.db_table} g "  # noqa: S608
        f"JOIN {user.groups.through._meta.db_table} ug ON ug.group_id = g.group_id "
        f"WHERE ug.user_id = %s AND g.permission_id IN ({marks})"
    )


def granted_models(user: AbstractBaseUser, codenames: Sequence[str]) -> RawSQL:
    """Return a subquery of the ids of the models on which `user` holds any of `codenames`.

    It reads guardian's tables as `get_objects_for_user(user, codenames, RegisteredModel,
    any_perm=True, accept_global_perms=False, with_superuser=False)` does, in one statement.
    """
    ids = _permission_ids(tuple(codenames)) or [0]
    marks = ", ".join(["%s"] * len(ids))
    sql = f"{_user_rows(marks)} UNION {_group_rows(user, marks)}"
    return RawSQL(sql, [user.pk, *ids, user.pk, *ids])  # noqa: S611


class GrantHeld(Expression):
    """The condition that the model id in `column` is one `user` holds any of `codenames` on.

    Written `column IN (the user's rows) OR column IN (their groups' rows)`: under an OR,
    PostgreSQL keeps each list as a hashed subplan, built once per query and probed per row,
    rather than turning it into a semi-join. A list ordered by an indexed column (versions by
    registration time) then reads that index in order and stops at the page's last row, where
    the semi-join had to gather every granted model's rows and sort them; a count reads the
    index and probes the hash. The rows are those of `granted_models`.
    """

    conditional = True

    def __init__(self, column: Any, user: AbstractBaseUser, codenames: Sequence[str]) -> None:
        super().__init__(output_field=BooleanField())
        self.column = F(column) if isinstance(column, str) else column
        self.user = user
        self.codenames = tuple(codenames)

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        column, column_params = compiler.compile(self.column)
        ids = _permission_ids(self.codenames) or [0]
        marks = ", ".join(["%s"] * len(ids))
        sql = f"({column} IN ({_user_rows(marks)}) OR {column} IN ({_group_rows(self.user, marks)}))"
        return sql, [*column_params, self.user.pk, *ids, *column_params, self.user.pk, *ids]


# The ids of RegisteredModel's permissions by codename tuple. They are made by migrations and never
# change while the service runs; a flush recreates them with new ids and emits post_migrate,
# which empties this cache.
_PERMISSION_IDS: dict[tuple[str, ...], list[int]] = {}


def _permission_ids(codenames: tuple[str, ...]) -> list[int]:
    ids = _PERMISSION_IDS.get(codenames)
    if ids is None:
        content_type = ContentType.objects.get_for_model(RegisteredModel)
        ids = sorted(
            Permission.objects.filter(content_type=content_type, codename__in=codenames).values_list("pk", flat=True)
        )
        if len(ids) == len(codenames):
            _PERMISSION_IDS[codenames] = ids
    return ids


def _forget_permission_ids(**_kwargs: Any) -> None:
    _PERMISSION_IDS.clear()


post_migrate.connect(_forget_permission_ids, dispatch_uid="governance.grants.forget_permission_ids")
