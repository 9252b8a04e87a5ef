"""What a write service returns when the record it hands back does not carry its event's key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

R = TypeVar("R")


@dataclass(frozen=True)
class Written(Generic[R]):
    """The record a service wrote or changed, and the ledger key of the event that recorded it.

    Services whose record holds that key in its own `ledger_key` field (a version, a card, a
    signature…) return the record itself; the others return this, so no caller rebuilds a key.
    """

    record: R
    ledger_key: str
