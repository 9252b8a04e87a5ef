"""Celery tasks for the ledger: thin, idempotent, safe to run twice at once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from ledger.models import Checkpoint

# With a broker, one integration task per process per this many seconds is enough: each run
# drains the whole queue. Without one (in-process tasks), every commit integrates at once.
ENQUEUE_DEBOUNCE_SECONDS = 0.05

_lock = threading.Lock()
_next_enqueue = 0.0
_deferred_until = 0.0


@shared_task(name="ledger.tasks.tree_integrate_task")
def tree_integrate_task() -> int:
    """Integrate every queued submission; sign a checkpoint if the last one is stale.

    Gives way to an integration already running (group commit): that one drains the queue.
    """
    from ledger import services  # imported here: services enqueue this task

    added = services.tree_integrate_all(wait=False)
    if added:
        latest = Checkpoint.objects.order_by("-size").values_list("signed_at", flat=True).first()
        stale = timedelta(seconds=settings.LEDGER_CHECKPOINT_INTERVAL)
        if latest is None or timezone.now() - latest >= stale:
            checkpoint_sign_task.delay()
    return added


@shared_task(name="ledger.tasks.checkpoint_sign_task")
def checkpoint_sign_task() -> int:
    """Sign a checkpoint of the current tree if it grew; return the signed size."""
    from ledger import services, witnessing

    size = services.checkpoint_sign().size
    # Witnesses that failed before are asked again here, every checkpoint interval.
    witnessing.checkpoint_witness()
    return size


@shared_task(name="ledger.tasks.queue_vacuum_task")
def queue_vacuum_task() -> bool:
    """Reclaim the dead rows sequencing left in the submission queue (ledger.sequencer.queue_vacuum)."""
    from ledger import services

    return services.queue_vacuum()


def request_integration() -> None:
    """Enqueue the sequencer after a commit, at most once per debounce window per process."""
    global _next_enqueue, _deferred_until
    if tree_integrate_task.app.conf.task_always_eager:
        tree_integrate_task.delay()
        return
    now = time.monotonic()
    with _lock:
        if now >= _next_enqueue:
            _next_enqueue = now + ENQUEUE_DEBOUNCE_SECONDS
            countdown = None
        elif now >= _deferred_until:
            # A run is already queued for this window; queue one more at its end so the
            # submissions committed during the window are not left for the periodic sweep.
            _deferred_until = _next_enqueue
            countdown = _next_enqueue - now
        else:
            return
    if countdown is None:
        tree_integrate_task.delay()
    else:
        tree_integrate_task.apply_async(countdown=countdown)
