"""People and roles: role memberships against the fold of `role.granted` and `role.revoked`
leaves, and compliance officer grants (`governance_rolegrant`) against their proposal, grant and
rejection leaves: who, which role, who proposed and confirmed, the state and the bootstrap flag.

A membership written behind the ledger's back (a row inserted into the user-group table with
SQL, or with a bulk insert that sends no signals) holds a role nothing granted: a mismatch, so
an officer role cannot be conjured in the database unseen. Memberships of deleted users are not
compared (deleting a user removes their rows without a `role.revoked`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from governance.models import RoleGrant
from governance.reconciliation.engine import Fact, Field, Kind, Leaf, Mismatch, Row, rfc3339
from governance.reconciliation.leaves import by_prefix

Pair = tuple[str, str]  # (username, role)


def ledger_memberships() -> tuple[set[Pair], dict[Pair, int]]:
    """Return the memberships every role leaf, replayed in seq order, leaves standing."""
    held: set[Pair] = set()
    last: dict[Pair, int] = {}
    for leaf in by_prefix("role.granted:", "role.revoked:"):
        pair = (leaf["data"]["user"], leaf["data"]["role"])
        if leaf["type"] == "role.granted":
            held.add(pair)
        else:
            held.discard(pair)
        last[pair] = leaf["seq"]
    return held, last


@dataclass(frozen=True)
class MembershipKind:
    """The registry entry for role memberships (a fold, not one leaf per row)."""

    name: str = "role membership"

    @property
    def table(self) -> str:
        return get_user_model().groups.through._meta.db_table

    def reconcile(self, queryset: object = None, *, progress: Callable[[int], None] | None = None):
        User = get_user_model()
        expected, last = ledger_memberships()
        stored = set(User.groups.through.objects.values_list("user__username", "group__name").iterator())
        existing = set(User.objects.values_list("username", flat=True))
        found = []
        for username, role in sorted(stored - expected):
            record = f"{role} role of {username}"
            found.append(Mismatch(self.table, self.name, record, "role", role, last.get((username, role))))
        for username, role in sorted(pair for pair in expected - stored if pair[0] in existing):
            record = f"{role} role of {username}"
            found.append(Mismatch(self.table, self.name, record, "role", None, last[(username, role)], role))
        if progress is not None:
            progress(len(stored))
        return len(stored), found


def _user(column: str) -> Callable:
    return lambda row: row[column]


def _decided(row: Row, leaves: dict[str, dict | None], context: object) -> list[Fact]:
    """The state and `bootstrap` flag a grant's leaves imply: a `role.granted` leaf makes it
    confirmed (bootstrapped exactly when the leaf says so), a rejection leaf makes it rejected."""
    facts = []
    for name, state in (("granted", "confirmed"), ("rejected", "rejected")):
        leaf = leaves[name]
        if leaf is not None:
            facts.append(Fact("state", row["state"] == state, leaf["seq"], row["state"], state))
    granted = leaves["granted"]
    if granted is not None:
        said = bool(granted["data"].get("bootstrap", False))
        facts.append(Fact("bootstrap", row["bootstrap"] == said, granted["seq"], row["bootstrap"], said))
    return facts


ROLE_GRANT = Kind(
    name="role grant",
    model=RoleGrant,
    columns=(
        "pk",
        "grantee__username",
        "role",
        "state",
        "bootstrap",
        "proposed_by__username",
        "reason",
        "decided_by__username",
        "proposed_at",
        "decided_at",
        "proposal_key",
        "grant_key",
    ),
    natural_key=lambda row: f"{row['role']} grant {row['pk']} for {row['grantee__username']}",
    leaves=(
        Leaf("proposed", key=lambda row: row["proposal_key"], required=lambda row: not row["bootstrap"]),
        Leaf("granted", key=lambda row: row["grant_key"], required=lambda row: row["state"] == "confirmed"),
        Leaf(
            "rejected",
            key=lambda row: f"role.proposal_rejected:{row['pk']}",
            required=lambda row: row["state"] == "rejected",
        ),
    ),
    fields=(
        Field("grantee", "proposed", "user", _user("grantee__username")),
        Field("proposed_by", "proposed", "proposed_by", _user("proposed_by__username")),
        Field("reason", "proposed", "reason", _user("reason")),
        Field("grantee", "granted", "user", _user("grantee__username")),
        Field("role", "granted", "role", _user("role")),
        Field("proposed_by", "granted", "proposed_by", _user("proposed_by__username")),
        Field("confirmed_by", "granted", "confirmed_by", _user("decided_by__username")),
        Field("role", "proposed", "role", _user("role")),
        Field("grantee", "rejected", "user", _user("grantee__username")),
        Field("role", "rejected", "role", _user("role")),
        Field("proposal_key", "rejected", "proposal", _user("proposal_key")),
        Field("proposed_at", "proposed", "proposed_at", lambda row: rfc3339(row["proposed_at"])),
        Field("decided_at", "granted", "decided_at", lambda row: rfc3339(row["decided_at"])),
        Field("decided_at", "rejected", "decided_at", lambda row: rfc3339(row["decided_at"])),
    ),
    more=_decided,
)

MEMBERSHIP = MembershipKind()
KINDS = (MEMBERSHIP, ROLE_GRANT)
