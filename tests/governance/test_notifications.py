"""Notifications: signed webhooks checked by a real receiver, retries with backoff in the delivery
log, and email through Django's backend."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail

from config.celery import app
from governance.errors import Forbidden, InvalidInput
from governance.models import Alert, Delivery, Webhook
from governance.records import rfc3339
from governance.roles import Role
from governance.services import alerts, notifications, registry
from tests.governance import readiness
from tests.governance.conftest import make_user

SECRET = "a-shared-secret-for-the-receiver"
# How old a signed timestamp the receiver accepts: replays of older requests are refused.
TOLERANCE_SECONDS = 300


class Receiver:
    """A webhook endpoint on 127.0.0.1 that verifies every request as a subscriber should:
    HMAC-SHA256 over "<timestamp>.<raw body>" with the shared secret, compared in constant time,
    and a fresh timestamp. It answers with the queued statuses (then 200)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.statuses: list[int] = []
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers.get("X-Ledger-Timestamp", "")
                expected = hmac.new(receiver.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
                signature = self.headers.get("X-Ledger-Signature", "")
                verified = hmac.compare_digest(signature, f"sha256={expected.hexdigest()}")
                fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= TOLERANCE_SECONDS
                receiver.requests.append(
                    {"headers": dict(self.headers), "body": body, "verified": verified, "fresh": fresh}
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if not (verified and fresh):
                    status = 401
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/ledger"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(SECRET)
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def clock():
    with readiness.frozen(readiness.Clock()) as c:
        yield c


@pytest.fixture
def in_process_tasks():
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


@pytest.fixture
def webhook(receiver, model, olga):
    return notifications.webhook_create(
        actor=olga, url=receiver.url, secret=SECRET, events=["alert.opened", "alert.resolved"], model=model
    )


def open_alert(model, key: str = "drift:test") -> Alert:
    alert, _ = alerts.alert_open(
        model=model, kind="drift", dedupe_key=key, summary="credit-risk: drift on income.", details={"psi": "0.3"}
    )
    return alert


def test_a_delivery_is_signed_and_the_receiver_verifies_it(
    webhook, receiver, model, clock, in_process_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alert = open_alert(model)
    delivery = Delivery.objects.get(webhook=webhook)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    [request] = receiver.requests
    assert request["verified"] and request["fresh"]
    assert request["headers"]["X-Ledger-Event"] == "alert.opened"
    assert request["headers"]["X-Ledger-Delivery"] == str(delivery.pk)
    assert request["headers"]["X-Ledger-Timestamp"] == str(int(clock.now.timestamp()))
    assert request["body"] == delivery.body.encode()
    assert hashlib.sha256(request["body"]).hexdigest() == delivery.body_sha256
    payload = json.loads(request["body"])
    assert (payload["event"], payload["key"], payload["model"]) == ("alert.opened", alert.ledger_key, "credit-risk")
    assert payload["data"]["details"] == {"psi": "0.3"}


def test_a_500_is_retried_after_the_backoff_and_the_log_shows_each_attempt(webhook, receiver, model, clock):
    receiver.statuses = [500]
    open_alert(model)
    delivery = Delivery.objects.get(webhook=webhook)
    first = clock.now
    notifications.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == first + timedelta(seconds=30)  # WEBHOOK_RETRY_BASE_SECONDS
    clock.advance(seconds=29)
    assert notifications.deliveries_sweep() == 0  # not due yet
    clock.advance(seconds=1)
    assert notifications.deliveries_sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.delivered_at) == ("delivered", 2, clock.now)
    stamp = rfc3339
    assert delivery.attempts_log == [
        {
            "attempt": 1,
            "at": stamp(first),
            "status_code": 500,
            "error": "HTTP 500 Internal Server Error",
            "next_attempt_at": stamp(first + timedelta(seconds=30)),
        },
        {"attempt": 2, "at": stamp(clock.now), "status_code": 200, "error": ""},
    ]
    assert [r["verified"] for r in receiver.requests] == [True, True]
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    assert (
        receiver.requests[0]["headers"]["X-Ledger-Signature"] != receiver.requests[1]["headers"]["X-Ledger-Signature"]
    )


def test_the_backoff_doubles_with_each_failed_attempt(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    assert [notifications.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert notifications.backoff(40) == notifications.MAX_BACKOFF


def test_a_receiver_holding_another_secret_refuses_the_delivery(webhook, receiver, model, clock):
    receiver.secret = "not-the-secret-we-share-at-all"
    open_alert(model)
    delivery = notifications.delivery_send(delivery_id=Delivery.objects.get().pk)
    assert (delivery.state, delivery.last_status_code) == ("pending", 401)
    assert receiver.requests[0]["verified"] is False


def test_it_gives_up_after_the_last_attempt(webhook, receiver, model, clock, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.statuses = [500, 503]
    open_alert(model)
    pk = Delivery.objects.get().pk
    notifications.delivery_send(delivery_id=pk)
    clock.advance(minutes=1)
    delivery = notifications.delivery_send(delivery_id=pk)
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)
    clock.advance(days=1)
    assert notifications.deliveries_sweep() == 0


def test_a_redirect_is_a_failed_delivery_not_followed(webhook, receiver, model, clock):
    receiver.statuses = [302]
    open_alert(model)
    delivery = notifications.delivery_send(delivery_id=Delivery.objects.get().pk)
    assert (delivery.state, delivery.last_status_code) == ("pending", 302)
    assert len(receiver.requests) == 1


def test_an_unreachable_endpoint_is_logged_and_retried(model, olga, clock):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    notifications.webhook_create(actor=olga, url=f"http://127.0.0.1:{port}/x", secret=SECRET, events=["alert.opened"])
    open_alert(model)
    delivery = notifications.delivery_send(delivery_id=Delivery.objects.get().pk)
    assert delivery.state == "pending" and delivery.last_status_code is None
    assert "refused" in delivery.last_error.lower()


def test_a_delivery_is_claimed_by_one_sender(webhook, receiver, model, clock):
    open_alert(model)
    pk = Delivery.objects.get().pk
    assert notifications.delivery_send(delivery_id=pk) is not None
    assert notifications.delivery_send(delivery_id=pk) is None
    assert notifications.delivery_send(delivery_id=pk + 1000) is None
    assert len(receiver.requests) == 1


def test_only_subscribed_active_webhooks_in_scope_are_queued(model, alice, olga, pipeline, datasets):
    other = registry.model_register(
        actor=alice,
        slug="other",
        name="Other",
        intended_purpose="x",
        regulated_use="other",
        risk_tier="low",
        owner=alice,
    )

    def hook(**kwargs):
        return notifications.webhook_create(actor=olga, url="https://h.example/x", secret=SECRET, **kwargs)

    scoped = hook(events=["alert.opened"], model=model)
    everywhere = hook(events=["alert.opened", "retraining.requested"])
    hook(events=["retraining.requested"], model=model)  # not subscribed to alerts
    hook(events=["alert.opened"], model=other)  # another model
    stopped = hook(events=["alert.opened"], model=model)
    notifications.webhook_update(actor=olga, webhook=stopped, active=False)
    open_alert(model)
    assert set(Delivery.objects.values_list("webhook", flat=True)) == {scoped.pk, everywhere.pk}
    open_alert(model)  # the same unresolved alert: nothing new is queued
    assert Delivery.objects.count() == 2


def test_the_secret_is_encrypted_at_rest_and_kept_out_of_the_ledger(webhook, receiver):
    stored = Webhook.objects.get().secret_encrypted
    assert SECRET not in stored and notifications.secret_decrypt(stored) == SECRET
    data = readiness.leaf(f"webhook.created:{webhook.pk}")["data"]
    assert SECRET not in json.dumps(data) and receiver.url not in json.dumps(data)
    assert data["url_host"] == "127.0.0.1"
    assert data["url_sha256"] == hashlib.sha256(receiver.url.encode()).hexdigest()


def test_a_deleted_webhook_keeps_its_log_and_gets_nothing_new(webhook, receiver, model, olga, clock):
    open_alert(model)
    notifications.webhook_delete(actor=olga, webhook=webhook)
    delivery = notifications.delivery_send(delivery_id=Delivery.objects.get().pk)
    assert (delivery.state, delivery.last_error) == ("failed", "The webhook was deactivated.")
    open_alert(model, key="drift:another")
    assert Delivery.objects.count() == 1 and receiver.requests == []


def test_only_officers_and_admins_manage_webhooks(model, alice, olga):
    with pytest.raises(Forbidden):
        notifications.webhook_create(actor=alice, url="https://h.example/x", secret=SECRET, events=["alert.opened"])
    with pytest.raises(InvalidInput) as refused:
        notifications.webhook_create(actor=olga, url="ftp://h.example/x", secret="short", events=["model.registered"])
    assert set(refused.value.errors) == {"url", "secret", "events"}


def test_an_alert_is_emailed_to_the_owner_and_the_officers(
    model, alice, olga, clock, in_process_tasks, django_capture_on_commit_callbacks
):
    for user, address in ((alice, "alice@example.com"), (olga, "olga@example.com")):
        user.email = address
        user.save(update_fields=["email"])
    make_user("retired-officer", Role.COMPLIANCE_OFFICER, email="gone@example.com", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        open_alert(model)
    [message] = mail.outbox
    assert message.to == ["alice@example.com", "olga@example.com"]
    assert message.subject == "[credit-risk] Drift alert: credit-risk: drift on income."
    delivery = Delivery.objects.get(channel="email")
    assert (delivery.state, delivery.recipients) == ("delivered", "alice@example.com,olga@example.com")


def test_an_email_that_cannot_be_sent_is_logged_and_retried(model, olga, clock, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", probe.getsockname()[1]
    olga.email = "olga@example.com"
    olga.save(update_fields=["email"])
    open_alert(model)
    delivery = notifications.delivery_send(delivery_id=Delivery.objects.get(channel="email").pk)
    assert delivery.state == "pending" and delivery.attempts == 1
    assert delivery.last_error.startswith("ConnectionRefusedError")
