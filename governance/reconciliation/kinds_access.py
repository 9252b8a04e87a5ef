"""Access grants: the object permissions held now, against the fold of every `access.granted`
and `access.revoked` leaf.

Permission rows carry no ledger key of their own: what a grantee holds on a model is whatever
the access leaves, replayed in seq order, leave them holding. A row nothing granted, or a
grant the rows no longer hold, is a mismatch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from governance.models import ModelGroupObjectPermission, ModelUserObjectPermission
from governance.reconciliation.engine import Mismatch
from governance.reconciliation.leaves import by_prefix

Pair = tuple[str, str]  # (model slug, grantee as the leaf names it: "user:bob", "group:ops")


def ledger_grants() -> tuple[dict[Pair, set[str]], dict[Pair, int]]:
    """Return what each (model, grantee) holds after every access leaf, and the last seq."""
    held: dict[Pair, set[str]] = {}
    last: dict[Pair, int] = {}
    for leaf in by_prefix("access.granted:", "access.revoked:"):
        data = leaf["data"]
        pair = (data["model"], data["grantee"])
        codenames = held.setdefault(pair, set())
        if leaf["type"] == "access.granted":
            codenames.update(data["permissions"])
        else:
            codenames.difference_update(data["permissions"])
        last[pair] = leaf["seq"]
    return held, last


def stored_grants() -> dict[Pair, set[str]]:
    held: dict[Pair, set[str]] = {}
    users = ModelUserObjectPermission.objects.values_list(
        "content_object__slug", "user__username", "permission__codename"
    )
    for slug, name, codename in users.iterator():
        held.setdefault((slug, f"user:{name}"), set()).add(codename)
    groups = ModelGroupObjectPermission.objects.values_list(
        "content_object__slug", "group__name", "permission__codename"
    )
    for slug, name, codename in groups.iterator():
        held.setdefault((slug, f"group:{name}"), set()).add(codename)
    return held


@dataclass(frozen=True)
class AccessKind:
    """The registry entry for access grants (a fold, not one leaf per row)."""

    name: str = "access grant"
    table: str = ModelUserObjectPermission._meta.db_table

    def reconcile(self, queryset: object = None, *, progress: Callable[[int], None] | None = None):
        expected, last = ledger_grants()
        stored = stored_grants()
        found = []
        for pair in sorted(set(expected) | set(stored)):
            slug, grantee = pair
            table = self.table if grantee.startswith("user:") else ModelGroupObjectPermission._meta.db_table
            record = f"access of {grantee} to {slug}"
            for codename in sorted(stored.get(pair, set()) - expected.get(pair, set())):
                found.append(Mismatch(table, self.name, record, "permission", codename, last.get(pair)))
            for codename in sorted(expected.get(pair, set()) - stored.get(pair, set())):
                found.append(Mismatch(table, self.name, record, "permission", None, last[pair], codename))
        count = sum(len(codenames) for codenames in stored.values())
        if progress is not None:
            progress(count)
        return count, found


ACCESS = AccessKind()
KINDS = (ACCESS,)
