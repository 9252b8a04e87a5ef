"""Celery tasks for gates, monitoring and notifications: thin, idempotent, safe to run twice.

The periodic ones are scheduled in config/celery.py; each calls one service. Services enqueue
these tasks on commit (`delay_on_commit`), so a task imports its service inside its body: the
services import this module, and this module imports none of them at load time.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="governance.tasks.monitoring_evaluate_task")
def monitoring_evaluate_task() -> int:
    """Judge new observations and watch for unmonitored deployments; return alerts opened."""
    from governance.services import monitoring

    return len(monitoring.monitoring_evaluate().alerts_opened)


@shared_task(name="governance.tasks.retraining_evaluate_task")
def retraining_evaluate_task() -> int:
    """Fire retraining policies; return the requests opened."""
    from governance.services import retraining

    return len(retraining.retraining_evaluate())


@shared_task(name="governance.tasks.ownership_check_task")
def ownership_check_task() -> int:
    """Raise orphaned-model alerts; return the alerts opened."""
    from governance.services import alerts

    return len(alerts.ownership_check())


@shared_task(name="governance.tasks.delivery_send_task")
def delivery_send_task(delivery_id: int) -> str | None:
    """Attempt one notification delivery; return its state, or None when there was nothing to do."""
    from governance.services import notifications

    delivery = notifications.delivery_send(delivery_id=delivery_id)
    return delivery.state if delivery is not None else None


@shared_task(name="governance.tasks.deliveries_sweep_task")
def deliveries_sweep_task() -> int:
    """Retry the deliveries whose backoff has passed; return how many were attempted."""
    from governance.services import notifications

    return notifications.deliveries_sweep()
