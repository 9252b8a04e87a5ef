"""System checks: a production deployment must not sign with the development key."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_signing_key_configured(app_configs: object = None, **_: object) -> list[checks.CheckMessage]:
    if settings.LEDGER_SIGNING_KEY_FILE is None:
        return [
            checks.Error(
                "No checkpoint signing key is configured: the ledger would sign with a throwaway "
                "development key (with DJANGO_DEBUG on) or not at all.",
                hint="Set LEDGER_SIGNING_KEY_FILE to a key made by `manage.py ledger_keys --generate NAME`.",
                id="ledger.E001",
            )
        ]
    return []


@checks.register()
def check_signing_key_readable(app_configs: object = None, **_: object) -> list[checks.CheckMessage]:
    from ledger import keys
    from ledger.errors import SigningKeyUnavailable

    if settings.LEDGER_SIGNING_KEY_FILE is None:
        return []
    try:
        keys.active_signer()
    except SigningKeyUnavailable as exc:
        return [checks.Error(str(exc), id="ledger.E002")]
    return []


@checks.register()
def check_witnesses(app_configs: object = None, **_: object) -> list[checks.CheckMessage]:
    from django.core.exceptions import ImproperlyConfigured

    from ledger import witnessing

    try:
        witnessing.configured()
    except ImproperlyConfigured as exc:
        return [
            checks.Error(
                str(exc),
                hint=(
                    "LEDGER_WITNESSES holds '<URL> <witness verifier key>' items; "
                    "LEDGER_WITNESS_POLICY is at most their number."
                ),
                id="ledger.E010",
            )
        ]
    if settings.LEDGER_WITNESSES and settings.LEDGER_WITNESS_MAX_LAG < 2 * settings.LEDGER_CHECKPOINT_INTERVAL:
        return [
            checks.Warning(
                f"LEDGER_WITNESS_MAX_LAG ({settings.LEDGER_WITNESS_MAX_LAG} s) is shorter than two checkpoint "
                f"intervals ({settings.LEDGER_CHECKPOINT_INTERVAL} s each): healthy witnesses would raise "
                "'behind' alerts between two rounds of requests.",
                hint="Raise LEDGER_WITNESS_MAX_LAG (600 by default) or lower LEDGER_CHECKPOINT_INTERVAL.",
                id="ledger.W011",
            )
        ]
    return []
