from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from governance import checks, signals, signin  # noqa: F401  (checks and lockout events register on import)
        from governance.services import deployments, gates

        # Identity changes on every path (admin, commands, the ORM) become ledger events.
        signals.connect()
        # Production deployments must clear the gates (this also registers the gate settings check).
        deployments.gate_evaluator = gates.gates_for_deployment
