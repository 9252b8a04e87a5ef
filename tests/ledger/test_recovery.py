"""Restart recovery: what a crash left queued is sequenced when a process starts, and
`verify_ledger` warns about events queued longer than the threshold."""

from __future__ import annotations

import importlib

import pytest
from celery.signals import worker_ready
from django.core.management import call_command

from ledger import services
from ledger.models import Entry, Submission
from tests.ledger.helpers import event

pytestmark = pytest.mark.django_db


def _crash_between_commit_and_sequencing(count: int) -> None:
    # Inside the test's transaction the on-commit sequencing never runs: as after a kill -9.
    for n in range(count):
        services.submit(**event(n, prefix="crashed"))
    assert Submission.objects.count() == count


def test_the_web_application_drains_the_queue_when_it_loads():
    _crash_between_commit_and_sequencing(25)
    import config.wsgi

    importlib.reload(config.wsgi)
    assert not Submission.objects.exists()
    assert Entry.objects.filter(idempotency_key__startswith="crashed").count() == 25


def test_a_celery_worker_drains_the_queue_when_it_is_ready():
    _crash_between_commit_and_sequencing(7)
    worker_ready.send(sender=None)
    assert not Submission.objects.exists()
    assert Entry.objects.filter(idempotency_key__startswith="crashed").count() == 7


def test_a_drain_that_cannot_reach_the_database_does_not_stop_the_start(monkeypatch, caplog):
    from ledger import recovery

    def broken() -> int:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(services, "tree_integrate_all", broken)
    assert recovery.queue_drain_at_start("web") == 0
    assert "Could not drain the ledger queue at web start" in caplog.text


def test_verify_ledger_warns_about_events_queued_too_long(capsys):
    services.submit(**event(0, prefix="sequenced"))
    services.tree_integrate_all()
    services.checkpoint_sign()
    _crash_between_commit_and_sequencing(3)
    call_command("verify_ledger", "--log-only", "--queue-warning-after", "0")
    captured = capsys.readouterr()
    assert "WARNING: 3 events queued but not sequenced for more than 0 s" in captured.err
    assert "Ledger intact" in captured.out


def test_verify_ledger_is_quiet_about_a_queue_younger_than_the_threshold(capsys):
    _crash_between_commit_and_sequencing(3)
    call_command("verify_ledger", "--log-only")
    assert "WARNING" not in capsys.readouterr().err
