"""System checks: production reports must be sealed with a real certificate; gate settings must name
known gates and risk tiers."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from governance.models import RegisteredModel
from governance.selectors.gates import GATES


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


@checks.register(checks.Tags.compatibility)
def check_gate_settings(app_configs: object = None, **_: object) -> list[checks.CheckMessage]:
    """Refuse unknown gate names and risk tiers in PRODUCTION_GATES (a typo would drop a gate)."""
    messages = []
    for tier, names in settings.PRODUCTION_GATES.items():
        if tier not in RegisteredModel.RiskTier.values:
            messages.append(
                checks.Error(
                    f"PRODUCTION_GATES names an unknown risk tier {tier!r}.",
                    hint=f"Use {', '.join(RegisteredModel.RiskTier.values)}.",
                    id="governance.E101",
                )
            )
        unknown = sorted(set(names) - set(GATES) - {"all"})
        if unknown:
            messages.append(
                checks.Error(
                    f"PRODUCTION_GATES_{tier.upper()} names unknown gates: {', '.join(unknown)}.",
                    hint=f"Use all, or a comma-separated list of: {', '.join(GATES)}.",
                    id="governance.E102",
                )
            )
    return messages
