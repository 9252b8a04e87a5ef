"""Notifying: queue a delivery per subscriber and e-mail recipient, send it with backoff, sweep."""

from __future__ import annotations

import hashlib
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone

from governance.models import Delivery, RegisteredModel, Webhook
from governance.records import rfc3339
from governance.services.notifications.webhooks import (
    CLAIM_MARGIN,
    DELIVERY_HEADER,
    EVENT_HEADER,
    EVENTS,
    MAX_BACKOFF,
    MAX_ERROR_LENGTH,
    SIGNATURE_HEADER,
    SWEEP_BATCH,
    TIMESTAMP_HEADER,
    secret_decrypt,
    signature,
)
from governance.tasks import delivery_send_task
from model_ledger_verify import canonical

logger = logging.getLogger("governance.services.notifications")


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
