"""Notifications: signed webhooks and email, through a delivery table that is also the log.

A service that notifies calls `notify(...)` inside its own transaction: one Delivery row per
subscribed webhook (and one for email when there are recipients) is written with the event, and
each is sent after commit. Sending claims the row, makes one attempt and records it; a failed
attempt is retried with exponential backoff by the periodic sweep until WEBHOOK_MAX_ATTEMPTS.

Webhook requests are POSTs of canonical JSON (RFC 8785) with these headers:

- `X-Ledger-Event`: the event type, e.g. `alert.opened`;
- `X-Ledger-Delivery`: the delivery id (the same on every retry);
- `X-Ledger-Timestamp`: Unix seconds when this attempt was signed;
- `X-Ledger-Signature`: `sha256=` + hex HMAC-SHA256, keyed with the webhook's secret, of the
  timestamp, a full stop and the exact body bytes (`f"{timestamp}.".encode() + body`).

Receivers recompute the HMAC over the raw body, compare in constant time, and refuse a
timestamp more than a few minutes old: the signed timestamp is what stops replays.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance import access
from governance import events as ledger_events
from governance.errors import InvalidInput, NotVisible
from governance.models import Delivery, RegisteredModel, Webhook
from governance.records import rfc3339
from governance.results import Written
from governance.services.concurrency import retried_on_duplicate
from governance.tasks import delivery_send_task
from governance.validation import Errors
from model_ledger_verify import canonical

logger = logging.getLogger(__name__)

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
    }


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


# --- Notifying ---------------------------------------------------------------------------------
def notify(
    *,
    event: str,
    key: str,
    model: RegisteredModel,
    data: dict[str, Any],
    email_to: Iterable[str] = (),
    subject: str = "",
    text: str = "",
) -> list[Delivery]:
    """Queue `event` (ledger key `key`) for every active webhook subscribed to it and, when
    `email_to` names anyone, one email; send each after the caller's transaction commits.

    Call inside the service transaction that logs the event. Queuing the same key twice for the
    same target writes nothing new.
    """
    if event not in EVENTS:
        raise ValueError(f"{event!r} is not a notified event; add it to EVENTS.")
    now = timezone.now()
    body = canonical.dumps(
        {"event": event, "key": key, "model": model.slug, "occurred_at": rfc3339(now), "data": data}
    ).decode()
    body_sha256 = hashlib.sha256(body.encode()).hexdigest()
    queued = []
    webhooks = Webhook.objects.filter(Q(model=model) | Q(model__isnull=True), active=True).order_by("pk")
    for webhook in webhooks:
        if event not in webhook.events:
            continue
        delivery, created = Delivery.objects.get_or_create(
            channel=Delivery.Channel.WEBHOOK,
            webhook=webhook,
            event_key=key,
            defaults={
                "event": event,
                "body": body,
                "body_sha256": body_sha256,
                "next_attempt_at": now,
                "created_at": now,
            },
        )
        if created:
            queued.append(delivery)
    recipients = sorted({address for address in email_to if address})
    if recipients:
        email_body = f"{text}\n\nEvent {event}, ledger key {key}.\n"
        delivery, created = Delivery.objects.get_or_create(
            channel=Delivery.Channel.EMAIL,
            event_key=key,
            defaults={
                "event": event,
                "recipients": ",".join(recipients),
                "subject": subject[:300],
                "body": email_body,
                "body_sha256": hashlib.sha256(email_body.encode()).hexdigest(),
                "next_attempt_at": now,
                "created_at": now,
            },
        )
        if created:
            queued.append(delivery)
    for delivery in queued:
        delivery_send_task.delay_on_commit(delivery.pk)
    return queued


def backoff(attempt: int) -> timedelta:
    """Return the wait after failed attempt number `attempt` (1-based): base · 2^(attempt-1)."""
    delay = timedelta(seconds=settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** min(attempt - 1, 30))
    return min(delay, MAX_BACKOFF)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed delivery: following it would send the signed body elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _post(delivery: Delivery, now: datetime) -> tuple[int | None, str]:
    """Make one signed POST; return (HTTP status or None, error text or "")."""
    webhook = delivery.webhook
    try:
        secret = secret_decrypt(webhook.secret_encrypted)
    except InvalidToken:
        return None, "The webhook secret cannot be decrypted (WEBHOOK_SECRET_KEY changed?); set it again."
    body = delivery.body.encode()
    timestamp = int(now.timestamp())
    request = urllib.request.Request(  # noqa: S310 — the URL was checked to be http(s) when set
        webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "model-ledger-webhooks/1",
            EVENT_HEADER: delivery.event,
            DELIVERY_HEADER: str(delivery.pk),
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(secret, timestamp, body),
        },
    )
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=settings.WEBHOOK_TIMEOUT) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, str(getattr(exc, "reason", exc))


def _email(delivery: Delivery) -> tuple[int | None, str]:
    try:
        send_mail(
            delivery.subject,
            delivery.body,
            settings.DEFAULT_FROM_EMAIL,
            delivery.recipients.split(","),
            fail_silently=False,
        )
    except Exception as exc:  # SMTP, socket and backend errors alike: record and retry
        return None, f"{type(exc).__name__}: {exc}"
    return None, ""


def delivery_send(*, delivery_id: int) -> Delivery | None:
    """Make one attempt at a due pending delivery and record it; return it, or None when the row
    is missing, not pending, not due, or claimed by another sender.

    Safe to call twice at once: the conditional UPDATE lets only one caller claim the attempt.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT) + CLAIM_MARGIN
    claimed = Delivery.objects.filter(pk=delivery_id, state=Delivery.State.PENDING, next_attempt_at__lte=now).update(
        next_attempt_at=lease
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("webhook").get(pk=delivery_id)
    if delivery.channel == Delivery.Channel.WEBHOOK:
        if delivery.webhook.active:
            status_code, error = _post(delivery, now)
        else:
            status_code, error = None, "The webhook was deactivated."
        succeeded = not error and status_code is not None and 200 <= status_code < 300
    else:
        status_code, error = _email(delivery)
        succeeded = not error
    attempt = delivery.attempts + 1
    entry: dict[str, Any] = {"attempt": attempt, "at": rfc3339(now), "status_code": status_code, "error": error}
    delivery.attempts = attempt
    delivery.last_status_code = status_code
    delivery.last_error = error[:MAX_ERROR_LENGTH]
    if succeeded:
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = Delivery.State.DELIVERED, now, None
    elif attempt >= settings.WEBHOOK_MAX_ATTEMPTS or (
        delivery.channel == Delivery.Channel.WEBHOOK and not delivery.webhook.active
    ):
        delivery.state, delivery.next_attempt_at = Delivery.State.FAILED, None
        logger.warning("Delivery %s of %s failed for good: %s", delivery.pk, delivery.event, error)
    else:
        delivery.next_attempt_at = now + backoff(attempt)
        entry["next_attempt_at"] = rfc3339(delivery.next_attempt_at)
    entry["error"] = entry["error"][:MAX_ERROR_LENGTH]
    delivery.attempts_log = [*delivery.attempts_log, entry]
    delivery.save(
        update_fields=[
            "attempts",
            "last_status_code",
            "last_error",
            "state",
            "delivered_at",
            "next_attempt_at",
            "attempts_log",
        ]
    )
    return delivery


def deliveries_sweep(*, batch_size: int = SWEEP_BATCH) -> int:
    """Attempt up to `batch_size` pending deliveries that are due; return how many were tried."""
    due = list(
        Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    return sum(1 for pk in due if delivery_send(delivery_id=pk) is not None)


def recipients(*roles: str, include: Iterable[AbstractBaseUser | None] = ()) -> list[str]:
    """Return the email addresses of the active users holding `roles`, plus those of `include`."""
    addresses = set(
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=roles)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    addresses |= {user.email for user in include if user is not None and user.is_active and user.email}
    return sorted(addresses)
