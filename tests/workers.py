"""A Celery worker for the tests that need a real one (broker: CELERY_BROKER_URL, Redis in CI)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from celery.contrib.testing.worker import start_worker

from config.celery import app


@contextmanager
def running_worker(shutdown_timeout: float = 30) -> Iterator[None]:
    """Run a solo worker for the block, on an empty queue.

    Other tests on the same broker leave messages behind that no worker consumed (sequencer
    runs enqueued on commit, with an ETA); a worker started on top of them would first work
    through that backlog and the test would time out waiting for its own task.
    """
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=shutdown_timeout):
        yield
