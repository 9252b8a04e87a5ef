from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from governance import checks, signin  # noqa: F401  (registers the system checks and lockout events)
        from governance.services import deployments, gates

        # Production deployments must clear the gates (this also registers the gate settings check).
        deployments.gate_evaluator = gates.gates_for_deployment
