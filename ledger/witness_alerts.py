"""Witness alerts: a configured witness that fails or falls behind raises one; catching up clears it.

A witness has *refused* as soon as it answers with a refusal that asking again will not change
(400, 403, 404, 422, a larger tree than ours, a cosignature our key does not verify); it is
*failing* after `ALERT_AFTER_FAILURES` requests in a row failed otherwise (unreachable, 5xx),
and *behind* when it has not cosigned a checkpoint signed more than LEDGER_WITNESS_MAX_LAG
seconds ago. Each opens a `WitnessAlert` (one open per witness), logged at ERROR by this
module's logger: the line to route to the operators. The alert is resolved as soon as the witness
has cosigned the latest checkpoint with no failure since, or is no longer configured. Checked
after every round of cosignature requests (`witnessing.checkpoint_witness`), so every
checkpoint interval while the checkpoint task runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger import selectors
from ledger.models import Checkpoint, WitnessAlert, WitnessStatus

logger = logging.getLogger(__name__)

# One failure is a blip; three checkpoint intervals without a cosignature is an outage.
ALERT_AFTER_FAILURES = 3


@dataclass(frozen=True)
class Problem:
    reason: str
    summary: str


def _problem(row: WitnessStatus | None, now: datetime) -> Problem | None:
    """Return what is wrong with one witness, or None."""
    if row is not None and row.failures >= ALERT_AFTER_FAILURES:
        return Problem(
            WitnessAlert.Reason.FAILING,
            f"{row.failures} requests in a row failed or were refused; the last: {row.last_error}"[:500],
        )
    cosigned = row.cosigned_size if row is not None and row.cosigned_size is not None else -1
    waiting = Checkpoint.objects.filter(size__gt=cosigned).order_by("size").values_list("size", "signed_at").first()
    if waiting is None or now - waiting[1] <= timedelta(seconds=settings.LEDGER_WITNESS_MAX_LAG):
        return None
    size, signed_at = waiting
    had = f"it last cosigned size {cosigned}" if cosigned >= 0 else "it has cosigned none"
    return Problem(
        WitnessAlert.Reason.BEHIND,
        f"checkpoint {size}, signed {signed_at:%Y-%m-%d %H:%M:%S} UTC, is not cosigned; {had}",
    )


def witness_alert_open(name: str, reason: str, summary: str, *, now: datetime | None = None) -> None:
    """Open an alert for witness ``name`` unless one is open; log it at ERROR when opened."""
    if WitnessAlert.objects.filter(witness=name, resolved_at__isnull=True).exists():
        return
    try:
        with transaction.atomic():
            WitnessAlert.objects.create(
                witness=name, reason=reason, summary=summary[:500], opened_at=now or timezone.now()
            )
    except IntegrityError:
        return  # opened meanwhile by a concurrent run
    logger.error("witness alert opened: %s is %s: %s", name, reason, summary)


def _resolve(alert: WitnessAlert, resolution: str, now: datetime) -> None:
    # Conditional on still being open: two runs at once resolve it once.
    done = WitnessAlert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
        resolved_at=now, resolution=resolution[:200]
    )
    if done:
        logger.info("witness alert resolved: %s: %s", alert.witness, resolution)


def witness_alerts_refresh(names: list[str], *, now: datetime | None = None) -> list[WitnessAlert]:
    """Open or resolve the alerts of the configured witnesses ``names``; return the open ones."""
    now = now or timezone.now()
    latest = selectors.checkpoint_latest_size()
    rows = {row.name: row for row in WitnessStatus.objects.filter(name__in=names)}
    alerts = {alert.witness: alert for alert in WitnessAlert.objects.filter(resolved_at__isnull=True)}
    for name in names:
        row, alert = rows.get(name), alerts.get(name)
        problem = _problem(row, now)
        if problem is not None:
            if alert is None:
                witness_alert_open(name, problem.reason, problem.summary, now=now)
            continue
        caught_up = row is not None and row.failures == 0 and (latest is None or (row.cosigned_size or 0) >= latest)
        if alert is not None and caught_up:
            _resolve(alert, f"cosigned checkpoint {row.cosigned_size}", now)
    for name, alert in alerts.items():
        if name not in names:
            _resolve(alert, "no longer configured", now)
    return witness_alerts_open()


def witness_alerts_open() -> list[WitnessAlert]:
    return list(WitnessAlert.objects.filter(resolved_at__isnull=True).order_by("opened_at"))


def alert_json(alert: WitnessAlert) -> dict:
    return {
        "witness": alert.witness,
        "reason": alert.reason,
        "summary": alert.summary,
        "opened_at": alert.opened_at,
    }
