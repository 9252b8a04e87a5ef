"""Helpers for ledger tests: fill the log, bypass its triggers the way an attacker would."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection

from ledger import services, triggers

EVENT_TYPES = ("model.registered", "version.registered", "approval.signed", "decision.logged")


def event(n: int, *, prefix: str = "ev") -> dict:
    return {
        "type": EVENT_TYPES[n % len(EVENT_TYPES)],
        "actor": f"user:tester-{n % 3}",
        "subject": f"model:m{n % 5}",
        "idempotency_key": f"{prefix}-{n}",
        "data": {"n": n, "score": f"0.{n:04d}", "tags": ["a", "b"], "note": "résumé ✓"},
    }


def fill(count: int, *, start: int = 0, prefix: str = "ev") -> None:
    """Submit `count` events and integrate them (no on-commit hooks run in `db` tests)."""
    for n in range(start, start + count):
        services.submit(**event(n, prefix=prefix))
    services.tree_integrate_all()


@contextlib.contextmanager
def triggers_bypassed() -> Iterator[None]:
    """Switch off the append-only triggers for the current transaction, as a superuser could."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        yield
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = origin")
    else:
        triggers.uninstall(connection)
        yield
        triggers.install(connection)
