"""A real Celery worker on the Redis broker sequences what committed transactions submitted."""

from __future__ import annotations

import time

import pytest
from django.db import close_old_connections, transaction

from config.celery import app
from ledger import services, tasks
from ledger.models import Checkpoint, Entry
from tests.ledger.helpers import event
from tests.workers import running_worker


@pytest.fixture
def broker_mode():
    """Run tasks through the broker (as in production), not in-process."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = eager


def _wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        close_old_connections()
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_integrates_submissions_enqueued_on_commit(broker_mode):
    with running_worker():
        for n in range(30):
            with transaction.atomic():
                services.submit(**event(n))
        assert _wait_for(lambda: Entry.objects.count() == 30), "the worker did not integrate every submission"
    assert list(Entry.objects.values_list("seq", flat=True)) == list(range(30))


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_periodic_tasks_sweep_and_sign(broker_mode):
    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert schedule >= {"ledger.tasks.tree_integrate_task", "ledger.tasks.checkpoint_sign_task"}
    with running_worker():
        # Submissions whose on-commit message was lost are picked up by the sweep.
        services.submit(**event(1))  # inside the test's autocommit: no on-commit hook fires late
        tasks.tree_integrate_task.delay()
        assert _wait_for(lambda: Entry.objects.count() == 1)
        tasks.checkpoint_sign_task.delay()
        assert _wait_for(lambda: Checkpoint.objects.filter(size=1).exists())
