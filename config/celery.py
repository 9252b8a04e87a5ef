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
    # Gates, monitoring and notifications: judge observations and watch for silence, fire
    # retraining rules, watch ownership, and retry notifications whose backoff has passed.
    sender.add_periodic_task(
        float(settings.MONITORING_EVALUATE_INTERVAL),
        sender.signature("governance.tasks.monitoring_evaluate_task"),
        name="governance: judge observations, open alerts, flag unmonitored deployments",
    )
    sender.add_periodic_task(
        float(settings.RETRAINING_EVALUATE_INTERVAL),
        sender.signature("governance.tasks.retraining_evaluate_task"),
        name="governance: fire retraining policies",
    )
    sender.add_periodic_task(
        float(settings.OWNERSHIP_CHECK_INTERVAL),
        sender.signature("governance.tasks.ownership_check_task"),
        name="governance: alert compliance about orphaned models",
    )
    sender.add_periodic_task(
        float(settings.WEBHOOK_SWEEP_INTERVAL),
        sender.signature("governance.tasks.deliveries_sweep_task"),
        name="governance: retry due webhook and email deliveries",
    )
    # MLflow import: new registered model versions and moved aliases, only when a server is named.
    if settings.MLFLOW_TRACKING_URI:
        sender.add_periodic_task(
            float(settings.MLFLOW_IMPORT_INTERVAL),
            sender.signature("governance.mlflow_import.tasks.mlflow_import_task"),
            name="governance: import new MLflow model versions and aliases",
        )
