"""Reconciliation: every governance record checked against the ledger leaves that recorded it.

One registry of record kinds (`KINDS`): each names its table, its natural key, the leaves that
record it and, field by field, what those leaves say. `reconcile` runs them all (the
`verify_ledger` command), then looks for entries whose record was deleted (`orphans`);
`facts_of` answers for a few records (API `?verify=true`, the console's Verify, report
generation). A new kind of record adds one entry here, and its creating event one in `orphans`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import QuerySet

from governance.reconciliation import (
    kinds_access,
    kinds_assurance,
    kinds_identity,
    kinds_monitoring,
    kinds_notifications,
    kinds_observations,
    kinds_operations,
    kinds_registry,
)
from governance.reconciliation.engine import Fact, Kind, Mismatch, reconcile_kind, record_facts
from governance.reconciliation.orphans import orphans

KINDS: tuple = (
    *kinds_registry.KINDS,
    *kinds_access.KINDS,
    *kinds_operations.KINDS,
    *kinds_monitoring.KINDS,
    *kinds_observations.KINDS,
    *kinds_identity.KINDS,
    *kinds_assurance.KINDS,
    *kinds_notifications.KINDS,
)
BY_NAME = {kind.name: kind for kind in KINDS}

__all__ = ["BY_NAME", "KINDS", "Fact", "Mismatch", "Reconciliation", "facts_of", "first_mismatch", "reconcile"]


@dataclass
class Reconciliation:
    """What a run checked, per kind, and every mismatch found."""

    records: dict[str, int] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.records.values())


def _run(kind, queryset: QuerySet | None, progress: Callable[[int], None] | None):
    if isinstance(kind, Kind):
        return reconcile_kind(kind, queryset, progress=progress)
    return kind.reconcile(queryset, progress=progress)


def reconcile(
    *,
    kinds: Iterable[str] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> Reconciliation:
    """Reconcile every record of every kind (or of the named kinds) with its leaves."""
    result = Reconciliation()
    for kind in KINDS if kinds is None else [BY_NAME[name] for name in kinds]:
        step = None if progress is None else (lambda n, name=kind.name: progress(name, n))
        count, found = _run(kind, None, step)
        result.records[kind.name] = count
        result.mismatches.extend(found)
    if kinds is None:
        # The other direction: every entry that created a record still has its row.
        result.mismatches.extend(orphans())
    return result


def facts_of(kind_name: str, queryset: QuerySet) -> list[tuple[dict, list[Fact]]]:
    """Return each record of `queryset` with every one of its facts checked against its leaves."""
    return record_facts(BY_NAME[kind_name], queryset)


def first_mismatch(kind_name: str, queryset: QuerySet) -> Mismatch | None:
    """Return the first mismatch among the records of `queryset`, or None when all reconcile."""
    _, found = _run(BY_NAME[kind_name], queryset, None)
    return found[0] if found else None


# Leaves keyed by a record's id rather than by a key column: prefix -> (kind, id lookup).
_BY_ID = {
    "deployment.ended:": ("deployment", "pk"),
    "owner.changed:": ("ownership transfer", "pk"),
    "alert.acknowledged:": ("alert", "pk"),
    "alert.resolved:": ("alert", "pk"),
    "retraining.closed:": ("retraining request", "pk"),
    "decision.payload_erased:": ("decision", "pk"),
    "report.generated:": ("report", "pk"),
    "webhook.created:": ("webhook", "pk"),
    "monitoring.evaluated:": ("observation", "pk"),
    "webhook.deleted:": ("webhook", "pk"),
}


def facts_for_entry(key: str, seq: int) -> list[tuple[str, list[Fact]]]:
    """Return the records the entry with idempotency key `key` records, each as (natural key,
    the facts that entry `seq` states about it); empty when no record kind claims the entry."""
    found: list[tuple[Kind, QuerySet]] = []
    for prefix, (name, column) in _BY_ID.items():
        if key.startswith(prefix):
            ident = key.removeprefix(prefix)
            kind = BY_NAME[name]
            try:
                found.append((kind, kind.model.objects.filter(**{column: ident})))
            except (ValueError, TypeError):
                continue
    if not found:
        for kind in KINDS:
            if isinstance(kind, Kind) and "ledger_key" in kind.columns:
                queryset = kind.model.objects.filter(ledger_key=key)
                if queryset.exists():
                    found.append((kind, queryset))
                    break
    out = []
    for kind, queryset in found:
        try:
            rows = record_facts(kind, queryset)
        except (ValueError, TypeError):
            continue
        for row, facts in rows:
            out.append((kind.natural_key(row), [f for f in facts if f.seq == seq or (f.seq is None and not f.ok)]))
    return out
