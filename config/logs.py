"""Logging: one plain line per record on the console, and the operators emailed what needs them."""

from __future__ import annotations

from typing import Any


def logging_config(level: str, celery_trace_level: str) -> dict[str, Any]:
    """Return the LOGGING setting: records at `level` and above on the console; each ERROR of a
    witness alert or a request mailed to ADMINS (none configured: nothing is sent)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "plain"},
            # Django's own: each record mailed to ADMINS (none configured: nothing is sent).
            "mail_admins": {"class": "django.utils.log.AdminEmailHandler", "level": "ERROR"},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "ledger.witness_alerts": {"handlers": ["mail_admins"], "level": "INFO"},
            "django.request": {"handlers": ["mail_admins"], "level": "INFO"},
            "django.db.backends": {"level": "WARNING"},
            "celery.app.trace": {"level": celery_trace_level},
        },
    }
