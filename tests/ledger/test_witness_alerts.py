"""A witness that fails or falls behind raises an alert the operators see; catching up clears it.

The witness is this service's own tlog-witness, served by the live server and following our own
log, so every request is real HTTP; an unreachable one is a closed port.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from ledger import services, witnessing
from ledger.models import WitnessAlert, WitnessStatus
from ledger.witness_alerts import ALERT_AFTER_FAILURES, witness_alerts_refresh
from model_ledger_verify import notes
from model_ledger_verify.tlog.cosign import Cosigner, generate_cosigner_key
from tests.ledger.helpers import fill

WITNESS = "witness.test/w1"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cosigner(settings, tmp_path, signing_key_file) -> Cosigner:
    """Our own witness, following our own log, and configured as the log's one witness."""
    key = generate_cosigner_key(WITNESS)
    (tmp_path / "witness.key").write_text(key, encoding="utf-8")
    settings.WITNESS_SIGNING_KEY_FILE = tmp_path / "witness.key"
    log_key = notes.Signer.from_string(signing_key_file.read_text().strip()).verifier_key()
    settings.WITNESS_LOGS = {"test.example/ledger": log_key}
    settings.LEDGER_WITNESS_POLICY = 1
    # With in-process tasks the sequencer signs (and asks) on its own when the last checkpoint is
    # stale; these tests ask themselves, so only a first checkpoint is signed that way.
    settings.LEDGER_CHECKPOINT_INTERVAL = 3600
    return Cosigner.from_string(key)


def _use(settings, url: str, cosigner: Cosigner) -> None:
    settings.LEDGER_WITNESSES = [f"{url} {cosigner.verifier().verifier_key()}"]


