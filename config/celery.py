"""The Celery application and every periodic schedule, in one place."""

from __future__ import annotations

import os

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("ledger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _schedule(sender: Celery, **_: object) -> None:
    # The sweep catches submissions whose on-commit enqueue was lost (a worker restart, a broker
    # blip); the signer publishes a checkpoint whenever the tree has grown.
    sender.add_periodic_task(
        float(settings.LEDGER_INTEGRATE_INTERVAL),
        sender.signature("ledger.tasks.tree_integrate_task"),
        name="ledger: integrate queued submissions",
    )
    sender.add_periodic_task(
        float(settings.LEDGER_CHECKPOINT_INTERVAL),
        sender.signature("ledger.tasks.checkpoint_sign_task"),
        name="ledger: sign a checkpoint when the tree grew",
    )
