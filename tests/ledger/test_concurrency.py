"""Many writers at once, each commit running the sequencer: the tree never forks."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from ledger import services
from ledger.integrity import verify_database
from ledger.models import Entry, Submission
from model_ledger_verify import merkle
from tests.ledger.helpers import event

WRITERS = 16
PER_WRITER = 126
SHARED_KEYS = PER_WRITER // 3


def _writer(number: int, barrier: threading.Barrier, errors: list[BaseException]) -> None:
    try:
        barrier.wait()
        for n in range(PER_WRITER):
            services.submit(**event(number * PER_WRITER + n, prefix="w"))
            if n % 3 == 0:
                # Every writer also retries the same shared keys: each must land exactly once.
                services.submit(**event(n // 3, prefix="shared"))
    except BaseException as exc:
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_writers_get_contiguous_seqs_and_one_entry_per_key():
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_writer, args=(i, barrier, errors)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    assert errors == []

    services.tree_integrate_all()
    expected = WRITERS * PER_WRITER + SHARED_KEYS
    rows = list(Entry.objects.order_by("seq").values_list("seq", "idempotency_key", "leaf_hash"))
    assert [seq for seq, _, _ in rows] == list(range(expected))
    assert len({key for _, key, _ in rows}) == expected
    assert not Submission.objects.exists()
    assert services.checkpoint_sign().root == merkle.root([bytes(h) for _, _, h in rows])
    assert verify_database().entries == expected


def _group_writer(number: int, barrier: threading.Barrier, errors: list[BaseException]) -> None:
    try:
        barrier.wait()
        for n in range(PER_WRITER):
            services.submit(**event(number * PER_WRITER + n, prefix="g"))
            if n % 3 == 0:
                services.submit(**event(n // 3, prefix="shared"))
            # What each commit's hook does: integrate, or give way to an integration running.
            services.tree_integrate_all(wait=False)
    except BaseException as exc:
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_group_commit_leaves_nothing_behind_and_numbers_each_key_once():
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_group_writer, args=(i, barrier, errors)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    assert errors == []

    # No final integration here: writers that gave way relied on the one holding the lock.
    expected = WRITERS * PER_WRITER + SHARED_KEYS
    assert not Submission.objects.exists()
    rows = list(Entry.objects.order_by("seq").values_list("seq", "idempotency_key", "leaf_hash"))
    assert [seq for seq, _, _ in rows] == list(range(expected))
    assert len({key for _, key, _ in rows}) == expected
    assert services.checkpoint_sign().root == merkle.root([bytes(h) for _, _, h in rows])
    assert verify_database().entries == expected


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_integration_gives_way_when_another_holds_the_lock():
    services.tree_integrate()  # the tree state row exists from the first integration on
    holder_locked = threading.Event()
    release = threading.Event()
    seen: list[int] = []

    def holder() -> None:
        from django.db import transaction

        from ledger.sequencer import tree_state_locked

        with transaction.atomic():
            tree_state_locked()
            holder_locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert holder_locked.wait(10)
    try:
        # Without a broker the submit's own commit hook integrates: it must give way, not block.
        services.submit(**event(0, prefix="lock"))
        seen.append(services.tree_integrate(wait=False))
    finally:
        release.set()
        thread.join()
    assert seen == [-1]
    assert Submission.objects.count() == 1
    assert services.tree_integrate_all(wait=False) == 1
