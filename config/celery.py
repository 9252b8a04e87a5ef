"""The Celery application and every periodic schedule, in one place.

`PERIODIC_JOBS` is the schedule: Celery beat runs it in production and, with the embedded broker,
under `make run`; `manage.py run_periodic` runs the same jobs by hand.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from celery import Celery
from celery.signals import worker_ready
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("ledger")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _drain_ledger_queue(**_: object) -> None:
    """A worker that starts sequences what a crashed process left queued (ledger/recovery.py)."""
    from ledger.recovery import queue_drain_at_start

    queue_drain_at_start("worker")


@dataclass(frozen=True)
class PeriodicJob:
    """A task run every `interval_setting` seconds; `enabled_setting`, when named, must be set."""

    task: str
    interval_setting: str
    description: str
    enabled_setting: str | None = None

    @property
    def interval(self) -> float:
        return float(getattr(settings, self.interval_setting))

    @property
    def enabled(self) -> bool:
        return self.enabled_setting is None or bool(getattr(settings, self.enabled_setting))


# Short name → job. The sweep catches submissions whose on-commit enqueue was lost (a worker
# restart, a broker blip); the signer publishes a checkpoint whenever the tree has grown; the
# vacuum reclaims the rows sequencing deleted from the queue, whether or not autovacuum runs. The
# governance jobs judge observations and watch for silence, fire retraining rules, watch
# ownership, and retry notifications whose backoff has passed. The MLflow import runs only when
# a tracking server is named.
PERIODIC_JOBS: dict[str, PeriodicJob] = {
    "integrate": PeriodicJob(
        "ledger.tasks.tree_integrate_task", "LEDGER_INTEGRATE_INTERVAL", "ledger: integrate queued submissions"
    ),
    "checkpoint": PeriodicJob(
        "ledger.tasks.checkpoint_sign_task",
        "LEDGER_CHECKPOINT_INTERVAL",
        "ledger: sign a checkpoint when the tree grew",
    ),
    "vacuum": PeriodicJob(
        "ledger.tasks.queue_vacuum_task",
        "LEDGER_QUEUE_VACUUM_INTERVAL",
        "ledger: reclaim the submission queue's dead rows (PostgreSQL)",
    ),
    "monitoring": PeriodicJob(
        "governance.tasks.monitoring_evaluate_task",
        "MONITORING_EVALUATE_INTERVAL",
        "governance: judge observations, open alerts, flag unmonitored deployments",
    ),
    "retraining": PeriodicJob(
        "governance.tasks.retraining_evaluate_task",
        "RETRAINING_EVALUATE_INTERVAL",
        "governance: fire retraining policies",
    ),
    "ownership": PeriodicJob(
        "governance.tasks.ownership_check_task",
        "OWNERSHIP_CHECK_INTERVAL",
        "governance: alert compliance about orphaned models",
    ),
    "deliveries": PeriodicJob(
        "governance.tasks.deliveries_sweep_task",
        "WEBHOOK_SWEEP_INTERVAL",
        "governance: retry due webhook and email deliveries",
    ),
    "mlflow": PeriodicJob(
        "governance.mlflow_import.tasks.mlflow_import_task",
        "MLFLOW_IMPORT_INTERVAL",
        "governance: import new MLflow model versions and aliases",
        enabled_setting="MLFLOW_TRACKING_URI",
    ),
}


@app.on_after_configure.connect
def _schedule(sender: Celery, **_: object) -> None:
    for job in PERIODIC_JOBS.values():
        if job.enabled:
            sender.add_periodic_task(job.interval, sender.signature(job.task), name=job.description)
