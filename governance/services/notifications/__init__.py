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


The package: `webhooks` (secrets, subscriptions and their events) and `deliveries` (notify,
send with backoff, sweep, recipients).
"""

from governance.services.notifications.deliveries import backoff, deliveries_sweep, delivery_send, notify, recipients
from governance.services.notifications.webhooks import (
    CLAIM_MARGIN,
    DELIVERY_HEADER,
    EVENT_HEADER,
    EVENTS,
    MAX_BACKOFF,
    MAX_ERROR_LENGTH,
    MIN_SECRET_LENGTH,
    SIGNATURE_HEADER,
    SWEEP_BATCH,
    TIMESTAMP_HEADER,
    secret_decrypt,
    secret_encrypt,
    signature,
    webhook_create,
    webhook_created_key,
    webhook_delete,
    webhook_record,
    webhook_update,
)

__all__ = [
    "CLAIM_MARGIN",
    "DELIVERY_HEADER",
    "EVENTS",
    "EVENT_HEADER",
    "MAX_BACKOFF",
    "MAX_ERROR_LENGTH",
    "MIN_SECRET_LENGTH",
    "SIGNATURE_HEADER",
    "SWEEP_BATCH",
    "TIMESTAMP_HEADER",
    "backoff",
    "deliveries_sweep",
    "delivery_send",
    "notify",
    "recipients",
    "secret_decrypt",
    "secret_encrypt",
    "signature",
    "webhook_create",
    "webhook_created_key",
    "webhook_delete",
    "webhook_record",
    "webhook_update",
]