@pytest.mark.django_db(transaction=True)
def test_a_failing_witness_raises_an_alert_that_clears_when_it_catches_up(
    live_server, client, settings, cosigner, caplog
):
    _use(settings, f"{live_server.url}/witness", cosigner)
    fill(20)
    first = services.checkpoint_sign()
    assert witnessing.checkpoint_witness(first) == {WITNESS: None}
    assert not WitnessAlert.objects.exists()

    # The witness goes away: a failure or two is a blip, the third in a row opens an alert.
    _use(settings, f"http://127.0.0.1:{_closed_port()}/witness", cosigner)
    fill(5, start=20)
    grown = services.checkpoint_sign()
    caplog.set_level(logging.INFO, logger="ledger.witness_alerts")
    for attempt in range(1, ALERT_AFTER_FAILURES + 1):
        assert witnessing.checkpoint_witness(grown)[WITNESS].startswith("unreachable")
        assert WitnessAlert.objects.filter(resolved_at__isnull=True).count() == (attempt >= ALERT_AFTER_FAILURES)
    alert = WitnessAlert.objects.get()
    assert (
        alert.reason == "failing" and "3 requests in a row failed" in alert.summary and "unreachable" in alert.summary
    )
    assert any(r.levelname == "ERROR" and "witness alert opened" in r.getMessage() for r in caplog.records)
    # Asking again does not open a second one.
    witnessing.checkpoint_witness(grown)
    assert WitnessAlert.objects.count() == 1

    # The operators see it: the API and the console's ledger page.
    listed = json.loads(client.get("/api/v1/ledger/witnesses").content)
    assert [a["witness"] for a in listed["alerts"]] == [WITNESS]
    assert listed["witnesses"][0]["alert"]["reason"] == "failing"
    client.force_login(User.objects.create_user("auditor"))
    page = client.get("/ledger").content.decode()
    assert 'data-testid="witness-alerts"' in page and "1 witness alert open" in page
    assert f"Latest witnessed checkpoint: size <strong>{first.size}</strong>, cosigned by {WITNESS}" in page

    # Back, it cosigns the latest checkpoint: the alert is resolved and the pages are clear.
    _use(settings, f"{live_server.url}/witness", cosigner)
    assert witnessing.checkpoint_witness(grown) == {WITNESS: None}
    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolution == f"cosigned checkpoint {grown.size}"
    assert json.loads(client.get("/api/v1/ledger/witnesses").content)["alerts"] == []
    assert 'data-testid="witness-alerts"' not in client.get("/ledger").content.decode()
    assert any("witness alert resolved" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_a_refusal_raises_an_alert_at_once_and_a_cosignature_clears_it(live_server, settings, cosigner):
    _use(settings, f"{live_server.url}/witness", cosigner)
    followed = settings.WITNESS_LOGS
    settings.WITNESS_LOGS = {}  # the witness does not follow our log: 404, asking again changes nothing
    fill(5)
    checkpoint = services.checkpoint_sign()
    assert witnessing.checkpoint_witness(checkpoint)[WITNESS].startswith("HTTP 404")
    alert = WitnessAlert.objects.get(resolved_at__isnull=True)
    # (With in-process tasks, the checkpoint task may have asked first, about an earlier checkpoint.)
    assert alert.reason == "refused" and re.match(r"checkpoint \d+: HTTP 404: unknown log origin", alert.summary)
    assert witnessing.witness_statuses()[0]["alert"]["reason"] == "refused"

    settings.WITNESS_LOGS = followed
    assert witnessing.checkpoint_witness(checkpoint) == {WITNESS: None}
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_a_witness_behind_for_longer_than_the_lag_allowed_raises_an_alert(db, settings, cosigner):
    _use(settings, "http://127.0.0.1:9/witness", cosigner)
    settings.LEDGER_WITNESS_MAX_LAG = 600
    fill(10)
    first = services.checkpoint_sign()
    fill(10, start=10)
    second = services.checkpoint_sign()
    # It cosigned the first checkpoint and has not been asked since (no failure recorded).
    WitnessStatus.objects.create(name=WITNESS, url="http://127.0.0.1:9/witness", cosigned_size=first.size)
    assert witness_alerts_refresh([WITNESS]) == []
    later = timezone.now() + timedelta(seconds=601)
    [alert] = witness_alerts_refresh([WITNESS], now=later)
    assert alert.reason == "behind"
    assert f"checkpoint {second.size}" in alert.summary and f"last cosigned size {first.size}" in alert.summary
    assert witnessing.witness_statuses()[0]["alert"]["reason"] == "behind"
    # Still behind: the same alert stays open.
    assert witness_alerts_refresh([WITNESS], now=later) == [alert]

    WitnessStatus.objects.filter(name=WITNESS).update(cosigned_size=second.size)
    assert witness_alerts_refresh([WITNESS], now=later) == []
    alert.refresh_from_db()
    assert alert.resolution == f"cosigned checkpoint {second.size}"


def test_a_witness_that_has_cosigned_nothing_for_too_long_is_behind(db, settings, cosigner):
    _use(settings, "http://127.0.0.1:9/witness", cosigner)
    fill(3)
    services.checkpoint_sign()
    [alert] = witness_alerts_refresh(
        [WITNESS], now=timezone.now() + timedelta(seconds=settings.LEDGER_WITNESS_MAX_LAG + 1)
    )
    assert alert.reason == "behind" and "it has cosigned none" in alert.summary


def test_the_alert_of_a_witness_no_longer_configured_is_resolved(db, settings, cosigner):
    WitnessAlert.objects.create(witness="gone.example/w", reason="failing", summary="down", opened_at=timezone.now())
    settings.LEDGER_WITNESSES, settings.LEDGER_WITNESS_POLICY = [], 0
    fill(2)
    witnessing.checkpoint_witness(services.checkpoint_sign())
    alert = WitnessAlert.objects.get()
    assert alert.resolved_at is not None and alert.resolution == "no longer configured"


def test_one_open_alert_per_witness_in_the_database(db):
    from django.db import IntegrityError, transaction

    WitnessAlert.objects.create(witness=WITNESS, reason="failing", summary="down", opened_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        WitnessAlert.objects.create(witness=WITNESS, reason="behind", summary="late", opened_at=timezone.now())


@pytest.mark.django_db
def test_an_opened_witness_alert_is_mailed_to_the_operators(settings, mailoutbox):
    from ledger.witness_alerts import witness_alert_open

    settings.ADMINS = [("ops@example.com", "ops@example.com")]
    witness_alert_open("b.example/witness", "behind", "checkpoint 12 uncosigned for 15 minutes")
    witness_alert_open("b.example/witness", "behind", "still behind")  # already open: no second mail
    [message] = mailoutbox
    assert message.to == ["ops@example.com"]
    assert "b.example/witness is behind" in message.subject
