"""System checks: production reports must be sealed with a real certificate."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_report_certificate(app_configs: object = None, **_: object) -> list[checks.CheckMessage]:
    if settings.REPORT_SIGNING_P12_FILE is None:
        return [
            checks.Error(
                "No report sealing certificate is configured: reports would be sealed with an untrusted "
                "development certificate (with DJANGO_DEBUG on) or not at all.",
                hint="Set REPORT_SIGNING_P12_FILE and REPORT_SIGNING_P12_PASSPHRASE_FILE.",
                id="governance.E001",
            )
        ]
    return []
