"""The submission queue's dead rows are reclaimed by the periodic vacuum, whatever autovacuum does."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from ledger import services, tasks
from ledger.models import Entry
from tests.ledger.helpers import event


def _queue_pages() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size('ledger_submission') / current_setting('block_size')::int")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_vacuum_gives_back_the_pages_of_a_sequenced_queue():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL keeps deleted rows until a vacuum; SQLite reuses their pages itself")
    services.submit_many([event(n, prefix="vacuumed") for n in range(2_000)])
    services.tree_integrate_all()
    assert Entry.objects.filter(idempotency_key__startswith="vacuumed").count() == 2_000
    assert _queue_pages() > 0  # empty, yet every page still holds the dead rows

    assert tasks.queue_vacuum_task() is True
    assert _queue_pages() == 0


@pytest.mark.django_db(transaction=True)
def test_the_vacuum_does_nothing_inside_a_transaction():
    with transaction.atomic():
        assert services.queue_vacuum() is False


@pytest.mark.django_db
def test_an_empty_queue_is_empty_and_a_queued_event_is_not():
    from ledger.sequencer import queue_is_empty

    assert queue_is_empty()
    services.submit(**event(1, prefix="waiting"))
    assert not queue_is_empty()
