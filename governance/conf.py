"""Readers of the governance settings (read when called, never at import time)."""

from __future__ import annotations

from django.conf import settings


def production_environments() -> frozenset[str]:
    """Return the environments whose deployments must clear the production gates."""
    return frozenset(settings.PRODUCTION_ENVIRONMENTS)
