"""Record kind of notifications: webhooks, each bound to the latest of its created, updated and
deleted leaves (deliveries are an outbox of attempts, not records the ledger states)."""

from __future__ import annotations

import hashlib
import urllib.parse
from typing import Any

from django.db.models import QuerySet

from governance.models import Webhook
from governance.reconciliation.engine import Fact, Kind, Leaf, Row, actor, by_pattern, moment
from governance.reconciliation.leaves import by_prefix

_EVENTS = ("webhook.created:", "webhook.updated:", "webhook.deleted:")


def _latest(_: QuerySet | None) -> dict[int, dict[str, Any]]:
    """Return, per webhook id, its latest created/updated/deleted leaf."""
    return {leaf["data"]["webhook"]: leaf for leaf in by_prefix(*_EVENTS)}


def _shown(row: Row) -> dict[str, Any]:
    return {
        "model": row["model__slug"],
        "url_host": urllib.parse.urlsplit(row["url"]).hostname or "",
        "url_sha256": hashlib.sha256(row["url"].encode()).hexdigest(),
        "events": list(row["events"]),
        "active": row["active"],
        "description": row["description"],
    }


def _webhook_extra(row: Row, leaves: dict[str, dict | None], latest: dict[int, dict[str, Any]]) -> list[Fact]:
    """Every setting is the latest leaf's; a webhook is deleted exactly when a leaf deleted it."""
    facts = []
    leaf = latest.get(row["pk"])
    if leaf is not None:
        for name, stored in _shown(row).items():
            said = leaf["data"].get(name)
            facts.append(Fact(name, stored == said, leaf["seq"], stored, said, f"data.{name}"))
    deleted = leaves["deleted"]
    if deleted is not None:
        ok = row["deleted_at"] is not None
        facts.append(Fact("deleted", ok, deleted["seq"], row["deleted_at"] is not None, True))
    return facts


WEBHOOK = Kind(
    name="webhook",
    model=Webhook,
    columns=(
        "pk",
        "model__slug",
        "url",
        "events",
        "active",
        "description",
        "created_by__username",
        "created_at",
        "deleted_at",
    ),
    natural_key=lambda row: f"webhook {row['pk']}",
    leaves=(
        Leaf("recorded", by_pattern("webhook.created:{}")),
        Leaf("deleted", by_pattern("webhook.deleted:{}"), required=lambda row: row["deleted_at"] is not None),
    ),
    fields=(actor("created_by", "created_by__username"), moment("created_at")),
    more=_webhook_extra,
    context=_latest,
)

KINDS = (WEBHOOK,)
