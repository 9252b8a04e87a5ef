"""The canonical form of each record: what goes into its ledger event and what is signed.

Every value is a string, an integer, a boolean, null, a list or an object: never a float
(ledger leaves refuse floats). Datetimes are RFC 3339 UTC strings.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from datetime import date, datetime
from typing import Any

from governance.models import Dataset, ModelCard, ModelVersion, RegisteredModel, Webhook
from model_ledger_verify import canonical


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")


def iso_date(day: date | None) -> str | None:
    return day.isoformat() if day else None


def sha256_of(value: Any) -> str:
    """Return the hex SHA-256 of the RFC 8785 canonical JSON of `value`."""
    return hashlib.sha256(canonical.dumps(value)).hexdigest()


def model_record(model: RegisteredModel) -> dict[str, Any]:
    return {
        "slug": model.slug,
        "name": model.name,
        "description": model.description,
        "intended_purpose": model.intended_purpose,
        "out_of_scope_uses": model.out_of_scope_uses,
        "regulated_use": model.regulated_use,
        "risk_tier": model.risk_tier,
        "provider": model.provider,
        "owner": model.owner.get_username(),
        "runbook": model.runbook,
        "validated_at": iso_date(model.validated_at),
        "next_validation_due": iso_date(model.next_validation_due),
        "valid_until": iso_date(model.valid_until),
        "created_at": rfc3339(model.created_at),
    }


def dataset_record(dataset: Dataset) -> dict[str, Any]:
    return {
        "name": dataset.name,
        "uri": dataset.uri,
        "sha256": dataset.sha256,
        "size_bytes": dataset.size_bytes,
        "row_count": dataset.row_count,
        "schema_sha256": dataset.schema_sha256,
        "provenance": dataset.provenance,
        "preparation": dataset.preparation,
        "registered_at": rfc3339(dataset.registered_at),
        # Only reference hashes say so; content hashes keep the leaf as it always was.
        **({"hash_kind": dataset.hash_kind} if dataset.hash_kind != "content" else {}),
    }


def version_record(version: ModelVersion) -> dict[str, Any]:
    """Return the immutable facts of a version (not its status, which moves by events)."""
    links = sorted((link.role, link.dataset.sha256) for link in version.dataset_links.select_related("dataset"))
    return {
        "model": version.model.slug,
        "version": version.version,
        "description": version.description,
        "artifact_sha256": version.artifact_sha256,
        "artifact_uri": version.artifact_uri,
        "datasets": [{"role": role, "sha256": sha} for role, sha in links],
        "code_repository": version.code_repository,
        "code_commit": version.code_commit,
        "pipeline_run_id": version.pipeline_run_id,
        "pipeline_run_url": version.pipeline_run_url,
        "environment_lock_sha256": version.environment_lock_sha256,
        "hyperparameters": version.hyperparameters,
        "metrics": version.metrics,
        "parent": version.parent.version if version.parent_id else None,
        "registered_by": version.registered_by.get_username(),
        "registered_at": rfc3339(version.registered_at),
    }


def signed_content(version: ModelVersion, card: ModelCard | None) -> dict[str, Any]:
    """Return exactly what an approval signs: the version record and the card revision."""
    return {
        "version": version_record(version),
        "card": None if card is None else {"revision": card.revision, "content_sha256": card.content_sha256},
    }


def webhook_record(webhook: Webhook) -> dict[str, Any]:
    """Return what the ledger keeps of a webhook: never its secret, nor its full URL.

    URLs often carry credentials in their path, so the leaf holds the host and a SHA-256.
    """
    return {
        "webhook": webhook.pk,
        "model": webhook.model.slug if webhook.model_id else None,
        "url_host": urllib.parse.urlsplit(webhook.url).hostname or "",
        "url_sha256": hashlib.sha256(webhook.url.encode()).hexdigest(),
        "events": list(webhook.events),
        "active": webhook.active,
        "description": webhook.description,
        "created_at": rfc3339(webhook.created_at),
    }
