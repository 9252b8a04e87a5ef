"""Concurrent duplicates: a write that loses a race on a unique row is a retry, not a 500."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import IntegrityError

from governance.errors import Conflict

# Each rerun follows another writer's commit, so it makes progress; batches that overlap in a
# chain (A with B, B with C…) may need one run per link.
ATTEMPTS = 8
P = ParamSpec("P")
R = TypeVar("R")


def retried_on_duplicate(service: Callable[P, R]) -> Callable[P, R]:
    """Run an atomic, idempotent `service` again when a unique constraint refuses its write.

    Two clients sending the same write at once both find no existing row, and the database lets
    only one insert it: the other's transaction fails with IntegrityError and is rolled back. Run
    again, it sees the committed row (PostgreSQL's READ COMMITTED reads what committed before each
    statement) and answers as a retry does: the existing record, or a Conflict with per-item errors
    when its content differs. After ATTEMPTS refusals, a Conflict; never a 500.
    """

    @functools.wraps(service)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for _ in range(ATTEMPTS - 1):
            try:
                return service(*args, **kwargs)
            except IntegrityError:
                continue
        try:
            return service(*args, **kwargs)
        except IntegrityError:
            raise Conflict("Concurrent requests kept writing the same records; nothing was written.") from None

    return run
