"""Leaves that no record points at, read by key prefix once per run (they are few)."""

from __future__ import annotations

import json
from typing import Any

from ledger.models import Entry


def by_prefix(*prefixes: str) -> list[dict[str, Any]]:
    """Return the decoded leaves whose idempotency key starts with one of `prefixes`, by seq."""
    found: list[dict[str, Any]] = []
    for prefix in prefixes:
        rows = Entry.objects.filter(idempotency_key__startswith=prefix).values_list("leaf", flat=True)
        found.extend(json.loads(bytes(leaf)) for leaf in rows.iterator(chunk_size=2_000))
    return sorted(found, key=lambda leaf: leaf["seq"])


def latest_by_model(prefix: str, _: str = "slug") -> dict[str, dict[str, Any]]:
    """Return, per model slug, the latest leaf (highest seq) whose key starts with `prefix`."""
    return {leaf["data"]["model"]: leaf for leaf in by_prefix(prefix)}
