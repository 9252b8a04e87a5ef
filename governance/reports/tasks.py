"""Celery task for report generation: takes an id, calls one service, safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="governance.reports.report_generate_task")
def report_generate_task(report_id: str) -> str:
    """Generate the report if it is not ready yet; return its status."""
    # Imported here: the service module enqueues this task, so it imports this module.
    from governance.services.reports import report_generate

    return report_generate(report_id=report_id).status
