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
