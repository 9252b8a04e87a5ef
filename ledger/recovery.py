"""Restart recovery: events committed to the queue but not yet sequenced when a process died.

A write commits its submission row and then asks the sequencer to integrate it; a crash (or
`kill -9`) between the two leaves the row queued. Every process that can sequence drains the
queue when it starts (the WSGI application under runserver and in each gunicorn worker, a Celery
worker when it is ready), and the periodic `integrate` job (config/celery.py) sweeps it while
running. `verify_ledger` warns about rows queued longer than LEDGER_QUEUE_WARNING_SECONDS.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min
from django.utils import timezone

from ledger.models import Submission

logger = logging.getLogger(__name__)


def queue_drain_at_start(process: str) -> int:
    """Sequence what a previous run left queued; return how many entries were added.

    Never raises: a process whose database is not reachable (or not migrated) yet still starts,
    and the periodic sweep drains the queue once it is.
    """
    from ledger import services  # imported here: the services import the tasks, which import Celery

    try:
        added = services.tree_integrate_all()
    except Exception:  # starting must not depend on it; the periodic sweep retries
        logger.warning(
            "Could not drain the ledger queue at %s start; the periodic sweep will.", process, exc_info=True
        )
        return 0
    if added:
        logger.warning("Sequenced %d events a previous run left queued (%s start).", added, process)
    return added


@dataclass(frozen=True)
class StaleQueue:
    """Queued submissions older than a threshold: the sequencer has not run for them."""

    count: int
    oldest: datetime | None
    older_than: timedelta

    def message(self) -> str:
        return (
            f"WARNING: {self.count:,} events queued but not sequenced for more than "
            f"{int(self.older_than.total_seconds())} s (oldest submitted {self.oldest:%Y-%m-%d %H:%M:%S} UTC). "
            "Is a Celery worker (or the embedded scheduler) running? `python manage.py run_periodic integrate` "
            "sequences them now."
        )


def stale_queue(older_than: timedelta) -> StaleQueue:
    found = Submission.objects.filter(submitted_at__lt=timezone.now() - older_than).aggregate(
        count=Count("pk"), oldest=Min("submitted_at")
    )
    return StaleQueue(found["count"], found["oldest"], older_than)
