"""Webhook subscriptions (create, change, delete; each a ledger event) and their signing secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import timedelta
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from governance import access
from governance import events as ledger_events
from governance.errors import InvalidInput, NotVisible
from governance.models import RegisteredModel, Webhook
from governance.records import webhook_record
from governance.results import Written
from governance.services.concurrency import retried_on_duplicate
from governance.validation import Errors

# The events a webhook may subscribe to.
EVENTS = (
    "alert.opened",
    "alert.acknowledged",
    "alert.resolved",
    "retraining.requested",
    "retraining.closed",
)


SIGNATURE_HEADER = "X-Ledger-Signature"


TIMESTAMP_HEADER = "X-Ledger-Timestamp"


EVENT_HEADER = "X-Ledger-Event"


DELIVERY_HEADER = "X-Ledger-Delivery"


MIN_SECRET_LENGTH = 16


# Backoff doubles from WEBHOOK_RETRY_BASE_SECONDS and stops growing at six hours.
MAX_BACKOFF = timedelta(hours=6)


# A claimed attempt owns its row this long past the HTTP timeout; a sender that died mid-attempt
# leaves the row to the next sweep after that.
CLAIM_MARGIN = timedelta(seconds=60)


# Deliveries sent per sweep: each may wait WEBHOOK_TIMEOUT, so a sweep stays within minutes.
SWEEP_BATCH = 50


MAX_ERROR_LENGTH = 500


# --- Secrets -----------------------------------------------------------------------------------
def _fernet() -> Fernet:
    """Return the cipher for stored secrets: WEBHOOK_SECRET_KEY, or else derived from SECRET_KEY.

    HKDF-SHA256 (RFC 5869) turns the configured string into a 32-byte Fernet key, so any long
    random string works. Changing the key makes the stored secrets unreadable: set them again.
    """
    material = (settings.WEBHOOK_SECRET_KEY or settings.SECRET_KEY).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ledger webhook secrets").derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return the `X-Ledger-Signature` value for `body` signed at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


# --- Webhooks ----------------------------------------------------------------------------------
def _check_webhook(
    errors: Errors, *, url: Any = None, secret: Any = None, events_: Any = None, description: Any = None
) -> None:
    if url is not None:
        errors.url(url, "url", limit=1000, required=True)
    if secret is not None:
        errors.check(
            isinstance(secret, str) and MIN_SECRET_LENGTH <= len(secret) <= 200,
            "secret",
            f"A shared secret of {MIN_SECRET_LENGTH} to 200 characters.",
        )
    if events_ is not None:
        errors.check(
            isinstance(events_, list) and bool(events_) and set(events_) <= set(EVENTS),
            "events",
            f"A non-empty list of: {', '.join(EVENTS)}.",
        )
    if description is not None:
        errors.text(description, "description", limit=200, required=False)


def webhook_created_key(webhook: Webhook) -> str:
    """Return the ledger key of the event that created `webhook` (a webhook row holds no key)."""
    return f"webhook.created:{webhook.pk}"


@retried_on_duplicate
@transaction.atomic
def webhook_create(
    *,
    actor: AbstractBaseUser,
    url: str,
    secret: str,
    events: list[str],
    model: RegisteredModel | None = None,
    description: str = "",
) -> Webhook:
    """Subscribe `url` to `events` for one model (or every model) and log `webhook.created`."""
    access.require(actor, "webhooks", model)
    errors = Errors()
    _check_webhook(errors, url=url, secret=secret, events_=events, description=description)
    errors.raise_if_any()
    webhook = Webhook.objects.create(
        model=model,
        url=url,
        secret_encrypted=secret_encrypt(secret),
        events=sorted(set(events)),
        description=description,
        created_by=actor,
        created_at=timezone.now(),
    )
    _log_webhook("webhook.created", actor, webhook, webhook_created_key(webhook))
    return webhook


@transaction.atomic
def webhook_update(
    *,
    actor: AbstractBaseUser,
    webhook: Webhook,
    url: str | None = None,
    secret: str | None = None,
    events: list[str] | None = None,
    active: bool | None = None,
    description: str | None = None,
) -> Written[Webhook]:
    """Change the given fields of a webhook and log `webhook.updated`; return it and the key."""
    access.require(actor, "webhooks")
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    if webhook.deleted_at is not None:
        raise NotVisible("No such webhook.")
    errors = Errors()
    _check_webhook(errors, url=url, secret=secret, events_=events, description=description)
    errors.raise_if_any()
    changed = []
    for field, value in (("url", url), ("events", events), ("active", active), ("description", description)):
        if value is not None:
            setattr(webhook, field, sorted(set(value)) if field == "events" else value)
            changed.append(field)
    if secret is not None:
        webhook.secret_encrypted = secret_encrypt(secret)
        changed.append("secret_encrypted")
    if not changed:
        raise InvalidInput("Nothing to change.", errors={"non_field_errors": ["Give at least one field."]})
    webhook.save(update_fields=changed)
    key = _log_webhook(
        "webhook.updated",
        actor,
        webhook,
        f"webhook.updated:{uuid.uuid4()}",
        changed=sorted("secret" if f == "secret_encrypted" else f for f in changed),
    )
    return Written(webhook, key)


@transaction.atomic
def webhook_delete(*, actor: AbstractBaseUser, webhook: Webhook) -> Written[Webhook]:
    """Deactivate a webhook for good (its delivery log stays) and log `webhook.deleted`."""
    access.require(actor, "webhooks")
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    if webhook.deleted_at is not None:
        raise NotVisible("No such webhook.")
    webhook.active, webhook.deleted_at = False, timezone.now()
    webhook.save(update_fields=["active", "deleted_at"])
    return Written(webhook, _log_webhook("webhook.deleted", actor, webhook, f"webhook.deleted:{webhook.pk}"))


def _log_webhook(type: str, actor: AbstractBaseUser, webhook: Webhook, key: str, **extra: Any) -> str:
    subject = f"model:{webhook.model.slug}" if webhook.model_id else "webhooks"
    return ledger_events.record(
        type=type, actor=actor, subject=subject, key=key, data={**webhook_record(webhook), **extra}
    )
