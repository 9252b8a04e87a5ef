"""Celery tasks for the MLflow import: thin, and safe to run twice (the import is idempotent).

`mlflow_import_task` is scheduled in config/celery.py when MLFLOW_TRACKING_URI is set;
`mlflow_version_import_task` is enqueued by the MLflow webhook endpoint.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from governance.mlflow_import.service import ImportReport, import_actor, mlflow_import

logger = logging.getLogger(__name__)


def _log(report: ImportReport) -> dict[str, int]:
    summary = report.summary()
    logger.info("MLflow import: %s", ", ".join(f"{key} {value}" for key, value in summary.items()))
    return summary


@shared_task(name="governance.mlflow_import.tasks.mlflow_import_task")
def mlflow_import_task() -> dict[str, int]:
    """Import what is new on MLFLOW_TRACKING_URI as MLFLOW_IMPORT_USER; return the counts."""
    if not settings.MLFLOW_TRACKING_URI:
        return {}
    report = mlflow_import(actor=import_actor(), tracking_uri=settings.MLFLOW_TRACKING_URI)
    return _log(report)


@shared_task(name="governance.mlflow_import.tasks.mlflow_version_import_task")
def mlflow_version_import_task(model_name: str, version: str) -> dict[str, int]:
    """Import one MLflow model version and the aliases pointing at it; return the counts."""
    if not settings.MLFLOW_TRACKING_URI:
        return {}
    report = mlflow_import(
        actor=import_actor(), tracking_uri=settings.MLFLOW_TRACKING_URI, model_name=model_name, version=version
    )
    return _log(report)
